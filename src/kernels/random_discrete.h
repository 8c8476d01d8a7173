#pragma once
// Poisson and binomial samplers for "array.random". They use a varying number of uniforms per
// element, so element i reads its own words: the k-th 64-bit word of element i is lane k % 4 of
// Philox counter (i, k / 4) of the call's stream. A stream serves one kind of draw, so this
// layout cannot meet another's, and a value still depends only on (seed, stream, i).

#include <math.h>  // lgamma_r: std::lgamma writes the global signgam, a race between threads

#include <cmath>
#include <cstdint>
#include <numbers>

#include "src/kernels/random.h"

namespace nums::kernels {

/// The uniforms of one element, in order.
class ElementUniforms {
 public:
  ElementUniforms(uint64_t seed, uint64_t stream, uint64_t index)
      : seed_(seed), stream_(stream), index_(index) {}
  /// The next word of the element.
  uint64_t Word() {
    if (k_ % 4 == 0) words_ = PhiloxAt(seed_, stream_, index_, k_ / 4);
    return words_.v[k_++ % 4];
  }
  /// [0, 1) from the next word.
  double Uniform() { return Uniform53(Word()); }
  /// (0, 1] from the next word, for logarithms.
  double UniformOpenLow() { return Uniform53OpenLow(Word()); }

 private:
  uint64_t seed_, stream_, index_;
  uint64_t k_ = 0;
  PhiloxWords words_{};
};

inline double LogFactorial(double k) {
  int sign = 0;
  return lgamma_r(k + 1.0, &sign);
}

/// log(x!) - S(x), where S(x) = (x + 1/2) log(x + 1) - (x + 1) + log(2 pi) / 2 is Stirling's
/// approximation: exact below 16, the asymptotic series (error < 1e-17) above.
inline double StirlingTail(double x) {
  if (x < 16.0) {
    return LogFactorial(x) - (x + 0.5) * std::log(x + 1.0) + (x + 1.0) -
           0.5 * std::log(2.0 * std::numbers::pi);
  }
  const double z = x + 1.0, z2 = z * z;
  return (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * z2)) / z2) / z;
}

/// log(a!) - log(b!) without the cancellation of two huge lgamma values (a, b up to 2^53):
/// (a + 1/2) log1p((a - b) / (b + 1)) + (a - b)(log(b + 1) - 1) + tail(a) - tail(b).
inline double LogFactorialRatio(double a, double b) {
  return (a + 0.5) * std::log1p((a - b) / (b + 1.0)) + (a - b) * (std::log(b + 1.0) - 1.0) +
         StirlingTail(a) - StirlingTail(b);
}

/// The largest Poisson mean accepted: far below 2^53, so PTRS's k is an exact integer in double.
inline constexpr double kMaxPoissonLam = 1e10;
/// Below this mean Poisson uses inversion (a few steps per draw), above it PTRS (whose
/// constants Hormann fits for lam >= 10).
inline constexpr double kPoissonInversionBelow = 10.0;
/// Binomial uses inversion while n * min(p, 1 - p) is below this, BTRS above (valid from 10).
inline constexpr double kBinomialInversionBelow = 10.0;

