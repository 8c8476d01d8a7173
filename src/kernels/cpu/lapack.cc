// Dense linear-algebra CPU kernels over float32/float64 blocks: QR of stacked blocks (the TSQR
// steps), small SVD, LU, Cholesky and triangular solves. LAPACK (OpenBLAS's, through its Fortran
// symbols) does the factorizations: on a 250,000 x 32 block, geqrf + orgqr ran about 2x faster than
// Eigen's HouseholderQR + householderQ() single-threaded here. Blocks are row-major and LAPACK is
// column-major, so inputs are copied into column-major scratch (the factorizations overwrite their
// input anyway) and results copied back.

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "src/checked.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/lapack.h"
#include "src/kernels/lapack_args.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

int64_t Rows(const Block& b) { return b.shape()[0]; }
int64_t Cols(const Block& b) { return b.ndim() == 2 ? b.shape()[1] : 1; }

// Copies the row-major block `b` (1-d blocks as a column) into `m` at row `row0`.
template <typename T>
void CopyIn(const Block& b, ColMajor<T>& m, int64_t row0) {
  const T* p = b.data<T>();
  const int64_t r = Rows(b), c = Cols(b);
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < c; ++j) m(row0 + i, j) = p[i * c + j];
  }
}

// A row-major block of `shape` from rows [row0, row0 + rows) and columns [col0, col0 + cols)
// of `m`.
template <typename T>
Block CopyOut(ColMajor<T>& m, int64_t row0, int64_t rows, int64_t col0, int64_t cols,
              engine::Shape shape) {
  Block out = Block::Allocate(dtype_of<T>(), std::move(shape));
  T* p = out.data<T>();
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) p[i * cols + j] = m(row0 + i, col0 + j);
  }
  return out;
}

// Throws ValueError when a triangular factor's diagonal has an entry that is zero to working
// precision: |d_i| <= n * eps * max |d_j|.
template <typename T, typename Diag>
void CheckNonsingular(int64_t n, Diag diag, const char* kernel) {
  T big = 0;
  for (int64_t i = 0; i < n; ++i) big = std::max(big, std::abs(diag(i)));
  const T tol = static_cast<T>(n) * std::numeric_limits<T>::epsilon() * big;
  for (int64_t i = 0; i < n; ++i) {
    if (!(std::abs(diag(i)) > tol)) {
      throw ValueError(std::string(kernel) + ": singular matrix (pivot " + std::to_string(i) +
                       " is zero to working precision)");
    }
  }
}

template <typename T>
std::vector<T> Tau(int64_t n) {
  return std::vector<T>(static_cast<size_t>(std::max<int64_t>(n, 1)));
}

// QR of the blocks stacked vertically (all with n columns): R is k x n with k = min(rows, n), Q is
// rows x k. With positive_diag, rows of R (and columns of Q) are negated so R's diagonal is >= 0.
template <typename T>
std::vector<Block> QrStack(const KernelContext& ctx) {
  const bool want_q = ctx.scalar<bool>(0);
  const bool positive_diag = ctx.scalar<bool>(1);
  const int64_t n = Cols(ctx.inputs[0]);
  int64_t rows = 0;
  for (const Block& b : ctx.inputs) {
    CheckMatrix(b, "linalg.qr");
    if (Cols(b) != n) {
      throw ShapeError("linalg.qr: blocks of " + std::to_string(Cols(b)) + " and " +
                       std::to_string(n) + " columns cannot be stacked");
    }
    rows += Rows(b);
  }
  const int64_t k = std::min(rows, n);
  ColMajor<T> a(rows, n);
  int64_t row0 = 0;
  for (const Block& b : ctx.inputs) {
    CopyIn<T>(b, a, row0);
    row0 += Rows(b);
  }
  std::vector<T> tau = Tau<T>(k);
  const int m = AsInt(rows), nn = AsInt(n), kk = AsInt(k), lda = AsInt(a.ld);
  int info = 0, lwork = -1;
  T query = 0;
  if (k > 0) {
    Lapack<T>::geqrf(&m, &nn, a.data(), &lda, tau.data(), &query, &lwork, &info);
    lwork = WorkSize(query);
    std::vector<T> work(static_cast<size_t>(lwork));
    Lapack<T>::geqrf(&m, &nn, a.data(), &lda, tau.data(), work.data(), &lwork, &info);
  }
  std::vector<T> sign(static_cast<size_t>(k), T{1});
  Block r = Block::Allocate(dtype_of<T>(), {k, n});
  T* pr = r.data<T>();
  for (int64_t i = 0; i < k; ++i) {
    if (positive_diag && a(i, i) < 0) sign[static_cast<size_t>(i)] = -1;
    for (int64_t j = 0; j < n; ++j)
      pr[i * n + j] = j < i ? T{0} : sign[static_cast<size_t>(i)] * a(i, j);
  }
  if (!want_q) return {r};
  if (k > 0) {
    lwork = -1;
    Lapack<T>::orgqr(&m, &kk, &kk, a.data(), &lda, tau.data(), &query, &lwork, &info);
    lwork = WorkSize(query);
    std::vector<T> work(static_cast<size_t>(lwork));
    Lapack<T>::orgqr(&m, &kk, &kk, a.data(), &lda, tau.data(), work.data(), &lwork, &info);
  }
  Block q = Block::Allocate(dtype_of<T>(), {rows, k});
  T* pq = q.data<T>();
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < k; ++j) pq[i * k + j] = sign[static_cast<size_t>(j)] * a(i, j);
  }
  return {q, r};
}

