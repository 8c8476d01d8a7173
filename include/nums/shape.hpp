#pragma once
/// Shape manipulation as free functions, with NumPy's names: transpose, reshape, concatenate,
/// stack, split, ... Operands with different block shapes are re-blocked as needed.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "nums/block_array.hpp"

namespace nums {

/// x with its axes permuted: axis d of the result is axis axes[d] of x (empty: reversed).
/// Blocks are transposed where they live. IndexError for an axis out of range, ValueError when
/// `axes` is not a permutation of x's axes.
BlockArray transpose(const BlockArray& x, std::vector<int64_t> axes = {});
/// x with axes a and b exchanged; IndexError for an axis out of range.
BlockArray swapaxes(const BlockArray& x, int64_t a, int64_t b);
/// x.reshape(shape, block_shape); see BlockArray::reshape.
BlockArray reshape(const BlockArray& x, Shape shape, Shape block_shape = {});
/// x with a new axis of length 1 at `axis` (in [-ndim - 1, ndim]); IndexError otherwise.
BlockArray expand_dims(const BlockArray& x, int64_t axis);
/// x without its axes of length 1 (nullopt), or without `axis`: ValueError when that axis is not
/// of length 1, IndexError when it is out of range.
BlockArray squeeze(const BlockArray& x, std::optional<int64_t> axis = std::nullopt);

/// The arrays joined along `axis` (negative counts from the end); the dtype is their
/// result_type. ValueError for an empty list or 0-d arrays, ShapeError when ranks differ or the
/// shapes differ off `axis` (both shapes are named), IndexError for an axis out of range.
BlockArray concatenate(const std::vector<BlockArray>& arrays, int64_t axis = 0);
/// The arrays (all of one shape, ShapeError otherwise) joined along a new axis `axis` (in
/// [-ndim - 1, ndim]). ValueError for an empty list.
BlockArray stack(const std::vector<BlockArray>& arrays, int64_t axis = 0);
/// x cut along `axis` into `sections` equal parts; ValueError when sections < 1 or the length
/// does not divide evenly.
std::vector<BlockArray> split(const BlockArray& x, int64_t sections, int64_t axis = 0);
/// x cut along `axis` before each of `indices` (NumPy's split: indices past the end or out of
/// order give empty parts); indices.size() + 1 parts. IndexError for an axis out of range or a
/// 0-d x.
std::vector<BlockArray> split(const BlockArray& x, const std::vector<int64_t>& indices,
                              int64_t axis = 0);
/// split(x, {3, 5}): a brace list is NumPy's list of indices (np.split(x, [3])), never a number
/// of sections.
inline std::vector<BlockArray> split(const BlockArray& x, std::initializer_list<int64_t> indices,
                                     int64_t axis = 0) {
  return split(x, std::vector<int64_t>(indices), axis);
}

/// x with the order of elements reversed along `axes` (all by default); a strided view of the
/// blocks. IndexError for an axis out of range, ValueError for a repeated one.
BlockArray flip(const BlockArray& x, Axes axes = Axes::all());
/// x shifted by `shift` along `axis` (elements past the end come back at the start); without an
/// axis, over the flattened array, reshaped back. IndexError for an axis out of range.
BlockArray roll(const BlockArray& x, int64_t shift, std::optional<int64_t> axis = std::nullopt);
/// x rolled by shifts[k] along axes[k] for each k (one shift serves every axis; shifts of an axis
/// named twice add up). ValueError when the lengths differ otherwise, IndexError out of range.
BlockArray roll(const BlockArray& x, const std::vector<int64_t>& shifts,
                const std::vector<int64_t>& axes);
/// x with axis `source` moved to `destination`, the others keeping their order (a transpose).
/// ValueError when the lists differ in length or repeat an axis; IndexError out of range.
BlockArray moveaxis(const BlockArray& x, int64_t source, int64_t destination);
BlockArray moveaxis(const BlockArray& x, const std::vector<int64_t>& source,
                    const std::vector<int64_t>& destination);
/// x broadcast to `shape` (NumPy's rules; here a new array, not a read-only view). ShapeError
/// when x does not broadcast to it, ValueError for a negative dimension.
BlockArray broadcast_to(const BlockArray& x, const Shape& shape);
/// Joined along the first axis, 0-d and 1-d arrays taken as rows (1, n); ValueError for an empty
/// list, ShapeError as concatenate.
BlockArray vstack(const std::vector<BlockArray>& arrays);
/// Joined along the second axis, or the first when the arrays are 1-d (0-d as (1,)).
BlockArray hstack(const std::vector<BlockArray>& arrays);
/// x cut along `axis` into `sections` parts that need not divide evenly: the first
/// length % sections parts are one longer (NumPy's array_split). ValueError for sections < 1.
std::vector<BlockArray> array_split(const BlockArray& x, int64_t sections, int64_t axis = 0);
/// As split(x, indices, axis).
std::vector<BlockArray> array_split(const BlockArray& x, const std::vector<int64_t>& indices,
                                    int64_t axis = 0);
/// As split(x, {i, j}): a brace list is indices.
inline std::vector<BlockArray> array_split(const BlockArray& x,
                                           std::initializer_list<int64_t> indices,
                                           int64_t axis = 0) {
  return array_split(x, std::vector<int64_t>(indices), axis);
}
/// x repeated reps[d] times along each axis; x and reps are padded with leading 1s to the same
/// length, as NumPy does. ValueError for a negative repetition.
BlockArray tile(const BlockArray& x, const std::vector<int64_t>& reps);
/// Each element repeated `repeats` times along `axis` (nullopt: the flattened array, 1-d
/// result). ValueError for negative repeats, IndexError for an axis out of range.
BlockArray repeat(const BlockArray& x, int64_t repeats, std::optional<int64_t> axis = std::nullopt);

/// The flattened array (x.flatten()); a copy, as every nums result is.
inline BlockArray ravel(const BlockArray& x) { return x.flatten(); }
/// The slices of x along `axis`, each without that axis (the array API's unstack; the inverse of
/// stack). IndexError for an axis out of range or a 0-d x.
std::vector<BlockArray> unstack(const BlockArray& x, int64_t axis = 0);
/// The arrays broadcast to their common shape (NumPy's rules); ShapeError naming the shapes when
/// they do not broadcast.
std::vector<BlockArray> broadcast_arrays(const std::vector<BlockArray>& arrays);
/// The elements of x at integer positions `indices` along `axis` (nullopt: of the flattened x):
/// shape x.shape[:axis] + indices.shape + x.shape[axis + 1:]. Negative positions count from the
/// end; IndexError for a position out of range (naming it and the axis length) or a float index.
/// The index array is read by the driver to be checked, as in indexing.
BlockArray take(const BlockArray& x, const BlockArray& indices,
                std::optional<int64_t> axis = std::nullopt);
BlockArray take(const BlockArray& x, const std::vector<int64_t>& indices,
                std::optional<int64_t> axis = std::nullopt);
/// NumPy's take_along_axis: out[..., j, ...] = x[..., indices[..., j, ...], ...] along `axis`,
/// the other axes of indices and x broadcast (nullopt: x flattened, indices 1-d). ValueError when
/// the ranks differ, IndexError for a position out of range.
BlockArray take_along_axis(const BlockArray& x, const BlockArray& indices,
                           std::optional<int64_t> axis);
/// NumPy's put: x.flat[indices] = values, in place (every handle sharing x's blocks sees it);
/// values are cast to x's dtype and repeated when shorter than indices; for a repeated position
/// the last value wins. IndexError out of range; ValueError for empty values with indices.
void put(BlockArray& x, const BlockArray& indices, const BlockArray& values);
void put(BlockArray& x, const std::vector<int64_t>& indices, const BlockArray& values);
/// x padded with widths[d] = {before, after} elements along each axis d (one pair serves every
/// axis). Modes as NumPy's: "constant" (`constant`, cast to x's dtype), "edge" (the edge
/// values), "reflect" (mirrored without the edge), "symmetric" (mirrored with it), "wrap"
/// (periodic); pads wider than the axis continue the pattern, as in NumPy. ValueError for a
/// negative width, an unknown mode, a count of pairs other than 1 or x.ndim(), or a pattern mode
/// on an empty axis.
BlockArray pad(const BlockArray& x, const std::vector<std::array<int64_t, 2>>& widths,
               const std::string& mode = "constant", Number constant = 0);
/// The same width before and after on every axis.
BlockArray pad(const BlockArray& x, int64_t width, const std::string& mode = "constant",
               Number constant = 0);
/// x with its last two axes exchanged (the array API's matrix_transpose); ValueError for fewer
/// than two axes.
BlockArray matrix_transpose(const BlockArray& x);

}  // namespace nums
