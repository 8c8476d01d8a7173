#include "nums/array_grid.hpp"

#include <algorithm>
#include <cmath>

#include "src/checked.h"

namespace nums {

ArrayGrid::ArrayGrid(Shape shape, Shape block_shape, DType dtype)
    : shape_(std::move(shape)), block_shape_(std::move(block_shape)), dtype_(dtype) {
  if (shape_.size() != block_shape_.size()) {
    throw ShapeError("block shape " + shape_str(block_shape_) + " has another rank than shape " +
                     shape_str(shape_));
  }
  detail::check_shape(shape_, dtype_, "ArrayGrid");
  grid_shape_.resize(shape_.size());
  for (size_t d = 0; d < shape_.size(); ++d) {
    if (block_shape_[d] < 1) {
      if (shape_[d] == 0 && block_shape_[d] == 0) {
        block_shape_[d] = 1;
      } else {
        throw ShapeError("block shape " + shape_str(block_shape_) + " for shape " +
                         shape_str(shape_) + ": block dimensions must be >= 1");
      }
    }
    // ceil(shape / block) without forming shape + block - 1, which can overflow.
    grid_shape_[d] = shape_[d] / block_shape_[d] + (shape_[d] % block_shape_[d] != 0 ? 1 : 0);
  }
  const auto blocks = detail::checked_product(grid_shape_);
  if (!blocks || *blocks > kMaxBlocks) {
    throw ValueError("shape " + shape_str(shape_) + " with block shape " + shape_str(block_shape_) +
                     " makes a grid " + shape_str(grid_shape_) + " of more than " +
                     std::to_string(kMaxBlocks) +
                     " blocks, more than the driver keeps track of: choose larger blocks");
  }
}

Shape ArrayGrid::block_shape_at(const Shape& grid_entry) const {
  Shape s(shape_.size());
  for (size_t d = 0; d < s.size(); ++d) {
    s[d] = std::min(block_shape_[d], shape_[d] - grid_entry[d] * block_shape_[d]);
  }
  return s;
}

Shape ArrayGrid::block_offset(const Shape& grid_entry) const {
  Shape s(shape_.size());
  for (size_t d = 0; d < s.size(); ++d) s[d] = grid_entry[d] * block_shape_[d];
  return s;
}

int64_t ArrayGrid::flat(const Shape& grid_entry) const {
  int64_t f = 0;
  for (size_t d = 0; d < grid_shape_.size(); ++d) f = f * grid_shape_[d] + grid_entry[d];
  return f;
}

Shape ArrayGrid::entry(int64_t flat_index) const {
  Shape e(grid_shape_.size());
  for (size_t d = e.size(); d-- > 0;) {
    e[d] = flat_index % grid_shape_[d];
    flat_index /= grid_shape_[d];
  }
  return e;
}

std::string ArrayGrid::to_string() const {
  return "ArrayGrid(shape=" + shape_str(shape_) + ", block_shape=" + shape_str(block_shape_) +
         ", grid_shape=" + shape_str(grid_shape_) + ", dtype=" + std::string(dtype_name(dtype_)) +
         ")";
}

NodeGrid::NodeGrid(Shape shape) : shape_(std::move(shape)) {
  if (shape_.empty()) throw ValueError("NodeGrid: empty shape");
  for (int64_t d : shape_) {
    if (d < 1) throw ValueError("NodeGrid: dimensions must be >= 1, got " + shape_str(shape_));
  }
}

NodeGrid NodeGrid::for_nodes(int64_t nodes) {
  if (nodes < 1)
    throw ValueError("NodeGrid::for_nodes: need at least 1 node, got " + std::to_string(nodes));
  int64_t c1 = static_cast<int64_t>(std::sqrt(static_cast<double>(nodes)));
  while (nodes % c1 != 0) --c1;
  return NodeGrid({nodes / c1, c1});
}

int64_t NodeGrid::node_of(const Shape& grid_entry, const Shape& grid_shape) const {
  const int64_t n = num_nodes();
  // The first two axes that have more than one block carry the layout; an array split along one
  // axis only (tall-skinny, 1-d) is spread over all nodes along it.
  std::vector<size_t> split;
  for (size_t d = 0; d < grid_shape.size() && split.size() < 2; ++d) {
    if (grid_shape[d] > 1) split.push_back(d);
  }
  if (split.empty()) return 0;
  if (split.size() == 1 || shape_.size() < 2) return grid_entry[split[0]] % n;
  const int64_t c0 = shape_[0], c1 = n / shape_[0];
  return (grid_entry[split[0]] % c0) * c1 + grid_entry[split[1]] % c1;
}

std::string NodeGrid::to_string() const { return "NodeGrid" + shape_str(shape_); }

Shape default_block_shape(const Shape& shape, DType dtype, int64_t cores) {
  constexpr int64_t kMaxBlockBytes = int64_t{64} << 20;
  constexpr int64_t kMinSplitBytes = int64_t{1} << 20;  // below this per block, stay whole
  detail::check_shape(shape, dtype, "default_block_shape");
  const int64_t bytes = shape_size(shape) * itemsize(dtype);
  int64_t blocks = bytes / kMaxBlockBytes + (bytes % kMaxBlockBytes != 0 ? 1 : 0);
  if (blocks > ArrayGrid::kMaxBlocks) {
    throw ValueError("default_block_shape: shape " + shape_str(shape) + " of dtype " +
                     std::string(dtype_name(dtype)) + " needs more than " +
                     std::to_string(ArrayGrid::kMaxBlocks) + " blocks of at most 64 MiB");
  }
  blocks = std::max(blocks, std::min(cores, bytes / kMinSplitBytes));
  const size_t nd = shape.size();
  Shape parts(nd, 1), block(nd, 1);
  // Split the longest block dimension until there are enough blocks.
  // ceil(a / b) for a >= 0, b > 0, without forming a + b (dimensions may be near 2^63).
  auto ceil_div = [](int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); };
  for (;;) {
    int64_t count = 1;
    for (size_t d = 0; d < nd; ++d) {
      block[d] = ceil_div(std::max<int64_t>(shape[d], 1), parts[d]);
      count *= ceil_div(shape[d], block[d]);
    }
    if (count >= blocks || nd == 0) break;
    size_t best = 0;
    for (size_t d = 1; d < nd; ++d) {
      if (block[d] > block[best]) best = d;
    }
    if (block[best] <= 1) break;
    ++parts[best];
  }
  return block;
}

}  // namespace nums
