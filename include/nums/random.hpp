#pragma once
/// nums::random: reproducible random arrays. A Generator draws from counter-based streams
/// (Philox4x64-10): the element with global row-major index i of a call's result depends only on
/// the seed, the call's place in the generator's sequence and i, so one seed gives the same array
/// whatever the block shape, the grid or the number of nodes. Blocks are drawn by tasks on the
/// nodes that own them; only permutations (and so choice without replacement) are made on the
/// driver. Draws that need a varying number of uniforms per element (poisson, binomial) read them
/// from counters owned by the element, so they too are independent of the blocking.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "nums/block_array.hpp"
#include "nums/context.hpp"

namespace nums::random {

/// A seeded source of random arrays, like numpy.random.Generator. Every call (including one
/// that returns an empty array) uses the next stream of the generator, so successive calls
/// differ; a new generator with the same seed repeats the same sequence of results. Copies share
/// one sequence (like Python references to one generator); calls may come from several threads.
/// Values differ from NumPy's for the same seed.
class Generator {
 public:
  struct Impl;
  /// A generator whose arrays live on `ctx`.
  Generator(Context ctx, uint64_t seed);
  /// A generator on the current context (the latest nums::init(), or the embedded default).
  explicit Generator(uint64_t seed);

  /// Samples from [low, high) (float32 or float64). high < low is allowed and samples
  /// (high, low]; as in NumPy, rounding of low + (high - low) * u may give `high` itself.
  /// 0-d for shape {}; empty for a zero dimension. Throws ValueError naming the shape for a
  /// negative dimension or a size that does not fit int64, ShapeError for a bad block_shape,
  /// DTypeError for a non-float dtype, ValueError when low, high or
  /// high - low is not finite.
  BlockArray uniform(const Shape& shape, double low = 0.0, double high = 1.0, DType dtype = float64,
                     const Shape& block_shape = {});
  /// Normal samples with mean `loc` and standard deviation `scale` (Box-Muller on 53-bit
  /// uniforms, computed in double also for float32). scale 0 gives loc everywhere. Throws
  /// ValueError for a negative dimension (as uniform), for scale < 0 or NaN, or a non-finite loc,
  /// DTypeError for a non-float dtype.
  BlockArray normal(const Shape& shape, double loc = 0.0, double scale = 1.0, DType dtype = float64,
                    const Shape& block_shape = {});
  /// Standard normal samples: normal(shape, 0, 1, dtype, block_shape), the same values. Throws
  /// as normal.
  BlockArray standard_normal(const Shape& shape, DType dtype = float64,
                             const Shape& block_shape = {});
  /// Exponential samples with mean `scale` (-scale * log(u) for u in (0, 1], in double also for
  /// float32). scale 0 gives 0 everywhere. Throws ValueError for scale < 0, NaN or infinite, and
  /// as uniform for a bad shape, DTypeError for a non-float dtype.
  BlockArray exponential(const Shape& shape, double scale = 1.0, DType dtype = float64,
                         const Shape& block_shape = {});
  /// Poisson samples with mean `lam`, int64: inversion for lam < 10, Hormann's transformed
  /// rejection (PTRS) above. lam 0 gives 0. Throws ValueError for lam < 0, NaN or lam > 1e10
  /// (NumPy allows up to about 9.2e18; here every count stays exact in double arithmetic), and
  /// as uniform for a bad shape.
  BlockArray poisson(const Shape& shape, double lam = 1.0, const Shape& block_shape = {});
  /// Binomial samples (successes in n trials of probability p), int64: inversion when
  /// n * min(p, 1 - p) < 10, Hormann's transformed rejection (BTRS) above. Throws ValueError
  /// for n < 0, p outside [0, 1] or NaN, and as uniform for a bad shape.
  BlockArray binomial(const Shape& shape, int64_t n, double p, const Shape& block_shape = {});

