#pragma once
/// ArrayGrid (how an array is cut into blocks) and NodeGrid (how blocks map to nodes).

#include <cstdint>
#include <string>
#include <vector>

#include "nums/dtype.hpp"
#include "nums/ndarray.hpp"

namespace nums {

/// Shape, block shape and dtype of a blocked array; grid_shape = ceil(shape / block_shape).
/// Edge blocks are smaller when a dimension does not divide evenly. An immutable value.
class ArrayGrid {
 public:
  /// The most blocks one array may have: the driver keeps a handle and lineage per block, so a
  /// larger grid would exhaust its memory (and take minutes just to submit).
  static constexpr int64_t kMaxBlocks = int64_t{1} << 26;

  ArrayGrid() = default;
  /// Throws ShapeError when ranks differ or a block dimension is < 1 (0 is allowed only for an
  /// empty dimension, where it becomes 1). Throws ValueError naming the shape for a negative
  /// dimension, for a number of elements or bytes that does not fit int64 (shape_size's rule),
  /// and, naming the block shape too, for a grid of more than kMaxBlocks blocks.
  ArrayGrid(Shape shape, Shape block_shape, DType dtype);

  const Shape& shape() const { return shape_; }
  const Shape& block_shape() const { return block_shape_; }
  const Shape& grid_shape() const { return grid_shape_; }
  DType dtype() const { return dtype_; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return shape_size(shape_); }
  int64_t num_blocks() const { return shape_size(grid_shape_); }

  /// Shape of the block at `grid_entry` (edge blocks are cut short).
  Shape block_shape_at(const Shape& grid_entry) const;
  /// Index of the block's first element in the array.
  Shape block_offset(const Shape& grid_entry) const;
  /// Row-major position of `grid_entry` among the blocks, and back.
  int64_t flat(const Shape& grid_entry) const;
  Shape entry(int64_t flat_index) const;

  std::string to_string() const;
  friend bool operator==(const ArrayGrid&, const ArrayGrid&) = default;

 private:
  Shape shape_;
  Shape block_shape_;
  Shape grid_shape_;
  DType dtype_ = DType::kFloat64;
};

/// The cluster seen as a grid of nodes. A block at grid entry (i0, i1, ...) of an array lives on
/// node (i0 mod C0, i1 mod C1), flattened row-major; 1-d arrays use all nodes along their axis and
/// axes past the second do not move blocks between nodes.
class NodeGrid {
 public:
  NodeGrid() : NodeGrid(Shape{1}) {}
  /// Throws ValueError for an empty shape or a dimension < 1.
  explicit NodeGrid(Shape shape);
  /// For `nodes` nodes: a near-square 2-d grid (4 -> 2x2, 6 -> 3x2, 5 -> 5x1).
  static NodeGrid for_nodes(int64_t nodes);

  const Shape& shape() const { return shape_; }
  int64_t num_nodes() const { return shape_size(shape_); }
  /// The node of the block at `grid_entry` of an array whose grid is `grid_shape`.
  int64_t node_of(const Shape& grid_entry, const Shape& grid_shape) const;
  std::string to_string() const;
  friend bool operator==(const NodeGrid&, const NodeGrid&) = default;

 private:
  Shape shape_;
};

/// The default block shape for an array: about one block per core for arrays of a few MiB or
/// more, blocks of at most 64 MiB, splitting the longest block dimension first (so tall-skinny
/// arrays are split by rows only). Small arrays stay one block.
Shape default_block_shape(const Shape& shape, DType dtype, int64_t cores);

}  // namespace nums
