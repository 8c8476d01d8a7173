// Dense linear-algebra kernels over stacks of small matrices: a block of shape (..., m, n) is
// `count` row-major matrices, each copied into column-major scratch for LAPACK (OpenBLAS's, through
// its Fortran symbols). They serve the functions that gather a matrix onto one node (det, slogdet,
// eigh, svd, pinv, cond, qr of general shapes) and the tile steps of the blocked triangular solve.

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "src/checked.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/lapack.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

// A block of shape (..., m, n) seen as `count` m x n matrices; `batch` is the leading shape.
struct Stack {
  engine::Shape batch;
  int64_t count = 1, m = 0, n = 0;
};

Stack StackOf(const Block& b, const char* kernel) {
  if (b.ndim() < 2) {
    throw ShapeError(std::string(kernel) +
                     ": expected a stack of matrices (ndim >= 2), got shape " +
                     engine::ShapeToString(b.shape()));
  }
  Stack s;
  s.batch.assign(b.shape().begin(), b.shape().end() - 2);
  for (int64_t d : s.batch) s.count *= d;
  s.m = b.shape()[static_cast<size_t>(b.ndim() - 2)];
  s.n = b.shape().back();
  return s;
}

engine::Shape With(engine::Shape batch, std::initializer_list<int64_t> tail) {
  batch.insert(batch.end(), tail.begin(), tail.end());
  return batch;
}

// Copies the row-major m x n matrix at `p` into the top-left of `a`.
template <typename T>
void Load(const T* p, int64_t m, int64_t n, ColMajor<T>& a) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) a(i, j) = p[i * n + j];
  }
}

// Writes rows x cols of `a` (from its top-left) row-major to `out`.
template <typename T>
void Store(ColMajor<T>& a, int64_t rows, int64_t cols, T* out) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = a(i, j);
  }
}

// LU of the n x n `a` in place; false when a pivot is exactly zero (singular). `swaps` counts the
// row interchanges.
template <typename T>
bool LuInPlace(ColMajor<T>& a, int64_t& swaps) {
  const int n = AsInt(a.rows), lda = AsInt(a.ld);
  std::vector<int> ipiv(static_cast<size_t>(std::max(n, 1)));
  int info = 0;
  if (n > 0) Lapack<T>::getrf(&n, &n, a.data(), &lda, ipiv.data(), &info);
  swaps = 0;
  for (int i = 0; i < n; ++i) swaps += ipiv[static_cast<size_t>(i)] != i + 1 ? 1 : 0;
  return info == 0;
}

// scalars [want_det]: the determinant (...) when want_det, else [sign (...), log|det| (...)].
template <typename T>
std::vector<Block> SlogDet(const KernelContext& ctx) {
  const bool want_det = ctx.scalar<bool>(0);
  const Block& in = ctx.inputs[0];
  const Stack s = StackOf(in, "linalg.slogdet");
  if (s.m != s.n) {
    throw ShapeError("linalg.slogdet: expected square matrices, got shape " +
                     engine::ShapeToString(in.shape()));
  }
  const int64_t n = s.n;
  Block sign = Block::Allocate(dtype_of<T>(), s.batch);
  Block logabs = Block::Allocate(dtype_of<T>(), s.batch);
  ColMajor<T> a(n, n);
  for (int64_t b = 0; b < s.count; ++b) {
    Load(in.data<T>() + b * n * n, n, n, a);
    int64_t swaps = 0;
    T sg = 1, la = 0, det = 1;
    if (!LuInPlace(a, swaps)) {
      sg = 0;
      la = -std::numeric_limits<T>::infinity();
      det = 0;
    } else {
      sg = swaps % 2 ? T{-1} : T{1};
      det = sg;
      for (int64_t i = 0; i < n; ++i) {
        const T d = a(i, i);
        if (d < 0) sg = -sg;
        la += std::log(std::abs(d));
        det *= d;
      }
    }
    if (want_det) {
      sign.data<T>()[b] = det;
    } else {
      sign.data<T>()[b] = sg;
      logabs.data<T>()[b] = la;
    }
  }
  if (want_det) return {sign};
  return {sign, logabs};
}

