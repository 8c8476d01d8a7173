#pragma once
// Op codes shared by the array layer (which sends them as task scalars) and the kernels, and the
// small functors that give each op its meaning, shared by every device's loop.

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "nums/errors.hpp"

namespace nums::kernels {

enum class BinaryOp : int64_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kMaximum,
  kMinimum,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kBitAnd,
  kBitOr,
  kBitXor,
  kLogicalAnd,
  kLogicalOr,
  kLogicalXor,
  kFloorDiv,  ///< NumPy's //: rounds toward minus infinity (appended: codes travel in tasks)
};

enum class UnaryOp : int64_t {
  kNeg,
  kExp,
  kLog,
  kLog1p,
  kSqrt,
  kAbs,
  kSign,
  kSin,
  kCos,
  kTanh,
  kSigmoid,
  kIsNan,
  kIsFinite,
  kLogicalNot,
  kBitNot,
};

enum class ReduceOp : int64_t { kSum, kProd, kMin, kMax, kAll, kAny };

constexpr bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEq && op <= BinaryOp::kGe; }
constexpr bool IsLogical(BinaryOp op) {
  return op >= BinaryOp::kLogicalAnd && op <= BinaryOp::kLogicalXor;
}
/// Ops whose result is bool whatever the inputs.
constexpr bool HasBoolResult(BinaryOp op) { return IsComparison(op) || IsLogical(op); }
constexpr bool HasBoolResult(UnaryOp op) {
  return op == UnaryOp::kIsNan || op == UnaryOp::kIsFinite || op == UnaryOp::kLogicalNot;
}
/// Unary ops that need a floating-point input (the array layer casts integers to float64).
constexpr bool NeedsFloat(UnaryOp op) {
  return op == UnaryOp::kExp || op == UnaryOp::kLog || op == UnaryOp::kLog1p ||
         op == UnaryOp::kSqrt || op == UnaryOp::kSin || op == UnaryOp::kCos ||
         op == UnaryOp::kTanh || op == UnaryOp::kSigmoid;
}

template <typename T>
constexpr bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    return false;
  }
}

// Integer arithmetic wraps modulo 2^bits as in NumPy. It is done in the unsigned type, where
// wrapping is defined (signed overflow is undefined behaviour, which the optimiser may exploit).
template <typename T>
constexpr T WrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return static_cast<T>(a + b);
  }
}
template <typename T>
constexpr T WrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else {
    return static_cast<T>(a - b);
  }
}
template <typename T>
constexpr T WrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else {
    return static_cast<T>(a * b);
  }
}
/// -x; the minimum of a signed type is its own negation (NumPy: -int64 min == int64 min).
template <typename T>
constexpr T WrapNeg(T x) {
  return WrapSub(T{0}, x);
}

/// Integer a / b rounded toward zero (C's rule): 0 for b == 0 (NumPy gives 0 with a warning),
/// and min / -1 wraps to min instead of trapping (SIGFPE on x86).
template <typename T>
constexpr T IntDivTrunc(T a, T b) {
  if (b == 0) return T{0};
  if (b == T{-1}) return WrapNeg(a);
  return static_cast<T>(a / b);
}

/// Integer a // b rounded toward minus infinity (NumPy's floor_divide), with IntDivTrunc's rules
/// for b == 0 and b == -1.
template <typename T>
constexpr T IntFloorDiv(T a, T b) {
  if (b == 0) return T{0};
  if (b == T{-1}) return WrapNeg(a);
  const T q = static_cast<T>(a / b);
  return (a % b != 0 && ((a < 0) != (b < 0))) ? static_cast<T>(q - 1) : q;
}

/// Integer a % b with the sign of b (NumPy's remainder): 0 for b == 0 and for b == -1 (where C's
/// min % -1 traps).
template <typename T>
constexpr T IntMod(T a, T b) {
  if (b == 0 || b == T{-1}) return T{0};
  const T r = static_cast<T>(a % b);
  return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<T>(r + b) : r;
}

/// Float a // b as NumPy computes it (npy_divmod): floor of the exact quotient, inf or NaN for
/// b == 0.
template <typename T>
T FloatFloorDiv(T a, T b) {
  if (b == 0) return a / b;
  const T mod = std::fmod(a, b);
  T div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= T{1};
  if (div == 0) return std::copysign(T{0}, a / b);
  T floordiv = std::floor(div);
  if (div - floordiv > T{0.5}) floordiv += T{1};
  return floordiv;
}

