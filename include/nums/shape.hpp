#pragma once
/// Shape manipulation as free functions, with NumPy's names: transpose, reshape, concatenate,
/// stack, split, ... Operands with different block shapes are re-blocked as needed.

#include <cstdint>
#include <optional>
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

}  // namespace nums
