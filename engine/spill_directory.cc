#include "engine/spill_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include "nums/errors.hpp"

namespace nums::engine {

struct SpillState {
  // Guards closed. A file unlinks itself only while its directory lives: once the directory is
  // gone, another SpillDirectory of the same name may have made a new file at the same path.
  std::mutex mu;
  bool closed = false;
  std::atomic<int64_t> bytes_on_disk{0}, files{0}, bytes_written{0}, bytes_read{0}, next_seq{0};
};

namespace {
constexpr const char* kLockName = ".lock";
constexpr int kLockAttempts = 20;

[[noreturn]] void ThrowIO(const std::string& what, int err) {
  throw IOError(what + ": " + std::strerror(err));
}

/// mkdir -p with mode 0700 for every directory it creates.
void MakeDirs(const std::string& path) {
  for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      ThrowIO("cannot create spill directory " + prefix, errno);
    }
    if (pos == std::string::npos) break;  // a path that is not a directory fails at the lock
  }
}

/// The entries of the directory `dfd` but ".", ".." and `skip`, collected before anything is
/// removed (readdir is unspecified under removal). Returns 0 or an errno.
int ListAt(int dfd, const std::string& skip, std::vector<std::string>* names) {
  const int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = dup_fd < 0 ? nullptr : fdopendir(dup_fd);
  if (dir == nullptr) {
    const int err = errno;
    if (dup_fd >= 0) close(dup_fd);
    return err;
  }
  while (const dirent* e = readdir(dir)) {
    const std::string n = e->d_name;
    if (n != "." && n != ".." && n != skip) names->push_back(n);
  }
  closedir(dir);
  return 0;
}

/// Unlinks every non-directory entry of the directory `dfd` but the lock. Returns 0 or the errno
/// of the first entry that could not be removed (its name in *failed).
int RemoveFilesAt(int dfd, std::string* failed) {
  std::vector<std::string> names;
  if (const int err = ListAt(dfd, kLockName, &names)) return err;
  for (const std::string& n : names) {
    struct stat st;
    if (fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) continue;
    if (unlinkat(dfd, n.c_str(), 0) != 0 && errno != ENOENT) {
      if (failed != nullptr) *failed = n;
      return errno;
    }
  }
  return 0;
}

/// Writes all of [data, data + n) at offset; returns 0 or an errno.
int PwriteAll(int fd, const char* data, int64_t n, int64_t offset) {
  for (int64_t done = 0; done < n;) {
    const ssize_t w = pwrite(fd, data + done, static_cast<size_t>(n - done), offset + done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : ENOSPC;  // a pwrite that writes nothing and no error
    done += w;
  }
  return 0;
}

bool SameFile(int fd, int dfd, const char* name) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/// Deletes the siblings of `own` under root whose .lock no process holds. Best effort: a sibling
/// that cannot be opened, locked or emptied is left as it is.
void RemoveStaleSiblings(const std::string& root, const std::string& own) {
  const int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return;
  std::vector<std::string> names;
  ListAt(root_fd, own, &names);
  for (const std::string& n : names) {
    const int dfd = openat(root_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) continue;
    const int lfd = openat(dfd, kLockName, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) == 0 && SameFile(lfd, dfd, kLockName) &&
        RemoveFilesAt(dfd, nullptr) == 0 && unlinkat(dfd, kLockName, 0) == 0) {
      unlinkat(root_fd, n.c_str(), AT_REMOVEDIR);  // fails, harmlessly, if it holds directories
    }
    if (lfd >= 0) close(lfd);
    close(dfd);
  }
  close(root_fd);
}
}  // namespace

SpillFile::SpillFile(std::shared_ptr<SpillState> state, std::string path, int fd, int64_t bytes)
    : state_(std::move(state)), path_(std::move(path)), fd_(fd), bytes_(bytes) {}

SpillFile::~SpillFile() {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->closed) unlink(path_.c_str());
  }
  close(fd_);
  state_->bytes_on_disk -= bytes_;
  state_->files -= 1;
}

void SpillFile::Read(int64_t offset, int64_t nbytes, void* dst) const {
  if (offset < 0 || nbytes < 0 || offset > bytes_ || nbytes > bytes_ - offset) {
    throw IOError("read of " + std::to_string(nbytes) + " bytes at offset " +
                  std::to_string(offset) + " is outside spill file " + path_ + " of " +
                  std::to_string(bytes_) + " bytes");
  }
  char* out = static_cast<char*>(dst);
  for (int64_t done = 0; done < nbytes;) {
    const ssize_t r = pread(fd_, out + done, static_cast<size_t>(nbytes - done), offset + done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int err = r < 0 ? errno : 0;
      throw IOError("reading " + std::to_string(nbytes) + " bytes at offset " +
                    std::to_string(offset) + " from spill file " + path_ +
                    " failed: " + (err != 0 ? std::strerror(err) : "unexpected end of file"));
    }
    done += r;
  }
  state_->bytes_read += nbytes;
}

