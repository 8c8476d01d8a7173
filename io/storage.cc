#include "io/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "io/file_util.h"
#include "io/s3.h"
#include "nums/errors.hpp"

namespace nums::io {

namespace fs = std::filesystem;

bool IsS3Url(const std::string& url) { return url.rfind("s3://", 0) == 0; }

std::string JoinPath(const std::string& base, const std::string& name) {
  if (base.empty()) return name;
  if (base.back() == '/') return base + name;
  return base + "/" + name;
}

std::optional<int64_t> ObjectSize(const std::string& url) {
  if (IsS3Url(url)) {
    std::optional<S3ObjectInfo> info = S3Head(ParseS3Url(url));
    if (!info) return std::nullopt;
    return info->size;
  }
  struct stat st {};
  if (::stat(url.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw IOError("cannot stat '" + url + "': " + ErrnoText());
  }
  if (!S_ISREG(st.st_mode)) throw IOError("'" + url + "' is not a regular file");
  return static_cast<int64_t>(st.st_size);
}

std::optional<std::string> ReadObjectIfExists(const std::string& url) {
  if (IsS3Url(url)) return S3GetIfExists(ParseS3Url(url));
  const std::optional<int64_t> size = ObjectSize(url);
  if (!size) return std::nullopt;
  std::string bytes(static_cast<size_t>(*size), '\0');
  FileDescriptor fd = OpenFile(url, O_RDONLY);
  PreadFully(fd.get(), bytes.data(), *size, 0, url);
  return bytes;
}

std::string ReadObject(const std::string& url) {
  std::optional<std::string> bytes = ReadObjectIfExists(url);
  if (!bytes) {
    if (IsS3Url(url)) {
      const S3Location loc = ParseS3Url(url);
      throw IOError("s3://" + loc.bucket + "/" + loc.key + " does not exist (NoSuchKey)");
    }
    throw IOError("cannot open '" + url + "': No such file or directory");
  }
  return std::move(*bytes);
}

void ReadObjectRange(const std::string& url, void* buf, int64_t n, int64_t offset) {
  if (n == 0) return;
  if (IsS3Url(url)) return S3GetRange(ParseS3Url(url), buf, n, offset);
  FileDescriptor fd = OpenFile(url, O_RDONLY);
  PreadFully(fd.get(), buf, n, offset, url);
}

void WriteObject(const std::string& url, const void* data, int64_t n) {
  if (IsS3Url(url)) return S3Put(ParseS3Url(url), data, n);
  const fs::path parent = fs::path(url).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw IOError("cannot create directory '" + parent.string() + "': " + ec.message());
  }
  const std::string temp = TempPathFor(url);
  try {
    FileDescriptor fd = OpenFile(temp, O_WRONLY | O_CREAT | O_EXCL);
    PwriteFully(fd.get(), data, n, 0, temp);
    fd.Close(temp);
    CommitTempFile(temp, url);
  } catch (...) {
    RemoveQuietly(temp);
    throw;
  }
}

void RemoveObject(const std::string& url) {
  if (IsS3Url(url)) return S3Delete(ParseS3Url(url));
  if (::unlink(url.c_str()) != 0 && errno != ENOENT) {
    throw IOError("cannot remove '" + url + "': " + ErrnoText());
  }
}

std::vector<std::string> ListObjects(const std::string& prefix) {
  if (IsS3Url(prefix)) {
    S3Location loc = ParseS3Url(prefix);
    if (!loc.key.empty() && loc.key.back() != '/') loc.key += '/';
    std::vector<std::string> names;
    for (std::string& key : S3List(loc)) names.push_back(key.substr(loc.key.size()));
    std::sort(names.begin(), names.end());
    return names;
  }
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(prefix, ec)) return names;
  for (fs::recursive_directory_iterator it(prefix, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) names.push_back(fs::relative(it->path(), prefix).generic_string());
  }
  if (ec) throw IOError("cannot list '" + prefix + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

ObjectVersion CurrentVersion(const std::string& url) {
  if (!IsS3Url(url)) return FileIdentity(url);
  const std::optional<S3ObjectInfo> info = S3Head(ParseS3Url(url));
  if (!info) throw IOError(url + " does not exist (NoSuchKey)");
  return info->etag;
}

RangeReader::RangeReader(const std::string& url, const ObjectVersion& version)
    : url_(url), version_(version) {
  if (IsS3Url(url)) return;
  fd_ = OpenFile(url, O_RDONLY);
  if (const auto* id = std::get_if<std::vector<int64_t>>(&version)) {
    CheckFileIdentity(fd_.get(), *id, url);
  }
}

void RangeReader::Read(void* buf, int64_t n, int64_t offset) const {
  if (!IsS3Url(url_)) return PreadFully(fd_.get(), buf, n, offset, url_);
  const auto* etag = std::get_if<std::string>(&version_);
  S3GetRange(ParseS3Url(url_), buf, n, offset, etag ? *etag : "");
}

void RangeReader::CheckVersion() const {
  if (!IsS3Url(url_)) {
    if (const auto* id = std::get_if<std::vector<int64_t>>(&version_)) {
      CheckFileIdentity(fd_.get(), *id, url_);
    }
    return;
  }
  const auto* etag = std::get_if<std::string>(&version_);
  if (etag == nullptr) return;
  const ObjectVersion now = CurrentVersion(url_);
  if (std::get<std::string>(now) != *etag) {
    throw IOError(url_ + " was replaced after it was opened for reading (ETag " +
                  std::get<std::string>(now) + ", expected " + *etag +
                  "): its blocks can no longer be read consistently (read it again)");
  }
}

}  // namespace nums::io
