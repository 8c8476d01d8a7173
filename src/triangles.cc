// Triangles and diagonals: tri, tril, triu, diagonal, trace. Triangles are elementwise (a mask
// from broadcast index ranges); a diagonal is cut from the blocks it crosses where they live, and
// only the pieces move to be joined.

#include <algorithm>
#include <numeric>
#include <string>

#include "nums/creation.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/shape_impl.h"

namespace nums {

namespace {

// The (rows, cols) a triangle of x applies to: x's last two axes, or (n, n) for a 1-d x.
std::pair<int64_t, int64_t> matrix_dims(const BlockArray& x, const char* op) {
  if (x.ndim() == 0) {
    throw ValueError(std::string(op) + ": input must be at least 1-d, got a 0-d array");
  }
  const Shape& s = x.shape();
  if (s.size() == 1) return {s[0], s[0]};
  return {s[s.size() - 2], s[s.size() - 1]};
}

}  // namespace

BlockArray tri(int64_t n, std::optional<int64_t> m_in, int64_t k, DType dtype) {
  const int64_t m = m_in.value_or(n);
  detail::check_shape({n, m}, dtype, "tri");
  // Element (i, j) is 1 where j - i <= k.
  const BlockArray rows = arange(0, n).reshape({n, 1});
  const BlockArray cols = arange(0, m).reshape({1, m});
  return ((cols - rows) <= k).astype(dtype);
}

BlockArray tril(const BlockArray& x, int64_t k) {
  const auto [r, c] = matrix_dims(x, "tril");
  return where(tri(r, c, k, bool_), x, full({}, 0, x.dtype()));
}

BlockArray triu(const BlockArray& x, int64_t k) {
  const auto [r, c] = matrix_dims(x, "triu");
  return where(tri(r, c, k - 1, bool_), full({}, 0, x.dtype()), x);
}

BlockArray diagonal(const BlockArray& x, int64_t offset, int64_t axis1, int64_t axis2) {
  const int64_t nd = x.ndim();
  if (nd < 2) {
    throw ValueError("diagonal: array of shape " + shape_str(x.shape()) +
                     " has fewer than two dimensions");
  }
  const int64_t a1 = detail::normalize_axis(axis1, nd, "diagonal");
  const int64_t a2 = detail::normalize_axis(axis2, nd, "diagonal");
  if (a1 == a2) {
    throw ValueError("diagonal: axis1 and axis2 cannot be the same, both are " +
                     std::to_string(axis1));
  }
  std::vector<int64_t> order;
  for (int64_t d = 0; d < nd; ++d) {
    if (d != a1 && d != a2) order.push_back(d);
  }
  order.push_back(a1);
  order.push_back(a2);
  const BlockArray y = x.transpose(order);
  Shape lead(y.shape().begin(), y.shape().end() - 2);
  const int64_t rows = y.shape()[static_cast<size_t>(nd) - 2];
  const int64_t cols = y.shape()[static_cast<size_t>(nd) - 1];
  const int64_t r0 = offset < 0 ? -offset : 0, c0 = offset > 0 ? offset : 0;
  const int64_t len = r0 >= rows || c0 >= cols ? 0 : std::min(rows - r0, cols - c0);
  Shape out = lead;
  out.push_back(len);
  if (len == 0 || shape_size(lead) == 0) return zeros(out, x.dtype());
  // The diagonal crosses blocks (bi, bj) of the last two axes in order; each crossing gives a
  // piece cut where the block lives (array.diagonal), for every block of the leading axes. The
  // pieces are then laid end to end along the new last axis.
  const ArrayGrid& g = y.grid();
  const auto nl = lead.size();
  const int64_t br = g.block_shape()[nl], bc = g.block_shape()[nl + 1];
  Shape lead_grid(g.grid_shape().begin(), g.grid_shape().begin() + static_cast<int64_t>(nl));
  Shape block(g.block_shape().begin(), g.block_shape().begin() + static_cast<int64_t>(nl));
  block.push_back(std::max<int64_t>(1, std::min(len, br)));
  ArrayGrid grid(out, block, x.dtype());
  const auto& in = *y.impl();
  const std::vector<int64_t> nodes = y.block_nodes();
  std::vector<int64_t> lengths;
  std::vector<std::vector<detail::ObjectRef>> slabs;
  for (int64_t t = 0; t < len;) {
    const int64_t r = r0 + t, c = c0 + t;
    const int64_t bi = r / br, bj = c / bc;
    const int64_t lr = r - bi * br, lc = c - bj * bc;
    const int64_t m =
        std::min({std::min(br, rows - bi * br) - lr, std::min(bc, cols - bj * bc) - lc, len - t});
    std::vector<detail::ObjectRef> slab;
    detail::for_each_entry(lead_grid, [&](const Shape& le) {
      Shape e = le;
      e.push_back(bi);
      e.push_back(bj);
      const auto id = static_cast<size_t>(g.flat(e));
      const Shape bse = g.block_shape_at(e);
      Shape piece(bse.begin(), bse.end() - 2);
      piece.push_back(m);
      slab.push_back(detail::submit(
          *in.ctx, "array.diagonal",
          {in.blocks[id], detail::int_scalar(lr), detail::int_scalar(lc), detail::int_scalar(m)},
          nodes[id], engine::OutputSpec{x.dtype(), piece}));
    });
    lengths.push_back(m);
    slabs.push_back(std::move(slab));
    t += m;
  }
  return detail::join_slabs(in.ctx, grid, static_cast<int64_t>(nl), lengths, slabs);
}

BlockArray trace(const BlockArray& x, int64_t offset, int64_t axis1, int64_t axis2) {
  if (x.ndim() < 2) {
    throw ValueError("trace: array of shape " + shape_str(x.shape()) +
                     " has fewer than two dimensions");
  }
  return diagonal(x, offset, axis1, axis2).sum(-1);
}

}  // namespace nums
