// nums::linalg factorizations and solvers as block tasks: TSQR (direct, R-only, indirect), SVD and
// PCA of tall-skinny arrays, inv, cholesky, solve and lstsq. The LAPACK work happens in the
// "linalg.*" kernels (src/kernels/cpu/lapack.cc); this file plans which task runs where.

#include "nums/linalg_solvers.hpp"

#include <map>
#include <optional>

#include "nums/creation.hpp"
#include "nums/linalg.hpp"
#include "nums/math.hpp"
#include "src/array_impl.h"
#include "src/linalg_dense.h"

namespace nums::linalg {
namespace {

using detail::ObjectRef;
using detail::Scalar;
using detail::TaskArg;

// The float dtype a factorization computes in: float32 stays, everything else is float64.
namespace {
void check_real(DType t) {
  if (is_complex(t)) {
    throw DTypeError(
        "linear algebra of complex128 arrays is not supported (nums's LAPACK kernels "
        "are real; matmul, dot, tensordot and norms do take complex arrays)");
  }
}
}  // namespace

DType compute_dtype(DType a) {
  check_real(a);
  return a == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
}
DType compute_dtype(DType a, DType b) {
  check_real(a);
  check_real(b);
  return a == DType::kFloat32 && b == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
}

void check_tall_skinny(const BlockArray& a, const char* op) {
  if (a.ndim() != 2 || a.shape()[0] < a.shape()[1]) {
    throw ShapeError(std::string(op) +
                     ": expected a 2-d array with rows >= columns (tall-skinny), got shape " +
                     shape_str(a.shape()));
  }
}

void check_square(const BlockArray& a, const char* op) {
  if (a.ndim() != 2 || a.shape()[0] != a.shape()[1]) {
    throw ShapeError(std::string(op) + ": expected a square 2-d array, got shape " +
                     shape_str(a.shape()));
  }
}

// b must be 1-d or 2-d with `rows` rows (A's row count).
void check_rhs(const BlockArray& a, const BlockArray& b, const char* op) {
  detail::check_same_context(a, b, op);
  if ((b.ndim() != 1 && b.ndim() != 2) || b.shape()[0] != a.shape()[0]) {
    throw ShapeError(std::string(op) + ": right-hand side of shape " + shape_str(b.shape()) +
                     " does not fit a matrix of shape " + shape_str(a.shape()) + " (expected (" +
                     std::to_string(a.shape()[0]) + ",) or (" + std::to_string(a.shape()[0]) +
                     ", k))");
  }
}

// `a` in dtype `dt`, re-blocked (when needed) so that each block holds whole rows.
BlockArray row_blocks(const BlockArray& a, DType dt) {
  BlockArray x = a.astype(dt);
  if (x.grid_shape()[1] > 1) x = x.rechunk({x.block_shape()[0], x.shape()[1]});
  return x;
}

// A single-block array holding `ref`.
BlockArray one_block(const BlockArray& like, const Shape& shape, DType dt, const ObjectRef& ref) {
  return detail::make_array(like.impl()->ctx, ArrayGrid(shape, shape, dt), {ref});
}

// The TSQR reduction tree over the row blocks of x (m x n, m >= n).
//
// Leaf i factors row block A_i = Q_i R_i on the node that holds A_i. The R factors of the blocks
// that share a node are stacked and factored there ([R_a; R_b; ...] = Q_f R_f), then the nodes'
// R factors meet pairwise in node order, each step on its left input's node, up to one root whose R
// is the R of A. A factor with `rows` input rows keeps k = min(rows, n) rows of R, so blocks with
// fewer rows than columns work too. Only the R factors (k x n) travel between nodes.
struct Factor {
  ObjectRef q, r;                // q: rows x k (direct mode only), r: k x n
  int64_t node = 0;              // where the factor ran
  int64_t rows = 0, k = 0;       // input rows; rows of r
  std::vector<size_t> children;  // factors stacked as input; empty for a leaf (block = index)
};

std::vector<Factor> tsqr_tree(const BlockArray& x, bool want_q, bool positive_diag) {
  auto& ctx = *x.impl()->ctx;
  const auto& blocks = x.impl()->blocks;
  const int64_t n = x.shape()[1];
  std::vector<Factor> t;
  std::map<int64_t, std::vector<size_t>> by_node;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const int64_t rows = x.grid().block_shape_at({static_cast<int64_t>(i), 0})[0];
    t.push_back({{}, {}, blocks[i].node(), rows, std::min(rows, n), {}});
    by_node[blocks[i].node()].push_back(i);
  }
  auto stack = [&](std::vector<size_t> children) {
    int64_t rows = 0;
    for (size_t c : children) rows += t[c].k;
    const int64_t node = t[children[0]].node;
    t.push_back({{}, {}, node, rows, std::min(rows, n), std::move(children)});
    return t.size() - 1;
  };
  std::vector<size_t> level;
  for (auto& [node, leaves] : by_node)
    level.push_back(leaves.size() == 1 ? leaves[0] : stack(leaves));
  while (level.size() > 1) {
    std::vector<size_t> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2)
      next.push_back(stack({level[i], level[i + 1]}));
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  // Children precede parents and the root is the last factor planned: submit in order, each
  // node's tasks in one message.
  const size_t root = t.size() - 1;
  engine::SubmitBatch batch(*ctx.runtime);
  for (size_t f = 0; f < t.size(); ++f) {
    std::vector<TaskArg> args;
    if (t[f].children.empty()) {
      args.emplace_back(blocks[f]);
    } else {
      for (size_t c : t[f].children) args.emplace_back(t[c].r);
    }
    args.emplace_back(Scalar{want_q});
    args.emplace_back(Scalar{positive_diag && f == root});
    const engine::OutputSpec r{x.dtype(), {t[f].k, n}};
    auto out = detail::submit_n(
        ctx, "linalg.qr", std::move(args), t[f].node, want_q ? 2 : 1,
        want_q ? std::vector<engine::OutputSpec>{{x.dtype(), {t[f].rows, t[f].k}}, r}
               : std::vector<engine::OutputSpec>{r});
    if (want_q) t[f].q = out[0];
    t[f].r = out.back();
  }
  batch.Send();
  return t;
}

// The final Q row blocks (times `top` when given) by walking the tree down.
//
// With G_f the rows of Q (times top) that factor f stands for, G_root = Q_root top, and a child c
// stacked at rows [o, o + k_c) of f's input gets D_c = Q_f[o : o + k_c] D_f (D_root = top, or the
// identity); leaf i's block of the result is Q_i D_i. Each D_c (k_c x n) is formed on c's node, so
// each leaf's product runs where its block lives.
std::vector<ObjectRef> form_q(const BlockArray& x, const std::vector<Factor>& t,
                              std::optional<ObjectRef> top) {
  auto& ctx = *x.impl()->ctx;
  std::vector<ObjectRef> out(x.impl()->blocks.size());
  auto down = [&](auto& self, size_t f, const std::optional<ObjectRef>& d) -> void {
    const Factor& fa = t[f];
    if (fa.children.empty()) {
      out[f] = d ? detail::submit(ctx, "linalg.matmul_rows",
                                  {fa.q, *d, detail::int_scalar(0), detail::int_scalar(fa.rows)},
                                  fa.node)
                 : fa.q;
      return;
    }
    int64_t offset = 0;
    for (size_t c : fa.children) {
      std::vector<TaskArg> args;
      args.reserve(4);
      args.emplace_back(fa.q);
      if (d) args.emplace_back(*d);
      args.emplace_back(detail::int_scalar(offset));
      args.emplace_back(detail::int_scalar(t[c].k));
      self(self, c, detail::submit(ctx, "linalg.matmul_rows", std::move(args), t[c].node));
      offset += t[c].k;
    }
  };
  // Leaves are the first factors (index = block), the root the last (a lone leaf is both).
  engine::SubmitBatch batch(*ctx.runtime);
  down(down, t.size() - 1, top);
  batch.Send();
  return out;
}

BlockArray tsqr_q(const BlockArray& x, const std::vector<ObjectRef>& blocks) {
  return detail::make_array(x.impl()->ctx, x.grid(), blocks);
}

// [A | b] (m x (n + k)) blocked by A's row blocks, each block built on its A block's node. A 1-d b
// is taken as one column.
BlockArray augment(const BlockArray& a, const BlockArray& b, DType dt) {
  const BlockArray x = row_blocks(a, dt);
  auto& ctx = *x.impl()->ctx;
  const int64_t m = x.shape()[0], n = x.shape()[1];
  const int64_t k = b.ndim() == 2 ? b.shape()[1] : 1;
  const int64_t rb = x.block_shape()[0];
  BlockArray bb = b.astype(dt);
  if (b.ndim() == 1) {
    bb = detail::reshape_blocks(bb.rechunk({rb}), ArrayGrid({m, 1}, {rb, 1}, dt));
  } else {
    bb = bb.rechunk({rb, k});
  }
  std::vector<ObjectRef> blocks;
  engine::SubmitBatch batch(*ctx.runtime);
  for (size_t i = 0; i < x.impl()->blocks.size(); ++i) {
    const ObjectRef& ai = x.impl()->blocks[i];
    const int64_t rows = x.grid().block_shape_at({static_cast<int64_t>(i), 0})[0];
    std::vector<int64_t> regions{0, 0, 1, 1, rows, n, 0, 0, 0, 0, 1, 1, rows, k, 0, n};
    blocks.push_back(
        detail::submit(ctx, "array.gather",
                       {ai, bb.impl()->blocks[i], detail::shape_scalar({rows, n + k}),
                        detail::int_scalar(static_cast<int64_t>(dt)), Scalar{std::move(regions)}},
                       ai.node()));
  }
  batch.Send();
  return detail::make_array(x.impl()->ctx, ArrayGrid({m, n + k}, {rb, n + k}, dt),
                            std::move(blocks));
}

// x with R x = Q^T b from the TSQR of [A | b]: a 1-block array shaped (n,) or (n, k) like b.
BlockArray solve_by_tsqr(const BlockArray& a, const BlockArray& b, DType dt) {
  const BlockArray aug = augment(a, b, dt);
  const auto t = tsqr_tree(aug, /*want_q=*/false, /*positive_diag=*/false);
  const int64_t n = a.shape()[1];
  const bool vector_out = b.ndim() == 1;
  const ObjectRef x =
      detail::submit(*aug.impl()->ctx, "linalg.solve_augmented",
                     {t.back().r, detail::int_scalar(n), Scalar{vector_out}}, t.back().node);
  const Shape shape = vector_out ? Shape{n} : Shape{n, b.shape()[1]};
  return one_block(a, shape, dt, x);
}

}  // namespace

