#include "engine/cluster/token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "nums/errors.hpp"

namespace nums::engine::cluster {

std::string ReadToken(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    throw AuthError("cannot read the cluster token file '" + path + "'");
  }
  if (!S_ISREG(st.st_mode)) {
    throw AuthError("the cluster token file '" + path + "' is not a regular file");
  }
  // As ssh does with private keys: a token of ours that others may read is refused. One owned
  // by another user (a Secret mounted by root for a group) may be read by its group.
  const mode_t open_to = st.st_uid == geteuid() ? (S_IRWXG | S_IRWXO) : S_IRWXO;
  if ((st.st_mode & open_to) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw AuthError("the cluster token file '" + path + "' has mode " + mode + ", open to " +
                    ((st.st_mode & S_IRWXO) != 0 ? "others" : "its group") +
                    ": refused; run chmod 600 '" + path + "'");
  }
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) {
    throw AuthError("cannot read the cluster token file '" + path + "'");
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) throw AuthError("the cluster token file '" + path + "' is empty");
  return token;
}

std::string NewToken() {
  unsigned char bytes[32];
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, bytes, sizeof(bytes)) != static_cast<ssize_t>(sizeof(bytes))) {
    if (fd >= 0) close(fd);
    throw ClusterError("cannot read /dev/urandom for a cluster token");
  }
  close(fd);
  static const char* kHex = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

bool TokenEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& ref = a.size() == b.size() ? b : a;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ ref[i]);
  return diff == 0;
}

}  // namespace nums::engine::cluster
