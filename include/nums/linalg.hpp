#pragma once
/// Products and norms: matmul, dot, tensordot, inner, outer and linalg::norm, with NumPy's
/// semantics. Operands are promoted with result_type (bool @ bool stays bool: a logical or of
/// ands, as in NumPy); operands whose blocks do not line up along the contracted axes are
/// re-blocked first. Shapes are checked at the call, before any task is sent.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nums/block_array.hpp"
#include "nums/linalg_solvers.hpp"

namespace nums {

/// Matrix product as NumPy's `a @ b`: 2-d @ 2-d is the matrix product; a 1-d operand is promoted
/// to a matrix (a row on the left, a column on the right) and that axis is removed from the
/// result (1-d @ 1-d gives a 0-d inner product); operands of 3 or more axes are stacks of
/// matrices over their leading axes, which broadcast. A contracted length of 0 gives zeros.
/// Throws ValueError for a 0-d operand, ShapeError (naming both shapes) when the contracted
/// lengths differ or the batch axes do not broadcast, ClusterError for arrays of two contexts.
BlockArray matmul(const BlockArray& a, const BlockArray& b);

/// NumPy's dot: a * b when either is 0-d; otherwise the sum product over the last axis of `a`
/// and the second-to-last axis of `b` (its only axis when 1-d), so dot == matmul for 1-d and 2-d
/// operands. Throws ShapeError when those lengths differ.
BlockArray dot(const BlockArray& a, const BlockArray& b);

/// Sum products over the last `axes` axes of `a` and the first `axes` axes of `b`, in order; the
/// result has a's remaining axes then b's. axes = 0 gives the outer product. Throws ValueError
/// for a negative count or one larger than either rank, ShapeError when the lengths differ.
BlockArray tensordot(const BlockArray& a, const BlockArray& b, int64_t axes = 2);

/// Sum products over the axis pairs (a_axes[i], b_axes[i]); negative axes count from the end.
/// The result has a's remaining axes then b's, in order. Throws ValueError when the lists differ
/// in length or repeat an axis, IndexError for an axis out of range, ShapeError when paired
/// lengths differ.
BlockArray tensordot(const BlockArray& a, const BlockArray& b, const std::vector<int64_t>& a_axes,
                     const std::vector<int64_t>& b_axes);

/// NumPy's inner: a * b when either is 0-d; otherwise the sum product over the last axes of both,
/// shaped a.shape[:-1] + b.shape[:-1]. Throws ShapeError when the last lengths differ.
BlockArray inner(const BlockArray& a, const BlockArray& b);

/// NumPy's outer: both operands flattened (0-d counts as one element), result[i, j] =
/// a[i] * b[j], of shape (a.size(), b.size()); bool operands give bool (logical and).
BlockArray outer(const BlockArray& a, const BlockArray& b);

namespace linalg {

/// NumPy's linalg.norm over real arrays; the result is float64 for integer and bool input and
/// keeps float32. With no axis and no ord: the 2-norm of the flattened array (Frobenius for a
/// matrix). Vector norms (a 1-d array, or one axis): ord nullopt or 2 (Euclidean), 1, inf, -inf,
/// 0 (count of non-zeros) and any other p (sum(|x|^p)^(1/p)). Matrix norms (a 2-d array, or two
/// axes): nullopt (Frobenius), 1 and -1 (max / min column sum of |x|), inf and -inf (max / min
/// row sum), 2 and -2 (largest / smallest singular value: see svdvals). `keepdims` keeps the
/// reduced axes with length 1. "fro" and "nuc" are the string overload below.
/// Throws ValueError for an ord given without an axis on an array that is not 1-d or 2-d, for
/// more than two axes, repeated axes, an unsupported matrix ord, for inf / -inf norms of empty
/// vectors and 2 / -2 norms of empty matrices; IndexError for an axis out of range.
BlockArray norm(const BlockArray& x, std::optional<double> ord = std::nullopt,
                Axes axis = Axes::all(), bool keepdims = false);

}  // namespace linalg

// ---- More products; dense small-matrix functions, general QR and SVD, triangular solves ----
// Products (src/products.cc) are built from tensordot, matmul, elementwise ops and reductions, so
// the optimizer places every block task. The "dense" linalg functions (src/linalg_dense.cc)
// gather the whole matrix (or stack of matrices) into one block by one task on a cluster node
// (never the driver) and run LAPACK there; they refuse inputs beyond linalg::kDenseLimitBytes.
// float32 inputs compute in float32, every other dtype in float64, as in linalg_solvers.hpp.

/// NumPy's vdot for real arrays: both flattened, the sum of their products as a 0-d array (bool
/// operands give bool). Throws ShapeError when the sizes differ.
BlockArray vdot(const BlockArray& a, const BlockArray& b);

/// NumPy's kron: the Kronecker product; the operand of fewer axes gets leading axes of length 1,
/// and result.shape[d] = a.shape[d] * b.shape[d]. A 0-d operand gives a * b.
BlockArray kron(const BlockArray& a, const BlockArray& b);

/// The array API's vecdot for real arrays: sum(x1 * x2, axis) over broadcast operands, `axis`
/// counted on the broadcast shape (negative from the end). Throws IndexError for an axis out of
/// range of either operand, ShapeError when the lengths along it differ or the other axes do not
/// broadcast.
BlockArray vecdot(const BlockArray& x1, const BlockArray& x2, int64_t axis = -1);

/// NumPy's einsum over real arrays: `subscripts` like "ij,jk->ik" (explicit output) or "ij,jk"
/// (implicit: the labels seen once, in alphabetical order); a label repeated inside one operand
/// takes that diagonal ("ii->i", "ii" is the trace); "..." stands for broadcast leading axes.
/// Planned as diagonals, sums, tensordot (operands with no shared kept labels) and batched matmul
/// (shared kept labels), pairwise from the left: no dense fallback. Labels of one letter must
/// have one length (or 1 where the operand only broadcasts along a batch label). Bool operands
/// compute in int64 and the result is cast back to bool.
/// Throws ValueError for a malformed subscript string (naming it), a label count that does not
/// match an operand's ndim, output labels that repeat or appear in no input; ShapeError when a
/// label's lengths differ.
BlockArray einsum(const std::string& subscripts, const std::vector<BlockArray>& operands);

namespace linalg {

/// The most bytes a dense function (det, slogdet, eigh, eigvalsh, pinv, cond, and qr or svd shapes
/// that have no distributed path) gathers onto one node: 2 GiB, a 16384 x 16384 float64 matrix.
inline constexpr int64_t kDenseLimitBytes = int64_t{1} << 31;

/// Sign and natural log of |det| of square matrices (..., n, n); a singular matrix gives sign 0 and
/// logabsdet -inf; n = 0 gives sign 1, logabsdet 0.
struct SlogdetResult {
  BlockArray sign, logabsdet;
};
/// Eigenvalues (..., n) in ascending order and unit eigenvectors (..., n, n) as columns.
struct EighResult {
  BlockArray eigenvalues, eigenvectors;
};

/// The determinant of square matrices (..., n, n), shaped (...); by LU on one node (n = 0 gives
/// 1). Throws ShapeError unless ndim >= 2 and the last two lengths agree; ValueError beyond
/// kDenseLimitBytes (naming the shape and bytes).
BlockArray det(const BlockArray& a);
/// sign * exp(logabsdet) == det(a) without overflow; errors as det.
SlogdetResult slogdet(const BlockArray& a);

/// Eigen-decomposition of symmetric matrices (..., n, n) from the triangle `uplo` names ("L", the
/// default, or "U"); the other triangle is not read. Eigenvector signs are LAPACK's. Errors as
/// det, and ValueError for another uplo; get() throws ValueError when LAPACK does not converge.
EighResult eigh(const BlockArray& a, const std::string& uplo = "L");
/// The eigenvalues of eigh alone.
BlockArray eigvalsh(const BlockArray& a, const std::string& uplo = "L");

/// Singular values (..., min(m, n)) in non-increasing order. A 2-d matrix of several blocks is
/// reduced to its R factor by TSQR (of its transpose when wide) first, so only min(m, n)^2 values
/// meet on one node; stacks are gathered. Throws ShapeError for ndim < 2.
BlockArray svdvals(const BlockArray& a);

/// SVD of (..., m, n) as NumPy's linalg.svd: U (..., m, m), S (..., k), Vt (..., n, n) with
/// full_matrices, else U (..., m, k), Vt (..., k, n), k = min(m, n); compute_uv = false leaves u
/// and vt null. A 2-d matrix without full_matrices (or square) goes through TSQR (of its transpose
/// when wide); the other cases are gathered onto one node. Throws ShapeError for ndim < 2.
SvdResult svd(const BlockArray& a, bool full_matrices, bool compute_uv = true);

/// Moore-Penrose pseudo-inverse (..., n, m) from the SVD, dropping singular values <= rtol *
/// max(S); rtol nullopt is NumPy's default rcond 1e-15. Gathered. Throws ShapeError for ndim < 2,
/// ValueError for a negative rtol.
BlockArray pinv(const BlockArray& a, std::optional<double> rtol = std::nullopt);

/// Rank of matrices (..., m, n): the number of singular values > tol, by default
/// max(S) * max(m, n) * eps of the compute dtype; int64, shaped (...). A 1-d or 0-d array has rank
/// 1 unless all its elements are zero. Throws ValueError for a negative tol.
BlockArray matrix_rank(const BlockArray& a, std::optional<double> tol = std::nullopt);

/// Condition number of matrices (..., m, n): p nullopt or 2 (largest / smallest singular value),
/// -2 (smallest / largest), 1, -1, inf, -inf (norm(A, p) * norm(inv(A), p), square only); a
/// singular matrix gives inf. Gathered. Throws ShapeError for ndim < 2, an empty matrix, or a
/// non-square one with p other than 2, -2; ValueError for another p.
BlockArray cond(const BlockArray& a, std::optional<double> p = std::nullopt);
/// cond with p = "fro" (Frobenius norms; square only). ValueError for another string.
BlockArray cond(const BlockArray& a, const std::string& p);

/// The array API's matrix_norm over the last two axes of (..., m, n): ord "fro" (default) or
/// "nuc" (sum of singular values). Result float (float64 for integer input), shaped (...) or
/// (..., 1, 1) with keepdims. Throws ShapeError for ndim < 2, ValueError for another string.
BlockArray matrix_norm(const BlockArray& x, const std::string& ord = "fro", bool keepdims = false);
/// matrix_norm with a numeric ord: 1, -1 (max / min column sum of |x|), inf, -inf (row sums), 2,
/// -2 (largest / smallest singular value). ValueError for another ord.
BlockArray matrix_norm(const BlockArray& x, double ord, bool keepdims = false);

/// The array API's vector_norm: over `axis` (all axes, as one flattened vector, by default; one
/// axis or several), ord any real p (sum(|x|^p)^(1/p)), inf, -inf (max / min |x|), 0 (count of
/// non-zeros). Throws IndexError for an axis out of range, ValueError for repeated axes and for
/// inf / -inf norms of empty vectors.
BlockArray vector_norm(const BlockArray& x, Axes axis = Axes::all(), bool keepdims = false,
                       double ord = 2);

/// NumPy's norm with ord "fro" or "nuc" over the two axes given, or a 2-d array's two axes when
/// `axis` is empty. Throws ValueError for another string, for an axis list that is not two
/// distinct axes, or an array that is not 2-d without one.
BlockArray norm(const BlockArray& x, const std::string& ord, Axes axis = Axes::all(),
                bool keepdims = false);

/// X with op(A) X = B for triangular A (n x n), op(A) = A ("N") or A^T ("T", "C"), reading A's
/// lower (or upper) triangle; unit_diagonal takes A's diagonal as ones. Blocked and distributed:
/// A is tiled in square tiles, B's rows follow, and each column block of B is a forward (or back)
/// substitution over the tiles, one task per tile step on the node of B's block, so columns run
/// in parallel. b of shape (n,) gives x of shape (n,). Throws ShapeError unless A is square 2-d
/// and b is 1-d or 2-d with n rows; ValueError for another trans; get() throws ValueError naming
/// the first zero diagonal entry (a singular A).
BlockArray solve_triangular(const BlockArray& a, const BlockArray& b, bool lower = false,
                            const std::string& trans = "N", bool unit_diagonal = false);

/// x with A x = b from the Cholesky factor c of A (SciPy's cho_solve): lower (the default, as
/// cholesky returns) solves L y = b then L^T x = y; otherwise c is the upper factor U with
/// A = U^T U. Shapes and errors as solve_triangular.
BlockArray cho_solve(const BlockArray& c, const BlockArray& b, bool lower = true);

/// NumPy's matrix_power for square matrices (..., n, n): n > 0 by repeated squaring with matmul,
/// n = 0 the identity (of a's dtype and shape), n < 0 the power of inv(a) (2-d only: inv's
/// rules). Throws ShapeError unless ndim >= 2 and the last two lengths agree.
BlockArray matrix_power(const BlockArray& a, int64_t n);

}  // namespace linalg
}  // namespace nums