QrResult qr(const BlockArray& a, const std::string& mode_in) {
  const detail::UserOp op("qr");
  if (mode_in != "reduced" && mode_in != "complete" && mode_in != "r" && mode_in != "indirect") {
    throw ValueError("qr: unknown mode '" + mode_in +
                     "' (expected 'reduced', 'complete', 'r' or 'indirect')");
  }
  // TSQR covers 2-d m >= n; "complete" equals "reduced" when the matrix is square.
  const bool square = a.ndim() == 2 && a.shape()[0] == a.shape()[1];
  const std::string mode = mode_in == "complete" && square ? "reduced" : mode_in;
  if (mode != "indirect" && a.ndim() >= 2 &&
      (a.ndim() > 2 || a.shape()[0] < a.shape()[1] || mode == "complete")) {
    return dense::qr_general(a, mode);
  }
  check_tall_skinny(a, "qr");
  const DType dt = compute_dtype(a.dtype());
  const int64_t m = a.shape()[0], n = a.shape()[1];
  if (n == 0) {
    QrResult out{zeros({m, 0}, dt), zeros({0, 0}, dt)};
    if (mode == "r") out.q = BlockArray();
    return out;
  }
  const BlockArray x = row_blocks(a, dt);
  const bool direct = mode == "reduced";
  const auto t = tsqr_tree(x, direct, /*positive_diag=*/true);
  QrResult out;
  out.r = one_block(x, {n, n}, dt, t.back().r);
  if (direct) {
    out.q = tsqr_q(x, form_q(x, t, std::nullopt));
  } else if (mode == "indirect") {
    // Q_i = A_i R^{-1}, on the node of A_i.
    std::vector<ObjectRef> blocks;
    engine::SubmitBatch batch(*x.impl()->ctx->runtime);
    for (const ObjectRef& ai : x.impl()->blocks) {
      blocks.push_back(
          detail::submit(*x.impl()->ctx, "linalg.right_div_upper", {ai, t.back().r}, ai.node()));
    }
    batch.Send();
    out.q = tsqr_q(x, blocks);
  }
  return out;
}

