#pragma once
// Counter-based random numbers, shared by the "array.random" kernel and the driver (permutation).
//
// Philox4x64-10 is keyed by (seed, stream) and maps a counter (call, attempt) to four 64-bit
// words. Element i of a call's output reads counter (i / lanes, 0), lane i % lanes, where a lane
// is a 64-bit word or, when 32 bits suffice, half of one (8 lanes per Philox call). So each value
// depends only on (seed, stream, i): never on the block it falls in, the grid or the node count.
// The few values that need more bits (a rejected bounded integer) read counter (i, attempt) with
// attempt >= 1, a part of the counter space the first draws never use. Poisson and binomial
// draws lay their stream out per element instead (see random_discrete.h).

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>
#include <numbers>

namespace nums::kernels {

/// What "array.random" draws; sent as the kernel's first scalar.
enum class RandomKind : int64_t { kUniform, kNormal, kIntegers, kExponential, kPoisson, kBinomial };

using Philox = r123::Philox4x64;
using PhiloxWords = Philox::ctr_type;

/// The four words of counter (call, attempt) in stream `stream` of `seed`.
inline PhiloxWords PhiloxAt(uint64_t seed, uint64_t stream, uint64_t call, uint64_t attempt) {
  const Philox::ctr_type ctr = {{call, attempt, 0, 0}};
  const Philox::key_type key = {{seed, stream}};
  return Philox()(ctr, key);
}

/// Lane `lane` of a call's words, as a W (uint64_t: 4 lanes; uint32_t: 8 lanes).
template <typename W>
W Lane(const PhiloxWords& w, int lane) {
  if constexpr (sizeof(W) == 8) {
    return w.v[lane];
  } else {
    return static_cast<W>(w.v[lane >> 1] >> (32 * (lane & 1)));
  }
}

template <typename W>
inline constexpr int kLanes = static_cast<int>(sizeof(PhiloxWords) / sizeof(W));

/// [0, 1) from the top 53 bits of a 64-bit word: every multiple of 2^-53 equally likely.
inline double Uniform53(uint64_t w) { return static_cast<double>(w >> 11) * 0x1.0p-53; }
/// (0, 1] likewise, for logarithms.
inline double Uniform53OpenLow(uint64_t w) {
  return static_cast<double>((w >> 11) + 1) * 0x1.0p-53;
}
/// [0, 1) from the top 24 bits of a 32-bit word (float32's precision).
inline float Uniform24(uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }

/// Box-Muller: two standard normals from two 64-bit words (|z| < 8.6 as u1 >= 2^-53).
inline void BoxMuller(uint64_t a, uint64_t b, double& z0, double& z1) {
  const double r = std::sqrt(-2.0 * std::log(Uniform53OpenLow(a)));
  const double theta = 2.0 * std::numbers::pi * Uniform53(b);
  z0 = r * std::cos(theta);
  z1 = r * std::sin(theta);
}

/// An unbiased draw from [0, range) (range >= 1 and fitting in W) for element `index`: Lemire's
/// multiply-shift on `w`, retried on rejection with words of counter (index, attempt).
template <typename W>
W Bounded(W w, W range, uint64_t seed, uint64_t stream, uint64_t index) {
  using Wide = std::conditional_t<sizeof(W) == 8, unsigned __int128, uint64_t>;
  constexpr int kBits = 8 * sizeof(W);
  Wide m = static_cast<Wide>(w) * range;
  W low = static_cast<W>(m);
  if (low < range) {
    const W threshold = static_cast<W>(-range) % range;
    for (uint64_t attempt = 1; low < threshold; ++attempt) {
      m = static_cast<Wide>(Lane<W>(PhiloxAt(seed, stream, index, attempt), 0)) * range;
      low = static_cast<W>(m);
    }
  }
  return static_cast<W>(m >> kBits);
}

}  // namespace nums::kernels
