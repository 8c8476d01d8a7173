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
BlockArray tan(const BlockArray& x);
BlockArray arcsin(const BlockArray& x);
BlockArray arccos(const BlockArray& x);
BlockArray arctan(const BlockArray& x);
BlockArray sinh(const BlockArray& x);
BlockArray cosh(const BlockArray& x);
BlockArray arcsinh(const BlockArray& x);
BlockArray arccosh(const BlockArray& x);
BlockArray arctanh(const BlockArray& x);
/// exp(x) - 1, accurate for small |x|.
BlockArray expm1(const BlockArray& x);
BlockArray exp2(const BlockArray& x);
BlockArray log2(const BlockArray& x);
BlockArray log10(const BlockArray& x);
/// Keeps the dtype (bool -> bool); the modulus, in float64, of a complex128 array.
BlockArray abs(const BlockArray& x);
/// The real part (float64) of a complex128 array; other arrays are returned as they are.
BlockArray real(const BlockArray& x);
/// The imaginary part (float64) of a complex128 array; zeros of x's dtype for other arrays.
BlockArray imag(const BlockArray& x);
/// The complex conjugate of a complex128 array; other arrays are returned as they are.
BlockArray conj(const BlockArray& x);
inline BlockArray conjugate(const BlockArray& x) { return conj(x); }
/// The argument of each complex number in radians (float64; `deg`: in degrees), from
/// arctan2(imag, real) as NumPy's angle.
BlockArray angle(const BlockArray& x, bool deg = false);
BlockArray negative(const BlockArray& x);
/// -1, 0 or 1 in x's dtype (NaN stays NaN); DTypeError for bool, as NumPy has no bool loop.
/// Of a complex number z: z / |z| (0 for 0), as NumPy 2 and the array API standard.
BlockArray sign(const BlockArray& x);
/// x * x in x's dtype (integers wrap); bool computes in int8, as in NumPy.
BlockArray square(const BlockArray& x);
/// 1 / x in x's dtype: for integers the quotient truncated (reciprocal(2) == 0) and, for 0,
/// x86's cast of inf (int32 and int64: the minimum; narrower and unsigned integers: 0), as
/// NumPy gives; bool computes in int8, as NumPy.
BlockArray reciprocal(const BlockArray& x);
/// Rounded down, up and toward zero. Integer and bool arrays are returned unchanged with their
/// dtype (NumPy >= 2.1; before, NumPy gave floats).
BlockArray floor(const BlockArray& x);
BlockArray ceil(const BlockArray& x);
BlockArray trunc(const BlockArray& x);
/// To the nearest integer, half to even (NumPy's rint), in x's dtype for floats; integer and bool
/// arrays give float64, as NumPy's rint has only float loops (round keeps integers).
BlockArray rint(const BlockArray& x);
/// Half to even at 10^-decimals, computed as NumPy does (x * 10^d, rint, / 10^d in x's float
/// type; decimals < 0 divides first). Integer arrays: unchanged for decimals >= 0, else rounded
/// in float64 and cast back (round(int32 [15, 25], -1) == [20, 20]). Bool arrays give float64
/// (NumPy: float16).
BlockArray round(const BlockArray& x, int64_t decimals = 0);
inline BlockArray around(const BlockArray& x, int64_t decimals = 0) { return round(x, decimals); }
BlockArray isnan(const BlockArray& x);
BlockArray isfinite(const BlockArray& x);
/// True for +inf and -inf; false everywhere for integer and bool arrays.
BlockArray isinf(const BlockArray& x);
/// True where the sign bit is set (-0.0 and -nan included); x < 0 for integers; bool result.
BlockArray signbit(const BlockArray& x);
/// NaN replaced by `nan`, +inf by `posinf` and -inf by `neginf` (by default the largest finite
/// value of x's dtype and its negation), in x's dtype. Integer and bool arrays are returned as
/// they are.
BlockArray nan_to_num(const BlockArray& x, double nan = 0.0,
                      std::optional<double> posinf = std::nullopt,
                      std::optional<double> neginf = std::nullopt);
BlockArray logical_not(const BlockArray& x);

// Binary functions below broadcast and promote as the operators do, and take a number on either
// side (weak, as in NumPy 2: it keeps the array's kind).