// scalars [want_vectors, lower]: eigenvalues (..., n) ascending and, when want_vectors,
// eigenvectors (..., n, n) as columns. Only the named triangle is read.
template <typename T>
std::vector<Block> Eigh(const KernelContext& ctx) {
  const bool want_v = ctx.scalar<bool>(0);
  const bool lower = ctx.scalar<bool>(1);
  const Block& in = ctx.inputs[0];
  const Stack s = StackOf(in, "linalg.eigh");
  if (s.m != s.n) {
    throw ShapeError("linalg.eigh: expected square matrices, got shape " +
                     engine::ShapeToString(in.shape()));
  }
  const int64_t n = s.n;
  Block w = Block::Allocate(dtype_of<T>(), With(s.batch, {n}));
  Block v = Block::Allocate(dtype_of<T>(), want_v ? With(s.batch, {n, n}) : engine::Shape{0});
  ColMajor<T> a(n, n);
  const char jobz = want_v ? 'V' : 'N', uplo = lower ? 'L' : 'U';
  const int nn = AsInt(n), lda = AsInt(a.ld);
  for (int64_t b = 0; b < s.count && n > 0; ++b) {
    Load(in.data<T>() + b * n * n, n, n, a);
    int info = 0, lwork = -1, liwork = -1, iquery = 0;
    T query = 0;
    T* wb = w.data<T>() + b * n;
    Lapack<T>::syevd(&jobz, &uplo, &nn, a.data(), &lda, wb, &query, &lwork, &iquery, &liwork, &info,
                     1, 1);
    lwork = WorkSize(query);
    liwork = std::max(1, iquery);
    std::vector<T> work(static_cast<size_t>(lwork));
    std::vector<int> iwork(static_cast<size_t>(liwork));
    Lapack<T>::syevd(&jobz, &uplo, &nn, a.data(), &lda, wb, work.data(), &lwork, iwork.data(),
                     &liwork, &info, 1, 1);
    if (info != 0) {
      throw ValueError("linalg.eigh: eigenvalues did not converge (info " + std::to_string(info) +
                       ")");
    }
    if (want_v) Store(a, n, n, v.data<T>() + b * n * n);
  }
  if (!want_v) return {w};
  return {w, v};
}

// The SVD of one m x n matrix loaded in `a` (destroyed): s (k = min(m, n)) and, for jobz 'S' or
// 'A', U (m x ucols) and Vt (vrows x n), column-major.
template <typename T>
void SvdOne(ColMajor<T>& a, char jobz, T* s, ColMajor<T>& u, ColMajor<T>& vt) {
  const int64_t m = a.rows, n = a.cols;
  const int mm = AsInt(m), nn = AsInt(n), lda = AsInt(a.ld), ldu = AsInt(u.ld), ldvt = AsInt(vt.ld);
  std::vector<int> iwork(static_cast<size_t>(std::max<int64_t>(8 * std::min(m, n), 1)));
  int info = 0, lwork = -1;
  T query = 0;
  Lapack<T>::gesdd(&jobz, &mm, &nn, a.data(), &lda, s, u.data(), &ldu, vt.data(), &ldvt, &query,
                   &lwork, iwork.data(), &info, 1);
  lwork = WorkSize(query);
  std::vector<T> work(static_cast<size_t>(lwork));
  Lapack<T>::gesdd(&jobz, &mm, &nn, a.data(), &lda, s, u.data(), &ldu, vt.data(), &ldvt,
                   work.data(), &lwork, iwork.data(), &info, 1);
  if (info != 0) {
    throw ValueError("linalg.svd: SVD did not converge (info " + std::to_string(info) + ")");
  }
}

// scalars [full_matrices, compute_uv]: [U (..., m, m or k), S (..., k), Vt (..., n or k, n)], or
// [S] alone; k = min(m, n), S non-increasing.
template <typename T>
std::vector<Block> SvdStack(const KernelContext& ctx) {
  const bool full = ctx.scalar<bool>(0);
  const bool want_uv = ctx.scalar<bool>(1);
  const Block& in = ctx.inputs[0];
  const Stack st = StackOf(in, "linalg.svd");
  const int64_t m = st.m, n = st.n, k = std::min(m, n);
  const int64_t ucols = full ? m : k, vrows = full ? n : k;
  Block s = Block::Allocate(dtype_of<T>(), With(st.batch, {k}));
  Block u = Block::Allocate(dtype_of<T>(), want_uv ? With(st.batch, {m, ucols}) : engine::Shape{0});
  Block vt =
      Block::Allocate(dtype_of<T>(), want_uv ? With(st.batch, {vrows, n}) : engine::Shape{0});
  ColMajor<T> a(m, n), ub(want_uv ? m : 1, want_uv ? ucols : 1),
      vb(want_uv ? vrows : 1, want_uv ? n : 1);
  const char jobz = !want_uv ? 'N' : full ? 'A' : 'S';
  for (int64_t b = 0; b < st.count; ++b) {
    if (k == 0) {
      // No singular values; U and Vt of the full SVD of an empty matrix are identities.
      if (want_uv) {
        T* pu = u.data<T>() + b * m * ucols;
        T* pv = vt.data<T>() + b * vrows * n;
        std::fill(pu, pu + m * ucols, T{0});
        std::fill(pv, pv + vrows * n, T{0});
        for (int64_t i = 0; i < std::min(m, ucols); ++i) pu[i * ucols + i] = 1;
        for (int64_t i = 0; i < std::min(vrows, n); ++i) pv[i * n + i] = 1;
      }
      continue;
    }
    Load(in.data<T>() + b * m * n, m, n, a);
    SvdOne(a, jobz, s.data<T>() + b * k, ub, vb);
    if (want_uv) {
      Store(ub, m, ucols, u.data<T>() + b * m * ucols);
      Store(vb, vrows, n, vt.data<T>() + b * vrows * n);
    }
  }
  if (!want_uv) return {s};
  return {u, s, vt};
}

