#pragma once
/// Element types of nums arrays and blocks, spelled as in NumPy (`nums::float64`, ...).

#include <bit>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "nums/errors.hpp"

namespace nums {

/// The element type of an array or block. Codes travel in tasks and files: append, never
/// reorder.
enum class DType : uint8_t {
  kBool,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kInt8,
  kInt16,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat16,
  kComplex128,
};
/// The largest code: every code from 0 to it is a dtype.
inline constexpr DType kLastDType = DType::kComplex128;

inline constexpr DType bool_ = DType::kBool;
inline constexpr DType int8 = DType::kInt8;
inline constexpr DType int16 = DType::kInt16;
inline constexpr DType int32 = DType::kInt32;
inline constexpr DType int64 = DType::kInt64;
inline constexpr DType uint8 = DType::kUInt8;
inline constexpr DType uint16 = DType::kUInt16;
inline constexpr DType uint32 = DType::kUInt32;
inline constexpr DType uint64 = DType::kUInt64;
inline constexpr DType float16 = DType::kFloat16;
inline constexpr DType float32 = DType::kFloat32;
inline constexpr DType float64 = DType::kFloat64;
inline constexpr DType complex128 = DType::kComplex128;

/// IEEE 754 binary16, the element of float16 arrays: storage and conversion only (arithmetic
/// on float16 arrays is done in float32 and rounded back, as NumPy's float16 loops do).
struct half {
  uint16_t bits = 0;

  constexpr half() = default;
  /// The float16 nearest to `f` (ties to even; overflow to infinity; NaN stays NaN).
  constexpr explicit half(float f) : bits(from_double(f)) {}
  constexpr explicit half(double d) : bits(from_double(d)) {}
  constexpr explicit operator float() const { return to_float(bits); }
  constexpr explicit operator double() const { return to_float(bits); }
  friend constexpr bool operator==(half a, half b) { return float(a) == float(b); }

  static constexpr half from_bits(uint16_t b) {
    half h;
    h.bits = b;
    return h;
  }

 private:
  // Rounds a double directly (a float is exactly a double), so that float64 -> float16 is
  // rounded once, as NumPy's npy_double_to_half does.
  static constexpr uint16_t from_double(double d) {
    const uint64_t x = std::bit_cast<uint64_t>(d);
    const auto sign = static_cast<uint16_t>((x >> 48) & 0x8000u);
    const uint64_t exp = (x >> 52) & 0x7ffu;
    uint64_t mant = x & ((uint64_t{1} << 52) - 1);
    if (exp == 0x7ff) {  // inf or NaN (kept quiet)
      return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u | (mant >> 42) : 0u));
    }
    const int e = static_cast<int>(exp) - 1023 + 15;
    if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow
    // The value as an integer count of units of the result's last place, and what is left.
    int shift = 42;  // normal: keep 10 of the 52 mantissa bits
    if (e <= 0) {
      if (e < -10) return sign;  // at most a quarter of the smallest subnormal
      mant |= uint64_t{1} << 52;
      shift = 42 + 1 - e;  // subnormal: the implicit bit joins and the point moves left
    }
    uint64_t h = mant >> shift;
    const uint64_t rest = mant & ((uint64_t{1} << shift) - 1);
    const uint64_t mid = uint64_t{1} << (shift - 1);
    if (rest > mid || (rest == mid && (h & 1u))) ++h;  // ties to even; may carry upwards
    if (e > 0) h += static_cast<uint64_t>(e) << 10;    // a carry out of the mantissa: right
    return static_cast<uint16_t>(sign | h);
  }
  static constexpr float to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
      if (mant == 0) return std::bit_cast<float>(sign);
      int e = -1;  // normalise the subnormal
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      return std::bit_cast<float>(sign | static_cast<uint32_t>(127 - 15 - e) << 23 |
                                  (mant & 0x3ffu) << 13);
    }
    return std::bit_cast<float>(sign | (exp + 127 - 15) << 23 | mant << 13);
  }
};

/// Throws DTypeError naming the code of a DType value outside the enum (a corrupt task scalar or
/// file header), so that no switch over dtypes falls back to a guess.
[[noreturn]] inline void throw_unknown_dtype(DType t) {
  throw DTypeError("unknown dtype code " + std::to_string(static_cast<int>(t)));
}

/// Bytes per element; DTypeError for a code outside the enum.
constexpr int64_t itemsize(DType t) {
  switch (t) {
    case DType::kBool:
    case DType::kInt8:
    case DType::kUInt8:
      return 1;
    case DType::kInt16:
    case DType::kUInt16:
    case DType::kFloat16:
      return 2;
    case DType::kInt32:
    case DType::kUInt32:
    case DType::kFloat32:
      return 4;
    case DType::kInt64:
    case DType::kUInt64:
    case DType::kFloat64:
      return 8;
    case DType::kComplex128:
      return 16;
  }
  throw_unknown_dtype(t);
}

