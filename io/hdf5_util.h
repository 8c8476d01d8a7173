#pragma once
// What every HDF5 call of the I/O layer shares: the process-wide lock (the serial library is not
// thread-safe, and an embedded cluster's nodes are threads of one process), handles that close
// themselves, the dtype mapping h5py uses, and errors that name the file and dataset.

#include <hdf5.h>

#include <mutex>
#include <string>

#include "engine/block.h"
#include "nums/dtype.hpp"

namespace nums::io {

/// Holds the lock every HDF5 call in this process is made under, and keeps HDF5 from printing
/// its error stacks to stderr (our errors carry the message instead).
class Hdf5Lock {
 public:
  Hdf5Lock();
  /// How many times the lock was taken in this process (tests check which paths avoid it).
  static int64_t Acquisitions();

 private:
  std::unique_lock<std::mutex> lock_;
};

/// An HDF5 identifier closed by `close` on destruction (under the Hdf5Lock the owner holds).
class Hid {
 public:
  Hid() = default;
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hid() { Reset(); }
  Hid(Hid&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      Reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes now; false when HDF5 reports an error (a file whose final flush failed).
  bool Close() {
    const hid_t id = id_;
    id_ = -1;
    return id < 0 || close_(id) >= 0;
  }

 private:
  void Reset() {
    if (id_ >= 0) close_(id_);
    id_ = -1;
  }
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

/// The innermost message of HDF5's current error stack ("" when empty).
std::string Hdf5ErrorText();

/// File access properties: HDF5's own file locking off (block writes serialise with flock on
/// the temporary file instead, and reads need no lock).
Hid FileAccess();

/// Opens `path` read-only or read-write; IOError naming the file (and `dataset`, the one the
/// caller is after) otherwise.
Hid OpenHdf5File(const std::string& path, bool write, const std::string& dataset);
/// Opens dataset `dataset` of `file`; IOError naming the file and dataset when a link on the
/// way is missing or the object is not a dataset.
Hid OpenDataset(const Hid& file, const std::string& path, const std::string& dataset);

/// The nums dtype of an HDF5 type as h5py maps it; DTypeError naming the file, dataset and the
/// HDF5 type otherwise.
DType DTypeOfHdf5(hid_t type, const std::string& path, const std::string& dataset);
/// A readable name of an HDF5 type ("uint16", "float16", "compound", ...).
std::string Hdf5TypeName(hid_t type);
/// The in-memory type of a dtype's elements (bool: h5py's enum of int8 FALSE = 0, TRUE = 1).
Hid MemoryType(DType dtype);
/// The type a dtype is stored as: little-endian IEEE floats and integers, h5py's bool enum.
Hid StorageType(DType dtype);

/// The dataset's dataspace with the hyperslab `offset` + `count` selected, and a dataspace for
/// the block in memory; both scalar for 0-d.
std::pair<Hid, Hid> BlockSpaces(const Hid& dataset, const engine::Shape& offset,
                                const engine::Shape& count);

}  // namespace nums::io
