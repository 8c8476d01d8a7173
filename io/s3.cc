// Transitional: the S3 client is being written; until then every S3 call reports so.
#include "io/s3.h"

#include "nums/errors.hpp"

namespace nums::io {
namespace {
[[noreturn]] void Unavailable(const std::string& what) {
  throw IOError(what + ": S3 support is not built yet");
}
}  // namespace

S3Location ParseS3Url(const std::string& url) {
  if (url.rfind("s3://", 0) != 0) throw ValueError("not an s3:// URL: '" + url + "'");
  const std::string rest = url.substr(5);
  const size_t slash = rest.find('/');
  S3Location loc{rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1)};
  if (loc.bucket.empty()) throw ValueError("s3 URL without a bucket: '" + url + "'");
  return loc;
}
std::optional<int64_t> S3Head(const S3Location& loc) { Unavailable(loc.url()); }
std::optional<std::string> S3GetIfExists(const S3Location& loc) { Unavailable(loc.url()); }
void S3GetRange(const S3Location& loc, void*, int64_t, int64_t) { Unavailable(loc.url()); }
void S3Put(const S3Location& loc, const void*, int64_t) { Unavailable(loc.url()); }
void S3Delete(const S3Location& loc) { Unavailable(loc.url()); }
std::vector<std::string> S3List(const S3Location& loc) { Unavailable(loc.url()); }
std::string S3CreateMultipartUpload(const S3Location& loc) { Unavailable(loc.url()); }
std::string S3UploadPart(const S3Location& loc, const std::string&, int64_t, const void*, int64_t) {
  Unavailable(loc.url());
}
void S3CompleteMultipartUpload(const S3Location& loc, const std::string&,
                               const std::vector<std::pair<int64_t, std::string>>&) {
  Unavailable(loc.url());
}
void S3AbortMultipartUpload(const S3Location& loc, const std::string&) { Unavailable(loc.url()); }

}  // namespace nums::io
