#pragma once
/// Elementwise functions with NumPy broadcasting, and reductions as free functions.
/// Float functions of integer or bool arrays compute in float64 (as NumPy does).

#include "nums/block_array.hpp"
#include "nums/indexing.hpp"

namespace nums {

BlockArray exp(const BlockArray& x);
BlockArray log(const BlockArray& x);
BlockArray log1p(const BlockArray& x);
BlockArray sqrt(const BlockArray& x);
BlockArray sin(const BlockArray& x);
BlockArray cos(const BlockArray& x);
BlockArray tanh(const BlockArray& x);
/// 1 / (1 + exp(-x)), computed without overflow for large |x|.
BlockArray sigmoid(const BlockArray& x);
inline BlockArray expit(const BlockArray& x) { return sigmoid(x); }
/// Keeps the dtype (bool -> bool).
BlockArray abs(const BlockArray& x);
BlockArray negative(const BlockArray& x);
/// -1, 0 or 1 in x's dtype (0 for NaN becomes NaN).
BlockArray sign(const BlockArray& x);
BlockArray isnan(const BlockArray& x);
BlockArray isfinite(const BlockArray& x);
BlockArray logical_not(const BlockArray& x);

/// a // b (NumPy's floor_divide): the quotient rounded toward minus infinity. Integers wrap as in
/// NumPy (int64 min // -1 == int64 min) and give 0 for a zero divisor; floats give inf or NaN
/// there. Bool operands compute in int64.
BlockArray floor_divide(const BlockArray& a, const BlockArray& b);
BlockArray floor_divide(const BlockArray& a, Number b);
BlockArray floor_divide(Number a, const BlockArray& b);
/// a % b with the sign of b, as operator% (NumPy's remainder / mod).
BlockArray remainder(const BlockArray& a, const BlockArray& b);

/// x ** y; for integers a negative exponent fails the task with ValueError and overflow wraps.
BlockArray power(const BlockArray& x, const BlockArray& y);
BlockArray power(const BlockArray& x, Number y);
BlockArray maximum(const BlockArray& a, const BlockArray& b);
BlockArray minimum(const BlockArray& a, const BlockArray& b);
BlockArray maximum(const BlockArray& a, Number b);
BlockArray minimum(const BlockArray& a, Number b);
BlockArray clip(const BlockArray& x, Number lo, Number hi);
BlockArray logical_and(const BlockArray& a, const BlockArray& b);
BlockArray logical_or(const BlockArray& a, const BlockArray& b);
BlockArray logical_xor(const BlockArray& a, const BlockArray& b);
/// Elements of x where cond is true, else of y; cond, x and y broadcast together.
BlockArray where(const BlockArray& cond, const BlockArray& x, const BlockArray& y);
BlockArray where(const BlockArray& cond, Number x, const BlockArray& y);
BlockArray where(const BlockArray& cond, const BlockArray& x, Number y);
BlockArray where(const BlockArray& cond, Number x, Number y);

inline BlockArray sum(const BlockArray& x, Axes axes = {}, bool keepdims = false) {
  return x.sum(axes, keepdims);
}
inline BlockArray prod(const BlockArray& x, Axes axes = {}, bool keepdims = false) {
  return x.prod(axes, keepdims);
}
inline BlockArray mean(const BlockArray& x, Axes axes = {}, bool keepdims = false) {
  return x.mean(axes, keepdims);
}
inline BlockArray var(const BlockArray& x, Axes axes = {}, int64_t ddof = 0,
                      bool keepdims = false) {
  return x.var(axes, ddof, keepdims);
}
inline BlockArray std(const BlockArray& x, Axes axes = {}, int64_t ddof = 0,
                      bool keepdims = false) {
  return x.std(axes, ddof, keepdims);
}
inline BlockArray min(const BlockArray& x, Axes axes = {}, bool keepdims = false) {
  return x.min(axes, keepdims);
}
inline BlockArray max(const BlockArray& x, Axes axes = {}, bool keepdims = false) {
  return x.max(axes, keepdims);
}
// all(x, axes, keepdims) is nums::all, in indexing.hpp: the object that is also the index `:`.
inline BlockArray any(const BlockArray& x, Axes axes = {}, bool keepdims = false) {
  return x.any(axes, keepdims);
}
inline BlockArray argmin(const BlockArray& x, std::optional<int64_t> axis = std::nullopt,
                         bool keepdims = false) {
  return x.argmin(axis, keepdims);
}
inline BlockArray argmax(const BlockArray& x, std::optional<int64_t> axis = std::nullopt,
                         bool keepdims = false) {
  return x.argmax(axis, keepdims);
}

}  // namespace nums
