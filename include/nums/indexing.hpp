#pragma once
/// Indexing with NumPy's semantics, written as a call: x(3), x(-1), x(slice(1, 5), all),
/// x(slice(std::nullopt, std::nullopt, -1)), x(newaxis), x(std::vector<int64_t>{3, 0, 3}),
/// x(mask). The result, an IndexExpr, reads as a BlockArray and can be assigned to:
/// x(slice(0, 2), all) = y; x(x > 0.0) = 1.0;
///
/// x(ellipsis, 0) is x[..., 0]; x({3, 0, 3}) takes a brace list of positions; compound
/// assignment writes through the index: x(slice(0, 2)) += 1.
///
/// Several integer lists or arrays in one index broadcast together and select element-wise, as
/// in NumPy: x({0, 2}, {1, 3}) is [x[0, 1], x[2, 3]]; their axes go where the first one is when
/// the integer and array entries stand side by side, else first.
///
/// Differences from NumPy: a write takes at most one integer-list/array entry; a mask does not
/// mix with integer lists or arrays and cannot be 0-d; a write through a mask takes the mask as
/// the first entry, followed by whole axes at most.

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "nums/block_array.hpp"

namespace nums {

/// start:stop:step as in Python; nullopt is an omitted part. Negative start and stop count from
/// the end; out-of-range bounds are clamped; a negative step walks backwards (defaults then run
/// from the last element to before the first). A step of 0 is a ValueError when used.
struct slice {
  std::optional<int64_t> start, stop, step;  ///< nullopt: omitted
  /// slice(stop): [0, stop).
  explicit slice(std::optional<int64_t> stop_) : stop(stop_) {}
  slice(std::optional<int64_t> start_, std::optional<int64_t> stop_,
        std::optional<int64_t> step_ = std::nullopt)
      : start(start_), stop(stop_), step(step_) {}
};

/// The type of nums::all: `:` as an index entry. Also callable as the reduction
/// nums::all(x, axes, keepdims), whose name it shares.
struct AllIndex {
  BlockArray operator()(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) const {
    return x.all(axes, keepdims);
  }
};
/// `:`, every element of an axis: x(all, 2) is x[:, 2].
inline constexpr AllIndex all{};

/// The type of nums::newaxis.
struct NewAxis {};
/// A new axis of length 1 at this place of the result, as NumPy's newaxis (None).
inline constexpr NewAxis newaxis{};

/// The type of nums::ellipsis.
struct EllipsisIndex {};
/// `...` (Python's Ellipsis): as many `all` entries as the axes the other entries leave; at most
/// one per index (IndexError otherwise).
inline constexpr EllipsisIndex ellipsis{};

/// One entry of an index: an integer (drops the axis), a slice or all, newaxis, a list of
/// integer positions, or a BlockArray (integer positions along one axis, or a bool mask over as
/// many axes as it has).
class IndexEntry {
 public:
  enum class Kind { kInteger, kSlice, kNewAxis, kList, kArray, kEllipsis };

  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) IndexEntry(T i)  // NOLINT
      : kind_(Kind::kInteger), integer_(static_cast<int64_t>(i)) {}
  IndexEntry(const slice& s) : kind_(Kind::kSlice), slice_(s) {}  // NOLINT
  IndexEntry(AllIndex) : kind_(Kind::kSlice) {}                   // NOLINT
  IndexEntry(NewAxis) : kind_(Kind::kNewAxis) {}                  // NOLINT
  IndexEntry(EllipsisIndex) : kind_(Kind::kEllipsis) {}           // NOLINT
  IndexEntry(std::vector<int64_t> list)                           // NOLINT
      : kind_(Kind::kList), list_(std::move(list)) {}
  /// Positions of any integer type (std::vector<int>, ...).
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, int64_t>)
      IndexEntry(const std::vector<T>& list)  // NOLINT
      : kind_(Kind::kList), list_(list.begin(), list.end()) {}
  IndexEntry(BlockArray array) : kind_(Kind::kArray), array_(std::move(array)) {}  // NOLINT

  /// Which of the forms this entry is; only the matching accessor below is meaningful.
  Kind kind() const { return kind_; }
  /// kInteger: the integer as written (negative counts from the end).
  int64_t integer() const { return integer_; }
  /// kSlice: the slice (all parts nullopt for `all`).
  const slice& get_slice() const { return slice_; }
  /// kList: the positions as written.
  const std::vector<int64_t>& list() const { return list_; }
  /// kArray: the index array (integer positions, or a bool mask).
  const BlockArray& array() const { return array_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  slice slice_{std::nullopt, std::nullopt};
  std::vector<int64_t> list_;
  BlockArray array_;
};

/// A BlockArray seen through an index: converts to the selected BlockArray (the read) and can
/// be assigned to (the write). The index is checked against the array when the IndexExpr is
/// made, before any task is sent: IndexError for an integer or position out of range (naming
/// it, the axis and its length), for too many indices, for a mask whose shape does not match
/// the axes it covers, or for a float array as index; ValueError for a slice step of 0 or more
/// than one list/array entry. An integer-array (BlockArray) index is fetched to the driver to be
/// checked; a mask read waits for the count of true elements of each mask block.
class IndexExpr {
 public:
  struct Impl;
  IndexExpr(const BlockArray& base, std::vector<IndexEntry> index);

  /// The selected elements as a new array; basic indexing reuses blocks where it can.
  operator BlockArray() const;  // NOLINT: the read reads as a value
  /// The read, gathered to the driver.
  NDArray get() const { return BlockArray(*this).get(); }

  /// Writes `values`, broadcast to the selected shape and cast to the array's dtype, into the
  /// array: every handle sharing its blocks sees them. ShapeError when `values` does not
  /// broadcast; with a mask index, values must broadcast to (number of true elements, remaining
  /// axes...) (this waits for the count unless values is one element or broadcasts along the
  /// masked axis). Repeated positions in a list: the last write wins.
  IndexExpr& operator=(const BlockArray& values);
  /// Writes one number to every selected element.
  IndexExpr& operator=(Number value);
  /// Writes the elements `values` selects (x(0) = y(1) copies values, it does not rebind).
  IndexExpr& operator=(const IndexExpr& values);
  /// x(index) op= values: the selected elements combined with `values` and written back, cast
  /// as the in-place operators cast (NumPy's same_kind: DTypeError for int_array(...) += 2.5).
  IndexExpr& operator+=(const BlockArray& values);
  IndexExpr& operator-=(const BlockArray& values);
  IndexExpr& operator*=(const BlockArray& values);
  IndexExpr& operator/=(const BlockArray& values);
  IndexExpr& operator+=(Number value);
  IndexExpr& operator-=(Number value);
  IndexExpr& operator*=(Number value);
  IndexExpr& operator/=(Number value);
  IndexExpr(const IndexExpr&) = default;

 private:
  std::shared_ptr<const Impl> impl_;
};

template <typename... I>
IndexExpr BlockArray::operator()(const I&... index) const {
  return IndexExpr(*this, std::vector<IndexEntry>{IndexEntry(index)...});
}
inline IndexExpr BlockArray::operator()(std::initializer_list<int64_t> positions) const {
  return IndexExpr(*this, {IndexEntry(std::vector<int64_t>(positions))});
}

}  // namespace nums