/// x ** y for integers by squaring, wrapping on overflow as NumPy does; negative exponents are an
/// error, as in NumPy.
template <typename T>
T IntPow(T x, T y) {
  if (y < 0) throw ValueError("integers to negative integer powers are not allowed");
  T r = 1;
  while (y) {
    if (y & 1) r = WrapMul(r, x);
    x = WrapMul(x, x);
    y >>= 1;
  }
  return r;
}

template <BinaryOp Op, typename T>
struct Binary {
  using Out = std::conditional_t<HasBoolResult(Op), bool, T>;
  static Out Apply(T a, T b) {
    if constexpr (Op == BinaryOp::kAdd) {
      return WrapAdd(a, b);
    } else if constexpr (Op == BinaryOp::kSub) {
      return WrapSub(a, b);
    } else if constexpr (Op == BinaryOp::kMul) {
      return WrapMul(a, b);
    } else if constexpr (Op == BinaryOp::kDiv || Op == BinaryOp::kFloorDiv) {
      if constexpr (std::is_same_v<T, bool>) {
        return b ? a : false;
      } else if constexpr (std::is_integral_v<T>) {
        // The array layer sends kDiv only for floats (NumPy's / of integers is a float).
        return Op == BinaryOp::kDiv ? IntDivTrunc(a, b) : IntFloorDiv(a, b);
      } else if constexpr (Op == BinaryOp::kDiv) {
        return a / b;
      } else {
        return FloatFloorDiv(a, b);
      }
    } else if constexpr (Op == BinaryOp::kMod) {
      if constexpr (std::is_same_v<T, bool>) {
        return false;
      } else if constexpr (std::is_integral_v<T>) {
        return IntMod(a, b);
      } else {
        T r = std::fmod(a, b);
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
      }
    } else if constexpr (Op == BinaryOp::kPow) {
      if constexpr (std::is_same_v<T, bool>) {
        return a || !b;
      } else if constexpr (std::is_integral_v<T>) {
        return IntPow(a, b);
      } else {
        return std::pow(a, b);
      }
    } else if constexpr (Op == BinaryOp::kMaximum) {
      return IsNan(a) ? a : IsNan(b) ? b : (a < b ? b : a);
    } else if constexpr (Op == BinaryOp::kMinimum) {
      return IsNan(a) ? a : IsNan(b) ? b : (b < a ? b : a);
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
    } else if constexpr (Op == BinaryOp::kBitAnd || Op == BinaryOp::kBitOr ||
                         Op == BinaryOp::kBitXor) {
      if constexpr (std::is_floating_point_v<T>) {
        throw DTypeError("bitwise operations need integer or bool operands");
      } else if constexpr (Op == BinaryOp::kBitAnd) {
        return static_cast<T>(a & b);
      } else if constexpr (Op == BinaryOp::kBitOr) {
        return static_cast<T>(a | b);
      } else {
        return static_cast<T>(a ^ b);
      }
    } else if constexpr (Op == BinaryOp::kLogicalAnd) {
      return a != T{0} && b != T{0};
    } else if constexpr (Op == BinaryOp::kLogicalOr) {
      return a != T{0} || b != T{0};
    } else {
      return (a != T{0}) != (b != T{0});
    }
  }
};

