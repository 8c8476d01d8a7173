#pragma once
// Op codes shared by the array layer (which sends them as task scalars) and the kernels, and the
// small functors that give each op its meaning, shared by every device's loop.

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>

#include "nums/dtype.hpp"
#include "nums/errors.hpp"

namespace nums::kernels {

// The ops, in the order of their codes. Codes travel in tasks: append, never reorder. Each list is
// an X-macro so that the enum and every dispatch switch come from one table.
#define NUMS_BINARY_OPS(X) \
  X(kAdd)                  \
  X(kSub)                  \
  X(kMul)                  \
  X(kDiv)                  \
  X(kMod)                  \
  X(kPow)                  \
  X(kMaximum)              \
  X(kMinimum)              \
  X(kEq)                   \
  X(kNe)                   \
  X(kLt)                   \
  X(kLe)                   \
  X(kGt)                   \
  X(kGe)                   \
  X(kBitAnd)               \
  X(kBitOr)                \
  X(kBitXor)               \
  X(kLogicalAnd)           \
  X(kLogicalOr)            \
  X(kLogicalXor)           \
  X(kFloorDiv)             \
  X(kFmod)                 \
  X(kArctan2)              \
  X(kHypot)                \
  X(kCopysign)             \
  X(kLogaddexp)            \
  X(kLeftShift)            \
  X(kRightShift)           \
  X(kFmin)                 \
  X(kFmax)

#define NUMS_UNARY_OPS(X) \
  X(kNeg)                 \
  X(kExp)                 \
  X(kLog)                 \
  X(kLog1p)               \
  X(kSqrt)                \
  X(kAbs)                 \
  X(kSign)                \
  X(kSin)                 \
  X(kCos)                 \
  X(kTanh)                \
  X(kSigmoid)             \
  X(kIsNan)               \
  X(kIsFinite)            \
  X(kLogicalNot)          \
  X(kBitNot)              \
  X(kFloor)               \
  X(kCeil)                \
  X(kTrunc)               \
  X(kRint)                \
  X(kIsInf)               \
  X(kSignbit)             \
  X(kSquare)              \
  X(kReciprocal)          \
  X(kExpm1)               \
  X(kLog2)                \
  X(kLog10)               \
  X(kExp2)                \
  X(kTan)                 \
  X(kArcsin)              \
  X(kArccos)              \
  X(kArctan)              \
  X(kSinh)                \
  X(kCosh)                \
  X(kArcsinh)             \
  X(kArccosh)             \
  X(kArctanh)

#define NUMS_ENUM_ENTRY(name) name,
enum class BinaryOp : int64_t { NUMS_BINARY_OPS(NUMS_ENUM_ENTRY) };
enum class UnaryOp : int64_t { NUMS_UNARY_OPS(NUMS_ENUM_ENTRY) };
#undef NUMS_ENUM_ENTRY

/// kNan*: NumPy's nansum, nanmin, nanmax (NaN skipped; nanmin of only NaN is NaN).
enum class ReduceOp : int64_t { kSum, kProd, kMin, kMax, kAll, kAny, kNanSum, kNanMin, kNanMax };

constexpr bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEq && op <= BinaryOp::kGe; }
constexpr bool IsLogical(BinaryOp op) {
  return op >= BinaryOp::kLogicalAnd && op <= BinaryOp::kLogicalXor;
}
constexpr bool IsShift(BinaryOp op) {
  return op == BinaryOp::kLeftShift || op == BinaryOp::kRightShift;
}
/// Ops whose result is bool whatever the inputs.
constexpr bool HasBoolResult(BinaryOp op) { return IsComparison(op) || IsLogical(op); }
constexpr bool HasBoolResult(UnaryOp op) {
  return op == UnaryOp::kIsNan || op == UnaryOp::kIsFinite || op == UnaryOp::kLogicalNot ||
         op == UnaryOp::kIsInf || op == UnaryOp::kSignbit;
}
/// Unary ops that need a floating-point input (the array layer casts integers to NumPy's float
/// of their width, float16 for int8 and uint8, and bools to float64 where NumPy picks float16).
constexpr bool NeedsFloat(UnaryOp op) {
  switch (op) {
    case UnaryOp::kExp:
    case UnaryOp::kLog:
    case UnaryOp::kLog1p:
    case UnaryOp::kSqrt:
    case UnaryOp::kSin:
    case UnaryOp::kCos:
    case UnaryOp::kTanh:
    case UnaryOp::kSigmoid:
    case UnaryOp::kRint:  // NumPy has no integer loop (floor, ceil and trunc do, since 2.1)
    case UnaryOp::kExpm1:
    case UnaryOp::kLog2:
    case UnaryOp::kLog10:
    case UnaryOp::kExp2:
    case UnaryOp::kTan:
    case UnaryOp::kArcsin:
    case UnaryOp::kArccos:
    case UnaryOp::kArctan:
    case UnaryOp::kSinh:
    case UnaryOp::kCosh:
    case UnaryOp::kArcsinh:
    case UnaryOp::kArccosh:
    case UnaryOp::kArctanh:
      return true;
    default:
      return false;
  }
}
/// Binary ops with only floating-point loops (the array layer casts integer and bool operands:
/// to float64 for kDiv, to NumPy's float of their width for the others).
constexpr bool NeedsFloat(BinaryOp op) {
  return op == BinaryOp::kDiv || op == BinaryOp::kArctan2 || op == BinaryOp::kHypot ||
         op == BinaryOp::kCopysign || op == BinaryOp::kLogaddexp;
}
/// NumPy's ufunc name of an op ("add", "arctan2", ...), for messages.
constexpr const char* OpName(BinaryOp op) {
  constexpr const char* kNames[] = {
      "add",        "subtract",      "multiply",     "divide",      "remainder",   "power",
      "maximum",    "minimum",       "equal",        "not_equal",   "less",        "less_equal",
      "greater",    "greater_equal", "bitwise_and",  "bitwise_or",  "bitwise_xor", "logical_and",
      "logical_or", "logical_xor",   "floor_divide", "fmod",        "arctan2",     "hypot",
      "copysign",   "logaddexp",     "left_shift",   "right_shift", "fmin",        "fmax"};
  static_assert(std::size(kNames) == static_cast<size_t>(BinaryOp::kFmax) + 1);
  return kNames[static_cast<size_t>(op)];
}
constexpr const char* OpName(UnaryOp op) {
  constexpr const char* kNames[] = {
      "negative", "exp",     "log",     "log1p",  "sqrt",     "absolute",    "sign",       "sin",
      "cos",      "tanh",    "sigmoid", "isnan",  "isfinite", "logical_not", "invert",     "floor",
      "ceil",     "trunc",   "rint",    "isinf",  "signbit",  "square",      "reciprocal", "expm1",
      "log2",     "log10",   "exp2",    "tan",    "arcsin",   "arccos",      "arctan",     "sinh",
      "cosh",     "arcsinh", "arccosh", "arctanh"};
  static_assert(std::size(kNames) == static_cast<size_t>(UnaryOp::kArctanh) + 1);
  return kNames[static_cast<size_t>(op)];
}

