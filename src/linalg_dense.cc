// The linalg functions of small matrices: det, slogdet, eigh, eigvalsh, pinv, cond and the shapes
// of qr and svd that have no distributed path gather the matrix (or stack) into one block by one
// task on a cluster node and run LAPACK there ("linalg.*" kernels of
// src/kernels/cpu/dense_linalg.cc). svdvals, svd and the spectral norms of a 2-d matrix of several
// blocks first shrink it to its min(m, n)^2 R factor by TSQR, so only that meets on one node.
// Vector and matrix norms that need no SVD are elementwise ops and reductions.

#include <algorithm>
#include <cmath>
#include <limits>

#include "nums/creation.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/linalg_dense.h"
#include "src/placement.h"

namespace nums::linalg {
namespace dense {

DType compute_dtype(DType a) { return a == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64; }

}  // namespace dense

namespace {

using dense::compute_dtype;
using detail::ObjectRef;
using detail::Scalar;

constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t rows_of(const BlockArray& a) { return a.shape()[static_cast<size_t>(a.ndim() - 2)]; }
int64_t cols_of(const BlockArray& a) { return a.shape().back(); }
Shape batch_of(const BlockArray& a) { return Shape(a.shape().begin(), a.shape().end() - 2); }
Shape with(Shape s, std::initializer_list<int64_t> tail) {
  s.insert(s.end(), tail.begin(), tail.end());
  return s;
}

void check_stack(const BlockArray& a, const char* op, bool square) {
  if (a.ndim() < 2 || (square && rows_of(a) != cols_of(a))) {
    throw ShapeError(std::string(op) + ": expected " +
                     (square ? "a square matrix or a stack of them (..., n, n)"
                             : "a matrix or a stack of them (..., m, n)") +
                     ", got shape " + shape_str(a.shape()));
  }
}

// The one block holding all of `a` in dtype `dt`, assembled by one task on a cluster node;
// ValueError when it, or the `out_elements` the results hold together, pass kDenseLimitBytes.
ObjectRef gathered(const BlockArray& a, DType dt, const char* op, int64_t out_elements) {
  const int64_t elements = std::max(a.size(), out_elements);
  const auto bytes = detail::checked_mul(elements, itemsize(dt));
  if (!bytes || *bytes > kDenseLimitBytes) {
    throw ValueError(std::string(op) + ": shape " + shape_str(a.shape()) + " of " +
                     std::string(dtype_name(dt)) + " needs " +
                     (bytes ? std::to_string(*bytes) : std::string("more than 2^63")) +
                     " bytes on one node, more than linalg::kDenseLimitBytes (" +
                     std::to_string(kDenseLimitBytes) + ")");
  }
  BlockArray x = a.astype(dt);
  if (x.grid().num_blocks() != 1) x = x.rechunk(x.shape());
  return x.impl()->blocks[0];
}

BlockArray one_block(const BlockArray& like, const Shape& shape, DType dt, const ObjectRef& ref) {
  return detail::make_array(like.impl()->ctx, ArrayGrid(shape, shape, dt), {ref});
}

// Runs `kernel` on the gathered `a` where it was gathered; the outputs (of dtype dt and the given
// shapes) are declared so that the node admits the task only when they fit.
std::vector<ObjectRef> run_dense(const BlockArray& a, DType dt, const char* op, const char* kernel,
                                 std::vector<Scalar> scalars, const std::vector<Shape>& outputs) {
  int64_t out_elements = 0;
  std::vector<engine::OutputSpec> specs;
  for (const Shape& shape : outputs) {
    out_elements += shape_size(shape);
    specs.push_back({dt, shape});
  }
  const ObjectRef block = gathered(a, dt, op, out_elements);
  auto& ctx = *a.impl()->ctx;
  detail::BlockPlan plan(ctx);
  const optimizer::OpId task = plan.OnNode(
      block.node(), {plan.Leaf({block}, shape_size(a.shape()) * itemsize(dt))},
      out_elements * itemsize(dt),
      [&ctx, kernel, &scalars, &specs](const std::vector<const detail::Refs*>& in, int64_t node) {
        std::vector<detail::TaskArg> args{in[0]->at(0)};
        for (auto& s : scalars) args.emplace_back(std::move(s));
        const auto returns = static_cast<int64_t>(specs.size());
        return detail::submit_n(ctx, kernel, std::move(args), node, returns, std::move(specs));
      },
      kernel);
  plan.Output(task);
  plan.Run();
  return plan.result(task);
}

// Identity matrices (n x n) stacked over `batch`, in dtype dt.
BlockArray identity_stack(const Shape& batch, int64_t n, DType dt) {
  const Shape shape = with(batch, {n, n});
  if (shape_size(shape) == 0) return zeros(shape, dt);
  return broadcast_to(eye(n, std::nullopt, 0, dt), shape).copy();
}

// x as float for NumPy's norms: float32 and float64 stay, complex128 becomes its modulus, the
// rest becomes float64.
BlockArray as_float(const BlockArray& x) {
  if (is_complex(x.dtype())) return nums::abs(x);
  return x.dtype() == DType::kFloat32 || x.dtype() == DType::kFloat64 ? x
                                                                      : x.astype(DType::kFloat64);
}

}  // namespace

BlockArray det(const BlockArray& a) {
  check_stack(a, "det", true);
  const DType dt = compute_dtype(a.dtype());
  const Shape batch = batch_of(a);
  if (a.size() == 0) return shape_size(batch) == 0 ? zeros(batch, dt) : ones(batch, dt);
  const auto out = run_dense(a, dt, "det", "linalg.slogdet", {Scalar{true}}, {batch});
  return one_block(a, batch, dt, out[0]);
}

SlogdetResult slogdet(const BlockArray& a) {
  check_stack(a, "slogdet", true);
  const DType dt = compute_dtype(a.dtype());
  const Shape batch = batch_of(a);
  if (a.size() == 0) {
    return {shape_size(batch) == 0 ? zeros(batch, dt) : ones(batch, dt), zeros(batch, dt)};
  }
  const auto out = run_dense(a, dt, "slogdet", "linalg.slogdet", {Scalar{false}}, {batch, batch});
  return {one_block(a, batch, dt, out[0]), one_block(a, batch, dt, out[1])};
}

namespace {

std::vector<ObjectRef> eigh_refs(const BlockArray& a, const std::string& uplo, bool vectors,
                                 const char* op) {
  check_stack(a, op, true);
  if (uplo != "L" && uplo != "U") {
    throw ValueError(std::string(op) + ": uplo '" + uplo + "' (expected 'L' or 'U')");
  }
  if (a.size() == 0) return {};
  const int64_t n = cols_of(a);
  std::vector<Shape> outputs{with(batch_of(a), {n})};
  if (vectors) outputs.push_back(with(batch_of(a), {n, n}));
  return run_dense(a, compute_dtype(a.dtype()), op, "linalg.eigh",
                   {Scalar{vectors}, Scalar{uplo == "L"}}, outputs);
}

}  // namespace

EighResult eigh(const BlockArray& a, const std::string& uplo) {
  const auto out = eigh_refs(a, uplo, true, "eigh");
  const DType dt = compute_dtype(a.dtype());
  const int64_t n = a.ndim() >= 2 ? cols_of(a) : 0;
  const Shape w = with(batch_of(a), {n}), v = with(batch_of(a), {n, n});
  if (out.empty()) return {zeros(w, dt), zeros(v, dt)};
  return {one_block(a, w, dt, out[0]), one_block(a, v, dt, out[1])};
}

BlockArray eigvalsh(const BlockArray& a, const std::string& uplo) {
  const auto out = eigh_refs(a, uplo, false, "eigvalsh");
  const DType dt = compute_dtype(a.dtype());
  const Shape w = with(batch_of(a), {cols_of(a)});
  if (out.empty()) return zeros(w, dt);
  return one_block(a, w, dt, out[0]);
}

BlockArray svdvals(const BlockArray& a) {
  check_stack(a, "svdvals", false);
  const DType dt = compute_dtype(a.dtype());
  const int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n);
  const Shape s_shape = with(batch_of(a), {k});
  if (a.size() == 0) return zeros(s_shape, dt);
  BlockArray x = a;
  if (a.ndim() == 2 && a.grid().num_blocks() > 1) {
    // A = QR (A^T when wide) has A's singular values in R, k x k: only R meets on one node.
    x = qr(m >= n ? a : a.T(), "r").r;
  }
  const auto out =
      run_dense(x, dt, "svdvals", "linalg.svd_stack", {Scalar{false}, Scalar{false}}, {s_shape});
  return one_block(a, s_shape, dt, out[0]);
}

