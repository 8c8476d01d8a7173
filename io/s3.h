#pragma once
// An S3 client on libcurl: SigV4-signed requests (io/s3_sign.h) to AWS or any S3-compatible
// endpoint, with retries. Configuration is read where the request is made (each node), from the
// AWS environment variables and the ~/.aws/credentials and ~/.aws/config profiles; it is never
// passed as a task argument. Errors are IOErrors naming the bucket, key, HTTP status and S3
// error code.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nums::io {

/// A bucket and key ("s3://bucket/key/with/slashes").
struct S3Location {
  std::string bucket;
  std::string key;
  /// "s3://bucket/key"
  std::string url() const { return "s3://" + bucket + "/" + key; }
};

struct S3Config;

/// The object's http(s) URL as `config` addresses it, for readers with an S3 client of their own
/// (HDF5's read-only S3 driver).
std::string S3HttpUrl(const S3Location& loc, const S3Config& config);

/// Splits an s3:// URL; ValueError for a URL without a bucket.
S3Location ParseS3Url(const std::string& url);

/// What HEAD tells of an object.
struct S3ObjectInfo {
  int64_t size = 0;
  std::string etag;  // as the server sent it, quotes included
};

/// The object's size and ETag, or nullopt when the key does not exist; a missing bucket or any
/// other failure throws.
std::optional<S3ObjectInfo> S3Head(const S3Location& loc);
/// The whole object, or nullopt when the key does not exist.
std::optional<std::string> S3GetIfExists(const S3Location& loc);
/// Exactly `n` bytes at `offset` (ranged GETs, in parallel for large ranges). With an `etag`,
/// IOError when the object is no longer that version (If-Match, and the reply's ETag checked).
void S3GetRange(const S3Location& loc, void* buf, int64_t n, int64_t offset,
                const std::string& etag = "");
/// Creates or replaces the object: one PUT, or a multipart upload above kS3PartBytes (aborted
/// on failure, so no partial object appears).
void S3Put(const S3Location& loc, const void* data, int64_t n);
/// Deletes the object (S3 does nothing for a missing key).
void S3Delete(const S3Location& loc);
/// Every key that starts with `prefix.key`, in the bucket's order.
std::vector<std::string> S3List(const S3Location& prefix);

/// What this process's S3 client has done since it started (all threads).
struct S3Counters {
  int64_t attempts = 0;  // HTTP requests sent, retries included
  int64_t retries = 0;   // of those, repeats after a retryable failure
  int64_t parts_uploaded = 0;
  int64_t bytes_sent = 0;      // request bodies of successful requests
  int64_t bytes_received = 0;  // reply bodies of successful requests
};
S3Counters S3CountersNow();

/// Part size of the uploads S3Put splits; every part but the last must be at least 5 MiB.
inline constexpr int64_t kS3PartBytes = int64_t{16} << 20;
inline constexpr int64_t kS3MinPartBytes = int64_t{5} << 20;
inline constexpr int64_t kS3MaxParts = 10000;

/// A multipart upload whose parts may be sent from different processes: begin on one, upload
/// parts anywhere (numbers 1..10000), complete with every part's ETag, or abort.
std::string S3CreateMultipartUpload(const S3Location& loc);
/// Uploads one part; returns its ETag.
std::string S3UploadPart(const S3Location& loc, const std::string& upload_id, int64_t part_number,
                         const void* data, int64_t n);
void S3CompleteMultipartUpload(const S3Location& loc, const std::string& upload_id,
                               const std::vector<std::pair<int64_t, std::string>>& parts);
void S3AbortMultipartUpload(const S3Location& loc, const std::string& upload_id);

}  // namespace nums::io