/// C's fmod: the remainder with the sign of a (remainder() takes b's sign). Integers give 0 for a
/// zero divisor, as NumPy does; floats give NaN. Bool operands compute in int64.
BlockArray fmod(const BlockArray& a, const BlockArray& b);
BlockArray fmod(const BlockArray& a, Number b);
BlockArray fmod(Number a, const BlockArray& b);
/// The angle of the point (b, a) in [-pi, pi], with IEEE signed-zero and infinity rules.
/// Integer and bool operands compute in float64 (as do hypot, copysign and logaddexp).
BlockArray arctan2(const BlockArray& a, const BlockArray& b);
BlockArray arctan2(const BlockArray& a, Number b);
BlockArray arctan2(Number a, const BlockArray& b);
/// sqrt(a^2 + b^2) without overflow or underflow in between; inf if either is inf, even NaN.
BlockArray hypot(const BlockArray& a, const BlockArray& b);
BlockArray hypot(const BlockArray& a, Number b);
BlockArray hypot(Number a, const BlockArray& b);
/// |a| with the sign bit of b.
BlockArray copysign(const BlockArray& a, const BlockArray& b);
BlockArray copysign(const BlockArray& a, Number b);
BlockArray copysign(Number a, const BlockArray& b);
/// log(exp(a) + exp(b)) without overflow (NumPy's algorithm: logaddexp(inf, inf) == inf).
BlockArray logaddexp(const BlockArray& a, const BlockArray& b);
BlockArray logaddexp(const BlockArray& a, Number b);
BlockArray logaddexp(Number a, const BlockArray& b);
/// a << b and a >> b (see operator<<): integers only, bool computes in int8.
BlockArray left_shift(const BlockArray& a, const BlockArray& b);
BlockArray left_shift(const BlockArray& a, Number b);
BlockArray left_shift(Number a, const BlockArray& b);
BlockArray right_shift(const BlockArray& a, const BlockArray& b);
BlockArray right_shift(const BlockArray& a, Number b);
BlockArray right_shift(Number a, const BlockArray& b);
/// a & b, a | b, a ^ b: logical for bool, bitwise for integers; DTypeError for floats.
BlockArray bitwise_and(const BlockArray& a, const BlockArray& b);
BlockArray bitwise_and(const BlockArray& a, Number b);
BlockArray bitwise_and(Number a, const BlockArray& b);
BlockArray bitwise_or(const BlockArray& a, const BlockArray& b);
BlockArray bitwise_or(const BlockArray& a, Number b);
BlockArray bitwise_or(Number a, const BlockArray& b);
BlockArray bitwise_xor(const BlockArray& a, const BlockArray& b);
BlockArray bitwise_xor(const BlockArray& a, Number b);
BlockArray bitwise_xor(Number a, const BlockArray& b);
/// The smaller and larger of a and b, ignoring NaN where only one of them is NaN (NumPy's fmin,
/// fmax; minimum and maximum propagate NaN instead).
BlockArray fmin(const BlockArray& a, const BlockArray& b);
BlockArray fmin(const BlockArray& a, Number b);
BlockArray fmin(Number a, const BlockArray& b);
BlockArray fmax(const BlockArray& a, const BlockArray& b);
BlockArray fmax(const BlockArray& a, Number b);
BlockArray fmax(Number a, const BlockArray& b);
/// ~x: logical not for bool, bitwise not for integers; DTypeError for floats.
BlockArray bitwise_invert(const BlockArray& x);
inline BlockArray invert(const BlockArray& x) { return bitwise_invert(x); }
inline BlockArray bitwise_not(const BlockArray& x) { return bitwise_invert(x); }

/// a // b (NumPy's floor_divide): the quotient rounded toward minus infinity. Integers wrap as in
/// NumPy (int64 min // -1 == int64 min) and give 0 for a zero divisor; floats give inf or NaN
/// there. Bool operands compute in int64.
BlockArray floor_divide(const BlockArray& a, const BlockArray& b);
BlockArray floor_divide(const BlockArray& a, Number b);
BlockArray floor_divide(Number a, const BlockArray& b);
/// a % b with the sign of b, as operator% (NumPy's remainder / mod).
BlockArray remainder(const BlockArray& a, const BlockArray& b);
BlockArray remainder(const BlockArray& a, Number b);
BlockArray remainder(Number a, const BlockArray& b);

/// x ** y; for integers a negative exponent fails the task with ValueError and overflow wraps.
BlockArray power(const BlockArray& x, const BlockArray& y);
BlockArray power(const BlockArray& x, Number y);
BlockArray power(Number x, const BlockArray& y);
BlockArray maximum(const BlockArray& a, const BlockArray& b);
BlockArray minimum(const BlockArray& a, const BlockArray& b);
BlockArray maximum(const BlockArray& a, Number b);
BlockArray minimum(const BlockArray& a, Number b);
BlockArray maximum(Number a, const BlockArray& b);
BlockArray minimum(Number a, const BlockArray& b);
BlockArray clip(const BlockArray& x, Number lo, Number hi);
BlockArray logical_and(const BlockArray& a, const BlockArray& b);
BlockArray logical_or(const BlockArray& a, const BlockArray& b);
BlockArray logical_xor(const BlockArray& a, const BlockArray& b);
/// |a - b| <= atol + rtol * |b| elementwise (NumPy's isclose, not symmetric in a and b), computed
/// in the operands' float type (integers and bools in float64); equal infinities are close, NaN
/// is close to NaN only with `equal_nan`. Broadcasts; bool result.
BlockArray isclose(const BlockArray& a, const BlockArray& b, double rtol = 1e-05,
                   double atol = 1e-08, bool equal_nan = false);
