#pragma once
// The cluster token: a shared secret created by `nums start --head`, presented by every
// connection before any other call. No Thrift here, so the array layer can read it too.

#include <string>

namespace nums::engine::cluster {

/// The token in `path` (first line, trimmed); throws AuthError when unreadable, empty, or open
/// to others: a file of this user must not be accessible by group or others (chmod 600); one
/// owned by another user must not be accessible by others.
std::string ReadToken(const std::string& path);
/// 32 random bytes as hex from /dev/urandom.
std::string NewToken();
/// Constant-time comparison, so a wrong token leaks nothing through timing.
bool TokenEquals(const std::string& a, const std::string& b);

}  // namespace nums::engine::cluster
