#pragma once
/// Products and norms: matmul, dot, tensordot, inner, outer and linalg::norm, with NumPy's
/// semantics. Operands are promoted with result_type (bool @ bool stays bool: a logical or of
/// ands, as in NumPy); operands whose blocks do not line up along the contracted axes are
/// re-blocked first. Shapes are checked at the call, before any task is sent.

#include <cstdint>
#include <optional>
#include <vector>

#include "nums/block_array.hpp"

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
/// row sum). `keepdims` keeps the reduced axes with length 1.
/// Throws ValueError for an ord given without an axis on an array that is not 1-d or 2-d, for
/// more than two axes, repeated axes, an unsupported matrix ord (2, -2: they need an SVD) and
/// for inf / -inf norms of empty vectors; IndexError for an axis out of range.
BlockArray norm(const BlockArray& x, std::optional<double> ord = std::nullopt, Axes axis = {},
                bool keepdims = false);

}  // namespace linalg
}  // namespace nums