// scalars [rcond]: the pseudo-inverse (..., n, m): V diag(1/s) U^T over the singular values
// s > rcond * max(s), the others dropped.
template <typename T>
std::vector<Block> Pinv(const KernelContext& ctx) {
  const double rcond = ctx.scalar<double>(0);
  const Block& in = ctx.inputs[0];
  const Stack st = StackOf(in, "linalg.pinv");
  const int64_t m = st.m, n = st.n, k = std::min(m, n);
  Block out = Block::Allocate(dtype_of<T>(), With(st.batch, {n, m}));
  std::fill(out.data<T>(), out.data<T>() + out.size(), T{0});
  if (k == 0) return {out};
  ColMajor<T> a(m, n), u(m, k), vt(k, n);
  std::vector<T> s(static_cast<size_t>(k));
  for (int64_t b = 0; b < st.count; ++b) {
    Load(in.data<T>() + b * m * n, m, n, a);
    SvdOne(a, 'S', s.data(), u, vt);
    const T cutoff = static_cast<T>(rcond) * s[0];
    for (int64_t i = 0; i < k; ++i) {
      const T inv = s[static_cast<size_t>(i)] > cutoff ? T{1} / s[static_cast<size_t>(i)] : T{0};
      for (int64_t l = 0; l < m; ++l) u(l, i) *= inv;
    }
    // Column-major Vt (k x n) is row-major V (n x k), column-major U (m x k) row-major U^T.
    Lapack<T>::gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, AsInt(n), AsInt(m), AsInt(k), T{1},
                    vt.data(), AsInt(vt.ld), u.data(), AsInt(u.ld), T{0}, out.data<T>() + b * n * m,
                    AsInt(m));
  }
  return {out};
}

// Matrix norm of the column-major `a` for ord 1, -1, inf, -inf or "fro".
template <typename T>
T MatrixNorm(ColMajor<T>& a, const std::string& ord) {
  const int64_t m = a.rows, n = a.cols;
  if (ord == "fro") {
    T sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t i = 0; i < m; ++i) sum += a(i, j) * a(i, j);
    }
    return std::sqrt(sum);
  }
  const bool by_columns = ord == "1" || ord == "-1";
  const bool largest = ord == "1" || ord == "inf";
  T best = largest ? T{0} : std::numeric_limits<T>::infinity();
  const int64_t outer = by_columns ? n : m, inner = by_columns ? m : n;
  for (int64_t o = 0; o < outer; ++o) {
    T sum = 0;
    for (int64_t i = 0; i < inner; ++i) sum += std::abs(by_columns ? a(i, o) : a(o, i));
    best = largest ? std::max(best, sum) : std::min(best, sum);
  }
  return best;
}