SvdResult svd(const BlockArray& a, bool full_matrices, bool compute_uv) {
  check_stack(a, "svd", false);
  if (!compute_uv) return {BlockArray(), svdvals(a), BlockArray()};
  const DType dt = compute_dtype(a.dtype());
  const Shape batch = batch_of(a);
  const int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n);
  const int64_t ucols = full_matrices ? m : k, vrows = full_matrices ? n : k;
  if (a.size() == 0) {
    // No singular values; the full U and Vt of an empty matrix are identities.
    const BlockArray u =
        full_matrices ? identity_stack(batch, m, dt) : zeros(with(batch, {m, k}), dt);
    const BlockArray vt =
        full_matrices ? identity_stack(batch, n, dt) : zeros(with(batch, {k, n}), dt);
    return {u, zeros(with(batch, {k}), dt), vt};
  }
  if (a.ndim() == 2 && (!full_matrices || m == n) && a.grid().num_blocks() > 1) {
    // TSQR: A = Q R, R = U_r S Vt. A wide A is taken as A^T = U' S Vt', so A = Vt'^T S U'^T.
    if (m >= n) return svd(a.astype(dt));
    const SvdResult t = svd(a.astype(dt).T());
    return {t.vt.T(), t.s, t.u.T()};
  }
  const auto out =
      run_dense(a, dt, "svd", "linalg.svd_stack", {Scalar{full_matrices}, Scalar{true}},
                {with(batch, {m, ucols}), with(batch, {k}), with(batch, {vrows, n})});
  return {one_block(a, with(batch, {m, ucols}), dt, out[0]),
          one_block(a, with(batch, {k}), dt, out[1]),
          one_block(a, with(batch, {vrows, n}), dt, out[2])};
}

