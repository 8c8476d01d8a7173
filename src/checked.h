#pragma once
// Checked arithmetic on sizes. Products of dimensions, byte counts and the sizes handed to
// BLAS/LAPACK go through these helpers, so a value that does not fit raises ValueError naming it
// instead of wrapping (a wrapped size is a lie that later crashes or corrupts memory).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "nums/dtype.hpp"
#include "nums/errors.hpp"
#include "nums/ndarray.hpp"

namespace nums::detail {

/// a * b, or nullopt when it does not fit int64.
inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
/// a + b, or nullopt when it does not fit int64.
inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

/// The product of `dims` (all >= 0), or nullopt when the product of its non-zero entries does not
/// fit int64. A zero dimension does not excuse the others (NumPy's rule), so every sub-product
/// of a valid shape fits too.
inline std::optional<int64_t> checked_product(const Shape& dims) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d == 0) {
      zero = true;
    } else if (__builtin_mul_overflow(n, d, &n)) {
      return std::nullopt;
    }
  }
  return zero ? 0 : n;
}

/// Throws ValueError unless every dimension of `shape` is >= 0, its number of elements fits int64
/// and its bytes (for `dtype`) do too. `what` (the operation, may be empty) starts the message,
/// which names the shape.
void check_shape(const Shape& shape, DType dtype, std::string_view what);

/// `n` as the integer type `Int` that a BLAS/LAPACK routine takes (int, lapack_int, blasint):
/// ValueError naming `what` and n when it does not fit, never a silent truncation.
template <typename Int>
Int narrow_size(int64_t n, std::string_view what) {
  if (n < static_cast<int64_t>(std::numeric_limits<Int>::min()) ||
      n > static_cast<int64_t>(std::numeric_limits<Int>::max())) {
    throw ValueError(std::string(what) + ": size " + std::to_string(n) + " does not fit the " +
                     std::to_string(sizeof(Int) * 8) + "-bit integer that BLAS/LAPACK takes");
  }
  return static_cast<Int>(n);
}

}  // namespace nums::detail
