#pragma once
/// BlockArray: the distributed n-d array. A cheap, shared handle to blocks held by the cluster's
/// nodes; operations return new arrays at once and only get() waits.

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "nums/array_grid.hpp"
#include "nums/context.hpp"
#include "nums/dtype.hpp"
#include "nums/ndarray.hpp"

namespace nums {

/// Which axes a reduction runs over: all of them (the default: Axes::all() or std::nullopt, as
/// NumPy's axis=None), one, or several. Negative axes count from the end. An explicit empty
/// list, std::vector<int64_t>{}, means no axes (NumPy's axis=()). A bare `{}` does not compile:
/// in NumPy `x.sum(axis=())` reduces nothing while C++ would read `x.sum({})` as "all axes", so
/// write `x.sum()` / `std::nullopt` or `std::vector<int64_t>{}` to say which one is meant.
struct Axes {
  std::optional<std::vector<int64_t>> axes;  ///< nullopt: all axes
  Axes() = delete;         // makes x.sum({}) ill-formed instead of silently "all axes"
  Axes(std::nullopt_t) {}  // NOLINT: x.sum(std::nullopt) is axis=None
  /// Every axis (NumPy's axis=None): the reductions' default.
  static Axes all() { return Axes(std::nullopt); }
  Axes(int64_t axis) : axes(std::vector<int64_t>{axis}) {}  // NOLINT: x.sum(1)
  Axes(int axis) : axes(std::vector<int64_t>{axis}) {}      // NOLINT
  Axes(std::initializer_list<int64_t> list) : axes(std::vector<int64_t>(list)) {}
  Axes(std::vector<int64_t> list) : axes(std::move(list)) {}  // NOLINT
};

class IndexExpr;  // see indexing.hpp
namespace detail {
struct LazyAccess;  // the array layer's view of an array whose elementwise expression is pending
}

class BlockArray {
 public:
  struct Impl;
  BlockArray() = default;
  explicit BlockArray(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  const Shape& shape() const;
  const Shape& block_shape() const;
  const Shape& grid_shape() const;
  const ArrayGrid& grid() const;
  DType dtype() const;
  int64_t ndim() const;
  int64_t size() const;
  int64_t nbytes() const;
  Context context() const;
  /// Nodes holding each block, row-major over the grid.
  std::vector<int64_t> block_nodes() const;

  /// Gathers the array to the driver (waits for its blocks; rethrows a failed task's error).
  NDArray get() const;
  /// Waits until every block is computed where it lives, without gathering it (Dask's `wait`):
  /// for timing, and before reusing an array many times. Rethrows a failed task's error.
  void wait() const;
  /// A 0-d or 1-element array's value; ValueError otherwise.
  template <typename T>
  T item() const {
    return get().template item<T>();
  }
  /// As a double matrix: 2-d as is, 1-d as a column, 0-d as 1x1; DTypeError never (values are
  /// converted), ShapeError for ndim > 2.
  Eigen::MatrixXd to_eigen() const;

  /// A copy converted to `dtype` as NumPy's astype converts (see convert_value: floats truncate
  /// toward zero, integers wrap, float16 rounds to nearest even); the array itself when the
  /// dtype is already `dtype`.
  BlockArray astype(DType dtype) const;
  BlockArray copy() const;
  /// Re-blocks to `block_shape` (moves blocks between nodes as needed).
  BlockArray rechunk(const Shape& block_shape) const;
  /// A copy whose blocks live on `device` of the nodes holding them (nums::gpu: each node's
  /// first GPU; nums::cpu: host memory). The copy keeps to that device: every operation reading
  /// it runs there whatever InitOptions::device says, and so do operations on its results, until
  /// another to(). An operation reading arrays kept to different devices throws ValueError;
  /// a kept array's operands that are not kept are staged to its device. nums::gpu throws
  /// ClusterError when a node holding a block has no GPU.
  BlockArray to(Device device) const;
  /// Where the blocks live: nums::gpu when any block was made on a GPU (to(nums::gpu), device
  /// "gpu", or placed there by device "auto"), nums::cpu otherwise. Computes a pending
  /// expression.
  Device device() const;

  // Reductions: axis/axes (all by default), keepdims as in NumPy.
  BlockArray sum(Axes axes = Axes::all(), bool keepdims = false) const;
  BlockArray prod(Axes axes = Axes::all(), bool keepdims = false) const;
  BlockArray mean(Axes axes = Axes::all(), bool keepdims = false) const;
  BlockArray var(Axes axes = Axes::all(), int64_t ddof = 0, bool keepdims = false) const;
  BlockArray std(Axes axes = Axes::all(), int64_t ddof = 0, bool keepdims = false) const;
  BlockArray min(Axes axes = Axes::all(), bool keepdims = false) const;
  BlockArray max(Axes axes = Axes::all(), bool keepdims = false) const;
  BlockArray all(Axes axes = Axes::all(), bool keepdims = false) const;
  BlockArray any(Axes axes = Axes::all(), bool keepdims = false) const;
  /// Index of the minimum along `axis` (nullopt: into the flattened array), int64.
  BlockArray argmin(std::optional<int64_t> axis = std::nullopt, bool keepdims = false) const;
  BlockArray argmax(std::optional<int64_t> axis = std::nullopt, bool keepdims = false) const;

  // Shape manipulation.
  BlockArray T() const;
  BlockArray transpose(std::vector<int64_t> axes = {}) const;
  BlockArray swapaxes(int64_t a, int64_t b) const;
  /// One dimension may be -1. The block shape is chosen anew unless given.
  BlockArray reshape(Shape shape, Shape block_shape = {}) const;
  BlockArray flatten() const;
  BlockArray expand_dims(int64_t axis) const;
  BlockArray squeeze(std::optional<int64_t> axis = std::nullopt) const;

  /// Indexing for read and write: x(0), x(slice(1, 5), all), x(mask), x(index_list).
  template <typename... I>
  IndexExpr operator()(const I&... index) const;
  /// x({3, 0, 3}): a brace list of positions along the first axis.
  IndexExpr operator()(std::initializer_list<int64_t> positions) const;

  /// The array's blocks and layout. Elementwise operations are recorded and run fused (one task
  /// per block); this is where a pending expression is computed, so every other use sees blocks.
  const std::shared_ptr<Impl>& impl() const;

 private:
  friend struct detail::LazyAccess;
  std::shared_ptr<Impl> impl_;
};

// Elementwise arithmetic with NumPy broadcasting and type promotion. Numbers are "weak": x + 1
// keeps x's dtype when it can hold the result kind.
BlockArray operator+(const BlockArray& a, const BlockArray& b);
BlockArray operator-(const BlockArray& a, const BlockArray& b);
BlockArray operator*(const BlockArray& a, const BlockArray& b);
BlockArray operator/(const BlockArray& a, const BlockArray& b);  ///< true division
BlockArray operator%(const BlockArray& a, const BlockArray& b);  ///< Python's modulo
BlockArray operator-(const BlockArray& a);
BlockArray operator==(const BlockArray& a, const BlockArray& b);
BlockArray operator!=(const BlockArray& a, const BlockArray& b);
BlockArray operator<(const BlockArray& a, const BlockArray& b);
BlockArray operator<=(const BlockArray& a, const BlockArray& b);
BlockArray operator>(const BlockArray& a, const BlockArray& b);
BlockArray operator>=(const BlockArray& a, const BlockArray& b);
/// Logical for bool arrays, bitwise for integers (DTypeError for floats).
BlockArray operator&(const BlockArray& a, const BlockArray& b);
BlockArray operator|(const BlockArray& a, const BlockArray& b);
BlockArray operator^(const BlockArray& a, const BlockArray& b);
BlockArray operator~(const BlockArray& a);
/// Shifts of integer arrays (bool computes in int8, as NumPy; DTypeError for floats). Shifts by the
/// bit width or more, or by a negative count, give 0 (<<) or the sign fill (>>), as in NumPy.
BlockArray operator<<(const BlockArray& a, const BlockArray& b);
BlockArray operator>>(const BlockArray& a, const BlockArray& b);
/// Logical, on the truth of any dtype; bool result.
BlockArray operator&&(const BlockArray& a, const BlockArray& b);
BlockArray operator||(const BlockArray& a, const BlockArray& b);
BlockArray operator!(const BlockArray& a);

/// A number as a 0-d array of its weak kind on the array's context (NumPy 2's rules for Python
/// scalars): an integer keeps an integer array's dtype, a float keeps a float array's; bool
/// arrays take int64 for an integer, any integer array float64 for a float. ValueError when an
/// integer does not fit the integer dtype it takes (NumPy 2: OverflowError), e.g. 2^40 against
/// an int32 array.
BlockArray as_array(const BlockArray& like, Number n);

#define NUMS_SCALAR_OPERATOR(op)                                                               \
  inline BlockArray operator op(const BlockArray& a, Number b) { return a op as_array(a, b); } \
  inline BlockArray operator op(Number a, const BlockArray& b) { return as_array(b, a) op b; }
NUMS_SCALAR_OPERATOR(+)
NUMS_SCALAR_OPERATOR(-)
NUMS_SCALAR_OPERATOR(*)
NUMS_SCALAR_OPERATOR(/)
NUMS_SCALAR_OPERATOR(%)
NUMS_SCALAR_OPERATOR(&)
NUMS_SCALAR_OPERATOR(|)
NUMS_SCALAR_OPERATOR(^)
NUMS_SCALAR_OPERATOR(<<)
NUMS_SCALAR_OPERATOR(>>)
#undef NUMS_SCALAR_OPERATOR

// Comparisons with a number are exact even when an integer does not fit the array's dtype
// (int32_array < 2^40 is all true), as in NumPy 2.
#define NUMS_SCALAR_COMPARISON(op)                       \
  BlockArray operator op(const BlockArray& a, Number b); \
  BlockArray operator op(Number a, const BlockArray& b);
NUMS_SCALAR_COMPARISON(==)
NUMS_SCALAR_COMPARISON(!=)
NUMS_SCALAR_COMPARISON(<)
NUMS_SCALAR_COMPARISON(<=)
NUMS_SCALAR_COMPARISON(>)
NUMS_SCALAR_COMPARISON(>=)
#undef NUMS_SCALAR_COMPARISON

/// In place, as in NumPy: the result is cast to a's dtype and must keep a's shape (ShapeError
/// otherwise); every handle sharing a's blocks sees the new values. The cast must be of the same
/// kind or safe (NumPy's casting='same_kind'): DTypeError for a float result into an integer or
/// bool array (int_array += 2.5, int_array /= 2) and for an integer result into a bool array.
BlockArray& operator+=(BlockArray& a, const BlockArray& b);
BlockArray& operator-=(BlockArray& a, const BlockArray& b);
BlockArray& operator*=(BlockArray& a, const BlockArray& b);
BlockArray& operator/=(BlockArray& a, const BlockArray& b);
inline BlockArray& operator+=(BlockArray& a, Number b) { return a += as_array(a, b); }
inline BlockArray& operator-=(BlockArray& a, Number b) { return a -= as_array(a, b); }
inline BlockArray& operator*=(BlockArray& a, Number b) { return a *= as_array(a, b); }
inline BlockArray& operator/=(BlockArray& a, Number b) { return a /= as_array(a, b); }

/// NumPy's result dtype of a binary operation on arrays of dtypes a and b (promote_types:
/// int8 + uint8 is int16, int64 + uint64 is float64, bool with anything is the other).
DType result_type(DType a, DType b);

/// Waits until every block of every array is computed, without gathering any (see
/// BlockArray::wait); rethrows the first failed task's error.
void wait(const std::vector<BlockArray>& arrays);

/// NumPy's repr of x, as repr(NDArray); an array over 1000 elements is summarised before it is
/// gathered, so only its edges move to the driver.
std::string repr(const BlockArray& x);
std::ostream& operator<<(std::ostream& os, const BlockArray& x);

}  // namespace nums