// scalars [ord]: the condition number (...) of square matrices for ord "2", "-2" (ratio of the
// extreme singular values), "1", "-1", "inf", "-inf", "fro" (norm(A) * norm(inv(A))). A singular
// matrix gives inf.
template <typename T>
std::vector<Block> Cond(const KernelContext& ctx) {
  const std::string& ord = ctx.scalar<std::string>(0);
  const Block& in = ctx.inputs[0];
  const Stack st = StackOf(in, "linalg.cond");
  const int64_t m = st.m, n = st.n;
  const bool spectral = ord == "2" || ord == "-2";
  if ((!spectral && m != n) || m == 0 || n == 0) {
    throw ShapeError("linalg.cond: expected non-empty " + std::string(spectral ? "" : "square ") +
                     "matrices, got shape " + engine::ShapeToString(in.shape()));
  }
  Block out = Block::Allocate(dtype_of<T>(), st.batch);
  ColMajor<T> a(m, n), u(1, 1), vt(1, 1);
  std::vector<T> s(static_cast<size_t>(std::min(m, n)));
  const T inf = std::numeric_limits<T>::infinity();
  for (int64_t b = 0; b < st.count; ++b) {
    Load(in.data<T>() + b * m * n, m, n, a);
    T c = 0;
    if (spectral) {
      SvdOne(a, 'N', s.data(), u, vt);
      const T hi = s.front(), lo = s.back();
      c = ord == "2" ? (lo == 0 ? inf : hi / lo) : (hi == 0 ? inf : lo / hi);
    } else {
      const T norm_a = MatrixNorm(a, ord);
      const int nn = AsInt(n), lda = AsInt(a.ld);
      std::vector<int> ipiv(static_cast<size_t>(n));
      int info = 0, lwork = -1;
      Lapack<T>::getrf(&nn, &nn, a.data(), &lda, ipiv.data(), &info);
      if (info > 0) {
        c = inf;
      } else {
        T query = 0;
        Lapack<T>::getri(&nn, a.data(), &lda, ipiv.data(), &query, &lwork, &info);
        lwork = WorkSize(query);
        std::vector<T> work(static_cast<size_t>(lwork));
        Lapack<T>::getri(&nn, a.data(), &lda, ipiv.data(), work.data(), &lwork, &info);
        c = norm_a * MatrixNorm(a, ord);
      }
    }
    out.data<T>()[b] = c;
  }
  return {out};
}

// scalars [mode: 0 reduced, 1 complete, 2 r]: QR of (..., m, n) with k = min(m, n):
// reduced [Q (m x k), R (k x n)], complete [Q (m x m), R (m x n)], r [R (k x n)]. R's leading
// diagonal is made non-negative (Q's columns follow), so the factors are unique for full rank.
template <typename T>
std::vector<Block> QrDense(const KernelContext& ctx) {
  const int64_t mode = ctx.scalar<int64_t>(0);
  const Block& in = ctx.inputs[0];
  const Stack st = StackOf(in, "linalg.qr");
  const int64_t m = st.m, n = st.n, k = std::min(m, n);
  const int64_t qcols = mode == 1 ? m : k, rrows = mode == 1 ? m : k;
  Block q =
      Block::Allocate(dtype_of<T>(), mode == 2 ? engine::Shape{0} : With(st.batch, {m, qcols}));
  Block r = Block::Allocate(dtype_of<T>(), With(st.batch, {rrows, n}));
  ColMajor<T> a(m, std::max(n, qcols));
  std::vector<T> tau(static_cast<size_t>(std::max<int64_t>(k, 1)));
  const int mm = AsInt(m), nn = AsInt(n), kk = AsInt(k), qq = AsInt(qcols), lda = AsInt(a.ld);
  for (int64_t b = 0; b < st.count; ++b) {
    Load(in.data<T>() + b * m * n, m, n, a);
    int info = 0, lwork = -1;
    T query = 0;
    if (k > 0) {
      Lapack<T>::geqrf(&mm, &nn, a.data(), &lda, tau.data(), &query, &lwork, &info);
      lwork = WorkSize(query);
      std::vector<T> work(static_cast<size_t>(lwork));
      Lapack<T>::geqrf(&mm, &nn, a.data(), &lda, tau.data(), work.data(), &lwork, &info);
    }
    std::vector<T> sign(static_cast<size_t>(std::max(m, n)), T{1});
    T* pr = r.data<T>() + b * rrows * n;
    for (int64_t i = 0; i < rrows; ++i) {
      if (i < k && a(i, i) < 0) sign[static_cast<size_t>(i)] = -1;
      for (int64_t j = 0; j < n; ++j)
        pr[i * n + j] = j < i ? T{0} : sign[static_cast<size_t>(i)] * a(i, j);
    }
    if (mode == 2) continue;
    if (qcols > 0) {
      lwork = -1;
      Lapack<T>::orgqr(&mm, &qq, &kk, a.data(), &lda, tau.data(), &query, &lwork, &info);
      lwork = WorkSize(query);
      std::vector<T> work(static_cast<size_t>(lwork));
      Lapack<T>::orgqr(&mm, &qq, &kk, a.data(), &lda, tau.data(), work.data(), &lwork, &info);
    }
    T* pq = q.data<T>() + b * m * qcols;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < qcols; ++j)
        pq[i * qcols + j] = sign[static_cast<size_t>(j)] * a(i, j);
    }
  }
  if (mode == 2) return {r};
  return {q, r};
}

