#pragma once
// Where a file's bytes live: a local path or an `s3://bucket/key` URL. Readers and writers that
// work on whole objects or byte ranges (zarr chunks, .npy on S3) go through these functions, so
// each format is written once for both. Every failure is an IOError naming the path or the
// bucket and key.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "io/file_util.h"

namespace nums::io {

/// True for "s3://..." URLs.
bool IsS3Url(const std::string& url);

/// `base` and `name` joined with one '/' ("dir" + "0.1" -> "dir/0.1"; works for URLs too).
std::string JoinPath(const std::string& base, const std::string& name);

/// The size of the file or object, or nullopt when it does not exist.
std::optional<int64_t> ObjectSize(const std::string& url);

/// The whole file or object; IOError naming it when it is missing or unreadable.
std::string ReadObject(const std::string& url);

/// The whole file or object, or nullopt when it does not exist (other failures throw).
std::optional<std::string> ReadObjectIfExists(const std::string& url);

/// Exactly `n` bytes at `offset`; IOError naming it when it is missing or shorter.
void ReadObjectRange(const std::string& url, void* buf, int64_t n, int64_t offset);

/// Creates or replaces the file or object with `n` bytes. A local file is written under a
/// temporary name and renamed, so a reader sees the old or the new bytes, never a part; parent
/// directories are created. An S3 object is one PUT (multipart above the part size).
void WriteObject(const std::string& url, const void* data, int64_t n);

/// Removes the file or object; nothing when it does not exist.
void RemoveObject(const std::string& url);

/// The names (relative to `prefix`, '/'-separated) of the files or objects below the directory
/// or key prefix `prefix`, recursively, sorted; empty when there are none.
std::vector<std::string> ListObjects(const std::string& prefix);

/// What identifies the version of a file or object a reader must see: nothing (unchecked),
/// FileIdentity's numbers for a local file, or an S3 object's ETag.
using ObjectVersion = std::variant<std::monostate, std::vector<int64_t>, std::string>;

/// The version of `url` now: FileIdentity for a file; the ETag for an S3 object (IOError naming
/// it when missing).
ObjectVersion CurrentVersion(const std::string& url);

/// Ranges of one file or object, from the version `version` names: IOError naming it when it
/// was replaced or modified since (a file is checked when opened, an S3 object on every read).
class RangeReader {
 public:
  RangeReader(const std::string& url, const ObjectVersion& version);
  /// Exactly `n` bytes at `offset`; IOError naming it when it is shorter.
  void Read(void* buf, int64_t n, int64_t offset) const;
  /// IOError unless the file or object is still the version given (a HEAD for S3).
  void CheckVersion() const;
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  ObjectVersion version_;
  FileDescriptor fd_;  // a local file, open
};

}  // namespace nums::io