/// NumPy's name of the type ("float64", "bool", ...).
constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kBool:
      return "bool";
    case DType::kInt8:
      return "int8";
    case DType::kInt16:
      return "int16";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kUInt8:
      return "uint8";
    case DType::kUInt16:
      return "uint16";
    case DType::kUInt32:
      return "uint32";
    case DType::kUInt64:
      return "uint64";
    case DType::kFloat16:
      return "float16";
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kComplex128:
      return "complex128";
  }
  return "unknown";
}

/// float16, float32 or float64.
constexpr bool is_floating(DType t) {
  return t == DType::kFloat16 || t == DType::kFloat32 || t == DType::kFloat64;
}
/// complex128 (two float64: real, then imaginary part, as NumPy lays them out).
constexpr bool is_complex(DType t) { return t == DType::kComplex128; }
/// A signed or unsigned integer dtype (not bool).
constexpr bool is_integer(DType t) {
  return t != DType::kBool && !is_floating(t) && !is_complex(t);
}
/// uint8, uint16, uint32 or uint64.
constexpr bool is_unsigned(DType t) {
  return t == DType::kUInt8 || t == DType::kUInt16 || t == DType::kUInt32 || t == DType::kUInt64;
}
/// int8, int16, int32 or int64.
constexpr bool is_signed_integer(DType t) { return is_integer(t) && !is_unsigned(t); }

/// NumPy's promotion of two dtypes (numpy.promote_types, the same in NumPy 1.x and 2): bool
/// with anything is the other; signed with unsigned is the signed type wide enough for both
/// (int64 with uint64: float64); an integer with a float is the float wide enough for the
/// integer (int8, uint8: float16; 16 bits: float32; wider: float64); complex128 with anything
/// is complex128 (nums has no complex64). DTypeError for a code outside the enum.
constexpr DType promote_types(DType a, DType b) {
  itemsize(a);  // DTypeError for an unknown code
  itemsize(b);
  if (a == b || b == DType::kBool) return a;
  if (a == DType::kBool) return b;
  if (is_complex(a) || is_complex(b)) return DType::kComplex128;
  auto wider = [](DType x, DType y) { return itemsize(x) >= itemsize(y) ? x : y; };
  if (is_floating(a) || is_floating(b)) {
    if (is_floating(a) && is_floating(b)) return wider(a, b);
    const DType f = is_floating(a) ? a : b;
    const int64_t bytes = itemsize(is_floating(a) ? b : a);
    const DType need = bytes == 1   ? DType::kFloat16
                       : bytes == 2 ? DType::kFloat32
                                    : DType::kFloat64;
    return wider(f, need);
  }
  if (is_unsigned(a) == is_unsigned(b)) return wider(a, b);
  const DType s = is_unsigned(a) ? b : a;
  const DType u = is_unsigned(a) ? a : b;
  if (itemsize(s) > itemsize(u)) return s;
  switch (itemsize(u)) {
    case 1:
      return DType::kInt16;
    case 2:
      return DType::kInt32;
    case 4:
      return DType::kInt64;
    default:
      return DType::kFloat64;  // no integer holds both int64 and uint64
  }
}

/// The DType of a C++ element type: dtype_of<double> == float64.
template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bool>) {
    return DType::kBool;
  } else if constexpr (std::is_same_v<T, int8_t>) {
    return DType::kInt8;
  } else if constexpr (std::is_same_v<T, int16_t>) {
    return DType::kInt16;
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return DType::kInt32;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return DType::kInt64;
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return DType::kUInt8;
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    return DType::kUInt16;
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return DType::kUInt32;
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return DType::kUInt64;
  } else if constexpr (std::is_same_v<T, half>) {
    return DType::kFloat16;
  } else if constexpr (std::is_same_v<T, float>) {
    return DType::kFloat32;
  } else if constexpr (std::is_same_v<T, std::complex<double>>) {
    return DType::kComplex128;
  } else {
    static_assert(std::is_same_v<T, double>, "no nums dtype for this C++ type");
    return DType::kFloat64;
  }
}

/// Throws DTypeError for a float16 operand of `op`: kernels compute on the other dtypes, and
/// the array layer computes float16 in float32.
[[noreturn]] inline void throw_float16(std::string_view op) {
  throw DTypeError(std::string(op) +
                   ": no float16 kernel (float16 arrays compute in float32; astype first)");
}

/// Throws DTypeError for a complex128 operand of `op`, which has no complex kernel.
[[noreturn]] inline void throw_complex(std::string_view op) {
  throw DTypeError(std::string(op) + ": not supported for complex128 arrays");
}