  /// NumPy's Generator.choice for a population 0 .. a-1: `size` samples (shape {} gives a 0-d
  /// array), int64. Without p, uniform; with p (1-d, length a, nonnegative, summing to 1 within
  /// NumPy's sqrt(eps) ~ 1.5e-8), weighted; pass std::nullopt, not {}, for "no p". With
  /// replacement, weighted draws run where the blocks live: searchsorted(cumsum(p), u * total)
  /// for uniform u of the call's stream; the driver reads only p's sum and minimum (the
  /// checks) and two numbers of the cumsum. A BlockArray p's own blocking fixes the rounding of
  /// its cumsum (a std::vector p is summed in one block). Without replacement: uniform is the
  /// first samples of a permutation (made on the driver, as permutation); weighted takes the
  /// smallest of the keys -log(u_i) / p_i (Efraimidis-Spirakis: NumPy's law of drawing one at a
  /// time), with p gathered to the driver, so keep that population small.
  /// Throws ValueError for a < 0, for a == 0 with samples to take ("a cannot be empty unless no
  /// samples are taken"), for samples > a without replacement (naming both), for a bad p (not
  /// 1-d, another length, a negative or NaN entry, a sum away from 1, or fewer nonzero entries
  /// than samples without replacement), as uniform for a bad size, ShapeError for a bad
  /// block_shape.
  BlockArray choice(int64_t a, const Shape& size = {}, bool replace = true,
                    const std::optional<std::vector<double>>& p = std::nullopt,
                    const Shape& block_shape = {});
  BlockArray choice(int64_t a, const Shape& size, bool replace, const BlockArray& p,
                    const Shape& block_shape = {});
  /// choice over the elements of a 1-d array `a`: a's elements at positions drawn as above
  /// (gathered with take, whose index array the driver reads). ValueError "a must be
  /// 1-dimensional" otherwise; the rest as choice(a.shape()[0], ...).
  BlockArray choice(const BlockArray& a, const Shape& size = {}, bool replace = true,
                    const std::optional<std::vector<double>>& p = std::nullopt,
                    const Shape& block_shape = {});
  BlockArray choice(const BlockArray& a, const Shape& size, bool replace, const BlockArray& p,
                    const Shape& block_shape = {});

  /// Uniform integers in [low, high) (NumPy's Generator.integers, endpoint=false), unbiased.
  /// shape {} gives a 0-d array. Throws ValueError when high <= low or the range does not fit
  /// `dtype`, DTypeError unless dtype is int32 or int64 (bool is not accepted, unlike NumPy),
  /// ValueError for a negative dimension (as uniform).
  BlockArray integers(int64_t low, int64_t high, const Shape& shape = {}, DType dtype = int64,
                      const Shape& block_shape = {});
  /// integers(10, {3}): NumPy's integers(10, size=3), [0, high) of `shape` (a brace list is a
  /// shape here, never an upper bound).
  BlockArray integers(int64_t high, std::initializer_list<int64_t> shape, DType dtype = int64) {
    return integers(0, high, Shape(shape), dtype);
  }
  /// Samples from [0, 1): uniform(shape, 0, 1, dtype). Throws as uniform.
  BlockArray random(const Shape& shape, DType dtype = float64, const Shape& block_shape = {});
  /// 0 .. n-1 shuffled, int64 (made on the driver, then put on the nodes). n = 0 gives an empty
  /// array. Throws ShapeError for n < 0 (NumPy returns an empty array).
  BlockArray permutation(int64_t n, const Shape& block_shape = {});
  /// `x` with its rows (slices along axis 0) shuffled; same shape, dtype and blocking, on x's
  /// context. Throws IndexError for a 0-d x.
  BlockArray permutation(const BlockArray& x);
  /// Shuffles x's rows (slices along axis 0) in place, as NumPy's Generator.shuffle: every handle
  /// sharing x's blocks sees the new order, which is that of permutation(x) for the same stream.
  /// Throws IndexError for a 0-d x.
  void shuffle(BlockArray& x);

  /// The seed the generator was made with.
  uint64_t seed() const;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nums::random
