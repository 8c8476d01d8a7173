#pragma once
/// NDArray: a dense n-d array in the driver's memory, what BlockArray::get() returns.

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nums/dtype.hpp"
#include "nums/errors.hpp"

namespace nums {

using Shape = std::vector<int64_t>;

/// "(3, 4)" like NumPy; "()" for 0-d, "(5,)" for 1-d.
std::string shape_str(const Shape& shape);
/// Number of elements (1 for 0-d). Throws ValueError naming the shape for a negative dimension
/// or when the product of the non-zero dimensions does not fit int64 (as NumPy, a zero dimension
/// does not excuse the others).
int64_t shape_size(const Shape& shape);

/// A number as the user wrote it: integral numbers keep their kind for NumPy's promotion rules.
/// An unsigned integer above int64's maximum is of kind kUInt64 (`i` holds its bits): it meets
/// uint64 arrays, floats and complex; another integer dtype cannot hold it (ValueError, NumPy 2's
/// OverflowError). A std::complex is a complex number (`im` its imaginary part), weak like a
/// Python complex.
struct Number {
  double f = 0;
  int64_t i = 0;
  DType kind = DType::kFloat64;  ///< kBool, kInt64, kUInt64, kFloat64 or kComplex128
  double im = 0;

  Number() = default;
  template <typename T>
  requires std::is_arithmetic_v<T> Number(
      T v)  // NOLINT: implicit by design, so that x + 1 and x * 2.5 read naturally
      : f(static_cast<double>(v)),
        i(convert_value<int64_t>(v)),
        kind(std::is_same_v<T, bool> ? DType::kBool
             : std::is_integral_v<T> ? DType::kInt64
                                     : DType::kFloat64) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<int64_t>::max())) {
        kind = DType::kUInt64;
        i = static_cast<int64_t>(static_cast<uint64_t>(v));  // the bits
      }
    }
  }
  template <typename T>
  requires std::is_floating_point_v<T> Number(std::complex<T> z)  // NOLINT: as above
      : f(static_cast<double>(z.real())),
        i(convert_value<int64_t>(static_cast<double>(z.real()))),
        kind(DType::kComplex128),
        im(static_cast<double>(z.imag())) {}
  bool is_integral() const {
    return kind == DType::kBool || kind == DType::kInt64 || kind == DType::kUInt64;
  }
  /// The integer as text (kUInt64 as unsigned).
  std::string integer_text() const {
    return kind == DType::kUInt64 ? std::to_string(static_cast<uint64_t>(i)) : std::to_string(i);
  }
  bool is_complex() const { return kind == DType::kComplex128; }
  std::complex<double> as_complex() const { return {f, im}; }
};

/// A dense, row-major array with shared storage. Copies share the bytes (like a NumPy view).
class NDArray {
 public:
  NDArray() : NDArray(DType::kFloat64, Shape{0}) {}
  /// Zero-filled.
  NDArray(DType dtype, Shape shape);
  /// Wraps existing bytes kept alive by `storage`; `data` must hold shape_size(shape) elements.
  NDArray(DType dtype, Shape shape, std::shared_ptr<void> storage, void* data);

  /// Copies `values` into a new array of `shape` (1-d of values.size() when shape is empty).
  template <typename T>
  static NDArray from_vector(const std::vector<T>& values, Shape shape = {}) {
    if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
    if (shape_size(shape) != static_cast<int64_t>(values.size())) {
      throw ShapeError("NDArray::from_vector: " + std::to_string(values.size()) +
                       " values do not fill shape " + shape_str(shape));
    }
    NDArray out(dtype_of<T>(), std::move(shape));
    T* d = out.data<T>();
    for (size_t k = 0; k < values.size(); ++k) d[k] = values[k];
    return out;
  }
  /// A 0-d array holding `value`.
  template <typename T>
  static NDArray scalar(T value) {
    NDArray out(dtype_of<T>(), Shape{});
    *out.data<T>() = value;
    return out;
  }

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return size_; }
  int64_t nbytes() const { return size_ * itemsize(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  /// Typed pointer; throws DTypeError when T is not the array's dtype.
  template <typename T>
  T* data() {
    check_type(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    check_type(dtype_of<T>());
    return static_cast<const T*>(data_);
  }
  /// Element at `index`, converted to T; IndexError when out of range (negative counts from end).
  template <typename T>
  T at(std::initializer_list<int64_t> index) const {
    return value_at<T>(flat_index(index));
  }
  /// The only element, converted to T; ValueError unless size() == 1.
  template <typename T>
  T item() const {
    if (size_ != 1) {
      throw ValueError("item(): array of shape " + shape_str(shape_) + " has " +
                       std::to_string(size_) + " elements, not 1");
    }
    return value_at<T>(0);
  }
  /// All elements in row-major order, converted to T.
  template <typename T>
  std::vector<T> to_vector() const {
    std::vector<T> out(static_cast<size_t>(size_));
    for (int64_t k = 0; k < size_; ++k) out[static_cast<size_t>(k)] = value_at<T>(k);
    return out;
  }
  /// Element k (row-major) converted to T.
  template <typename T>
  T value_at(int64_t k) const {
    return dispatch_all(dtype_, [&](auto tag) {
      using S = decltype(tag);
      return convert_value<T>(static_cast<const S*>(data_)[k]);
    });
  }
  /// A converted copy.
  NDArray astype(DType dtype) const;
  /// Same elements, new shape (shares storage); ShapeError when sizes differ.
  NDArray reshape(Shape shape) const;
  const std::shared_ptr<void>& storage() const { return storage_; }

 private:
  void check_type(DType t) const;
  int64_t flat_index(std::initializer_list<int64_t> index) const;

  DType dtype_;
  Shape shape_;
  int64_t size_ = 0;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

/// NumPy's repr of `a` ("array([1. , 2.5])", "array([1, 2], dtype=int32)"): the same element
/// formats, wrapping at 75 columns, and summary ("...") of arrays over 1000 elements.
std::string repr(const NDArray& a);
std::ostream& operator<<(std::ostream& os, const NDArray& a);

}  // namespace nums