/// Calls f(T{}) with T the C++ type of `t`: the one place a runtime dtype becomes a template
/// argument of computing kernels. float16 (storage only) and complex128 (whose few kernels are
/// apart, in complex.cc) are a DTypeError naming `op`, as is a value outside the enum.
template <typename F>
decltype(auto) dispatch(DType t, F&& f, std::string_view op = "kernel") {
  switch (t) {
    case DType::kBool:
      return f(bool{});
    case DType::kInt8:
      return f(int8_t{});
    case DType::kInt16:
      return f(int16_t{});
    case DType::kInt32:
      return f(int32_t{});
    case DType::kInt64:
      return f(int64_t{});
    case DType::kUInt8:
      return f(uint8_t{});
    case DType::kUInt16:
      return f(uint16_t{});
    case DType::kUInt32:
      return f(uint32_t{});
    case DType::kUInt64:
      return f(uint64_t{});
    case DType::kFloat32:
      return f(float{});
    case DType::kFloat64:
      return f(double{});
    case DType::kFloat16:
      throw_float16(op);
    case DType::kComplex128:
      throw_complex(op);
  }
  throw_unknown_dtype(t);
}

/// dispatch over every dtype, float16 (as `half`) and complex128 (as std::complex<double>)
/// included: for kernels that only move, convert or print elements.
template <typename F>
decltype(auto) dispatch_all(DType t, F&& f) {
  if (t == DType::kFloat16) return f(half{});
  if (t == DType::kComplex128) return f(std::complex<double>{});
  return dispatch(t, std::forward<F>(f));
}

/// dispatch over the dtypes heavy kernels (GEMM, random) are built for: bool, int32, int64,
/// float32, float64. The array layer converts other dtypes before it calls such a kernel; a
/// block of another dtype is a DTypeError naming `op`.
template <typename F>
decltype(auto) dispatch_compute(DType t, F&& f, std::string_view op) {
  switch (t) {
    case DType::kBool:
      return f(bool{});
    case DType::kInt32:
      return f(int32_t{});
    case DType::kInt64:
      return f(int64_t{});
    case DType::kFloat32:
      return f(float{});
    case DType::kFloat64:
      return f(double{});
    default:
      break;
  }
  throw DTypeError(std::string(op) + ": no kernel for dtype " + std::string(dtype_name(t)));
}

/// The DType whose code is `code` (a task scalar or a file header's field); DTypeError naming it
/// when no dtype has that code.
inline DType dtype_from_code(int64_t code) {
  if (code < 0 || code > static_cast<int64_t>(kLastDType)) {
    throw DTypeError("unknown dtype code " + std::to_string(code));
  }
  return static_cast<DType>(code);
}

/// `v` converted to To as NumPy converts array elements: to bool by `!= 0`; from a float to an
/// integer by truncation. Out of To's range the result is what NumPy gives on x86 (where C++'s
/// cast would be undefined behaviour): int32 and int64 take their minimum; int8, int16, uint8
/// and uint16 wrap the int32 truncation (0 beyond int32); uint32 wraps the int64 truncation;
/// uint64 wraps negative values above int64's minimum; NaN, infinities and the rest give 0
/// (uint64: NaN gives 2^63). Integers narrow modulo 2^bits; float16 goes through float. A
/// complex value becomes a real one by its real part (NumPy's ComplexWarning case) and bool by
/// `!= 0`; a real value becomes complex with imaginary part 0.
template <typename To, typename From>
constexpr To convert_value(From v) {
  if constexpr (std::is_same_v<From, std::complex<double>>) {
    if constexpr (std::is_same_v<To, std::complex<double>>) {
      return v;
    } else if constexpr (std::is_same_v<To, bool>) {
      return v.real() != 0.0 || v.imag() != 0.0;
    } else {
      return convert_value<To>(v.real());
    }
  } else if constexpr (std::is_same_v<To, std::complex<double>>) {
    return To(convert_value<double>(v), 0.0);
  } else if constexpr (std::is_same_v<From, half>) {
    return convert_value<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, half>) {
    if constexpr (std::is_same_v<From, double> || std::is_same_v<From, float>) {
      return half(v);
    } else {
      return half(static_cast<double>(v));  // exact for every integer float16 can hold
    }
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if constexpr (std::is_signed_v<To> && sizeof(To) >= 4) {
      constexpr From kLow = static_cast<From>(std::numeric_limits<To>::min());  // -2^(bits-1)
      if (!(v >= kLow && v < -kLow)) return std::numeric_limits<To>::min();
      return static_cast<To>(v);
    } else if constexpr (sizeof(To) <= 2) {
      if (!(v > From(-2147483649.0) && v < From(2147483648.0))) return To{0};
      return static_cast<To>(static_cast<int32_t>(v));
    } else if constexpr (sizeof(To) == 4) {
      if (!(v > From(-9223372036854775808.0) && v < From(9223372036854775808.0))) return To{0};
      return static_cast<To>(static_cast<int64_t>(v));
    } else {
      if (v != v) return To{1} << 63;
      if (v >= From(0) && v < From(18446744073709551616.0)) return static_cast<To>(v);
      if (v >= From(-9223372036854775808.0) && v < From(0)) {
        return static_cast<To>(static_cast<int64_t>(v));
      }
      return To{0};
    }
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace nums