// A[row_start : row_start + row_count] alone, or times B.
template <typename T>
std::vector<Block> MatmulRows(const KernelContext& ctx) {
  const int64_t start = ctx.scalar<int64_t>(0), count = ctx.scalar<int64_t>(1);
  const Block& a = ctx.inputs[0];
  CheckMatrix(a, "linalg.matmul_rows");
  const int64_t ka = Cols(a);
  if (start < 0 || count < 0 || start + count > Rows(a)) {
    throw IndexError("linalg.matmul_rows: rows [" + std::to_string(start) + ", " +
                     std::to_string(start + count) + ") of a block of shape " +
                     engine::ShapeToString(a.shape()));
  }
  const T* pa = a.data<T>() + start * ka;
  if (ctx.inputs.size() == 1) {
    Block out = Block::Allocate(dtype_of<T>(), {count, ka});
    std::copy(pa, pa + count * ka, out.data<T>());
    return {out};
  }
  const Block& b = ctx.inputs[1];
  CheckMatrix(b, "linalg.matmul_rows");
  if (Rows(b) != ka) {
    throw ShapeError("linalg.matmul_rows: " + std::to_string(ka) + " columns times shape " +
                     engine::ShapeToString(b.shape()));
  }
  const int64_t n = Cols(b);
  Block out = Block::Allocate(dtype_of<T>(), {count, n});
  if (count > 0 && n > 0) {
    if (ka == 0) {
      std::fill(out.data<T>(), out.data<T>() + count * n, T{0});
    } else {
      Lapack<T>::gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, AsInt(count), AsInt(n), AsInt(ka),
                      T{1}, pa, AsInt(ka), b.data<T>(), AsInt(n), T{0}, out.data<T>(), AsInt(n));
    }
  }
  return {out};
}

// Checks that the leading n x n part of `r` exists and is nonsingular.
template <typename T>
void CheckUpper(const Block& r, const char* kernel, int64_t n) {
  CheckMatrix(r, kernel);
  if (Rows(r) < n || Cols(r) < n) {
    throw ShapeError(std::string(kernel) + ": triangular factor of shape " +
                     engine::ShapeToString(r.shape()) + " for n = " + std::to_string(n));
  }
  const T* p = r.data<T>();
  const int64_t ld = Cols(r);
  CheckNonsingular<T>(
      n, [&](int64_t i) { return p[i * ld + i]; }, kernel);
}

// X R^{-1} for upper-triangular R (indirect TSQR's Q block).
template <typename T>
std::vector<Block> RightDivUpper(const KernelContext& ctx) {
  const Block& x = ctx.inputs[0];
  const Block& r = ctx.inputs[1];
  CheckMatrix(x, "linalg.right_div_upper");
  const int64_t n = Cols(x);
  CheckUpper<T>(r, "linalg.right_div_upper", n);
  Block out = Block::Allocate(dtype_of<T>(), x.shape());
  std::copy(x.data<T>(), x.data<T>() + x.size(), out.data<T>());
  if (x.size() > 0) {
    Lapack<T>::trsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit,
                    AsInt(Rows(x)), AsInt(n), T{1}, r.data<T>(), AsInt(Cols(r)), out.data<T>(),
                    AsInt(n));
  }
  return {out};
}

