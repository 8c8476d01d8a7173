// Scans (cumsum, cumprod) and differences (diff) along an axis, without gathering.
//
// Scan of x along axis a, with blocks x_0, x_1, ... along a (for each position of the other grid
// axes): carry_0 = identity, carry_j = carry_{j-1} (+) reduce_a(x_{j-1}); out_j = scan_a(x_j)
// seeded with carry_j. The reductions run in parallel where each x_j lives; the carry chain
// passes one slab (block with axis a of length 1) from the node of x_{j-1} to that of x_j; each
// out_j is computed where x_j lives.

#include <string>

#include "nums/indexing.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"

namespace nums {

using detail::ObjectRef;
using detail::TaskArg;

namespace {

enum class ScanOp : int64_t { kSum = 0, kProd = 1 };

BlockArray scan(const BlockArray& x_in, std::optional<int64_t> axis, ScanOp op, const char* name) {
  BlockArray x = x_in;
  int64_t ax = 0;
  if (axis) {
    ax = detail::normalize_axis(*axis, x.ndim(), name);
  } else {
    x = x.flatten();
  }
  if (is_complex(x.dtype())) {  // a sum adds each part on its own; a product does not
    if (op == ScanOp::kProd) detail::reject_complex(x, name);
    return detail::make_complex(scan(real(x), axis, op, name), scan(imag(x), axis, op, name));
  }
  // NumPy: bool and signed integers accumulate in int64 (the platform integer), unsigned ones in
  // uint64; floats keep their type.
  const DType out = is_floating(x.dtype())   ? x.dtype()
                    : is_unsigned(x.dtype()) ? DType::kUInt64
                                             : DType::kInt64;
  x = x.astype(out);
  const auto& in = *x.impl();
  const ArrayGrid& grid = in.grid;
  if (grid.num_blocks() == 0 || x.size() == 0) return detail::make_array(in.ctx, grid, in.blocks);
  const std::vector<int64_t> nodes = x.block_nodes();
  std::vector<ObjectRef> blocks(in.blocks.size());
  const std::vector<TaskArg> scalars{detail::int_scalar(ax),
                                     detail::int_scalar(static_cast<int64_t>(op))};
  // Walk each line of blocks along the axis: entries with e[ax] == 0 start a line.
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e0) {
    if (e0[static_cast<size_t>(ax)] != 0) return;
    Shape e = e0;
    ObjectRef carry;
    for (int64_t j = 0; j < grid.grid_shape()[static_cast<size_t>(ax)]; ++j) {
      e[static_cast<size_t>(ax)] = j;
      const auto id = static_cast<size_t>(grid.flat(e));
      const Shape bs = grid.block_shape_at(e);
      std::vector<TaskArg> args{in.blocks[id]};
      if (carry) args.emplace_back(carry);
      args.insert(args.end(), scalars.begin(), scalars.end());
      blocks[id] =
          detail::submit(*in.ctx, "array.scan", args, nodes[id], engine::OutputSpec{out, bs});
      if (j + 1 < grid.grid_shape()[static_cast<size_t>(ax)]) {
        Shape cs = bs;
        cs[static_cast<size_t>(ax)] = 1;
        carry = detail::submit(*in.ctx, "array.scan_carry", std::move(args), nodes[id],
                               engine::OutputSpec{out, cs});
      }
    }
  });
  return detail::make_array(in.ctx, grid, std::move(blocks));
}

}  // namespace

BlockArray cumsum(const BlockArray& x, std::optional<int64_t> axis) {
  return scan(x, axis, ScanOp::kSum, "cumsum");
}

BlockArray cumprod(const BlockArray& x, std::optional<int64_t> axis) {
  return scan(x, axis, ScanOp::kProd, "cumprod");
}

BlockArray diff(const BlockArray& x, int64_t n, int64_t axis) {
  if (n < 0) {
    throw ValueError("diff: order must be non-negative but got " + std::to_string(n));
  }
  if (x.ndim() == 0) {
    throw ValueError("diff: diff requires input that is at least one dimensional");
  }
  const auto ax = static_cast<size_t>(detail::normalize_axis(axis, x.ndim(), "diff"));
  BlockArray y = x;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t len = y.shape()[ax];
    if (len == 0) break;
    const auto nd = static_cast<size_t>(y.ndim());
    Shape start(nd, 0), step(nd, 1), count = y.shape();
    count[ax] = len - 1;
    const BlockArray lo = detail::strided_view(y, start, step, count, y.block_shape());
    start[ax] = 1;
    const BlockArray hi = detail::strided_view(y, start, step, count, y.block_shape());
    // NumPy compares bools (not_equal) instead of subtracting them.
    y = y.dtype() == DType::kBool ? (hi != lo) : hi - lo;
  }
  return n == 0 ? x.copy() : y;
}

}  // namespace nums