SvdResult svd(const BlockArray& a) {
  const detail::UserOp op("svd");
  check_tall_skinny(a, "svd");
  if (a.shape()[1] == 0) {
    throw ShapeError("svd: expected at least one column, got shape " + shape_str(a.shape()));
  }
  const DType dt = compute_dtype(a.dtype());
  const int64_t n = a.shape()[1];
  const BlockArray x = row_blocks(a, dt);
  const auto t = tsqr_tree(x, /*want_q=*/true, /*positive_diag=*/false);
  // R = U_r S Vt on the root's node; U = Q U_r with U_r as the top of the backward pass.
  const auto usv = detail::submit_n(*x.impl()->ctx, "linalg.svd", {t.back().r}, t.back().node, 3);
  return {tsqr_q(x, form_q(x, t, usv[0])), one_block(x, {n}, dt, usv[1]),
          one_block(x, {n, n}, dt, usv[2])};
}

PcaResult pca(const BlockArray& x, int64_t k) {
  const detail::UserOp op("pca");
  check_tall_skinny(x, "pca");
  const int64_t m = x.shape()[0], n = x.shape()[1];
  if (m < 2)
    throw ShapeError("pca: expected at least 2 samples, got shape " + shape_str(x.shape()));
  if (k < 1 || k > n) {
    throw ValueError("pca: k = " + std::to_string(k) + " is not in [1, " + std::to_string(n) +
                     "] for data of shape " + shape_str(x.shape()));
  }
  const DType dt = compute_dtype(x.dtype());
  const BlockArray xf = x.astype(dt);
  const BlockArray mean = xf.mean(0).astype(dt);
  const BlockArray centred = row_blocks(xf - mean, dt);
  // X_c = Q R and R = U_r S Vt give X_c = (Q U_r) S Vt: the axes are Vt's rows, the variances
  // S^2 / (m - 1). Q is never formed.
  const auto t = tsqr_tree(centred, /*want_q=*/false, /*positive_diag=*/false);
  const auto usv =
      detail::submit_n(*centred.impl()->ctx, "linalg.svd", {t.back().r}, t.back().node, 3);
  const BlockArray s = one_block(x, {n}, dt, usv[1]);
  const BlockArray vt = one_block(x, {n, n}, dt, usv[2]);
  const BlockArray sk = detail::strided_view(s, {0}, {1}, {k}, {k});
  const BlockArray vk = detail::strided_view(vt, {0, 0}, {1, 1}, {k, n}, {k, n});
  // svd_flip on U = X_c V / S: the sign of each score column's entry of largest magnitude, from
  // its max and min (exact reductions, so the same whatever the blocking).
  const BlockArray scores = matmul(centred, vk.T());
  const BlockArray flip = -scores.min(0) > scores.max(0);
  const BlockArray sign = where(flip, -1.0, 1.0).astype(dt).reshape({k, 1});
  const BlockArray total = (s * s).sum();
  PcaResult out;
  out.components = vk * sign;
  out.explained_variance = sk * sk / Number(static_cast<double>(m - 1));
  out.explained_variance_ratio = sk * sk / total;
  out.mean = mean;
  return out;
}