// R^{-1} Q^T (n x rows) for upper-triangular R (n x n) and a row block Q (rows x n): one column
// block of inv(A) = R^{-1} Q^T.
template <typename T>
std::vector<Block> InvRQt(const KernelContext& ctx) {
  const Block& r = ctx.inputs[0];
  const Block& q = ctx.inputs[1];
  CheckMatrix(q, "linalg.inv_r_qt");
  const int64_t n = Cols(q);
  CheckUpper<T>(r, "linalg.inv_r_qt", n);
  const int64_t rows = Rows(q);
  Block out = Block::Allocate(dtype_of<T>(), {n, rows});
  T* po = out.data<T>();
  const T* pq = q.data<T>();
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < n; ++j) po[j * rows + i] = pq[i * n + j];
  }
  if (out.size() > 0) {
    Lapack<T>::trsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, AsInt(n),
                    AsInt(rows), T{1}, r.data<T>(), AsInt(Cols(r)), po, AsInt(rows));
  }
  return {out};
}

// For the R factor of an augmented [A | b] (top rows [R, Q^T b]), solves R x = Q^T b.
// scalars [n, vector_out]: n columns of A; vector_out gives x 1-d (b had one column).
template <typename T>
std::vector<Block> SolveAugmented(const KernelContext& ctx) {
  const int64_t n = ctx.scalar<int64_t>(0);
  const bool vector_out = ctx.scalar<bool>(1);
  const Block& aug = ctx.inputs[0];
  CheckUpper<T>(aug, "linalg.solve_augmented", n);
  const int64_t ld = Cols(aug), k = ld - n;
  Block out =
      vector_out ? Block::Allocate(dtype_of<T>(), {n}) : Block::Allocate(dtype_of<T>(), {n, k});
  T* po = out.data<T>();
  const T* pa = aug.data<T>();
  for (int64_t i = 0; i < n; ++i) std::copy(pa + i * ld + n, pa + i * ld + ld, po + i * k);
  if (n > 0 && k > 0) {
    Lapack<T>::trsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, AsInt(n),
                    AsInt(k), T{1}, pa, AsInt(ld), po, AsInt(k));
  }
  return {out};
}

// Thin SVD of a small matrix (m x n, m >= n): U (m x n), S (n), Vt (n x n), by gesdd.
template <typename T>
std::vector<Block> Svd(const KernelContext& ctx) {
  const Block& in = ctx.inputs[0];
  CheckMatrix(in, "linalg.svd");
  const int64_t m = Rows(in), n = Cols(in);
  if (m < n) {
    throw ShapeError("linalg.svd: expected rows >= columns, got shape " +
                     engine::ShapeToString(in.shape()));
  }
  ColMajor<T> a(m, n);
  CopyIn<T>(in, a, 0);
  ColMajor<T> u(m, n);
  std::vector<T> vt(static_cast<size_t>(std::max<int64_t>(n * n, 1)));
  Block s = Block::Allocate(dtype_of<T>(), {n});
  std::vector<int> iwork(static_cast<size_t>(std::max<int64_t>(8 * n, 1)));
  const int mm = AsInt(m), nn = AsInt(n), lda = AsInt(a.ld), ldu = AsInt(u.ld);
  const int ldvt = std::max(1, nn);
  int info = 0, lwork = -1;
  T query = 0;
  Lapack<T>::gesdd("S", &mm, &nn, a.data(), &lda, s.data<T>(), u.data(), &ldu, vt.data(), &ldvt,
                   &query, &lwork, iwork.data(), &info, 1);
  lwork = WorkSize(query);
  std::vector<T> work(static_cast<size_t>(lwork));
  Lapack<T>::gesdd("S", &mm, &nn, a.data(), &lda, s.data<T>(), u.data(), &ldu, vt.data(), &ldvt,
                   work.data(), &lwork, iwork.data(), &info, 1);
  if (info != 0) {
    throw ValueError("linalg.svd: SVD did not converge (info " + std::to_string(info) + ")");
  }
  Block vtb = Block::Allocate(dtype_of<T>(), {n, n});
  T* pv = vtb.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) pv[i * n + j] = vt[static_cast<size_t>(j * n + i)];
  }
  return {CopyOut<T>(u, 0, m, 0, n, {m, n}), s, vtb};
}

