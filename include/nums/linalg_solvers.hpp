#pragma once
/// nums::linalg factorizations and solvers: tall-skinny QR (direct and indirect TSQR), SVD and PCA
/// of tall-skinny arrays, and inv, cholesky, solve and lstsq. Every result is computed by tasks on
/// the nodes that hold the blocks; only get() waits.
///
/// Dtypes: float32 inputs compute in float32; every other dtype (and mixed float32/float64) is
/// converted to float64. Errors found inside a task (a singular or non positive definite matrix)
/// are rethrown by get() of the result, as the nums::Error subclass named below.

#include <cstdint>
#include <string>

#include "nums/block_array.hpp"

namespace nums::linalg {

/// Q and R of A = QR. For mode "r", q is a null handle.
struct QrResult {
  BlockArray q;  ///< m x n, orthonormal columns, row-blocked like A (all columns in one block)
  BlockArray r;  ///< n x n, upper triangular with a non-negative diagonal, one block
};

/// U, S and Vt of A = U diag(S) Vt.
struct SvdResult {
  BlockArray u;   ///< m x n, row-blocked like A
  BlockArray s;   ///< n singular values, 1-d, in non-increasing order
  BlockArray vt;  ///< n x n
};

/// The first k principal axes of X and the variance of X along each (scikit-learn's PCA with
/// svd_solver="full": components_, explained_variance_, explained_variance_ratio_, mean_).
struct PcaResult {
  /// k x n: rows are unit principal axes. Signs follow scikit-learn's svd_flip (on U, as its
  /// PCA does): the score column (X - mean) c_j whose entry of largest magnitude is negative has
  /// c_j negated, so the sign does not depend on the blocking (a tie between +a and -a keeps the
  /// sign the SVD gave).
  BlockArray components;
  BlockArray explained_variance;        ///< k values: S^2 / (m - 1), non-increasing
  BlockArray explained_variance_ratio;  ///< k values: each variance over the total over all n
  BlockArray mean;                      ///< n values: X's column means

  /// The scores (X - mean) components^T, m' x k for X of m' x n (any rows). ShapeError unless X
  /// is 2-d with n columns.
  BlockArray transform(const BlockArray& x) const;
  /// Back to feature space: z components + mean, m' x n for z of m' x k. ShapeError unless z is
  /// 2-d with k columns. Exact for X in the span of the components (all of them when k = n).
  BlockArray inverse_transform(const BlockArray& z) const;
};

/// QR of a tall-skinny array (m >= n) by TSQR. Each row block is factored where it lives, the R
/// factors are reduced in a tree (first the blocks of each node, then pairs of nodes), and Q is
/// formed by walking the tree back down. An array with several column blocks is first re-blocked to
/// full rows. `mode`: "reduced" (default; direct TSQR), "r" (R only: the reduction tree alone) or
/// "indirect" (R from the tree, then Q = A R^{-1} block by block: one pass less, but Q loses
/// orthogonality as cond(A) grows). R's diagonal is made non-negative, so Q and R are unique for
/// full-rank A. An n = 0 array gives Q of shape (m, 0) and R of shape (0, 0).
/// Throws ShapeError unless A is 2-d with m >= n; ValueError for an unknown mode. With "indirect",
/// get() of Q throws ValueError when R is singular to working precision (A is rank deficient).
QrResult qr(const BlockArray& a, const std::string& mode = "reduced");

/// Thin SVD of a tall-skinny array (m >= n) through TSQR: R = U_r S Vt on the tree's root node,
/// then U = Q U_r, with U_r folded into the backward pass of the tree (no extra pass over A).
/// Throws ShapeError unless A is 2-d with m >= n (and n >= 1).
SvdResult svd(const BlockArray& a);

/// Inverse of a square matrix. One block: LU (LAPACK getrf/getri) in a task on the node that holds
/// it. Several blocks: A = QR by TSQR, then inv(A) = R^{-1} Q^T, one column block per row block of
/// Q, computed where that block lives; the result is re-blocked like A.
/// Throws ShapeError unless A is square 2-d; get() throws ValueError when A is singular to working
/// precision.
BlockArray inv(const BlockArray& a);

/// Lower-triangular L with A = L L^T; only A's lower triangle is read (as NumPy does). One block:
/// LAPACK potrf in a task on the node that holds it. Several blocks: a tiled right-looking
/// Cholesky, one task per tile update on the tile's node; the result is tiled in square blocks.
/// Throws ShapeError unless A is square 2-d; get() throws ValueError when A is not positive
/// definite.
BlockArray cholesky(const BlockArray& a);

/// x with A x = b for square A; b of shape (n,) gives x of shape (n,), b of shape (n, k) gives
/// (n, k). One block each: LU with partial pivoting on A's node. Otherwise: the R factor of the
/// augmented [A | b] by TSQR, whose top right is Q^T b, then R x = Q^T b on the tree's root node.
/// Throws ShapeError unless A is square 2-d and b is 1-d or 2-d with b.shape[0] == n; get() throws
/// ValueError when A is singular to working precision.
BlockArray solve(const BlockArray& a, const BlockArray& b);

/// Least-squares solution x minimising ||A x - b|| for tall A (m >= n) and full column rank: TSQR
/// of the augmented [A | b] gives R and Q^T b without forming Q, then R x = Q^T b. Returns x only
/// (NumPy also returns residuals, rank and singular values).
/// Throws ShapeError unless A is 2-d with m >= n and b is 1-d or 2-d with b.shape[0] == m; get()
/// throws ValueError when A is rank deficient to working precision.
BlockArray lstsq(const BlockArray& a, const BlockArray& b);

/// Principal component analysis of X (m samples x n features, m >= n): X is centred by its column
/// means, its R factor comes from TSQR (R-only), and the SVD of R gives the axes and the singular
/// values S of the centred X. The signs (PcaResult::components) take one more pass over X.
/// Throws ShapeError unless X is 2-d with m >= n and m >= 2; ValueError unless 1 <= k <= n.
PcaResult pca(const BlockArray& x, int64_t k);

}  // namespace nums::linalg