void SpillLocation::Read(int64_t from, int64_t n, void* dst) const {
  if (from < 0 || n < 0 || from > nbytes || n > nbytes - from) {
    throw ValueError("read of bytes [" + std::to_string(from) + ", " + std::to_string(from + n) +
                     ") of a spilled object of " + std::to_string(nbytes) + " bytes" +
                     (file ? " in " + file->path() : std::string()));
  }
  if (n == 0) return;
  if (!file) throw IOError("spilled object of " + std::to_string(nbytes) + " bytes has no file");
  file->Read(offset + from, n, dst);
}

SpillDirectory::SpillDirectory(std::string root, std::string name)
    : root_(std::move(root)), state_(std::make_shared<SpillState>()) {
  if (root_.empty()) throw ValueError("spill directory root is empty");
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw ValueError("spill directory name '" + name + "' is not a single path component");
  }
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  path_ = (root_ == "/" ? "" : root_) + "/" + name;
  TakeLock();
  const int dfd = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::string failed = ".";
  const int err = dfd < 0 ? errno : RemoveFilesAt(dfd, &failed);
  if (dfd >= 0) close(dfd);
  if (err != 0) {
    close(lock_fd_);  // no destructor runs for a constructor that throws
    ThrowIO("cannot remove stale spill file " + path_ + "/" + failed, err);
  }
  RemoveStaleSiblings(root_, name);
}

SpillDirectory::~SpillDirectory() {
  {
    std::lock_guard lock(state_->mu);
    state_->closed = true;
    const int dfd = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      RemoveFilesAt(dfd, nullptr);
      close(dfd);
    }
  }
  // The lock goes before the directory, and is released last: a process that opened the old
  // .lock meanwhile sees it is no longer the file at that path and retries (TakeLock).
  unlink((path_ + "/" + kLockName).c_str());
  rmdir(path_.c_str());
  close(lock_fd_);
}

void SpillDirectory::TakeLock() {
  const std::string lock_path = path_ + "/" + kLockName;
  for (int attempt = 0;; ++attempt) {
    MakeDirs(path_);
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) ThrowIO("cannot open spill lock " + lock_path, errno);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {  // non-blocking: no EINTR
      const int err = errno;
      close(fd);
      if (err == EWOULDBLOCK && attempt < kLockAttempts) {
        // Perhaps a starting node removing this directory as stale holds it for a moment.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (err == EWOULDBLOCK) {
        throw IOError("spill directory " + path_ + " is in use by another process (" + lock_path +
                      " is locked)");
      }
      ThrowIO("cannot lock " + lock_path, err);
    }
    if (SameFile(fd, AT_FDCWD, lock_path.c_str())) {
      lock_fd_ = fd;
      return;
    }
    close(fd);  // removed by a previous owner between our open and flock
    if (attempt == kLockAttempts) throw IOError("spill lock " + lock_path + " keeps being removed");
  }
}

std::vector<SpillLocation> SpillDirectory::Write(std::span<const Piece> pieces) {
  int64_t total = 0;
  for (const Piece& p : pieces) {
    if (p.nbytes < 0 || (p.nbytes > 0 && p.data == nullptr)) {
      throw ValueError("spill piece of " + std::to_string(p.nbytes) + " bytes" +
                       (p.data == nullptr ? " with null data" : "") + " for " + path_);
    }
    total += p.nbytes;
  }
  std::vector<SpillLocation> out(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) out[i].nbytes = pieces[i].nbytes;
  if (total == 0) return out;

  const std::string file = path_ + "/spill-" + std::to_string(state_->next_seq++) + ".bin";
  const std::string what =
      "spill to " + path_ + " failed writing " + std::to_string(total) + " bytes";
  const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) ThrowIO(what, errno);
  int err = 0;
  int64_t offset = 0;
  for (size_t i = 0; i < pieces.size() && err == 0; offset += pieces[i++].nbytes) {
    out[i].offset = offset;
    err = PwriteAll(fd, static_cast<const char*>(pieces[i].data), pieces[i].nbytes, offset);
  }
  std::shared_ptr<const SpillFile> spill;
  if (err == 0) {
    try {
      spill.reset(new SpillFile(state_, file, fd, total));
    } catch (const std::bad_alloc&) {
      err = ENOMEM;
    }
  }
  if (err != 0) {
    close(fd);
    unlink(file.c_str());
    ThrowIO(what, err);
  }
  state_->bytes_on_disk += total;
  state_->files += 1;
  state_->bytes_written += total;
  for (SpillLocation& loc : out) loc.file = spill;
  return out;
}

int64_t SpillDirectory::bytes_on_disk() const { return state_->bytes_on_disk; }
int64_t SpillDirectory::files() const { return state_->files; }
int64_t SpillDirectory::bytes_written() const { return state_->bytes_written; }
int64_t SpillDirectory::bytes_read() const { return state_->bytes_read; }

}  // namespace nums::engine