template <UnaryOp Op, typename T>
struct Unary {
  using Out = std::conditional_t<HasBoolResult(Op), bool, T>;
  static Out Apply(T x) {
    if constexpr (Op == UnaryOp::kNeg) {
      if constexpr (std::is_same_v<T, bool>) {
        return !x;
      } else if constexpr (std::is_integral_v<T>) {
        return WrapNeg(x);
      } else {
        return -x;
      }
    } else if constexpr (Op == UnaryOp::kAbs) {
      if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) {
        return x;
      } else if constexpr (std::is_integral_v<T>) {
        return x < 0 ? WrapNeg(x) : x;  // abs(int64 min) == int64 min, as in NumPy
      } else {
        return std::fabs(x);
      }
    } else if constexpr (Op == UnaryOp::kSign) {
      if constexpr (std::is_same_v<T, bool>) {
        return x;
      } else {
        return IsNan(x) ? x : static_cast<T>((T{0} < x) - (x < T{0}));
      }
    } else if constexpr (Op == UnaryOp::kIsNan) {
      return IsNan(x);
    } else if constexpr (Op == UnaryOp::kIsFinite) {
      if constexpr (std::is_floating_point_v<T>) {
        return std::isfinite(x);
      } else {
        return true;
      }
    } else if constexpr (Op == UnaryOp::kLogicalNot) {
      return x == T{0};
    } else if constexpr (Op == UnaryOp::kBitNot) {
      if constexpr (std::is_floating_point_v<T>) {
        throw DTypeError("bitwise not needs an integer or bool operand");
      } else if constexpr (std::is_same_v<T, bool>) {
        return !x;
      } else {
        return static_cast<T>(~x);
      }
    } else if constexpr (!std::is_floating_point_v<T>) {
      throw DTypeError("this function needs a floating-point operand");
    } else if constexpr (Op == UnaryOp::kExp) {
      return std::exp(x);
    } else if constexpr (Op == UnaryOp::kLog) {
      return std::log(x);
    } else if constexpr (Op == UnaryOp::kLog1p) {
      return std::log1p(x);
    } else if constexpr (Op == UnaryOp::kSqrt) {
      return std::sqrt(x);
    } else if constexpr (Op == UnaryOp::kSin) {
      return std::sin(x);
    } else if constexpr (Op == UnaryOp::kCos) {
      return std::cos(x);
    } else if constexpr (Op == UnaryOp::kTanh) {
      return std::tanh(x);
    } else {
      // Split by sign so exp never overflows.
      if (x >= 0) return T{1} / (T{1} + std::exp(-x));
      const T e = std::exp(x);
      return e / (T{1} + e);
    }
  }
};

/// Accumulation rules of a reduction over T: the result type, its identity and the step.
template <ReduceOp Op, typename T>
struct Reduce {
  using Out = std::conditional_t<
      Op == ReduceOp::kAll || Op == ReduceOp::kAny, bool,
      std::conditional_t<(Op == ReduceOp::kSum || Op == ReduceOp::kProd) && (std::is_integral_v<T>),
                         int64_t, T>>;
  static Out Identity() {
    if constexpr (Op == ReduceOp::kSum) return Out{0};
    if constexpr (Op == ReduceOp::kProd) return Out{1};
    if constexpr (Op == ReduceOp::kAll) return true;
    if constexpr (Op == ReduceOp::kAny) return false;
    if constexpr (Op == ReduceOp::kMin) {
      if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
      return std::numeric_limits<T>::max();
    }
    if constexpr (Op == ReduceOp::kMax) {
      if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
      return std::numeric_limits<T>::lowest();
    }
  }
  static Out Step(Out acc, T x) {
    if constexpr (Op == ReduceOp::kSum) return WrapAdd(acc, static_cast<Out>(x));
    if constexpr (Op == ReduceOp::kProd) return WrapMul(acc, static_cast<Out>(x));
    if constexpr (Op == ReduceOp::kAll) return acc && (x != T{0});
    if constexpr (Op == ReduceOp::kAny) return acc || (x != T{0});
    if constexpr (Op == ReduceOp::kMin)
      return IsNan(acc) ? acc : IsNan(x) ? x : (x < acc ? x : acc);
    if constexpr (Op == ReduceOp::kMax)
      return IsNan(acc) ? acc : IsNan(x) ? x : (acc < x ? x : acc);
  }
  /// Two partial results combined (sum and prod of integers wrap).
  static Out Combine(Out a, Out b) {
    if constexpr (Op == ReduceOp::kSum) return WrapAdd(a, b);
    if constexpr (Op == ReduceOp::kProd) return WrapMul(a, b);
    if constexpr (Op == ReduceOp::kAll) return a && b;
    if constexpr (Op == ReduceOp::kAny) return a || b;
    if constexpr (Op == ReduceOp::kMin || Op == ReduceOp::kMax) return Step(a, b);
  }
};

/// The binary op that combines two partial results of a reduction.
constexpr BinaryOp CombineOp(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return BinaryOp::kAdd;
    case ReduceOp::kProd:
      return BinaryOp::kMul;
    case ReduceOp::kMin:
      return BinaryOp::kMinimum;
    case ReduceOp::kMax:
      return BinaryOp::kMaximum;
    case ReduceOp::kAll:
      return BinaryOp::kLogicalAnd;
    case ReduceOp::kAny:
      return BinaryOp::kLogicalOr;
  }
  return BinaryOp::kAdd;
}

}  // namespace nums::kernels
