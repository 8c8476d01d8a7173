#include "nums/ndarray.hpp"

#include <cstdlib>

#include "engine/block.h"
#include "src/checked.h"

namespace nums {

std::string shape_str(const Shape& shape) { return engine::ShapeToString(shape); }

namespace {

std::string prefix(std::string_view what) {
  return what.empty() ? std::string() : std::string(what) + ": ";
}

void check_dims(const Shape& shape, std::string_view what) {
  for (int64_t d : shape) {
    if (d < 0) {
      throw ValueError(prefix(what) + "negative dimensions are not allowed, in shape " +
                       shape_str(shape));
    }
  }
}

int64_t checked_size(const Shape& shape, std::string_view what) {
  check_dims(shape, what);
  const auto n = detail::checked_product(shape);
  if (!n) {
    throw ValueError(prefix(what) + "shape " + shape_str(shape) +
                     " has more elements than int64 can count");
  }
  return *n;
}

}  // namespace

int64_t shape_size(const Shape& shape) { return checked_size(shape, ""); }

namespace detail {

void check_shape(const Shape& shape, DType dtype, std::string_view what) {
  checked_size(shape, what);
  // NumPy's rule again: the bytes of the non-zero dimensions must fit, even for an empty array.
  int64_t bytes = itemsize(dtype);
  bool fits = true;
  for (int64_t d : shape) {
    if (d != 0) fits = fits && !__builtin_mul_overflow(bytes, d, &bytes);
  }
  if (!fits) {
    throw ValueError(prefix(what) + "an array of shape " + shape_str(shape) + " and dtype " +
                     std::string(dtype_name(dtype)) +
                     " would need more bytes than int64 can count");
  }
}

}  // namespace detail

NDArray::NDArray(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  detail::check_shape(shape_, dtype_, "NDArray");
  size_ = shape_size(shape_);
  auto bytes = std::shared_ptr<uint8_t[]>(
      new uint8_t[static_cast<size_t>(std::max<int64_t>(nbytes(), 1))]());
  data_ = bytes.get();
  storage_ = std::move(bytes);
}

NDArray::NDArray(DType dtype, Shape shape, std::shared_ptr<void> storage, void* data)
    : dtype_(dtype), shape_(std::move(shape)), storage_(std::move(storage)), data_(data) {
  detail::check_shape(shape_, dtype_, "NDArray");
  size_ = shape_size(shape_);
}

void NDArray::check_type(DType t) const {
  if (t != dtype_) {
    throw DTypeError("NDArray of dtype " + std::string(dtype_name(dtype_)) + " accessed as " +
                     std::string(dtype_name(t)));
  }
}

int64_t NDArray::flat_index(std::initializer_list<int64_t> index) const {
  if (static_cast<int64_t>(index.size()) != ndim()) {
    throw IndexError("index of " + std::to_string(index.size()) +
                     " numbers for an array of shape " + shape_str(shape_));
  }
  int64_t flat = 0;
  size_t d = 0;
  for (int64_t i : index) {
    const int64_t n = shape_[d];
    const int64_t j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) {
      throw IndexError("index " + std::to_string(i) + " is out of bounds for axis " +
                       std::to_string(d) + " with size " + std::to_string(n));
    }
    flat = flat * n + j;
    ++d;
  }
  return flat;
}

NDArray NDArray::astype(DType dtype) const {
  NDArray out(dtype, shape_);
  dispatch_all(dtype, [&](auto t) {
    using T = decltype(t);
    T* p = static_cast<T*>(out.raw());
    for (int64_t k = 0; k < size_; ++k) p[k] = value_at<T>(k);
  });
  return out;
}

NDArray NDArray::reshape(Shape shape) const {
  if (shape_size(shape) != size_) {
    throw ShapeError("cannot reshape array of shape " + shape_str(shape_) + " into shape " +
                     shape_str(shape));
  }
  return NDArray(dtype_, std::move(shape), storage_, data_);
}

}  // namespace nums