/// Binary ops NumPy has a complex loop for (arithmetic, power, comparisons in NumPy's
/// lexicographic order, maximum and minimum, the logical ops).
constexpr bool HasComplexLoop(BinaryOp op) {
  return op == BinaryOp::kAdd || op == BinaryOp::kSub || op == BinaryOp::kMul ||
         op == BinaryOp::kDiv || op == BinaryOp::kPow || op == BinaryOp::kMaximum ||
         op == BinaryOp::kMinimum || IsComparison(op) || IsLogical(op);
}
/// Unary ops NumPy has a complex loop for: all but the rounding, sign-bit, bit and sigmoid ones.
constexpr bool HasComplexLoop(UnaryOp op) {
  switch (op) {
    case UnaryOp::kFloor:
    case UnaryOp::kCeil:
    case UnaryOp::kTrunc:
    case UnaryOp::kSignbit:
    case UnaryOp::kBitNot:
    case UnaryOp::kSigmoid:
      return false;
    default:
      return true;
  }
}
/// Unary ops NumPy has no bool loop for, whose bool input computes in int8, as in NumPy.
constexpr bool BoolAsInt(UnaryOp op) {
  return op == UnaryOp::kSquare || op == UnaryOp::kReciprocal;
}
/// Unary ops that reject a bool input (NumPy has no loop a bool casts to safely).
constexpr bool RejectsBool(UnaryOp op) { return op == UnaryOp::kNeg || op == UnaryOp::kSign; }

