#pragma once
/// Element types of nums arrays and blocks, spelled as in NumPy (`nums::float64`, ...).

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "nums/errors.hpp"

namespace nums {

/// The element type of an array or block.
enum class DType : uint8_t { kBool, kInt32, kInt64, kFloat32, kFloat64 };

inline constexpr DType bool_ = DType::kBool;
inline constexpr DType int32 = DType::kInt32;
inline constexpr DType int64 = DType::kInt64;
inline constexpr DType float32 = DType::kFloat32;
inline constexpr DType float64 = DType::kFloat64;

/// Throws DTypeError naming the code of a DType value outside the enum (a corrupt task scalar or
/// file header), so that no switch over dtypes falls back to a guess.
[[noreturn]] inline void throw_unknown_dtype(DType t) {
  throw DTypeError("unknown dtype code " + std::to_string(static_cast<int>(t)));
}

/// Bytes per element; DTypeError for a code outside the enum.
constexpr int64_t itemsize(DType t) {
  switch (t) {
    case DType::kBool:
      return 1;
    case DType::kInt32:
      return 4;
    case DType::kFloat32:
      return 4;
    case DType::kInt64:
      return 8;
    case DType::kFloat64:
      return 8;
  }
  throw_unknown_dtype(t);
}

/// NumPy's name of the type ("float64", "bool", ...).
constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kBool:
      return "bool";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
  }
  return "unknown";
}

/// The DType of a C++ element type: dtype_of<double> == float64.
template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<bool>() {
  return DType::kBool;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kInt64;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kFloat64;
}

/// Calls f(T{}) with T the C++ type of `t`: the one place a runtime dtype becomes a template
/// argument. DTypeError naming the code for a value outside the enum.
template <typename F>
decltype(auto) dispatch(DType t, F&& f) {
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
  }
  throw_unknown_dtype(t);
}

/// The DType whose code is `code` (a task scalar or a file header's field); DTypeError naming it
/// when no dtype has that code.
inline DType dtype_from_code(int64_t code) {
  if (code < 0 || code > static_cast<int64_t>(DType::kFloat64)) {
    throw DTypeError("unknown dtype code " + std::to_string(code));
  }
  return static_cast<DType>(code);
}

/// `v` converted to To as NumPy converts array elements: to bool by `!= 0`; from a float to an
/// integer by truncation, with NaN, infinities and values out of To's range giving To's minimum
/// (what NumPy gives on x86, where C++'s cast would be undefined behaviour); integers narrow
/// modulo 2^bits.
template <typename To, typename From>
constexpr To convert_value(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    constexpr From kLow = static_cast<From>(std::numeric_limits<To>::min());  // -2^(bits-1)
    if (!(v >= kLow && v < -kLow)) return std::numeric_limits<To>::min();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace nums
