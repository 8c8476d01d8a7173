#pragma once
/// Array creation. Blocks are made on the nodes that own them; nothing is sent from the driver
/// except from_ndarray / from_eigen, which put the given data. Each function uses the current
/// context (the latest nums::init, or an embedded default started on first use).
/// `block_shape` empty: the default rule (see default_block_shape). Shapes are checked as NumPy
/// does: ValueError naming the shape for a negative dimension, or when the elements or bytes of
/// its non-zero dimensions do not fit int64; ValueError naming the block shape too for a grid of
/// more than ArrayGrid::kMaxBlocks blocks.

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "nums/block_array.hpp"

namespace nums {

/// Uninitialised in NumPy; here zero-filled (reading it is defined).
BlockArray empty(const Shape& shape, DType dtype = float64, const Shape& block_shape = {});
BlockArray zeros(const Shape& shape, DType dtype = float64, const Shape& block_shape = {});
BlockArray ones(const Shape& shape, DType dtype = float64, const Shape& block_shape = {});
/// Every element `value`; dtype defaults to the value's kind (int64, float64 or bool).
BlockArray full(const Shape& shape, Number value, std::optional<DType> dtype = std::nullopt,
                const Shape& block_shape = {});
/// a's shape and block shape, in a's dtype unless `dtype` is given.
BlockArray zeros_like(const BlockArray& a, std::optional<DType> dtype = std::nullopt);
BlockArray ones_like(const BlockArray& a, std::optional<DType> dtype = std::nullopt);
BlockArray full_like(const BlockArray& a, Number value, std::optional<DType> dtype = std::nullopt);
/// zeros_like: NumPy leaves the elements uninitialised, here they are zero.
BlockArray empty_like(const BlockArray& a, std::optional<DType> dtype = std::nullopt);

/// [0, stop) step 1; int64 for integral arguments, float64 otherwise.
BlockArray arange(Number stop);
/// [start, stop) by `step`; ValueError for step 0.
BlockArray arange(Number start, Number stop, Number step = 1,
                  std::optional<DType> dtype = std::nullopt, const Shape& block_shape = {});
/// `num` evenly spaced values from start to stop (stop included when `endpoint`).
BlockArray linspace(double start, double stop, int64_t num, bool endpoint = true,
                    DType dtype = float64, const Shape& block_shape = {});
/// `num` values base ** t for t evenly spaced from start to stop (NumPy's logspace), computed
/// in float64 and cast to `dtype`. ValueError for num < 0.
BlockArray logspace(double start, double stop, int64_t num, bool endpoint = true,
                    double base = 10.0, DType dtype = float64, const Shape& block_shape = {});
/// Coordinate arrays from 1-d coordinate vectors (others are flattened): with n inputs of
/// lengths l0, l1, ..., each output has shape (l0, l1, ...) for "ij" indexing and
/// (l1, l0, l2, ...) for "xy" (NumPy's default); output i varies along input i's axis.
/// ValueError for another indexing.
std::vector<BlockArray> meshgrid(const std::vector<BlockArray>& xs,
                                 const std::string& indexing = "xy");
/// n x m (m = n by default) with ones on diagonal k.
BlockArray eye(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
               DType dtype = float64, const Shape& block_shape = {});
BlockArray identity(int64_t n, DType dtype = float64);
/// 1-d input: a square matrix with it on diagonal k. 2-d input: its k-th diagonal as 1-d.
BlockArray diag(const BlockArray& a, int64_t k = 0);

/// n x m (m = n by default) of dtype with ones at and below diagonal k (column - row <= k).
/// ValueError for a negative dimension.
BlockArray tri(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
               DType dtype = float64);
/// x with the elements above diagonal k (tril) or below it (triu) zeroed, over its last two axes
/// (a 1-d x of length n is taken as n rows of itself, giving n x n, as NumPy does). ValueError
/// for a 0-d x.
BlockArray tril(const BlockArray& x, int64_t k = 0);
BlockArray triu(const BlockArray& x, int64_t k = 0);
/// The diagonal `offset` of the matrices over axes (axis1, axis2): those axes removed and the
/// diagonal appended as the last axis (length 0 when the offset is past the matrix). Cut from
/// the blocks it crosses where they live; a new array, not a view. ValueError for ndim < 2 or
/// axis1 == axis2, IndexError for an axis out of range.
BlockArray diagonal(const BlockArray& x, int64_t offset = 0, int64_t axis1 = 0, int64_t axis2 = 1);
/// The sum of diagonal(x, offset, axis1, axis2) along its last axis (dtype as sum: bool and
/// integers give int64). ValueError for ndim < 2.
BlockArray trace(const BlockArray& x, int64_t offset = 0, int64_t axis1 = 0, int64_t axis2 = 1);

/// Splits a driver array into blocks put on their nodes.
BlockArray from_ndarray(const NDArray& a, const Shape& block_shape = {});
/// A 2-d float64 array from an Eigen matrix.
BlockArray from_eigen(const Eigen::MatrixXd& m, const Shape& block_shape = {});
/// 1-d from values.
template <typename T>
BlockArray array(const std::vector<T>& values, const Shape& shape = {},
                 const Shape& block_shape = {}) {
  return from_ndarray(NDArray::from_vector(values, shape), block_shape);
}

}  // namespace nums