template <typename T>
constexpr bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    return false;
  }
}

// Integer arithmetic wraps modulo 2^bits as in NumPy. It is done in an unsigned type of at least
// int's width, where wrapping is defined (signed overflow is undefined behaviour, which the
// optimiser may exploit; uint16 * uint16 would be promoted to a signed int and overflow).
template <typename T>
using WrapType =
    std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <typename T>
constexpr T WrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = WrapType<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return static_cast<T>(a + b);
  }
}
template <typename T>
constexpr T WrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = WrapType<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else {
    return static_cast<T>(a - b);
  }
}
template <typename T>
constexpr T WrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = WrapType<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else {
    return static_cast<T>(a * b);
  }
}
/// b == -1 for a signed integer (false for unsigned ones, which cannot be).
template <typename T>
constexpr bool IsMinusOne(T b) {
  if constexpr (std::is_signed_v<T>) {
    return b == T(-1);
  } else {
    return false;
  }
}
template <typename T>
constexpr bool IsNegative(T v) {
  if constexpr (std::is_signed_v<T>) {
    return v < T(0);
  } else {
    return false;
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
  if (IsMinusOne(b)) return WrapNeg(a);
  return static_cast<T>(a / b);
}

/// Integer a // b rounded toward minus infinity (NumPy's floor_divide), with IntDivTrunc's rules
/// for b == 0 and b == -1.
template <typename T>
constexpr T IntFloorDiv(T a, T b) {
  if (b == 0) return T{0};
  if (IsMinusOne(b)) return WrapNeg(a);
  const T q = static_cast<T>(a / b);
  if constexpr (std::is_signed_v<T>) {
    return (a % b != 0 && ((a < 0) != (b < 0))) ? static_cast<T>(q - 1) : q;
  } else {
    return q;
  }
}

/// Integer a % b with the sign of b (NumPy's remainder): 0 for b == 0 and for b == -1 (where C's
/// min % -1 traps).
template <typename T>
constexpr T IntMod(T a, T b) {
  if (b == 0 || IsMinusOne(b)) return T{0};
  const T r = static_cast<T>(a % b);
  if constexpr (std::is_signed_v<T>) {
    return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<T>(r + b) : r;
  } else {
    return r;
  }
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
  if (IsNegative(y)) throw ValueError("integers to negative integer powers are not allowed");
  T r = 1;
  while (y) {
    if (y & 1) r = WrapMul(r, x);
    x = WrapMul(x, x);
    y >>= 1;
  }
  return r;
}

/// Integer fmod: C's remainder, with the sign of a; 0 for b == 0 (NumPy warns) and for b == -1
/// (where C's min % -1 traps).
template <typename T>
constexpr T IntFmod(T a, T b) {
  if (b == 0 || IsMinusOne(b)) return T{0};
  return static_cast<T>(a % b);
}

/// a << b as NumPy computes it: shifts of the bit width or more, and negative ones, give 0.
/// Done in the unsigned type, where shifting out the sign bit is defined.
template <typename T>
constexpr T LeftShift(T a, T b) {
  using U = std::make_unsigned_t<T>;
  if (static_cast<U>(b) >= sizeof(T) * 8) return T{0};
  return static_cast<T>(static_cast<U>(static_cast<U>(a) << b));
}

/// a >> b (arithmetic) as NumPy computes it: shifts of the bit width or more, and negative ones,
/// give -1 for negative a and 0 otherwise.
template <typename T>
constexpr T RightShift(T a, T b) {
  using U = std::make_unsigned_t<T>;
  if (static_cast<U>(b) >= sizeof(T) * 8) return IsNegative(a) ? static_cast<T>(-1) : T{0};
  return static_cast<T>(a >> b);
}

/// log(exp(a) + exp(b)) without overflow, as NumPy's npy_logaddexp (exact for equal infinities).
template <typename T>
T LogAddExp(T a, T b) {
  if (a == b) return a + static_cast<T>(0.693147180559945309417232121458176568);  // a + log(2)
  const T d = a - b;
  if (d > 0) return a + std::log1p(std::exp(-d));
  if (d <= 0) return b + std::log1p(std::exp(d));
  return d;  // NaN
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
    } else if constexpr (Op == BinaryOp::kLogicalXor) {
      return (a != T{0}) != (b != T{0});
    } else if constexpr (Op == BinaryOp::kFmin) {
      return IsNan(b) ? a : IsNan(a) ? b : (b < a ? b : a);
    } else if constexpr (Op == BinaryOp::kFmax) {
      return IsNan(b) ? a : IsNan(a) ? b : (a < b ? b : a);
    } else if constexpr (Op == BinaryOp::kFmod) {
      if constexpr (std::is_same_v<T, bool>) {
        return false;  // the array layer computes bool in int8
      } else if constexpr (std::is_integral_v<T>) {
        return IntFmod(a, b);
      } else {
        return std::fmod(a, b);
      }
    } else if constexpr (Op == BinaryOp::kLeftShift || Op == BinaryOp::kRightShift) {
      if constexpr (std::is_floating_point_v<T>) {
        throw DTypeError("shifts need integer operands");
      } else if constexpr (std::is_same_v<T, bool>) {
        return a;  // the array layer computes bool in int8
      } else if constexpr (Op == BinaryOp::kLeftShift) {
        return LeftShift(a, b);
      } else {
        return RightShift(a, b);
      }
    } else if constexpr (!std::is_floating_point_v<T>) {
      throw DTypeError("this function needs floating-point operands");
    } else if constexpr (Op == BinaryOp::kArctan2) {
      return std::atan2(a, b);
    } else if constexpr (Op == BinaryOp::kHypot) {
      return std::hypot(a, b);
    } else if constexpr (Op == BinaryOp::kCopysign) {
      return std::copysign(a, b);
    } else {
      static_assert(Op == BinaryOp::kLogaddexp);
      return LogAddExp(a, b);
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
        return IsNan(x) ? x : static_cast<T>((T{0} < x) - IsNegative(x));
      }
    } else if constexpr (Op == UnaryOp::kIsNan) {
      return IsNan(x);
    } else if constexpr (Op == UnaryOp::kIsFinite) {
      if constexpr (std::is_floating_point_v<T>) {
        return std::isfinite(x);
      } else {
        return true;
      }
    } else if constexpr (Op == UnaryOp::kIsInf) {
      if constexpr (std::is_floating_point_v<T>) {
        return std::isinf(x);
      } else {
        return false;
      }
    } else if constexpr (Op == UnaryOp::kSignbit) {
      if constexpr (std::is_floating_point_v<T>) {
        return std::signbit(x);
      } else {
        return IsNegative(x);
      }
    } else if constexpr (Op == UnaryOp::kFloor || Op == UnaryOp::kCeil || Op == UnaryOp::kTrunc ||
                         Op == UnaryOp::kRint) {
      if constexpr (!std::is_floating_point_v<T>) {
        // Integers and bools are already whole (NumPy >= 2.1 keeps their dtype; the array layer
        // sends rint floats only).
        return x;
      } else if constexpr (Op == UnaryOp::kFloor) {
        return std::floor(x);
      } else if constexpr (Op == UnaryOp::kCeil) {
        return std::ceil(x);
      } else if constexpr (Op == UnaryOp::kTrunc) {
        return std::trunc(x);
      } else {
        return std::nearbyint(x);  // the default rounding mode: half to even
      }
    } else if constexpr (Op == UnaryOp::kSquare) {
      return WrapMul(x, x);
    } else if constexpr (Op == UnaryOp::kReciprocal) {
      if constexpr (std::is_same_v<T, bool>) {
        return x;  // the array layer computes bool in int8
      } else if constexpr (std::is_integral_v<T>) {
        // NumPy computes 1.0 / x and casts: 0 becomes x86's cast of inf (see convert_value).
        return x == 0 ? convert_value<T>(std::numeric_limits<double>::infinity())
                      : IntDivTrunc(T{1}, x);
      } else {
        return T{1} / x;
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
    } else if constexpr (Op == UnaryOp::kExpm1) {
      return std::expm1(x);
    } else if constexpr (Op == UnaryOp::kLog2) {
      return std::log2(x);
    } else if constexpr (Op == UnaryOp::kLog10) {
      return std::log10(x);
    } else if constexpr (Op == UnaryOp::kExp2) {
      return std::exp2(x);
    } else if constexpr (Op == UnaryOp::kTan) {
      return std::tan(x);
    } else if constexpr (Op == UnaryOp::kArcsin) {
      return std::asin(x);
    } else if constexpr (Op == UnaryOp::kArccos) {
      return std::acos(x);
    } else if constexpr (Op == UnaryOp::kArctan) {
      return std::atan(x);
    } else if constexpr (Op == UnaryOp::kSinh) {
      return std::sinh(x);
    } else if constexpr (Op == UnaryOp::kCosh) {
      return std::cosh(x);
    } else if constexpr (Op == UnaryOp::kArcsinh) {
      return std::asinh(x);
    } else if constexpr (Op == UnaryOp::kArccosh) {
      return std::acosh(x);
    } else if constexpr (Op == UnaryOp::kArctanh) {
      return std::atanh(x);
    } else {
      static_assert(Op == UnaryOp::kSigmoid);
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
  // Sums and products of integers and bools are NumPy's int64 (signed and bool) or uint64.
  using Out = std::conditional_t<
      Op == ReduceOp::kAll || Op == ReduceOp::kAny, bool,
      std::conditional_t<
          (Op == ReduceOp::kSum || Op == ReduceOp::kProd || Op == ReduceOp::kNanSum) &&
              std::is_integral_v<T>,
          std::conditional_t<std::is_unsigned_v<T> && !std::is_same_v<T, bool>, uint64_t, int64_t>,
          T>>;
  static Out Identity() {
    if constexpr (Op == ReduceOp::kSum || Op == ReduceOp::kNanSum) return Out{0};
    if constexpr (Op == ReduceOp::kNanMin || Op == ReduceOp::kNanMax) {
      // NaN until a number comes: a slice of only NaN stays NaN.
      if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::quiet_NaN();
      if constexpr (Op == ReduceOp::kNanMin) return std::numeric_limits<T>::max();
      return std::numeric_limits<T>::lowest();
    }
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
    if constexpr (Op == ReduceOp::kNanSum)
      return IsNan(x) ? acc : WrapAdd(acc, static_cast<Out>(x));
    if constexpr (Op == ReduceOp::kNanMin) return Binary<BinaryOp::kFmin, T>::Apply(acc, x);
    if constexpr (Op == ReduceOp::kNanMax) return Binary<BinaryOp::kFmax, T>::Apply(acc, x);
  }
  /// Two partial results combined (sum and prod of integers wrap).
  static Out Combine(Out a, Out b) {
    if constexpr (Op == ReduceOp::kSum || Op == ReduceOp::kNanSum) return WrapAdd(a, b);
    if constexpr (Op == ReduceOp::kProd) return WrapMul(a, b);
    if constexpr (Op == ReduceOp::kAll) return a && b;
    if constexpr (Op == ReduceOp::kAny) return a || b;
    if constexpr (Op == ReduceOp::kMin || Op == ReduceOp::kMax || Op == ReduceOp::kNanMin ||
                  Op == ReduceOp::kNanMax)
      return Step(a, b);
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
    case ReduceOp::kNanSum:
      return BinaryOp::kAdd;  // partial sums hold no NaN of their inputs
    case ReduceOp::kNanMin:
      return BinaryOp::kFmin;
    case ReduceOp::kNanMax:
      return BinaryOp::kFmax;
  }
  return BinaryOp::kAdd;
}

/// DTypeError naming `kernel` unless its two operands share a dtype (the array layer casts them
/// to their common dtype before any two-operand kernel).
inline void CheckSameDType(DType a, DType b, const char* kernel) {
  if (a != b) {
    throw DTypeError(std::string(kernel) + ": operands of dtypes " + std::string(dtype_name(a)) +
                     " and " + std::string(dtype_name(b)) + " (the array layer casts first)");
  }
}

/// The 16 bytes of a complex128 element, moved as one value.
struct Bits128 {
  uint64_t lo, hi;
};

/// Calls f(U{}) with U an unsigned integer (Bits128 for 16 bytes) of `t`'s item size: kernels
/// that only move elements are built once per width instead of once per dtype (or per pair).
template <typename F>
decltype(auto) DispatchBits(DType t, F&& f) {
  switch (itemsize(t)) {
    case 1:
      return f(uint8_t{});
    case 2:
      return f(uint16_t{});
    case 4:
      return f(uint32_t{});
    case 8:
      return f(uint64_t{});
    default:
      return f(Bits128{});
  }
}

}  // namespace nums::kernels