BlockArray PcaResult::transform(const BlockArray& x) const {
  const int64_t n = mean.shape()[0];
  if (x.ndim() != 2 || x.shape()[1] != n) {
    throw ShapeError("pca transform: X of shape " + shape_str(x.shape()) + " does not have the " +
                     std::to_string(n) + " features of the fit");
  }
  return matmul(x.astype(mean.dtype()) - mean, components.T());
}

BlockArray PcaResult::inverse_transform(const BlockArray& z) const {
  const int64_t k = components.shape()[0];
  if (z.ndim() != 2 || z.shape()[1] != k) {
    throw ShapeError("pca inverse_transform: scores of shape " + shape_str(z.shape()) +
                     " do not have the " + std::to_string(k) + " components of the fit");
  }
  return matmul(z.astype(mean.dtype()), components) + mean;
}

BlockArray inv(const BlockArray& a) {
  const detail::UserOp op("inv");
  check_square(a, "inv");
  const DType dt = compute_dtype(a.dtype());
  const int64_t n = a.shape()[0];
  if (n == 0) return zeros({0, 0}, dt);
  const BlockArray x = a.astype(dt);
  if (x.grid().num_blocks() == 1) {
    const ObjectRef& b = x.impl()->blocks[0];
    return detail::make_array(x.impl()->ctx, x.grid(),
                              {detail::submit(*x.impl()->ctx, "linalg.inv", {b}, b.node())});
  }
  // A = QR by TSQR; inv(A) = R^{-1} Q^T, whose column block i is R^{-1} Q_i^T, formed on the node
  // of Q_i (R, n x n, is sent to each).
  const BlockArray rows = row_blocks(x, dt);
  const auto t = tsqr_tree(rows, /*want_q=*/true, /*positive_diag=*/false);
  const auto q = form_q(rows, t, std::nullopt);
  std::vector<ObjectRef> blocks;
  engine::SubmitBatch batch(*x.impl()->ctx->runtime);
  for (const ObjectRef& qi : q) {
    blocks.push_back(
        detail::submit(*x.impl()->ctx, "linalg.inv_r_qt", {t.back().r, qi}, qi.node()));
  }
  batch.Send();
  const BlockArray out = detail::make_array(
      x.impl()->ctx, ArrayGrid({n, n}, {n, rows.block_shape()[0]}, dt), std::move(blocks));
  return out.rechunk(a.block_shape());
}