BlockArray pinv(const BlockArray& a, std::optional<double> rtol) {
  check_stack(a, "pinv", false);
  if (rtol && !(*rtol >= 0)) {
    throw ValueError("pinv: rtol must be >= 0, got " + std::to_string(*rtol));
  }
  const DType dt = compute_dtype(a.dtype());
  const Shape out_shape = with(batch_of(a), {cols_of(a), rows_of(a)});
  if (a.size() == 0) return zeros(out_shape, dt);
  // NumPy's pinv keeps rcond = 1e-15 as its default.
  const auto out =
      run_dense(a, dt, "pinv", "linalg.pinv", {Scalar{rtol.value_or(1e-15)}}, {out_shape});
  return one_block(a, out_shape, dt, out[0]);
}

BlockArray matrix_rank(const BlockArray& a, std::optional<double> tol) {
  if (tol && !(*tol >= 0)) {
    throw ValueError("matrix_rank: tol must be >= 0, got " + std::to_string(*tol));
  }
  if (a.ndim() < 2) return (a != 0).any().astype(DType::kInt64);
  const int64_t m = rows_of(a), n = cols_of(a);
  if (std::min(m, n) == 0) return zeros(batch_of(a), DType::kInt64);
  const BlockArray s = svdvals(a);
  if (tol) return (s > *tol).sum(-1).astype(DType::kInt64);
  const double eps = s.dtype() == DType::kFloat32 ? std::numeric_limits<float>::epsilon()
                                                  : std::numeric_limits<double>::epsilon();
  const BlockArray cutoff = s.max(-1, true) * (static_cast<double>(std::max(m, n)) * eps);
  return (s > cutoff).sum(-1).astype(DType::kInt64);
}

