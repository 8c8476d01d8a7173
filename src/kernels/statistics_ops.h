#pragma once
// Quantile arithmetic shared by the block kernels (one slice per row) and by the driver (the
// distributed selection over a whole array): which order statistics a quantile reads, how two of
// them combine, and an order-preserving map of every dtype onto uint64 keys.

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "src/kernels/ops.h"

namespace nums::kernels {

/// NumPy's `method` of quantile/percentile that nums supports; kMedian is `linear` at q = 0.5
/// computed as np.median does (the mean of the two middle values).
enum class QuantileMethod : int64_t {
  kLinear = 0,
  kLower = 1,
  kHigher = 2,
  kNearest = 3,
  kMidpoint = 4,
  kMedian = 5,
};

/// Whether the method returns one of the values (then the result keeps the input's dtype).
constexpr bool IsDiscrete(QuantileMethod m) {
  return m == QuantileMethod::kLower || m == QuantileMethod::kHigher ||
         m == QuantileMethod::kNearest;
}

/// The ranks (0-based, in sorted order of n > 0 values) a quantile reads, and the weight of the
/// upper one: result = lerp(v[lo], v[hi], gamma).
struct QuantilePoint {
  int64_t lo = 0, hi = 0;
  double gamma = 0;
};

inline QuantilePoint VirtualIndex(QuantileMethod m, double q, int64_t n) {
  const double v = q * static_cast<double>(n - 1);
  const auto clamp = [n](double i) {
    return static_cast<int64_t>(i < 0 ? 0 : (i > static_cast<double>(n - 1) ? n - 1 : i));
  };
  QuantilePoint p;
  switch (m) {
    case QuantileMethod::kLower:
      p.lo = p.hi = clamp(std::floor(v));
      return p;
    case QuantileMethod::kHigher:
      p.lo = p.hi = clamp(std::ceil(v));
      return p;
    case QuantileMethod::kNearest:
      // np.around: halves go to the even neighbour, as nearbyint in the default rounding mode.
      p.lo = p.hi = clamp(std::nearbyint(v));
      return p;
    case QuantileMethod::kMedian:
    case QuantileMethod::kLinear:
    case QuantileMethod::kMidpoint: {
      const double f = std::floor(v);
      p.lo = clamp(f);
      p.hi = clamp(f + 1);
      if (m == QuantileMethod::kMidpoint) {
        p.gamma = v != f ? 0.5 : 0.0;
      } else if (m == QuantileMethod::kMedian) {
        p.gamma = (n % 2 == 0) ? 0.5 : 0.0;
      } else {
        p.gamma = v - f;
      }
      if (p.gamma == 0) p.hi = p.lo;
      return p;
    }
  }
  return p;
}

/// NumPy's lerp, from the nearer end so that gamma = 1 gives b exactly; np.median's mean of the
/// two middle values for kMedian.
inline double Interpolate(QuantileMethod m, double a, double b, double gamma) {
  if (gamma == 0) return a;
  if (m == QuantileMethod::kMedian) return (a + b) / 2;
  const double d = b - a;
  return gamma >= 0.5 ? b - d * (1 - gamma) : a + d * gamma;
}

constexpr uint64_t kSignBit = uint64_t{1} << 63;

/// An order-preserving key: a < b (NaN aside) iff OrderKey(a) < OrderKey(b). Floats map their
/// IEEE bits (negatives reversed), integers flip the sign bit.
template <typename T>
uint64_t OrderKey(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    const uint64_t bits = std::bit_cast<uint64_t>(static_cast<double>(v));
    return (bits & kSignBit) ? ~bits : (bits | kSignBit);
  } else if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
    return static_cast<uint64_t>(v);  // already ordered (uint64 past 2^63 included)
  } else {
    return static_cast<uint64_t>(static_cast<int64_t>(v)) ^ kSignBit;
  }
}

/// The value whose OrderKey is `key`.
template <typename T>
T FromOrderKey(uint64_t key) {
  if constexpr (std::is_floating_point_v<T>) {
    const uint64_t bits = (key & kSignBit) ? (key & ~kSignBit) : ~key;
    return static_cast<T>(std::bit_cast<double>(bits));
  } else if constexpr (std::is_same_v<T, bool>) {
    return (key ^ kSignBit) != 0;
  } else if constexpr (std::is_unsigned_v<T>) {
    return static_cast<T>(key);
  } else {
    return static_cast<T>(static_cast<int64_t>(key ^ kSignBit));
  }
}

}  // namespace nums::kernels
