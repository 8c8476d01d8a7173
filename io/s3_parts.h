#pragma once
// Multipart uploads whose parts are sent by the nodes that hold them: the part kernel
// ("io.s3.put_part") and the ETag it hands back to the driver, which completes the upload.

#include <cstdint>
#include <string>

#include "engine/block.h"

namespace nums::io {

/// The acknowledgement of a part: its ETag's characters as a 1-d int64 block of this length,
/// zero-padded (a block is what a task returns).
inline constexpr int64_t kETagChars = 256;

/// The ETag a part's acknowledgement holds; IOError for a malformed one.
std::string DecodeETag(const engine::Block& ack);

}  // namespace nums::io
