#pragma once
// Block: one dense, row-major, n-d piece of an array, the unit the engine stores, moves and
// computes on. Its bytes live in a shared Buffer, taken from a MemoryPool, so copies inside a
// process are zero-copy and every byte is counted by the node that holds it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/memory_pool.h"
#include "nums/dtype.hpp"

namespace nums::engine {

using Shape = std::vector<int64_t>;

/// Number of elements of `shape` (1 for 0-d).
int64_t ShapeSize(const Shape& shape);
/// "(3, 4)" like NumPy; "()" for 0-d.
std::string ShapeToString(const Shape& shape);

/// An aligned, immutable-once-shared byte buffer from one pool. Large buffers ask for
/// transparent huge pages.
class Buffer {
 public:
  static constexpr int64_t kAlignment = 64;
  /// Uninitialised bytes from `pool`; throws OutOfMemoryError when memory is exhausted.
  static std::shared_ptr<Buffer> Allocate(int64_t nbytes,
                                          std::shared_ptr<MemoryPool> pool = MemoryPool::Current());
  /// Bytes owned elsewhere, kept alive by `owner` (not freed by the Buffer, counted by no pool).
  static std::shared_ptr<Buffer> Wrap(std::shared_ptr<void> owner, void* data, int64_t nbytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }
  /// The pool the bytes came from; null for wrapped bytes.
  const MemoryPool* pool() const { return pool_.get(); }
  Device device() const { return pool_ ? pool_->device() : Device::kCpu; }

 private:
  Buffer(uint8_t* data, int64_t size, std::shared_ptr<MemoryPool> pool, std::shared_ptr<void> owner)
      : data_(data), size_(size), pool_(std::move(pool)), owner_(std::move(owner)) {}
  uint8_t* data_;
  int64_t size_;
  std::shared_ptr<MemoryPool> pool_;  // null for wrapped bytes
  std::shared_ptr<void> owner_;       // set for wrapped bytes, which are not ours to free
};

/// A typed view of a buffer: dtype, shape and the bytes. Cheap to copy (the buffer is shared).
class Block {
 public:
  Block() = default;
  /// Throws ValueError when `buffer` is smaller than the shape needs.
  Block(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer);
  /// A block with uninitialised storage from the thread's current pool. While a task runs, its
  /// declared outputs (allocated before it started) are handed out here, in order, to the first
  /// requests of the same dtype and shape.
  static Block Allocate(DType dtype, Shape shape);
  /// A block with uninitialised storage from `pool`.
  static Block Allocate(DType dtype, Shape shape, std::shared_ptr<MemoryPool> pool);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return size_; }
  int64_t nbytes() const { return size_ * itemsize(dtype_); }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }
  Device device() const { return buffer_ ? buffer_->device() : Device::kCpu; }

  void* raw() { return buffer_ ? buffer_->data() : nullptr; }
  const void* raw() const { return buffer_ ? buffer_->data() : nullptr; }
  template <typename T>
  T* data() {
    return static_cast<T*>(raw());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw());
  }

 private:
  DType dtype_ = DType::kFloat64;
  Shape shape_{0};  // a default block is empty
  int64_t size_ = 0;
  std::shared_ptr<Buffer> buffer_;
};

/// While alive on a thread, Block::Allocate hands out `outputs` (a task's declared outputs) to
/// requests that match one's dtype and shape; what is left unclaimed stays in `outputs`.
class DeclaredOutputs {
 public:
  explicit DeclaredOutputs(std::vector<Block>& outputs);
  ~DeclaredOutputs();
  DeclaredOutputs(const DeclaredOutputs&) = delete;
  DeclaredOutputs& operator=(const DeclaredOutputs&) = delete;

 private:
  std::vector<Block>* previous_;
};

}  // namespace nums::engine