namespace {

BlockArray cond_by(const BlockArray& a, const std::string& ord, bool square) {
  check_stack(a, "cond", square);
  if (a.size() == 0) {
    throw ShapeError("cond: the condition number of an empty matrix is undefined, got shape " +
                     shape_str(a.shape()));
  }
  const DType dt = compute_dtype(a.dtype());
  const auto out = run_dense(a, dt, "cond", "linalg.cond", {Scalar{ord}}, {batch_of(a)});
  return one_block(a, batch_of(a), dt, out[0]);
}

}  // namespace

BlockArray cond(const BlockArray& a, std::optional<double> p) {
  if (!p || *p == 2) return cond_by(a, "2", false);
  if (*p == -2) return cond_by(a, "-2", false);
  if (*p == 1) return cond_by(a, "1", true);
  if (*p == -1) return cond_by(a, "-1", true);
  if (*p == kInf) return cond_by(a, "inf", true);
  if (*p == -kInf) return cond_by(a, "-inf", true);
  throw ValueError("cond: p = " + std::to_string(*p) +
                   " is not supported (none, 2, -2, 1, -1, inf, -inf or 'fro')");
}

BlockArray cond(const BlockArray& a, const std::string& p) {
  if (p != "fro") {
    throw ValueError("cond: p = '" + p +
                     "' is not supported (none, 2, -2, 1, -1, inf, -inf or 'fro')");
  }
  return cond_by(a, "fro", true);
}

BlockArray dense::spectral_norm(const BlockArray& x, const std::string& ord, int64_t row,
                                int64_t col, bool keepdims) {
  detail::reject_complex(x, "norm");  // singular values of the moduli are not the matrix's
  const BlockArray f = as_float(x);
  const int64_t k =
      std::min(f.shape()[static_cast<size_t>(row)], f.shape()[static_cast<size_t>(col)]);
  if (k == 0 && ord != "nuc") {
    throw ValueError("norm: ord " + ord + " of an empty matrix (shape " + shape_str(x.shape()) +
                     ") has no value");
  }
  const BlockArray moved =
      moveaxis(f, std::vector<int64_t>{row, col}, std::vector<int64_t>{-2, -1});
  const BlockArray s = svdvals(moved);
  BlockArray r = ord == "2" ? s.max(-1) : ord == "-2" ? s.min(-1) : s.sum(-1);
  if (keepdims) {
    r = r.expand_dims(std::min(row, col));
    r = r.expand_dims(std::max(row, col));
  }
  return r;
}

BlockArray matrix_norm(const BlockArray& x, const std::string& ord, bool keepdims) {
  if (x.ndim() < 2) {
    throw ShapeError("matrix_norm: expected a matrix or a stack of them, got shape " +
                     shape_str(x.shape()));
  }
  if (ord == "fro") return norm(x, std::nullopt, Axes{-2, -1}, keepdims);
  if (ord == "nuc") return dense::spectral_norm(x, "nuc", x.ndim() - 2, x.ndim() - 1, keepdims);
  throw ValueError("matrix_norm: ord '" + ord + "' (expected 'fro' or 'nuc')");
}

BlockArray matrix_norm(const BlockArray& x, double ord, bool keepdims) {
  if (x.ndim() < 2) {
    throw ShapeError("matrix_norm: expected a matrix or a stack of them, got shape " +
                     shape_str(x.shape()));
  }
  if (std::abs(ord) == 1 || std::abs(ord) == kInf) return norm(x, ord, Axes{-2, -1}, keepdims);
  if (std::abs(ord) == 2) {
    return dense::spectral_norm(x, ord > 0 ? "2" : "-2", x.ndim() - 2, x.ndim() - 1, keepdims);
  }
  throw ValueError("matrix_norm: ord " + std::to_string(ord) +
                   " is not supported (1, -1, 2, -2, inf, -inf, 'fro' or 'nuc')");
}

