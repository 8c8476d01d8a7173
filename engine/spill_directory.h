#pragma once
// SpillDirectory: where a node writes objects that do not fit in memory. One directory per node,
// root/name, held with flock for as long as the node runs, so a crashed node's leftovers can be
// told from a live node's files and removed by the next node that starts under the same root.
// POSIX (Linux) only.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace nums::engine {

/// Counters and lifetime shared by a SpillDirectory and its files; defined in the .cc.
struct SpillState;

/// One spill file holding the bytes of one or more objects written together. Deleted from disk
/// when the last SpillLocation referring to it is destroyed. Keeps its descriptor open, so it
/// stays readable after its SpillDirectory is gone (the directory unlinks it then).
class SpillFile {
 public:
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  /// Unlinks the file (unless its directory already did) and subtracts it from the counters.
  ~SpillFile();

  const std::string& path() const { return path_; }
  int64_t bytes() const { return bytes_; }
  /// Reads [offset, offset + nbytes) into dst with pread (looping on short reads and EINTR).
  /// Throws IOError naming the file on a failed read or a range outside the file.
  void Read(int64_t offset, int64_t nbytes, void* dst) const;

 private:
  friend class SpillDirectory;
  SpillFile(std::shared_ptr<SpillState> state, std::string path, int fd, int64_t bytes);

  std::shared_ptr<SpillState> state_;
  std::string path_;
  int fd_;
  int64_t bytes_;
};

/// Where one object's bytes are on disk.
struct SpillLocation {
  /// Null only for an object of 0 bytes written in a batch of 0 bytes.
  std::shared_ptr<const SpillFile> file;
  int64_t offset = 0;
  int64_t nbytes = 0;
  /// Reads bytes [from, from + n) of this object into dst; n == 0 reads nothing. Throws
  /// ValueError for a negative or past-the-end range, IOError when the file cannot be read.
  void Read(int64_t from, int64_t n, void* dst) const;
};

/// A directory a node owns alone while it runs: root/name, locked with flock on root/name/.lock.
class SpillDirectory {
 public:
  struct Piece {
    const void* data;
    int64_t nbytes;
  };

  /// Creates root and root/name (mode 0700, parents too), takes the lock (IOError "in use by
  /// another process" if held), deletes every file in root/name but the lock (stale files of a
  /// crashed run), and deletes sibling directories under root that have a .lock file no live
  /// process holds (stale dirs of crashed nodes). Never deletes anything under root that has no
  /// .lock file. Throws ValueError for an empty root or a name that is not one path component.
  SpillDirectory(std::string root, std::string name);
  SpillDirectory(const SpillDirectory&) = delete;
  SpillDirectory& operator=(const SpillDirectory&) = delete;
  /// Removes its remaining files, the lock and the directory. Files still referenced by live
  /// SpillLocations stay readable (through their open descriptors) until those die.
  ~SpillDirectory();

  /// Writes the pieces one after another into one new file and returns one location per piece.
  /// Zero-byte pieces get a location with nbytes 0; a batch of 0 bytes in all creates no file.
  /// On any failure (ENOSPC, EIO, ...) removes the partial file, leaves the counters as they
  /// were, and throws IOError "spill to <dir> failed writing <n> bytes: <strerror>". Throws
  /// ValueError for a negative size or null data. Thread-safe.
  std::vector<SpillLocation> Write(std::span<const Piece> pieces);

  /// root/name.
  const std::string& path() const { return path_; }
  /// Bytes in live spill files.
  int64_t bytes_on_disk() const;
  /// Live spill files.
  int64_t files() const;
  /// Total bytes ever written (monotonic).
  int64_t bytes_written() const;
  /// Total bytes ever read through SpillFile::Read (monotonic).
  int64_t bytes_read() const;

 private:
  void TakeLock();

  std::string root_;
  std::string path_;
  int lock_fd_ = -1;
  std::shared_ptr<SpillState> state_;
};

}  // namespace nums::engine
