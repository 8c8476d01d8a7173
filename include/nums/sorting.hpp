#pragma once
/// Sorting, searching and set functions with NumPy's and the array API's names: sort, argsort,
/// searchsorted, unique (and unique_values/_counts/_inverse/_all), nonzero, argwhere,
/// flatnonzero, count_nonzero. Results are distributed arrays; what waits on the driver is said
/// per function.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nums/block_array.hpp"

namespace nums {

/// x sorted along `axis` (nullopt: the flattened array, 1-d result), in NumPy's order: NaN after
/// +inf; `descending` reverses it (NaN first), equal elements keeping their index order (the
/// array API's rule). Every sort is stable, so `stable` changes nothing. An axis whose blocks
/// line up in one block per line is sorted where each block lives; a 1-d array of several
/// blocks (and so the flattened case) by a sample sort whose buckets move node to node; an axis
/// of several blocks in an n-d array is re-blocked whole along it, sorted, and re-blocked back.
/// The result keeps x's grid (flattened: the flattened grid). Waits on the driver only for the
/// bucket sizes (one small count per block and bucket). A values-only sort keeps -0.0 just
/// before 0.0. IndexError for an axis out of range (any axis of a 0-d array).
BlockArray sort(const BlockArray& x, std::optional<int64_t> axis = -1, bool stable = false,
                bool descending = false);
/// The int64 indices that sort x along `axis` (global indices along the axis; nullopt: into the
/// flattened array). Ties, -0.0 and 0.0 included, keep index order (stable, as NumPy's
/// kind="stable"); descending ties too. Laid out and computed as sort(); IndexError likewise.
BlockArray argsort(const BlockArray& x, std::optional<int64_t> axis = -1, bool stable = false,
                   bool descending = false);

/// For each element of `values`, the index in the 1-d ascending `sorted` where it would be
/// inserted to keep the order: before equal elements for side "left", after them for "right"
/// (NumPy's order: NaN last, -0.0 equal to 0.0). Both are cast to their result_type first. The
/// result is int64 of values' shape and grid, computed per values block against each block of
/// `sorted` (the counts of each pair summed); nothing waits. ValueError for a `sorted` that is
/// not 1-d or a side other than "left"/"right".
BlockArray searchsorted(const BlockArray& sorted, const BlockArray& values,
                        const std::string& side = "left");

/// np.unique's results (axis=None): the sorted distinct elements of the flattened x and, when
/// asked for, the index of each one's first occurrence, the inverse (each element's index into
/// `values`, of x's shape as in NumPy 2) and the counts. The unused ones are empty arrays.
struct UniqueResult {
  BlockArray values, indices, inverse, counts;
};
/// np.unique(x, return_index, return_inverse, return_counts, equal_nan): all results are
/// distributed. With equal_nan every NaN is one value (NumPy 2's default), else each NaN is
/// distinct. A 0-d x is taken as 1-d; an empty x gives empty results. The driver waits for the
/// sort's bucket sizes and for one count of distinct values per block (mask selection); no
/// element is gathered. -0.0 and 0.0 are one value, returned as 0.0 when indices or the
/// inverse are asked for.
UniqueResult unique(const BlockArray& x, bool return_index = false, bool return_inverse = false,
                    bool return_counts = false, bool equal_nan = true);
/// The array API's unique_values(x): unique(x).values.
BlockArray unique_values(const BlockArray& x);
/// The array API's unique_counts(x).
struct UniqueCountsResult {
  BlockArray values, counts;
};
UniqueCountsResult unique_counts(const BlockArray& x);
/// The array API's unique_inverse(x): inverse_indices has x's shape.
struct UniqueInverseResult {
  BlockArray values, inverse_indices;
};
UniqueInverseResult unique_inverse(const BlockArray& x);
/// The array API's unique_all(x).
struct UniqueAllResult {
  BlockArray values, indices, inverse_indices, counts;
};
UniqueAllResult unique_all(const BlockArray& x);

/// The int64 indices of the non-zero elements of the flattened x, in order (distributed; the
/// driver waits for one count per block). A 0-d x is taken as 1-d.
BlockArray flatnonzero(const BlockArray& x);
/// One int64 array per axis of x with the indices of its non-zero elements, in row-major order.
/// ValueError for a 0-d x (as NumPy 2).
std::vector<BlockArray> nonzero(const BlockArray& x);
/// The indices of the non-zero elements as rows: int64 of shape (count, ndim). A 0-d x gives
/// (1, 0) when it is non-zero and (0, 0) otherwise (waiting for that one value), as NumPy.
BlockArray argwhere(const BlockArray& x);
/// The number of non-zero elements along `axes` (all by default; NaN counts as non-zero), int64,
/// with keepdims as in reductions. IndexError for an axis out of range.
BlockArray count_nonzero(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false);

}  // namespace nums
