#pragma once
// Device bodies of the float ops of src/kernels/ops.h: the same results, element by element, as
// Binary<Op, T>, Unary<Op, T> and Reduce<Op, T> for T = float and double. ops.h's functors call
// std:: maths and throw, so they cannot run on a device; these mirror them and the tests in
// tests/gpu/ hold them to the CPU kernels. Ops with no float loop (bits, shifts) are refused on
// the host before any launch (FloatBinaryOp, FloatUnaryOp).

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "src/kernels/ops.h"

namespace nums::kernels::cuda {

// One name for the float and double function of the CUDA maths library.
#define NUMS_CUDA_MATH1(Name, fn)                                     \
  __device__ __forceinline__ float Name(float x) { return fn##f(x); } \
  __device__ __forceinline__ double Name(double x) { return fn(x); }
#define NUMS_CUDA_MATH2(Name, fn)                                                 \
  __device__ __forceinline__ float Name(float x, float y) { return fn##f(x, y); } \
  __device__ __forceinline__ double Name(double x, double y) { return fn(x, y); }
NUMS_CUDA_MATH1(DExp, exp)
NUMS_CUDA_MATH1(DLog, log)
NUMS_CUDA_MATH1(DLog1p, log1p)
NUMS_CUDA_MATH1(DSqrt, sqrt)
NUMS_CUDA_MATH1(DFabs, fabs)
NUMS_CUDA_MATH1(DSin, sin)
NUMS_CUDA_MATH1(DCos, cos)
NUMS_CUDA_MATH1(DTan, tan)
NUMS_CUDA_MATH1(DTanh, tanh)
NUMS_CUDA_MATH1(DFloor, floor)
NUMS_CUDA_MATH1(DCeil, ceil)
NUMS_CUDA_MATH1(DTrunc, trunc)
NUMS_CUDA_MATH1(DNearbyint, nearbyint)
NUMS_CUDA_MATH1(DExpm1, expm1)
NUMS_CUDA_MATH1(DLog2, log2)
NUMS_CUDA_MATH1(DLog10, log10)
NUMS_CUDA_MATH1(DExp2, exp2)
NUMS_CUDA_MATH1(DAsin, asin)
NUMS_CUDA_MATH1(DAcos, acos)
NUMS_CUDA_MATH1(DAtan, atan)
NUMS_CUDA_MATH1(DSinh, sinh)
NUMS_CUDA_MATH1(DCosh, cosh)
NUMS_CUDA_MATH1(DAsinh, asinh)
NUMS_CUDA_MATH1(DAcosh, acosh)
NUMS_CUDA_MATH1(DAtanh, atanh)
NUMS_CUDA_MATH2(DPow, pow)
NUMS_CUDA_MATH2(DFmod, fmod)
NUMS_CUDA_MATH2(DAtan2, atan2)
NUMS_CUDA_MATH2(DHypot, hypot)
NUMS_CUDA_MATH2(DCopysign, copysign)
#undef NUMS_CUDA_MATH1
#undef NUMS_CUDA_MATH2

template <typename T>
__device__ __forceinline__ bool DIsNan(T v) {
  return v != v;
}
template <typename T>
__device__ __forceinline__ bool DIsInf(T v) {
  return v == static_cast<T>(INFINITY) || v == static_cast<T>(-INFINITY);
}
// The sign bit itself: set for -0.0 and for NaNs that carry it, as std::signbit.
__device__ __forceinline__ bool DSignbit(float v) { return __float_as_int(v) < 0; }
__device__ __forceinline__ bool DSignbit(double v) { return __double_as_longlong(v) < 0; }

/// False for the ops that have no float loop: ops.h's functors throw DTypeError for them.
constexpr bool FloatBinaryOp(BinaryOp op) {
  return !(op == BinaryOp::kBitAnd || op == BinaryOp::kBitOr || op == BinaryOp::kBitXor ||
           IsShift(op));
}
constexpr bool FloatUnaryOp(UnaryOp op) { return op != UnaryOp::kBitNot; }

// npy_divmod's floor division, as FloatFloorDiv.
template <typename T>
__device__ T DFloorDiv(T a, T b) {
  if (b == 0) return a / b;
  const T mod = DFmod(a, b);
  T div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= T{1};
  if (div == 0) return DCopysign(T{0}, a / b);
  T floordiv = DFloor(div);
  if (div - floordiv > T{0.5}) floordiv += T{1};
  return floordiv;
}

template <typename T>
__device__ T DLogAddExp(T a, T b) {
  if (a == b) return a + static_cast<T>(0.693147180559945309417232121458176568);
  const T d = a - b;
  if (d > 0) return a + DLog1p(DExp(-d));
  if (d <= 0) return b + DLog1p(DExp(d));
  return d;  // NaN
}

template <BinaryOp Op, typename T>
struct DBinary {
  using Out = std::conditional_t<HasBoolResult(Op), bool, T>;
  __device__ __forceinline__ static Out Apply(T a, T b) {
    if constexpr (Op == BinaryOp::kAdd) {
      return a + b;
    } else if constexpr (Op == BinaryOp::kSub) {
      return a - b;
    } else if constexpr (Op == BinaryOp::kMul) {
      return a * b;
    } else if constexpr (Op == BinaryOp::kDiv) {
      return a / b;
    } else if constexpr (Op == BinaryOp::kFloorDiv) {
      return DFloorDiv(a, b);
    } else if constexpr (Op == BinaryOp::kMod) {
      const T r = DFmod(a, b);
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    } else if constexpr (Op == BinaryOp::kPow) {
      return DPow(a, b);
    } else if constexpr (Op == BinaryOp::kMaximum) {
      return DIsNan(a) ? a : DIsNan(b) ? b : (a < b ? b : a);
    } else if constexpr (Op == BinaryOp::kMinimum) {
      return DIsNan(a) ? a : DIsNan(b) ? b : (b < a ? b : a);
    } else if constexpr (Op == BinaryOp::kEq) {
      return a == b;
    } else if constexpr (Op == BinaryOp::kNe) {
      return a != b;
    } else if constexpr (Op == BinaryOp::kLt) {
      return a < b;
    } else if constexpr (Op == BinaryOp::kLe) {
      return a <= b;
    } else if constexpr (Op == BinaryOp::kGt) {
      return a > b;
    } else if constexpr (Op == BinaryOp::kGe) {
      return a >= b;
    } else if constexpr (Op == BinaryOp::kLogicalAnd) {
      return a != T{0} && b != T{0};
    } else if constexpr (Op == BinaryOp::kLogicalOr) {
      return a != T{0} || b != T{0};
    } else if constexpr (Op == BinaryOp::kLogicalXor) {
      return (a != T{0}) != (b != T{0});
    } else if constexpr (Op == BinaryOp::kFmin) {
      return DIsNan(b) ? a : DIsNan(a) ? b : (b < a ? b : a);
    } else if constexpr (Op == BinaryOp::kFmax) {
      return DIsNan(b) ? a : DIsNan(a) ? b : (a < b ? b : a);
    } else if constexpr (Op == BinaryOp::kFmod) {
      return DFmod(a, b);
    } else if constexpr (Op == BinaryOp::kArctan2) {
      return DAtan2(a, b);
    } else if constexpr (Op == BinaryOp::kHypot) {
      return DHypot(a, b);
    } else if constexpr (Op == BinaryOp::kCopysign) {
      return DCopysign(a, b);
    } else if constexpr (Op == BinaryOp::kLogaddexp) {
      return DLogAddExp(a, b);
    } else {
      static_assert(!FloatBinaryOp(Op), "every float op has a body");
      return Out{};  // never launched: refused on the host
    }
  }
};

template <UnaryOp Op, typename T>
struct DUnary {
  using Out = std::conditional_t<HasBoolResult(Op), bool, T>;
  __device__ __forceinline__ static Out Apply(T x) {
    if constexpr (Op == UnaryOp::kNeg) {
      return -x;
    } else if constexpr (Op == UnaryOp::kAbs) {
      return DFabs(x);
    } else if constexpr (Op == UnaryOp::kSign) {
      return DIsNan(x) ? x : static_cast<T>((T{0} < x) - (x < T{0}));
    } else if constexpr (Op == UnaryOp::kIsNan) {
      return DIsNan(x);
    } else if constexpr (Op == UnaryOp::kIsFinite) {
      return !DIsNan(x) && !DIsInf(x);
    } else if constexpr (Op == UnaryOp::kIsInf) {
      return DIsInf(x);
    } else if constexpr (Op == UnaryOp::kSignbit) {
      return DSignbit(x);
    } else if constexpr (Op == UnaryOp::kFloor) {
      return DFloor(x);
    } else if constexpr (Op == UnaryOp::kCeil) {
      return DCeil(x);
    } else if constexpr (Op == UnaryOp::kTrunc) {
      return DTrunc(x);
    } else if constexpr (Op == UnaryOp::kRint) {
      return DNearbyint(x);  // half to even, as std::nearbyint in the default rounding mode
    } else if constexpr (Op == UnaryOp::kSquare) {
      return x * x;
    } else if constexpr (Op == UnaryOp::kReciprocal) {
      return T{1} / x;
    } else if constexpr (Op == UnaryOp::kLogicalNot) {
      return x == T{0};
    } else if constexpr (Op == UnaryOp::kExp) {
      return DExp(x);
    } else if constexpr (Op == UnaryOp::kLog) {
      return DLog(x);
    } else if constexpr (Op == UnaryOp::kLog1p) {
      return DLog1p(x);
    } else if constexpr (Op == UnaryOp::kSqrt) {
      return DSqrt(x);
    } else if constexpr (Op == UnaryOp::kSin) {
      return DSin(x);
    } else if constexpr (Op == UnaryOp::kCos) {
      return DCos(x);
    } else if constexpr (Op == UnaryOp::kTanh) {
      return DTanh(x);
    } else if constexpr (Op == UnaryOp::kExpm1) {
      return DExpm1(x);
    } else if constexpr (Op == UnaryOp::kLog2) {
      return DLog2(x);
    } else if constexpr (Op == UnaryOp::kLog10) {
      return DLog10(x);
    } else if constexpr (Op == UnaryOp::kExp2) {
      return DExp2(x);
    } else if constexpr (Op == UnaryOp::kTan) {
      return DTan(x);
    } else if constexpr (Op == UnaryOp::kArcsin) {
      return DAsin(x);
    } else if constexpr (Op == UnaryOp::kArccos) {
      return DAcos(x);
    } else if constexpr (Op == UnaryOp::kArctan) {
      return DAtan(x);
    } else if constexpr (Op == UnaryOp::kSinh) {
      return DSinh(x);
    } else if constexpr (Op == UnaryOp::kCosh) {
      return DCosh(x);
    } else if constexpr (Op == UnaryOp::kArcsinh) {
      return DAsinh(x);
    } else if constexpr (Op == UnaryOp::kArccosh) {
      return DAcosh(x);
    } else if constexpr (Op == UnaryOp::kArctanh) {
      return DAtanh(x);
    } else if constexpr (Op == UnaryOp::kSigmoid) {
      // Split by sign so exp never overflows, as ops.h.
      if (x >= 0) return T{1} / (T{1} + DExp(-x));
      const T e = DExp(x);
      return e / (T{1} + e);
    } else {
      static_assert(!FloatUnaryOp(Op), "every float op has a body");
      return Out{};  // never launched: refused on the host
    }
  }
};

/// Reduce<Op, T> for float T (and bool, for combining all/any partials): result type, identity
/// and step; Step also combines two partial results (for kNanSum the partials combine with kSum,
/// see PartialOp).
template <ReduceOp Op, typename T>
struct DReduce {
  using Out = std::conditional_t<Op == ReduceOp::kAll || Op == ReduceOp::kAny, bool, T>;
  __device__ __forceinline__ static Out Identity() {
    if constexpr (Op == ReduceOp::kSum || Op == ReduceOp::kNanSum) return Out{0};
    if constexpr (Op == ReduceOp::kProd) return Out{1};
    if constexpr (Op == ReduceOp::kAll) return true;
    if constexpr (Op == ReduceOp::kAny) return false;
    if constexpr (Op == ReduceOp::kMin) return static_cast<T>(INFINITY);
    if constexpr (Op == ReduceOp::kMax) return static_cast<T>(-INFINITY);
    if constexpr (Op == ReduceOp::kNanMin || Op == ReduceOp::kNanMax) return static_cast<T>(NAN);
  }
  __device__ __forceinline__ static Out Step(Out acc, T x) {
    if constexpr (Op == ReduceOp::kSum) return acc + x;
    if constexpr (Op == ReduceOp::kProd) return acc * x;
    if constexpr (Op == ReduceOp::kAll) return acc && (x != T{0});
    if constexpr (Op == ReduceOp::kAny) return acc || (x != T{0});
    if constexpr (Op == ReduceOp::kMin)
      return DIsNan(acc) ? acc : DIsNan(x) ? x : (x < acc ? x : acc);
    if constexpr (Op == ReduceOp::kMax)
      return DIsNan(acc) ? acc : DIsNan(x) ? x : (acc < x ? x : acc);
    if constexpr (Op == ReduceOp::kNanSum) return DIsNan(x) ? acc : acc + x;
    if constexpr (Op == ReduceOp::kNanMin) return DBinary<BinaryOp::kFmin, T>::Apply(acc, x);
    if constexpr (Op == ReduceOp::kNanMax) return DBinary<BinaryOp::kFmax, T>::Apply(acc, x);
  }
  /// Two partial results combined, as Reduce<Op, T>::Combine.
  __device__ __forceinline__ static Out Combine(Out a, Out b) {
    if constexpr (Op == ReduceOp::kSum || Op == ReduceOp::kNanSum) return a + b;
    if constexpr (Op == ReduceOp::kProd) return a * b;
    if constexpr (Op == ReduceOp::kAll) return a && b;
    if constexpr (Op == ReduceOp::kAny) return a || b;
    if constexpr (Op == ReduceOp::kMin || Op == ReduceOp::kMax || Op == ReduceOp::kNanMin ||
                  Op == ReduceOp::kNanMax)
      return Step(a, b);
  }
};

}  // namespace nums::kernels::cuda
