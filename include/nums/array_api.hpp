#pragma once
/// The Python array API standard's spellings (2023.12) of functions nums has under NumPy's
/// names (acos for arccos, concat for concatenate, ...), its data type functions, and the few
/// functions that exist only there. NumPy 2 has both spellings too; each alias here is the same
/// function, with the same errors.

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nums/block_array.hpp"
#include "nums/creation.hpp"
#include "nums/indexing.hpp"
#include "nums/linalg.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"

namespace nums {

inline BlockArray acos(const BlockArray& x) { return arccos(x); }
inline BlockArray acosh(const BlockArray& x) { return arccosh(x); }
inline BlockArray asin(const BlockArray& x) { return arcsin(x); }
inline BlockArray asinh(const BlockArray& x) { return arcsinh(x); }
inline BlockArray atan(const BlockArray& x) { return arctan(x); }
inline BlockArray atanh(const BlockArray& x) { return arctanh(x); }
/// +x: a copy; DTypeError for bool, as NumPy has no bool loop for it.
inline BlockArray positive(const BlockArray& x) {
  if (x.dtype() == DType::kBool) {
    throw DTypeError("positive: the operand is bool, which positive does not support");
  }
  return x.copy();
}

#define NUMS_ARRAY_API_BINARY(name, expr)                                           \
  inline BlockArray name(const BlockArray& a, const BlockArray& b) { return expr; } \
  inline BlockArray name(const BlockArray& a, Number b) { return expr; }            \
  inline BlockArray name(Number a, const BlockArray& b) { return expr; }
NUMS_ARRAY_API_BINARY(add, a + b)
NUMS_ARRAY_API_BINARY(subtract, a - b)
NUMS_ARRAY_API_BINARY(multiply, a* b)
NUMS_ARRAY_API_BINARY(divide, a / b)
NUMS_ARRAY_API_BINARY(equal, a == b)
NUMS_ARRAY_API_BINARY(not_equal, a != b)
NUMS_ARRAY_API_BINARY(greater, a > b)
NUMS_ARRAY_API_BINARY(greater_equal, a >= b)
NUMS_ARRAY_API_BINARY(less, a < b)
NUMS_ARRAY_API_BINARY(less_equal, a <= b)
NUMS_ARRAY_API_BINARY(atan2, arctan2(a, b))
NUMS_ARRAY_API_BINARY(pow, power(a, b))
NUMS_ARRAY_API_BINARY(bitwise_left_shift, left_shift(a, b))
NUMS_ARRAY_API_BINARY(bitwise_right_shift, right_shift(a, b))
#undef NUMS_ARRAY_API_BINARY

/// x converted to `dtype` (x.astype(dtype)).
inline BlockArray astype(const BlockArray& x, DType dtype) { return x.astype(dtype); }
/// The array itself, or converted when `dtype` is given; an NDArray is put on the cluster.
inline BlockArray asarray(const BlockArray& x, std::optional<DType> dtype = std::nullopt) {
  return dtype && *dtype != x.dtype() ? x.astype(*dtype) : x;
}
inline BlockArray asarray(const NDArray& a, std::optional<DType> dtype = std::nullopt) {
  return asarray(from_ndarray(a), dtype);
}
/// transpose(x, axes).
inline BlockArray permute_dims(const BlockArray& x, std::vector<int64_t> axes) {
  return transpose(x, std::move(axes));
}
/// concatenate along `axis`; without an axis the arrays are flattened first.
inline BlockArray concat(const std::vector<BlockArray>& arrays, std::optional<int64_t> axis = 0) {
  if (axis) return concatenate(arrays, *axis);
  std::vector<BlockArray> flat;
  for (const BlockArray& a : arrays) flat.push_back(a.flatten());
  return concatenate(flat, 0);
}
/// cumsum along `axis` (required when x has more than one axis: ValueError), with a leading
/// 0 along it when `include_initial`.
inline BlockArray cumulative_sum(const BlockArray& x, std::optional<int64_t> axis = std::nullopt,
                                 bool include_initial = false) {
  if (!axis && x.ndim() != 1) {
    throw ValueError("cumulative_sum: an axis is required for an array of shape " +
                     shape_str(x.shape()));
  }
  const BlockArray c = cumsum(x, axis.value_or(0));
  if (!include_initial) return c;
  const int64_t ax = *axis < 0 ? *axis + c.ndim() : axis.value_or(0);
  std::vector<std::array<int64_t, 2>> widths(static_cast<size_t>(c.ndim()), {0, 0});
  widths[static_cast<size_t>(ax)] = {1, 0};
  return pad(c, widths);
}

// Data type functions.

/// Whether NumPy's safe casting converts `from` to `to` without loss (int32 -> float64 yes,
/// int32 -> float32, int64 -> int32 and int8 -> uint8 no; bool to anything): exactly when
/// promoting the two gives `to`.
constexpr bool can_cast(DType from, DType to) { return promote_types(from, to) == to; }

/// The promoted dtype of several, as result_type(a, b) applied in turn; ValueError when empty.
inline DType result_type(std::initializer_list<DType> dtypes) {
  if (dtypes.size() == 0) throw ValueError("result_type: at least one dtype is required");
  DType t = *dtypes.begin();
  for (DType d : dtypes) t = result_type(t, d);
  return t;
}

/// Whether `dtype` is of `kind`: "bool", "signed integer", "unsigned integer", "integral",
/// "real floating", "complex floating" or "numeric"; ValueError naming an unknown kind.
inline bool isdtype(DType dtype, std::string_view kind) {
  const bool is_int = is_integer(dtype);
  const bool is_float = is_floating(dtype);
  if (kind == "bool") return dtype == DType::kBool;
  if (kind == "signed integer") return is_signed_integer(dtype);
  if (kind == "unsigned integer") return is_unsigned(dtype);
  if (kind == "integral") return is_int;
  if (kind == "complex floating") return is_complex(dtype);
  if (kind == "real floating") return is_float;
  if (kind == "numeric") return is_int || is_float || is_complex(dtype);
  throw ValueError("isdtype: unknown kind '" + std::string(kind) + "'");
}

/// Limits of a floating dtype (NumPy's finfo).
struct FloatInfo {
  int64_t bits;
  double eps;              ///< distance from 1.0 to the next larger value
  double max;              ///< largest finite value
  double min;              ///< -max
  double smallest_normal;  ///< smallest positive normal value
  DType dtype;
};
/// Limits of an integer dtype (NumPy's iinfo).
struct IntInfo {
  int64_t bits;
  int64_t max;  ///< for uint64, int64's maximum: see max_unsigned
  int64_t min;
  DType dtype;
  uint64_t max_unsigned;  ///< the maximum as uint64 (exact for every integer dtype)
};

inline FloatInfo finfo(DType dtype) {
  auto info = [&](auto tag) {
    using T = decltype(tag);
    return FloatInfo{8 * static_cast<int64_t>(sizeof(T)), std::numeric_limits<T>::epsilon(),
                     std::numeric_limits<T>::max(),       std::numeric_limits<T>::lowest(),
                     std::numeric_limits<T>::min(),       dtype};
  };
  if (dtype == DType::kFloat16) {
    return FloatInfo{16, 0.0009765625, 65504.0, -65504.0, 6.103515625e-05, dtype};
  }
  if (dtype == DType::kFloat32) return info(float{});
  if (dtype == DType::kFloat64) return info(double{});
  if (dtype == DType::kComplex128) {  // of each part, as NumPy's finfo(complex128)
    FloatInfo f = info(double{});
    f.dtype = DType::kFloat64;
    return f;
  }
  throw DTypeError("finfo: data type " + std::string(dtype_name(dtype)) + " is not inexact");
}

inline IntInfo iinfo(DType dtype) {
  auto info = [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<T>::max());
      constexpr auto kMax64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      return IntInfo{8 * static_cast<int64_t>(sizeof(T)),
                     static_cast<int64_t>(std::min(kMax, kMax64)),
                     static_cast<int64_t>(std::numeric_limits<T>::min()), dtype, kMax};
    } else {
      return IntInfo{};  // not reached: dtype is an integer
    }
  };
  if (is_integer(dtype)) return dispatch(dtype, info);
  throw DTypeError("iinfo: invalid integer data type " + std::string(dtype_name(dtype)));
}

