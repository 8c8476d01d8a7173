#pragma once
/// Array creation. Blocks are made on the nodes that own them; nothing is sent from the driver
/// except from_ndarray / from_eigen, which put the given data. Each function uses the current
/// context (the latest nums::init, or an embedded default started on first use).
/// `block_shape` empty: the default rule (see default_block_shape). Shapes are checked as NumPy
/// does: ValueError naming the shape for a negative dimension, or when the elements or bytes of
/// its non-zero dimensions do not fit int64; ValueError naming the block shape too for a grid of
/// more than ArrayGrid::kMaxBlocks blocks.

#include <optional>

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
BlockArray zeros_like(const BlockArray& a);
BlockArray ones_like(const BlockArray& a);
BlockArray full_like(const BlockArray& a, Number value);

/// [0, stop) step 1; int64 for integral arguments, float64 otherwise.
BlockArray arange(Number stop);
/// [start, stop) by `step`; ValueError for step 0.
BlockArray arange(Number start, Number stop, Number step = 1,
                  std::optional<DType> dtype = std::nullopt, const Shape& block_shape = {});
/// `num` evenly spaced values from start to stop (stop included when `endpoint`).
BlockArray linspace(double start, double stop, int64_t num, bool endpoint = true,
                    DType dtype = float64, const Shape& block_shape = {});
/// n x m (m = n by default) with ones on diagonal k.
BlockArray eye(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
               DType dtype = float64, const Shape& block_shape = {});
BlockArray identity(int64_t n, DType dtype = float64);
/// 1-d input: a square matrix with it on diagonal k. 2-d input: its k-th diagonal as 1-d.
BlockArray diag(const BlockArray& a, int64_t k = 0);

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
