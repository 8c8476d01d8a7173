#include "io/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "nums/errors.hpp"

namespace nums::io {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void FileDescriptor::Close(const std::string& path) {
  const int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) throw IOError("closing '" + path + "': " + ErrnoText());
}

std::string ErrnoText() { return std::strerror(errno); }

FileDescriptor OpenFile(const std::string& path, int flags, int mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    const bool writing = (flags & (O_WRONLY | O_RDWR)) != 0;
    throw IOError(std::string("cannot open '") + path + "' for " +
                  (writing ? "writing" : "reading") + ": " + ErrnoText());
  }
  return FileDescriptor(fd);
}

void PreadFully(int fd, void* buf, int64_t n, int64_t offset, const std::string& path) {
  auto* p = static_cast<uint8_t*>(buf);
  int64_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, p + done, static_cast<size_t>(n - done), offset + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IOError("reading '" + path + "' at byte " + std::to_string(offset + done) + ": " +
                    ErrnoText());
    }
    if (r == 0) {
      struct stat st {};
      const std::string size =
          ::fstat(fd, &st) == 0 ? std::to_string(st.st_size) : std::to_string(offset + done);
      throw IOError("'" + path + "' is truncated: expected at least " + std::to_string(offset + n) +
                    " bytes, the file has " + size);
    }
    done += r;
  }
}

void PwriteFully(int fd, const void* buf, int64_t n, int64_t offset, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(buf);
  int64_t done = 0;
  while (done < n) {
    const ssize_t r = ::pwrite(fd, p + done, static_cast<size_t>(n - done), offset + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IOError("writing '" + path + "' at byte " + std::to_string(offset + done) + ": " +
                    ErrnoText());
    }
    done += r;
  }
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw IOError("cannot open '" + path + "': " + ErrnoText());
  if (!S_ISREG(st.st_mode)) throw IOError("'" + path + "' is not a regular file");
  return static_cast<int64_t>(st.st_size);
}

namespace {

std::vector<int64_t> IdentityOf(const struct stat& st) {
  return {static_cast<int64_t>(st.st_dev), static_cast<int64_t>(st.st_ino),
          static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
          static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

}  // namespace

std::vector<int64_t> FileIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw IOError("cannot open '" + path + "': " + ErrnoText());
  return IdentityOf(st);
}

void CheckFileIdentity(int fd, const std::vector<int64_t>& identity, const std::string& path) {
  if (identity.empty()) return;
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IOError("cannot stat '" + path + "': " + ErrnoText());
  if (IdentityOf(st) != identity) {
    throw IOError("'" + path +
                  "' was replaced or modified after it was opened for reading: its blocks can no "
                  "longer be read consistently (read it again)");
  }
}

std::string TempPathFor(const std::string& path) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string suffix;
  uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) suffix += kHex[r & 15];
  return path + ".nums-tmp-" + suffix;
}

namespace {

// A rename is durable only once the directory is flushed too; failing that is not an error of
// the write (some filesystems refuse fsync on directories).
void SyncParentDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

void CommitTempFile(const std::string& temp, const std::string& path) {
  {
    FileDescriptor fd = OpenFile(temp, O_RDWR);
    // A replaced file keeps its permissions, as an in-place write would.
    struct stat old {};
    if (::stat(path.c_str(), &old) == 0 && ::fchmod(fd.get(), old.st_mode & 07777) != 0) {
      throw IOError("setting the mode of '" + temp + "' for '" + path + "': " + ErrnoText());
    }
    if (::fsync(fd.get()) != 0) throw IOError("flushing '" + temp + "': " + ErrnoText());
    fd.Close(temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    throw IOError("renaming '" + temp + "' to '" + path + "': " + ErrnoText());
  }
  SyncParentDirectory(path);
}

void RemoveQuietly(const std::string& path) { ::unlink(path.c_str()); }

void RemoveTreeQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void CommitTempDirectory(const std::string& temp, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) throw IOError("cannot stat '" + path + "': " + ErrnoText());
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      throw IOError("renaming '" + temp + "' to '" + path + "': " + ErrnoText());
    }
  } else if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
    RemoveTreeQuietly(temp);  // now the old tree
  } else if (errno == EINVAL || errno == ENOSYS) {
    // No atomic exchange here: move the old tree aside, the new one in, and the old back on
    // failure.
    const std::string old = TempPathFor(path);
    if (::rename(path.c_str(), old.c_str()) != 0) {
      throw IOError("renaming '" + path + "' aside to '" + old + "': " + ErrnoText());
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const std::string why = ErrnoText();
      ::rename(old.c_str(), path.c_str());
      throw IOError("renaming '" + temp + "' to '" + path + "': " + why);
    }
    RemoveTreeQuietly(old);
  } else {
    throw IOError("exchanging '" + temp + "' with '" + path + "': " + ErrnoText());
  }
  SyncParentDirectory(path);
}

}  // namespace nums::io