/// What this namespace supports, as the standard's `__array_namespace_info__()` reports it.
struct NamespaceInfo {
  /// The standard's default dtypes.
  struct DefaultDTypes {
    DType real_floating = float64;
    std::optional<DType> complex_floating = complex128;
    DType integral = int64;
    DType indexing = int64;
  };
  /// "boolean indexing" (x(mask)) and "data-dependent shapes" (unique, nonzero, masks): both
  /// supported.
  std::map<std::string, bool> capabilities() const {
    return {{"boolean indexing", true}, {"data-dependent shapes", true}};
  }
  /// Arrays live in the memory of the cluster's nodes, computed on their CPUs.
  std::string default_device() const { return "cpu"; }
  std::vector<std::string> devices() const { return {"cpu"}; }
  DefaultDTypes default_dtypes() const { return {}; }
  /// The dtypes nums has, by name, of `kind` (isdtype's kinds; empty: all). ValueError for an
  /// unknown kind.
  std::map<std::string, DType> dtypes(std::string_view kind = "") const {
    std::map<std::string, DType> out;
    for (DType t : {bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16,
                    float32, float64, complex128}) {
      if (kind.empty() || isdtype(t, kind)) out.emplace(std::string(dtype_name(t)), t);
    }
    return out;
  }
};

