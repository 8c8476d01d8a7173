#pragma once
/// Element types of nums arrays and blocks, spelled as in NumPy (`nums::float64`, ...).

#include <cstdint>
#include <string_view>

namespace nums {

/// The element type of an array or block.
enum class DType : uint8_t { kBool, kInt32, kInt64, kFloat32, kFloat64 };

inline constexpr DType bool_ = DType::kBool;
inline constexpr DType int32 = DType::kInt32;
inline constexpr DType int64 = DType::kInt64;
inline constexpr DType float32 = DType::kFloat32;
inline constexpr DType float64 = DType::kFloat64;

/// Bytes per element.
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
  return 0;
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
/// argument.
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
  return f(double{});
}

}  // namespace nums