BlockArray isclose(const BlockArray& a, Number b, double rtol = 1e-05, double atol = 1e-08,
                   bool equal_nan = false);
BlockArray isclose(Number a, const BlockArray& b, double rtol = 1e-05, double atol = 1e-08,
                   bool equal_nan = false);
/// Whether isclose holds everywhere (true for empty arrays). Waits for the result, like get();
/// ShapeError when the shapes do not broadcast.
bool allclose(const BlockArray& a, const BlockArray& b, double rtol = 1e-05, double atol = 1e-08,
              bool equal_nan = false);
/// Whether a and b have the same shape and equal elements (NaN equal to NaN with `equal_nan`);
/// false for different shapes, without broadcasting. Waits for the result, like get().
bool array_equal(const BlockArray& a, const BlockArray& b, bool equal_nan = false);

/// Elements of x where cond is true, else of y; cond, x and y broadcast together.
BlockArray where(const BlockArray& cond, const BlockArray& x, const BlockArray& y);
BlockArray where(const BlockArray& cond, Number x, const BlockArray& y);
BlockArray where(const BlockArray& cond, const BlockArray& x, Number y);
BlockArray where(const BlockArray& cond, Number x, Number y);

inline BlockArray sum(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) {
  return x.sum(axes, keepdims);
}
inline BlockArray prod(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) {
  return x.prod(axes, keepdims);
}
inline BlockArray mean(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) {
  return x.mean(axes, keepdims);
}
inline BlockArray var(const BlockArray& x, Axes axes = Axes::all(), int64_t ddof = 0,
                      bool keepdims = false) {
  return x.var(axes, ddof, keepdims);
}
inline BlockArray std(const BlockArray& x, Axes axes = Axes::all(), int64_t ddof = 0,
                      bool keepdims = false) {
  return x.std(axes, ddof, keepdims);
}
inline BlockArray min(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) {
  return x.min(axes, keepdims);
}
inline BlockArray max(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) {
  return x.max(axes, keepdims);
}
// all(x, axes, keepdims) is nums::all, in indexing.hpp: the object that is also the index `:`.
inline BlockArray any(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false) {
  return x.any(axes, keepdims);
}
/// Sum, minimum and maximum that skip NaN (NumPy's nansum, nanmin, nanmax): nansum of only NaN
/// is 0, nanmin and nanmax of only NaN are NaN (NumPy also warns). Integer and bool arrays reduce
/// as sum, min and max do; nanmin/nanmax raise ValueError for an empty reduced axis, as min does.
BlockArray nansum(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false);
BlockArray nanmin(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false);
BlockArray nanmax(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false);
/// Mean of the numbers that are not NaN; NaN for a slice of only NaN; float32 stays float32,
/// integers and bools give float64 (as mean).
BlockArray nanmean(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false);
/// Variance and standard deviation of the numbers that are not NaN, dividing by
/// max(count - ddof, 0) (NaN for a slice of only NaN); integers and bools as var and std.
BlockArray nanvar(const BlockArray& x, Axes axes = Axes::all(), int64_t ddof = 0,
                  bool keepdims = false);
BlockArray nanstd(const BlockArray& x, Axes axes = Axes::all(), int64_t ddof = 0,
                  bool keepdims = false);
/// max - min ("peak to peak") in x's dtype (integers wrap, as in NumPy); DTypeError for bool,
/// ValueError for an empty reduced axis.
BlockArray ptp(const BlockArray& x, Axes axes = Axes::all(), bool keepdims = false);
/// Running sum and product along `axis` (nullopt: over the flattened array, as NumPy), in
/// NumPy's dtypes: bool and integers accumulate in int64 (wrapping), floats keep their type.
/// Computed where the blocks live: each block scans locally, seeded by the reduction of the
/// blocks before it. A 0-d array gives shape (1,) without axis; IndexError for an axis out of
/// range.
BlockArray cumsum(const BlockArray& x, std::optional<int64_t> axis = std::nullopt);
BlockArray cumprod(const BlockArray& x, std::optional<int64_t> axis = std::nullopt);
/// The n-th discrete difference along `axis`: x[1:] - x[:-1], n times (not-equal for bool, as
/// NumPy); x for n == 0; the axis shrinks by n (to 0 at least). ValueError for n < 0 or a 0-d x,
/// IndexError for an axis out of range.
BlockArray diff(const BlockArray& x, int64_t n = 1, int64_t axis = -1);
inline BlockArray argmin(const BlockArray& x, std::optional<int64_t> axis = std::nullopt,
                         bool keepdims = false) {
  return x.argmin(axis, keepdims);
}
inline BlockArray argmax(const BlockArray& x, std::optional<int64_t> axis = std::nullopt,
                         bool keepdims = false) {
  return x.argmax(axis, keepdims);
}

}  // namespace nums
