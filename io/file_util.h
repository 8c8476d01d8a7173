#pragma once
// POSIX file helpers for the I/O kernels and commit steps: every failure is an IOError naming
// the file and what the system said.

#include <cstdint>
#include <string>
#include <vector>

namespace nums::io {

/// An open file descriptor, closed on destruction.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&& o) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  /// Closes now; IOError naming `path` when close reports an error (a write that failed late).
  void Close(const std::string& path);

 private:
  int fd_ = -1;
};

/// open(2); IOError naming `path` and errno's text on failure.
FileDescriptor OpenFile(const std::string& path, int flags, int mode = 0666);
/// Reads exactly `n` bytes at `offset`; IOError naming `path` with the expected and actual bytes
/// when the file ends first.
void PreadFully(int fd, void* buf, int64_t n, int64_t offset, const std::string& path);
/// Writes exactly `n` bytes at `offset`; IOError naming `path` on failure (a full disk).
void PwriteFully(int fd, const void* buf, int64_t n, int64_t offset, const std::string& path);
/// The file's size; IOError naming `path` when it cannot be stat'ed (missing).
int64_t FileSize(const std::string& path);
/// What identifies a version of a file: device, inode, size and modification time. A block read
/// again later (recomputed after it was dropped) must come from the same version.
std::vector<int64_t> FileIdentity(const std::string& path);
/// IOError naming `path` when the open file `fd` is not the version `identity` describes (it was
/// replaced or modified since the driver read its metadata). Empty `identity`: no check.
void CheckFileIdentity(int fd, const std::vector<int64_t>& identity, const std::string& path);

/// "<strerror(errno)>"
std::string ErrnoText();

/// `path` + ".nums-tmp-" + 16 random hex digits: where a write goes until its commit.
std::string TempPathFor(const std::string& path);
/// Makes the finished temporary file `temp` the file `path`: fsync, the mode of the file it
/// replaces (if any), rename, fsync of the directory. IOError naming `path` on failure.
void CommitTempFile(const std::string& temp, const std::string& path);
/// Removes `path` if it exists, ignoring errors (cleanup on a failure path).
void RemoveQuietly(const std::string& path);
/// Makes the finished temporary directory `temp` the directory `path`. An existing `path` is
/// swapped out atomically (renameat2 RENAME_EXCHANGE; where the filesystem lacks it, renamed
/// aside first) and then removed, so a reader sees the old tree or the new one. IOError naming
/// `path` on failure, with `path` as it was.
void CommitTempDirectory(const std::string& temp, const std::string& path);
/// Removes the file or directory tree `path` if it exists, ignoring errors.
void RemoveTreeQuietly(const std::string& path);

}  // namespace nums::io
