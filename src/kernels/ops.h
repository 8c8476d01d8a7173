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

/// x ** y for integers by squaring; negative exponents are an error, as in NumPy.
template <typename T>
T IntPow(T x, T y) {
  if (y < 0) throw ValueError("integers to negative integer powers are not allowed");
  T r = 1;
  while (y) {
    if (y & 1) r *= x;
    x *= x;
    y >>= 1;
  }
  return r;
}

template <BinaryOp Op, typename T>
struct Binary {
  using Out = std::conditional_t<HasBoolResult(Op), bool, T>;
  static Out Apply(T a, T b) {
    if constexpr (Op == BinaryOp::kAdd) {
      return static_cast<T>(a + b);
    } else if constexpr (Op == BinaryOp::kSub) {
      return static_cast<T>(a - b);
    } else if constexpr (Op == BinaryOp::kMul) {
      return static_cast<T>(a * b);
    } else if constexpr (Op == BinaryOp::kDiv) {
      if constexpr (std::is_integral_v<T>) {
        return b == 0 ? T{0} : static_cast<T>(a / b);  // NumPy gives 0 (with a warning)
      } else {
        return a / b;
      }
    } else if constexpr (Op == BinaryOp::kMod) {
      if constexpr (std::is_same_v<T, bool>) {
        return false;
      } else if constexpr (std::is_integral_v<T>) {
        if (b == 0) return 0;
        T r = static_cast<T>(a % b);
        return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<T>(r + b) : r;
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
      } else {
        return static_cast<T>(-x);
      }
    } else if constexpr (Op == UnaryOp::kAbs) {
      if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) {
        return x;
      } else {
        return x < 0 ? static_cast<T>(-x) : x;
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
    if constexpr (Op == ReduceOp::kSum) return static_cast<Out>(acc + static_cast<Out>(x));
    if constexpr (Op == ReduceOp::kProd) return static_cast<Out>(acc * static_cast<Out>(x));
    if constexpr (Op == ReduceOp::kAll) return acc && (x != T{0});
    if constexpr (Op == ReduceOp::kAny) return acc || (x != T{0});
    if constexpr (Op == ReduceOp::kMin)
      return IsNan(acc) ? acc : IsNan(x) ? x : (x < acc ? x : acc);
    if constexpr (Op == ReduceOp::kMax)
      return IsNan(acc) ? acc : IsNan(x) ? x : (acc < x ? x : acc);
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
