#include "engine/block.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <sstream>

#include "nums/errors.hpp"

namespace nums::engine {

int64_t ShapeSize(const Shape& shape) {
  // Shapes reach here from the wire too: a product that overflows must not wrap to a small size.
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ValueError("negative dimension in shape " + ShapeToString(shape));
    if (__builtin_mul_overflow(n, d, &n) || n > (int64_t{1} << 59)) {
      throw ValueError("shape " + ShapeToString(shape) + " has more elements than fit in memory");
    }
  }
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ',';
  os << ')';
  return os.str();
}

namespace {
thread_local std::vector<Block>* declared_outputs = nullptr;
}  // namespace

std::shared_ptr<Buffer> Buffer::Allocate(int64_t nbytes, std::shared_ptr<MemoryPool> pool) {
  if (nbytes < 0) throw ValueError("Buffer::Allocate: negative size " + std::to_string(nbytes));
  void* p = pool->Allocate(nbytes);
  return std::shared_ptr<Buffer>(
      new Buffer(static_cast<uint8_t*>(p), nbytes, std::move(pool), nullptr));
}

std::shared_ptr<Buffer> Buffer::Wrap(std::shared_ptr<void> owner, void* data, int64_t nbytes) {
  return std::shared_ptr<Buffer>(
      new Buffer(static_cast<uint8_t*>(data), nbytes, nullptr, std::move(owner)));
}

Buffer::~Buffer() {
  if (pool_) pool_->Free(data_, size_);
}

DeclaredOutputs::DeclaredOutputs(std::vector<Block>& outputs) : previous_(declared_outputs) {
  declared_outputs = &outputs;
}

DeclaredOutputs::~DeclaredOutputs() { declared_outputs = previous_; }

Block::Block(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer)
    : dtype_(dtype),
      shape_(std::move(shape)),
      size_(ShapeSize(shape_)),
      buffer_(std::move(buffer)) {
  for (int64_t d : shape_) {
    if (d < 0) throw ValueError("Block: negative dimension in shape " + ShapeToString(shape_));
  }
  const int64_t have = buffer_ ? buffer_->size() : 0;
  if (have < nbytes()) {
    throw ValueError("Block: buffer of " + std::to_string(have) + " bytes is too small for " +
                     std::string(dtype_name(dtype_)) + " shape " + ShapeToString(shape_));
  }
}

Block Block::Allocate(DType dtype, Shape shape) {
  if (declared_outputs != nullptr) {
    auto& outs = *declared_outputs;
    for (auto it = outs.begin(); it != outs.end(); ++it) {
      if (it->dtype() == dtype && it->shape() == shape) {
        Block b = std::move(*it);
        outs.erase(it);
        return b;
      }
    }
  }
  return Allocate(dtype, std::move(shape), MemoryPool::Current());
}

Block Block::Allocate(DType dtype, Shape shape, std::shared_ptr<MemoryPool> pool) {
  const int64_t n = ShapeSize(shape) * itemsize(dtype);
  return Block(dtype, std::move(shape), n > 0 ? Buffer::Allocate(n, std::move(pool)) : nullptr);
}

}  // namespace nums::engine