BlockArray vector_norm(const BlockArray& x, Axes axis, bool keepdims, double ord) {
  const std::vector<int64_t> axes = detail::normalize_axes(axis, x.ndim(), "vector_norm");
  int64_t length = 1;
  for (int64_t d : axes) length *= x.shape()[static_cast<size_t>(d)];
  if (length == 0 && std::abs(ord) == kInf) {
    throw ValueError("vector_norm: ord " + std::to_string(ord) + " of an empty vector (shape " +
                     shape_str(x.shape()) + ") has no value");
  }
  const BlockArray f = as_float(x);
  const Axes over(axes);
  if (ord == 2) return nums::sqrt((f * f).sum(over, keepdims));
  if (ord == kInf) return nums::abs(f).max(over, keepdims);
  if (ord == -kInf) return nums::abs(f).min(over, keepdims);
  if (ord == 0) return (f != 0).astype(f.dtype()).sum(over, keepdims);
  if (ord == 1) return nums::abs(f).sum(over, keepdims);
  if (std::isnan(ord)) throw ValueError("vector_norm: ord is NaN");
  return nums::power(nums::power(nums::abs(f), ord).sum(over, keepdims), 1.0 / ord);
}

BlockArray norm(const BlockArray& x, const std::string& ord, Axes axis, bool keepdims) {
  if (ord != "fro" && ord != "nuc") {
    throw ValueError("norm: ord '" + ord + "' (expected 'fro' or 'nuc')");
  }
  std::vector<int64_t> axes;
  if (axis.axes) {
    for (int64_t d : *axis.axes) axes.push_back(detail::normalize_axis(d, x.ndim(), "norm"));
  } else if (x.ndim() == 2) {
    axes = {0, 1};
  }
  if (axes.size() != 2 || axes[0] == axes[1]) {
    throw ValueError("norm: ord '" + ord +
                     "' needs two distinct axes (or a 2-d array), got shape " +
                     shape_str(x.shape()));
  }
  if (ord == "fro") return norm(x, std::nullopt, Axes(axes), keepdims);
  return dense::spectral_norm(x, "nuc", axes[0], axes[1], keepdims);
}

QrResult dense::qr_general(const BlockArray& a, const std::string& mode) {
  check_stack(a, "qr", false);
  const DType dt = compute_dtype(a.dtype());
  const Shape batch = batch_of(a);
  const int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n);
  const bool complete = mode == "complete";
  const int64_t qcols = complete ? m : k, rrows = complete ? m : k;
  QrResult out;
  if (a.size() == 0) {
    if (mode != "r")
      out.q = complete ? identity_stack(batch, m, dt) : zeros(with(batch, {m, k}), dt);
    out.r = zeros(with(batch, {rrows, n}), dt);
    return out;
  }
  if (a.ndim() == 2 && m < n) {
    // A = [A1 | A2] with A1 square (m x m): A1 = Q R1 by TSQR, and R = [R1 | Q^T A2], Q^T A2 a
    // distributed matmul. Q is m x m, so "complete" and "reduced" agree.
    const BlockArray x = a.astype(dt);
    const Shape bs{std::min(x.block_shape()[0], m), std::min(x.block_shape()[1], m)};
    const BlockArray a1 = detail::strided_view(x, {0, 0}, {1, 1}, {m, m}, bs);
    const BlockArray a2 = detail::strided_view(x, {0, m}, {1, 1}, {m, n - m},
                                               {bs[0], std::min(x.block_shape()[1], n - m)});
    const QrResult f = qr(a1, "reduced");
    out.r = concatenate({f.r, matmul(f.q.T(), a2)}, 1);
    if (mode != "r") out.q = f.q;
    return out;
  }
  const int64_t code = mode == "reduced" ? 0 : complete ? 1 : 2;
  std::vector<Shape> outputs{with(batch, {rrows, n})};
  if (mode != "r") outputs.insert(outputs.begin(), with(batch, {m, qcols}));
  const auto refs = run_dense(a, dt, "qr", "linalg.qr_dense", {detail::int_scalar(code)}, outputs);
  out.r = one_block(a, with(batch, {rrows, n}), dt, refs.back());
  if (mode != "r") out.q = one_block(a, with(batch, {m, qcols}), dt, refs[0]);
  return out;
}

}  // namespace nums::linalg