BlockArray cholesky(const BlockArray& a) {
  const detail::UserOp op("cholesky");
  check_square(a, "cholesky");
  const DType dt = compute_dtype(a.dtype());
  const int64_t n = a.shape()[0];
  if (n == 0) return zeros({0, 0}, dt);
  const int64_t tile = std::min(a.block_shape()[0], a.block_shape()[1]);
  const BlockArray x = a.astype(dt).rechunk({tile, tile});
  auto& ctx = *x.impl()->ctx;
  const int64_t nt = x.grid_shape()[0];
  // Tiled right-looking Cholesky over the T x T tiles, each tile's tasks on its home node:
  //   L_kk = chol(A_kk);  L_ik = A_ik L_kk^{-T} (i > k);  A_ij -= L_ik L_jk^T (k < j <= i).
  // Tiles above the diagonal are zero; only A's lower triangle is read.
  std::vector<ObjectRef> t = x.impl()->blocks;
  auto at = [&](int64_t i, int64_t j) -> ObjectRef& { return t[static_cast<size_t>(i * nt + j)]; };
  auto home = [&](int64_t i, int64_t j) { return detail::home_node(ctx, x.grid(), {i, j}); };
  engine::SubmitBatch batch(*ctx.runtime);
  for (int64_t k = 0; k < nt; ++k) {
    // The offset makes a failure name the leading minor of A, not of the tile.
    at(k, k) = detail::submit(ctx, "linalg.cholesky", {at(k, k), detail::int_scalar(k * tile)},
                              home(k, k));
    for (int64_t i = k + 1; i < nt; ++i) {
      at(i, k) = detail::submit(ctx, "linalg.right_div_lower_t", {at(i, k), at(k, k)}, home(i, k));
    }
    for (int64_t i = k + 1; i < nt; ++i) {
      for (int64_t j = k + 1; j <= i; ++j) {
        at(i, j) =
            detail::submit(ctx, "linalg.sub_matmul_nt", {at(i, j), at(i, k), at(j, k)}, home(i, j));
      }
    }
  }
  for (int64_t i = 0; i < nt; ++i) {
    for (int64_t j = i + 1; j < nt; ++j) {
      at(i, j) = detail::submit(
          ctx, "array.full",
          {detail::shape_scalar(x.grid().block_shape_at({i, j})),
           detail::int_scalar(static_cast<int64_t>(dt)), Scalar{0.0}, detail::int_scalar(0)},
          home(i, j));
    }
  }
  batch.Send();
  return detail::make_array(x.impl()->ctx, x.grid(), std::move(t));
}

BlockArray solve(const BlockArray& a, const BlockArray& b) {
  const detail::UserOp op("solve");
  check_square(a, "solve");
  check_rhs(a, b, "solve");
  const DType dt = compute_dtype(a.dtype(), b.dtype());
  if (a.shape()[0] == 0) return zeros(b.shape(), dt);
  if (a.grid().num_blocks() == 1 && b.grid().num_blocks() == 1) {
    // LU with partial pivoting on the node that holds A.
    const ObjectRef ab = a.astype(dt).impl()->blocks[0];
    const ObjectRef bb = b.astype(dt).impl()->blocks[0];
    return one_block(a, b.shape(), dt,
                     detail::submit(*a.impl()->ctx, "linalg.solve", {ab, bb}, ab.node()));
  }
  return solve_by_tsqr(a, b, dt);
}

BlockArray lstsq(const BlockArray& a, const BlockArray& b) {
  const detail::UserOp op("lstsq");
  check_tall_skinny(a, "lstsq");
  check_rhs(a, b, "lstsq");
  const DType dt = compute_dtype(a.dtype(), b.dtype());
  const int64_t n = a.shape()[1];
  if (n == 0) return zeros(b.ndim() == 1 ? Shape{0} : Shape{0, b.shape()[1]}, dt);
  return solve_by_tsqr(a, b, dt);
}

}  // namespace nums::linalg