// LU with partial pivoting of the n x n column-major `a` in place; ValueError when singular.
template <typename T>
std::vector<int> Lu(ColMajor<T>& a, const char* kernel) {
  const int n = AsInt(a.rows), lda = AsInt(a.ld);
  std::vector<int> ipiv(static_cast<size_t>(std::max(n, 1)));
  int info = 0;
  if (n > 0) Lapack<T>::getrf(&n, &n, a.data(), &lda, ipiv.data(), &info);
  if (info < 0) throw ValueError(std::string(kernel) + ": bad argument to getrf");
  CheckNonsingular<T>(
      a.rows, [&](int64_t i) { return a(i, i); }, kernel);
  return ipiv;
}

template <typename T>
std::vector<Block> Inv(const KernelContext& ctx) {
  const Block& in = ctx.inputs[0];
  CheckSquare(in, "linalg.inv");
  const int64_t n = Rows(in);
  ColMajor<T> a(n, n);
  CopyIn<T>(in, a, 0);
  const std::vector<int> ipiv = Lu<T>(a, "linalg.inv");
  if (n > 0) {
    const int nn = AsInt(n), lda = AsInt(a.ld);
    int info = 0, lwork = -1;
    T query = 0;
    Lapack<T>::getri(&nn, a.data(), &lda, ipiv.data(), &query, &lwork, &info);
    lwork = WorkSize(query);
    std::vector<T> work(static_cast<size_t>(lwork));
    Lapack<T>::getri(&nn, a.data(), &lda, ipiv.data(), work.data(), &lwork, &info);
  }
  return {CopyOut<T>(a, 0, n, 0, n, {n, n})};
}

// x with A x = b; b 1-d (n) or 2-d (n x k), x shaped like b.
template <typename T>
std::vector<Block> Solve(const KernelContext& ctx) {
  const Block& in = ctx.inputs[0];
  const Block& b = ctx.inputs[1];
  CheckSquare(in, "linalg.solve");
  const int64_t n = Rows(in), k = Cols(b);
  if (b.ndim() < 1 || Rows(b) != n) {
    throw ShapeError("linalg.solve: right-hand side of shape " + engine::ShapeToString(b.shape()) +
                     " for a matrix of shape " + engine::ShapeToString(in.shape()));
  }
  ColMajor<T> a(n, n);
  CopyIn<T>(in, a, 0);
  const std::vector<int> ipiv = Lu<T>(a, "linalg.solve");
  ColMajor<T> x(n, k);
  CopyIn<T>(b, x, 0);
  if (n > 0 && k > 0) {
    const int nn = AsInt(n), kk = AsInt(k), lda = AsInt(a.ld), ldb = AsInt(x.ld);
    int info = 0;
    Lapack<T>::getrs("N", &nn, &kk, a.data(), &lda, ipiv.data(), x.data(), &ldb, &info, 1);
  }
  return {CopyOut<T>(x, 0, n, 0, k, b.shape())};
}

// Lower Cholesky factor of a symmetric positive definite block (its lower triangle is read). An
// optional scalar gives the block's first row in the whole matrix (a diagonal tile of a tiled
// Cholesky), so that a failure names the matrix's leading minor rather than the tile's.
template <typename T>
std::vector<Block> Cholesky(const KernelContext& ctx) {
  const int64_t offset = CheckCholeskyArgs(ctx);
  const Block& in = ctx.inputs[0];
  const int64_t n = Rows(in);
  ColMajor<T> a(n, n);
  CopyIn<T>(in, a, 0);
  int info = 0;
  const int nn = AsInt(n), lda = AsInt(a.ld);
  if (n > 0) Lapack<T>::potrf("L", &nn, a.data(), &lda, &info, 1);
  if (info > 0) ThrowNotPositiveDefinite(offset + info);
  for (int64_t j = 1; j < n; ++j) {
    for (int64_t i = 0; i < j; ++i) a(i, j) = 0;
  }
  return {CopyOut<T>(a, 0, n, 0, n, {n, n})};
}

// A L^{-T} for lower-triangular L: a below-diagonal tile of a tiled Cholesky.
template <typename T>
std::vector<Block> RightDivLowerT(const KernelContext& ctx) {
  CheckRightDivLowerTArgs(ctx);
  const Block& x = ctx.inputs[0];
  const Block& l = ctx.inputs[1];
  Block out = Block::Allocate(dtype_of<T>(), x.shape());
  std::copy(x.data<T>(), x.data<T>() + x.size(), out.data<T>());
  if (x.size() > 0) {
    Lapack<T>::trsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, AsInt(Rows(x)),
                    AsInt(Cols(x)), T{1}, l.data<T>(), AsInt(Cols(l)), out.data<T>(),
                    AsInt(Cols(x)));
  }
  return {out};
}

