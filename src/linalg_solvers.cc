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
#include "src/placement.h"

namespace nums::linalg {
namespace {

using detail::ObjectRef;
using detail::Refs;
using detail::Scalar;
using detail::StepFn;
using detail::TaskArg;
using optimizer::OpId;

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

// One row block (whole rows) of a tall-skinny matrix in a plan: the op whose first output it is,
// its node and its rows.
struct RowBlock {
  OpId op = 0;
  int64_t node = 0;
  int64_t rows = 0;
};

// The row blocks of x (each holding whole rows), as leaves of `plan`.
std::vector<RowBlock> row_leaves(detail::BlockPlan& plan, const BlockArray& x) {
  const auto& blocks = x.impl()->blocks;
  const int64_t row_bytes = x.shape()[1] * itemsize(x.dtype());
  std::vector<RowBlock> out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const int64_t rows = x.grid().block_shape_at({static_cast<int64_t>(i), 0})[0];
    out.push_back({plan.Leaf({blocks[i]}, rows * row_bytes), blocks[i].node(), rows});
  }
  return out;
}

// The first output of each op, once the plan ran.
std::vector<ObjectRef> firsts(const detail::BlockPlan& plan, const std::vector<OpId>& ops) {
  std::vector<ObjectRef> out;
  out.reserve(ops.size());
  for (OpId op : ops) out.push_back(plan.result(op).at(0));
  return out;
}

// A step running `kernel` on `scalars` after the inputs' refs that `pick` chooses from each
// input's outputs; `outputs` outputs.
template <typename Pick>
StepFn kernel_step(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> scalars,
                   int64_t outputs, Pick pick) {
  return [&ctx, kernel, scalars = std::move(scalars), outputs, pick](
             const std::vector<const Refs*>& in, int64_t node) {
    std::vector<TaskArg> args;
    args.reserve(in.size() + scalars.size());
    for (size_t i = 0; i < in.size(); ++i) args.emplace_back(pick(i, *in[i]));
    args.insert(args.end(), scalars.begin(), scalars.end());
    return detail::submit_n(ctx, kernel, std::move(args), node, outputs);
  };
}
// The first output of every input.
StepFn kernel_step(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> scalars = {},
                   int64_t outputs = 1) {
  return kernel_step(ctx, kernel, std::move(scalars), outputs,
                     [](size_t, const Refs& r) { return r.at(0); });
}

// The TSQR reduction tree over row blocks `blocks` (m x n in all, m >= n), added to `plan`.
//
// Leaf i factors row block A_i = Q_i R_i on the node that holds A_i. The R factors of the blocks
// that share a node are stacked and factored there ([R_a; R_b; ...] = Q_f R_f), then the nodes'
// R factors meet pairwise in node order, each step on its left input's node, up to one root whose R
// is the R of A. A factor with `rows` input rows keeps k = min(rows, n) rows of R, so blocks with
// fewer rows than columns work too. Only the R factors (k x n) travel between nodes; each factor
// is pinned to its node.
struct Factor {
  OpId op = 0;              // outputs {q, r} in direct mode, {r} otherwise; q: rows x k, r: k x n
  int64_t node = 0;         // where the factor runs
  int64_t rows = 0, k = 0;  // input rows; rows of r
  std::vector<size_t> children;  // factors stacked as input; empty for a leaf (block = index)
};

std::vector<Factor> tsqr_tree(detail::BlockPlan& plan, Context::Impl& ctx,
                              const std::vector<RowBlock>& blocks, int64_t n, DType dt, bool want_q,
                              bool positive_diag) {
  std::vector<Factor> t;
  std::map<int64_t, std::vector<size_t>> by_node;
  for (size_t i = 0; i < blocks.size(); ++i) {
    t.push_back({0, blocks[i].node, blocks[i].rows, std::min(blocks[i].rows, n), {}});
    by_node[blocks[i].node].push_back(i);
  }
  auto stack = [&](std::vector<size_t> children) {
    int64_t rows = 0;
    for (size_t c : children) rows += t[c].k;
    const int64_t node = t[children[0]].node;
    t.push_back({0, node, rows, std::min(rows, n), std::move(children)});
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
  // Children precede parents and the root is the last factor planned.
  const size_t root = t.size() - 1;
  for (size_t f = 0; f < t.size(); ++f) {
    Factor& fa = t[f];
    std::vector<engine::OutputSpec> outs;
    if (want_q) outs.push_back({dt, {fa.rows, fa.k}});
    outs.push_back({dt, {fa.k, n}});
    int64_t bytes = 0;
    for (const auto& o : outs) bytes += o.nbytes();
    const bool top = positive_diag && f == root;
    // A leaf reads its block, a stacked factor its children's R (each one's last output).
    StepFn fn = [&ctx, want_q, top, outs = std::move(outs)](const std::vector<const Refs*>& in,
                                                            int64_t node) {
      std::vector<TaskArg> args;
      for (const Refs* r : in) args.emplace_back(r->back());
      args.emplace_back(Scalar{want_q});
      args.emplace_back(Scalar{top});
      return detail::submit_n(ctx, "linalg.qr", std::move(args), node, want_q ? 2 : 1, outs);
    };
    std::vector<OpId> in;
    if (fa.children.empty()) in.push_back(blocks[f].op);
    for (size_t c : fa.children) in.push_back(t[c].op);
    fa.op = plan.OnNode(fa.node, std::move(in), bytes, std::move(fn), "linalg.qr");
  }
  return t;
}

// The final Q row blocks (times `top`'s first output when given) by walking the tree down: per
// leaf, the op whose first output is its block.
//
// With G_f the rows of Q (times top) that factor f stands for, G_root = Q_root top, and a child c
// stacked at rows [o, o + k_c) of f's input gets D_c = Q_f[o : o + k_c] D_f (D_root = top, or the
// identity); leaf i's block of the result is Q_i D_i. Each D_c (k_c x n) is formed on c's node, so
// each leaf's product runs where its block lives.
std::vector<OpId> form_q(detail::BlockPlan& plan, Context::Impl& ctx, const std::vector<Factor>& t,
                         size_t leaves, int64_t n, DType dt, std::optional<OpId> top) {
  std::vector<OpId> out(leaves);
  const int64_t row_bytes = n * itemsize(dt);
  // Rows [offset, offset + count) of f's Q, times D_f when there is one, on `node`.
  auto product = [&](const Factor& fa, const std::optional<OpId>& d, int64_t offset, int64_t count,
                     int64_t node) {
    std::vector<OpId> in{fa.op};
    if (d) in.push_back(*d);
    return plan.OnNode(node, std::move(in), count * row_bytes,
                       kernel_step(ctx, "linalg.matmul_rows",
                                   {detail::int_scalar(offset), detail::int_scalar(count)}),
                       "linalg.matmul_rows");
  };
  auto down = [&](auto& self, size_t f, const std::optional<OpId>& d) -> void {
    const Factor& fa = t[f];
    if (fa.children.empty()) {
      out[f] = d ? product(fa, d, 0, fa.rows, fa.node) : fa.op;
      return;
    }
    int64_t offset = 0;
    for (size_t c : fa.children) {
      self(self, c, product(fa, d, offset, t[c].k, t[c].node));
      offset += t[c].k;
    }
  };
  // Leaves are the first factors (index = block), the root the last (a lone leaf is both).
  down(down, t.size() - 1, top);
  return out;
}

BlockArray tsqr_q(const BlockArray& x, const std::vector<ObjectRef>& blocks) {
  return detail::make_array(x.impl()->ctx, x.grid(), blocks);
}

// [A | b] (m x (n + k)) blocked by A's row blocks, each block built by a task on its A block's
// node, added to `plan`. A 1-d b is taken as one column.
std::vector<RowBlock> augment(detail::BlockPlan& plan, const BlockArray& a, const BlockArray& b,
                              DType dt) {
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
  const auto as = row_leaves(plan, x);
  const auto bs = row_leaves(plan, bb);
  std::vector<RowBlock> out;
  for (size_t i = 0; i < as.size(); ++i) {
    const int64_t rows = as[i].rows;
    std::vector<int64_t> regions{0, 0, 1, 1, rows, n, 0, 0, 0, 0, 1, 1, rows, k, 0, n};
    const OpId op = plan.OnNode(
        as[i].node, {as[i].op, bs[i].op}, rows * (n + k) * itemsize(dt),
        kernel_step(ctx, "array.gather",
                    {detail::shape_scalar({rows, n + k}),
                     detail::int_scalar(static_cast<int64_t>(dt)), Scalar{std::move(regions)}}),
        "array.gather");
    out.push_back({op, as[i].node, rows});
  }
  return out;
}

// x with R x = Q^T b from the TSQR of [A | b]: a 1-block array shaped (n,) or (n, k) like b.
BlockArray solve_by_tsqr(const BlockArray& a, const BlockArray& b, DType dt) {
  auto& ctx = *a.impl()->ctx;
  const int64_t n = a.shape()[1];
  const bool vector_out = b.ndim() == 1;
  const Shape shape = vector_out ? Shape{n} : Shape{n, b.shape()[1]};
  detail::BlockPlan plan(ctx);
  const auto aug = augment(plan, a, b, dt);
  const auto t = tsqr_tree(plan, ctx, aug, n + (vector_out ? 1 : b.shape()[1]), dt,
                           /*want_q=*/false, /*positive_diag=*/false);
  const OpId x = plan.OnNode(
      t.back().node, {t.back().op}, shape_size(shape) * itemsize(dt),
      kernel_step(ctx, "linalg.solve_augmented", {detail::int_scalar(n), Scalar{vector_out}}),
      "linalg.solve_augmented");
  plan.Output(x);
  plan.Run();
  return one_block(a, shape, dt, plan.result(x).at(0));
}

// One task of `kernel` on `node` reading `inputs` then `scalars`, as a plan of its own; its
// `outputs` outputs.
std::vector<ObjectRef> run_on(Context::Impl& ctx, int64_t node, const char* kernel,
                              const std::vector<ObjectRef>& inputs,
                              std::vector<TaskArg> scalars = {}, int64_t outputs = 1) {
  detail::BlockPlan plan(ctx);
  std::vector<OpId> in;
  for (const ObjectRef& r : inputs) in.push_back(plan.Leaf({r}, 0));
  const OpId op = plan.OnNode(node, std::move(in), 0,
                              kernel_step(ctx, kernel, std::move(scalars), outputs), kernel);
  plan.Output(op);
  plan.Run();
  return plan.result(op);
}

// R = U S Vt (outputs U, S, Vt) on the node of the tree's root, whose R is its last output.
OpId svd_of_r(detail::BlockPlan& plan, Context::Impl& ctx, const Factor& root, int64_t n,
              DType dt) {
  const OpId op = plan.OnNode(
      root.node, {root.op}, (2 * n * n + n) * itemsize(dt),
      kernel_step(ctx, "linalg.svd", {}, 3, [](size_t, const Refs& r) { return r.back(); }),
      "linalg.svd");
  plan.Output(op);
  return op;
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
  auto& ctx = *x.impl()->ctx;
  const bool direct = mode == "reduced";
  detail::BlockPlan plan(ctx);
  const auto blocks = row_leaves(plan, x);
  const auto t = tsqr_tree(plan, ctx, blocks, n, dt, direct, /*positive_diag=*/true);
  const OpId root = t.back().op;
  plan.Output(root);
  std::vector<OpId> q;
  if (direct) {
    q = form_q(plan, ctx, t, blocks.size(), n, dt, std::nullopt);
  } else if (mode == "indirect") {
    // Q_i = A_i R^{-1}, on the node of A_i.
    for (const RowBlock& b : blocks) {
      q.push_back(plan.OnNode(b.node, {b.op, root}, b.rows * n * itemsize(dt),
                              kernel_step(ctx, "linalg.right_div_upper", {}, 1,
                                          [](size_t, const Refs& r) { return r.back(); }),
                              "linalg.right_div_upper"));
    }
  }
  for (OpId op : q) plan.Output(op);
  plan.Run();
  QrResult out;
  out.r = one_block(x, {n, n}, dt, plan.result(root).back());
  if (!q.empty()) out.q = tsqr_q(x, firsts(plan, q));
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
  auto& ctx = *x.impl()->ctx;
  detail::BlockPlan plan(ctx);
  const auto blocks = row_leaves(plan, x);
  const auto t = tsqr_tree(plan, ctx, blocks, n, dt, /*want_q=*/true, /*positive_diag=*/false);
  // R = U_r S Vt on the root's node; U = Q U_r with U_r as the top of the backward pass.
  const OpId usv = svd_of_r(plan, ctx, t.back(), n, dt);
  const auto u = form_q(plan, ctx, t, blocks.size(), n, dt, usv);
  for (OpId op : u) plan.Output(op);
  plan.Run();
  const Refs& r = plan.result(usv);
  return {tsqr_q(x, firsts(plan, u)), one_block(x, {n}, dt, r[1]), one_block(x, {n, n}, dt, r[2])};
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
  auto& ctx = *centred.impl()->ctx;
  detail::BlockPlan plan(ctx);
  const auto t = tsqr_tree(plan, ctx, row_leaves(plan, centred), n, dt, /*want_q=*/false,
                           /*positive_diag=*/false);
  const OpId svd_op = svd_of_r(plan, ctx, t.back(), n, dt);
  plan.Run();
  const Refs& usv = plan.result(svd_op);
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
  auto& ctx = *x.impl()->ctx;
  if (x.grid().num_blocks() == 1) {
    const ObjectRef& b = x.impl()->blocks[0];
    return detail::make_array(x.impl()->ctx, x.grid(), run_on(ctx, b.node(), "linalg.inv", {b}));
  }
  // A = QR by TSQR; inv(A) = R^{-1} Q^T, whose column block i is R^{-1} Q_i^T, formed on the node
  // of Q_i (R, n x n, is sent to each).
  const BlockArray rows = row_blocks(x, dt);
  detail::BlockPlan plan(ctx);
  const auto blocks = row_leaves(plan, rows);
  const auto t = tsqr_tree(plan, ctx, blocks, n, dt, /*want_q=*/true, /*positive_diag=*/false);
  const auto q = form_q(plan, ctx, t, blocks.size(), n, dt, std::nullopt);
  std::vector<OpId> cols;
  for (size_t i = 0; i < q.size(); ++i) {
    // R is the root's last output, Q_i the first output of q[i].
    cols.push_back(plan.OnNode(
        t[i].node, {t.back().op, q[i]}, n * blocks[i].rows * itemsize(dt),
        kernel_step(ctx, "linalg.inv_r_qt", {}, 1,
                    [](size_t k, const Refs& r) { return k == 0 ? r.back() : r.at(0); }),
        "linalg.inv_r_qt"));
    plan.Output(cols.back());
  }
  plan.Run();
  const BlockArray out = detail::make_array(
      x.impl()->ctx, ArrayGrid({n, n}, {n, rows.block_shape()[0]}, dt), firsts(plan, cols));
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
  // One plan, each task pinned to its tile's home node.
  detail::BlockPlan plan(ctx);
  auto bytes = [&](int64_t i, int64_t j) {
    return shape_size(x.grid().block_shape_at({i, j})) * itemsize(dt);
  };
  std::vector<OpId> t;
  for (int64_t i = 0; i < nt; ++i) {
    for (int64_t j = 0; j < nt; ++j) {
      t.push_back(plan.Leaf({x.impl()->blocks[static_cast<size_t>(i * nt + j)]}, bytes(i, j)));
    }
  }
  auto at = [&](int64_t i, int64_t j) -> OpId& { return t[static_cast<size_t>(i * nt + j)]; };
  auto task = [&](int64_t i, int64_t j, const char* kernel, std::vector<OpId> in,
                  std::vector<TaskArg> scalars = {}) {
    at(i, j) = plan.OnNode(detail::home_node(ctx, x.grid(), {i, j}), std::move(in), bytes(i, j),
                           kernel_step(ctx, kernel, std::move(scalars)), kernel);
  };
  for (int64_t k = 0; k < nt; ++k) {
    // The offset makes a failure name the leading minor of A, not of the tile.
    task(k, k, "linalg.cholesky", {at(k, k)}, {detail::int_scalar(k * tile)});
    for (int64_t i = k + 1; i < nt; ++i) {
      task(i, k, "linalg.right_div_lower_t", {at(i, k), at(k, k)});
    }
    for (int64_t i = k + 1; i < nt; ++i) {
      for (int64_t j = k + 1; j <= i; ++j) {
        task(i, j, "linalg.sub_matmul_nt", {at(i, j), at(i, k), at(j, k)});
      }
    }
  }
  for (int64_t i = 0; i < nt; ++i) {
    for (int64_t j = i + 1; j < nt; ++j) {
      task(i, j, "array.full", {},
           {detail::shape_scalar(x.grid().block_shape_at({i, j})),
            detail::int_scalar(static_cast<int64_t>(dt)), Scalar{0.0}, detail::int_scalar(0)});
    }
  }
  for (OpId op : t) plan.Output(op);
  plan.Run();
  return detail::make_array(x.impl()->ctx, x.grid(), firsts(plan, t));
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
                     run_on(*a.impl()->ctx, ab.node(), "linalg.solve", {ab, bb}).at(0));
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