/// A Poisson(lam) draw, 0 <= lam <= 1e10.
inline int64_t Poisson(double lam, ElementUniforms& u) {
  if (lam == 0.0) return 0;
  if (lam < kPoissonInversionBelow) {
    // Walk the cdf until it passes u. Rounding can leave u in a sliver (< 1e-15) above the
    // summed cdf, seen as a pmf that underflowed: then draw u again.
    const double p0 = std::exp(-lam);
    for (;;) {
      const double target = u.Uniform();
      double p = p0, cdf = p0;
      int64_t k = 0;
      while (target >= cdf && p > 0.0) {
        ++k;
        p *= lam / static_cast<double>(k);
        cdf += p;
      }
      if (target < cdf) return k;
    }
  }
  // PTRS (Hormann 1993, "The transformed rejection method for generating Poisson random
  // variables"): k = floor((2a / us + b) U + lam + 0.43) with U uniform on (-1/2, 1/2),
  // us = 1/2 - |U|; accepted at once inside the squeeze (us >= 0.07, V <= v_r), else against
  // the exact pmf: log(V * inv_alpha / (a / us^2 + b)) <= -lam + k log(lam) - log(k!).
  const double slam = std::sqrt(lam);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double v_r = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double uu = u.Uniform() - 0.5;
    const double v = u.UniformOpenLow();
    const double us = 0.5 - std::abs(uu);
    const double k = std::floor((2.0 * a / us + b) * uu + lam + 0.43);
    if (us >= 0.07 && v <= v_r) return static_cast<int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    // log(lam^k e^-lam / k!) as k log1p((lam - k - 1) / (k + 1)) + (k + 1 - lam)
    // - log(2 pi (k + 1)) / 2 - tail(k): no two large terms cancel, even at lam = 1e10.
    const double log_pmf = k * std::log1p((lam - k - 1.0) / (k + 1.0)) + (k + 1.0 - lam) -
                           0.5 * std::log(2.0 * std::numbers::pi * (k + 1.0)) - StirlingTail(k);
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <= log_pmf) {
      return static_cast<int64_t>(k);
    }
  }
}

/// A Binomial(n, p) draw, n >= 0, 0 <= p <= 1.
inline int64_t Binomial(int64_t n, double p, ElementUniforms& u) {
  if (n == 0 || p == 0.0) return 0;
  if (p == 1.0) return n;
  // Draw the rarer outcome: the methods below assume p <= 1/2.
  const bool flip = p > 0.5;
  const double pp = flip ? 1.0 - p : p;
  const double q = 1.0 - pp;
  const double dn = static_cast<double>(n);
  int64_t k = 0;
  if (dn * pp < kBinomialInversionBelow) {
    // Inversion from 0 with the recurrence pmf(k) = pmf(k - 1) * (n - k + 1) / k * p / q;
    // pmf(0) = q^n >= e^-14 here. Rounding can leave u in a sliver (< 1e-15) above the summed
    // cdf, seen as reaching n or a pmf that underflowed past the mean: then draw u again.
    const double s = pp / q, pmf0 = std::exp(dn * std::log1p(-pp));
    for (bool done = false; !done;) {
      double target = u.Uniform(), pmf = pmf0;
      k = 0;
      done = true;
      while (target >= pmf) {
        if (k == n || (pmf == 0.0 && static_cast<double>(k) > dn * pp)) {
          done = false;
          break;
        }
        target -= pmf;
        ++k;
        pmf *= s * (dn - static_cast<double>(k) + 1.0) / static_cast<double>(k);
      }
    }
  } else {
    // BTRS (Hormann 1993, "The generation of binomial random variates"): transformed
    // rejection as PTRS, accepting k against log pmf(k) - log pmf(m), m the mode.
    const double spq = std::sqrt(dn * pp * q);
    const double b = 1.15 + 2.53 * spq;
    const double a = -0.0873 + 0.0248 * b + 0.01 * pp;
    const double c = dn * pp + 0.5;
    const double v_r = 0.92 - 4.2 / b;
    const double alpha = (2.83 + 5.1 / b) * spq;
    const double lpq = std::log(pp / q);
    const double m = std::floor((dn + 1.0) * pp);
    for (;;) {
      const double uu = u.Uniform() - 0.5;
      const double v = u.UniformOpenLow();
      const double us = 0.5 - std::abs(uu);
      const double kd = std::floor((2.0 * a / us + b) * uu + c);
      if (kd < 0.0 || kd > dn) continue;
      if (us >= 0.07 && v <= v_r) {
        k = static_cast<int64_t>(kd);
        break;
      }
      // log(pmf(k) / pmf(m)), in differences of log-factorials that stay exact for huge n.
      const double log_ratio =
          LogFactorialRatio(m, kd) + LogFactorialRatio(dn - m, dn - kd) + (kd - m) * lpq;
      if (std::log(v * alpha / (a / (us * us) + b)) <= log_ratio) {
        k = static_cast<int64_t>(kd);
        break;
      }
    }
  }
  return flip ? n - k : k;
}

}  // namespace nums::kernels
