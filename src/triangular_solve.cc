// solve_triangular and cho_solve as a blocked substitution over square tiles of A.
//
// For lower-triangular A in T x T tiles, B in T-row blocks (any column blocks), column block c:
//   X[i, c] = A[i, i]^{-1} (B[i, c] - sum_{j < i} A[i, j] X[j, c])     i = 0, 1, ...
// (upper: i from the last tile down, j > i). Each column block is an independent chain of
// "linalg.sub_matmul" and "linalg.tri_solve" tasks on the node that holds B[i, c]: the tiles of A
// travel to B's nodes, and the column blocks of B run in parallel. A^T (trans "T") is A's
// transpose with the triangle flipped.

#include "nums/creation.hpp"
#include "nums/linalg.hpp"
#include "src/array_impl.h"

namespace nums::linalg {

BlockArray solve_triangular(const BlockArray& a, const BlockArray& b, bool lower,
                            const std::string& trans, bool unit_diagonal) {
  detail::check_same_context(a, b, "solve_triangular");
  if (trans != "N" && trans != "T" && trans != "C") {
    throw ValueError("solve_triangular: trans '" + trans + "' (expected 'N', 'T' or 'C')");
  }
  if (a.ndim() != 2 || a.shape()[0] != a.shape()[1]) {
    throw ShapeError("solve_triangular: expected a square 2-d matrix, got shape " +
                     shape_str(a.shape()));
  }
  const int64_t n = a.shape()[0];
  if ((b.ndim() != 1 && b.ndim() != 2) || b.shape()[0] != n) {
    throw ShapeError("solve_triangular: right-hand side of shape " + shape_str(b.shape()) +
                     " does not fit a matrix of shape " + shape_str(a.shape()) + " (expected (" +
                     std::to_string(n) + ",) or (" + std::to_string(n) + ", k))");
  }
  const DType dt = a.dtype() == DType::kFloat32 && b.dtype() == DType::kFloat32 ? DType::kFloat32
                                                                                : DType::kFloat64;
  if (b.size() == 0) return zeros(b.shape(), dt);
  BlockArray x = a.astype(dt);
  if (trans != "N") {
    x = x.T();
    lower = !lower;
  }
  const int64_t tile = std::min(x.block_shape()[0], x.block_shape()[1]);
  x = x.rechunk({tile, tile});
  BlockArray rhs = b.astype(dt);
  rhs = b.ndim() == 1
            ? detail::reshape_blocks(rhs.rechunk({tile}), ArrayGrid({n, 1}, {tile, 1}, dt))
            : rhs.rechunk({tile, std::max<int64_t>(1, b.block_shape()[1])});
  auto& ctx = *x.impl()->ctx;
  const int64_t nt = x.grid_shape()[0], nc = rhs.grid_shape()[1];
  auto tile_of = [&](int64_t i, int64_t j) {
    return x.impl()->blocks[static_cast<size_t>(i * nt + j)];
  };
  std::vector<detail::ObjectRef> out(rhs.impl()->blocks.size());
  for (int64_t c = 0; c < nc; ++c) {
    for (int64_t step = 0; step < nt; ++step) {
      const int64_t i = lower ? step : nt - 1 - step;
      const size_t at = static_cast<size_t>(i * nc + c);
      const int64_t node = rhs.impl()->blocks[at].node();
      detail::ObjectRef acc = rhs.impl()->blocks[at];
      const engine::OutputSpec spec{dt, rhs.grid().block_shape_at({i, c})};
      for (int64_t s = 0; s < step; ++s) {
        const int64_t j = lower ? s : nt - 1 - s;
        acc =
            detail::submit(ctx, "linalg.sub_matmul",
                           {acc, tile_of(i, j), out[static_cast<size_t>(j * nc + c)]}, node, spec);
      }
      out[at] = detail::submit(ctx, "linalg.tri_solve",
                               {tile_of(i, i), acc, detail::Scalar{lower},
                                detail::Scalar{unit_diagonal}, detail::int_scalar(i * tile)},
                               node, spec);
    }
  }
  const BlockArray result = detail::make_array(x.impl()->ctx, rhs.grid(), std::move(out));
  if (b.ndim() == 2) return result;
  return detail::reshape_blocks(result, ArrayGrid({n}, {tile}, dt));
}

BlockArray cho_solve(const BlockArray& c, const BlockArray& b, bool lower) {
  // A = L L^T: L y = b, then L^T x = y. A = U^T U: U^T y = b, then U x = y.
  const BlockArray y = solve_triangular(c, b, lower, lower ? "N" : "T");
  return solve_triangular(c, y, lower, lower ? "T" : "N");
}

}  // namespace nums::linalg