// C - A B^T: the trailing update of a tiled Cholesky.
template <typename T>
std::vector<Block> SubMatmulNT(const KernelContext& ctx) {
  CheckSubMatmulNTArgs(ctx);
  const Block& c = ctx.inputs[0];
  const Block& a = ctx.inputs[1];
  const Block& b = ctx.inputs[2];
  Block out = Block::Allocate(dtype_of<T>(), c.shape());
  std::copy(c.data<T>(), c.data<T>() + c.size(), out.data<T>());
  if (c.size() > 0 && Cols(a) > 0) {
    Lapack<T>::gemm(CblasRowMajor, CblasNoTrans, CblasTrans, AsInt(Rows(c)), AsInt(Cols(c)),
                    AsInt(Cols(a)), T{-1}, a.data<T>(), AsInt(Cols(a)), b.data<T>(), AsInt(Cols(b)),
                    T{1}, out.data<T>(), AsInt(Cols(c)));
  }
  return {out};
}

}  // namespace

void RegisterFloat(engine::KernelRegistry& registry, const char* name, FloatKernel f64,
                   FloatKernel f32) {
  registry.Register(name, engine::Device::kCpu, [name, f64, f32](const KernelContext& ctx) {
    CheckFloatInputs(ctx, name);
    return ctx.inputs[0].dtype() == DType::kFloat64 ? f64(ctx) : f32(ctx);
  });
}

void RegisterLapackKernels(engine::KernelRegistry& registry) {
  // inputs [X_1, ..., X_k] (2-d, equal column counts n); scalars [want_q, positive_diag]:
  // QR of the stacked X: returns [Q (rows x k), R (k x n)], k = min(rows, n), or [R] when not
  // want_q; positive_diag negates rows of R (columns of Q) to make R's diagonal >= 0.
  RegisterFloat(registry, "linalg.qr", QrStack<double>, QrStack<float>);
  // inputs [A] or [A, B]; scalars [row_start, row_count]: rows [row_start, row_start + row_count)
  // of A, times B when given.
  RegisterFloat(registry, "linalg.matmul_rows", MatmulRows<double>, MatmulRows<float>);
  // inputs [X (r x n), R (n x n upper)]: X R^{-1}; ValueError when R is singular.
  RegisterFloat(registry, "linalg.right_div_upper", RightDivUpper<double>, RightDivUpper<float>);
  // inputs [R (n x n upper), Q (r x n)]: R^{-1} Q^T (n x r); ValueError when R is singular.
  RegisterFloat(registry, "linalg.inv_r_qt", InvRQt<double>, InvRQt<float>);
  // inputs [R of [A | b] (at least n rows, n + k columns)]; scalars [n, vector_out]: x with
  // R[:n, :n] x = R[:n, n:], 1-d when vector_out; ValueError when R[:n, :n] is singular.
  RegisterFloat(registry, "linalg.solve_augmented", SolveAugmented<double>, SolveAugmented<float>);
  // inputs [A (m x n, m >= n)]: returns [U (m x n), S (n), Vt (n x n)].
  RegisterFloat(registry, "linalg.svd", Svd<double>, Svd<float>);
  // inputs [A (n x n)]: A^{-1} by LU; ValueError when singular.
  RegisterFloat(registry, "linalg.inv", Inv<double>, Inv<float>);
  // inputs [A (n x n), b (n or n x k)]: x with A x = b, shaped like b; ValueError when singular.
  RegisterFloat(registry, "linalg.solve", Solve<double>, Solve<float>);
  // inputs [A (n x n)]; scalars [] or [offset]: lower L with A = L L^T from A's lower triangle;
  // ValueError naming the leading minor (offset + the tile's) when A is not positive definite.
  RegisterFloat(registry, "linalg.cholesky", Cholesky<double>, Cholesky<float>);
  // inputs [X (r x n), L (n x n lower)]: X L^{-T}.
  RegisterFloat(registry, "linalg.right_div_lower_t", RightDivLowerT<double>,
                RightDivLowerT<float>);
  // inputs [C (r x c), A (r x k), B (c x k)]: C - A B^T.
  RegisterFloat(registry, "linalg.sub_matmul_nt", SubMatmulNT<double>, SubMatmulNT<float>);
}

}  // namespace nums::kernels