/// The standard's `__array_namespace_info__()`.
inline NamespaceInfo array_namespace_info() { return {}; }

/// The cross product of 3-vectors along `axis` of a and b (the other axes broadcast); the
/// result keeps the vectors along `axis`. ValueError when either has a length other than 3 there.
inline BlockArray cross(const BlockArray& a, const BlockArray& b, int64_t axis = -1) {
  for (const BlockArray* x : {&a, &b}) {
    if (x->ndim() == 0 || axis < -x->ndim() || axis >= x->ndim() ||
        x->shape()[static_cast<size_t>(axis < 0 ? axis + x->ndim() : axis)] != 3) {
      throw ValueError("cross: both arrays need length 3 along axis " + std::to_string(axis) +
                       ", got shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
    }
  }
  const BlockArray u = moveaxis(a, axis, -1), v = moveaxis(b, axis, -1);
  auto c = [](const BlockArray& x, int64_t i) { return BlockArray(x(ellipsis, i)); };
  const BlockArray r =
      stack({c(u, 1) * c(v, 2) - c(u, 2) * c(v, 1), c(u, 2) * c(v, 0) - c(u, 0) * c(v, 2),
             c(u, 0) * c(v, 1) - c(u, 1) * c(v, 0)},
            -1);
  return moveaxis(r, -1, axis);
}

namespace linalg {
// The linalg extension's names for functions nums has in its main namespace.
using nums::cross;
using nums::matmul;
using nums::matrix_transpose;
using nums::outer;
using nums::tensordot;
using nums::vecdot;
/// The diagonal of the last two axes (offset k above the main one), as the array API's
/// linalg.diagonal (NumPy's diagonal takes the first two).
inline BlockArray diagonal(const BlockArray& x, int64_t offset = 0) {
  return nums::diagonal(x, offset, -2, -1);
}
/// The sum of that diagonal.
inline BlockArray trace(const BlockArray& x, int64_t offset = 0) {
  return nums::trace(x, offset, -2, -1);
}
}  // namespace linalg

}  // namespace nums