// inputs [A (t x t), B (t x c)]; scalars [lower, unit_diagonal, offset]: X with A X = B using A's
// lower (or upper) triangle. ValueError naming the global diagonal index (offset + i) of an
// exactly zero pivot, as SciPy's solve_triangular does.
template <typename T>
std::vector<Block> TriSolve(const KernelContext& ctx) {
  const bool lower = ctx.scalar<bool>(0);
  const bool unit = ctx.scalar<bool>(1);
  const int64_t offset = ctx.scalar<int64_t>(2);
  const Block& a = ctx.inputs[0];
  const Block& b = ctx.inputs[1];
  if (a.ndim() != 2 || b.ndim() != 2 || a.shape()[0] != a.shape()[1] ||
      b.shape()[0] != a.shape()[0]) {
    throw ShapeError("linalg.tri_solve: shapes " + engine::ShapeToString(a.shape()) + " and " +
                     engine::ShapeToString(b.shape()));
  }
  const int64_t t = a.shape()[0], c = b.shape()[1];
  const T* pa = a.data<T>();
  if (!unit) {
    for (int64_t i = 0; i < t; ++i) {
      if (pa[i * t + i] == T{0}) {
        throw ValueError("solve_triangular: singular matrix: diagonal entry " +
                         std::to_string(offset + i) + " is zero");
      }
    }
  }
  Block out = Block::Allocate(dtype_of<T>(), b.shape());
  std::copy(b.data<T>(), b.data<T>() + b.size(), out.data<T>());
  if (t > 0 && c > 0) {
    Lapack<T>::trsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, CblasNoTrans,
                    unit ? CblasUnit : CblasNonUnit, AsInt(t), AsInt(c), T{1}, pa, AsInt(t),
                    out.data<T>(), AsInt(c));
  }
  return {out};
}

// inputs [C (r x c), A (r x k), B (k x c)]: C - A B.
template <typename T>
std::vector<Block> SubMatmul(const KernelContext& ctx) {
  const Block& c = ctx.inputs[0];
  const Block& a = ctx.inputs[1];
  const Block& b = ctx.inputs[2];
  if (c.ndim() != 2 || a.ndim() != 2 || b.ndim() != 2 || a.shape()[0] != c.shape()[0] ||
      b.shape()[1] != c.shape()[1] || a.shape()[1] != b.shape()[0]) {
    throw ShapeError("linalg.sub_matmul: C " + engine::ShapeToString(c.shape()) + ", A " +
                     engine::ShapeToString(a.shape()) + ", B " + engine::ShapeToString(b.shape()));
  }
  Block out = Block::Allocate(dtype_of<T>(), c.shape());
  std::copy(c.data<T>(), c.data<T>() + c.size(), out.data<T>());
  const int64_t r = c.shape()[0], cc = c.shape()[1], k = a.shape()[1];
  if (r > 0 && cc > 0 && k > 0) {
    Lapack<T>::gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, AsInt(r), AsInt(cc), AsInt(k), T{-1},
                    a.data<T>(), AsInt(k), b.data<T>(), AsInt(cc), T{1}, out.data<T>(), AsInt(cc));
  }
  return {out};
}

}  // namespace

void RegisterDenseLinalgKernels(engine::KernelRegistry& registry) {
  // Stacks (..., m, n) of matrices in one block; scalars as documented at each body above.
  RegisterFloat(registry, "linalg.slogdet", SlogDet<double>, SlogDet<float>);
  RegisterFloat(registry, "linalg.eigh", Eigh<double>, Eigh<float>);
  RegisterFloat(registry, "linalg.svd_stack", SvdStack<double>, SvdStack<float>);
  RegisterFloat(registry, "linalg.pinv", Pinv<double>, Pinv<float>);
  RegisterFloat(registry, "linalg.cond", Cond<double>, Cond<float>);
  RegisterFloat(registry, "linalg.qr_dense", QrDense<double>, QrDense<float>);
  // Tile steps of the blocked triangular solve.
  RegisterFloat(registry, "linalg.tri_solve", TriSolve<double>, TriSolve<float>);
  RegisterFloat(registry, "linalg.sub_matmul", SubMatmul<double>, SubMatmul<float>);
}

}  // namespace nums::kernels
