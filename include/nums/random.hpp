#pragma once
/// nums::random: reproducible random arrays. A Generator draws from counter-based streams
/// (Philox4x64-10): the element with global row-major index i of a call's result depends only on
/// the seed, the call's place in the generator's sequence and i, so one seed gives the same array
/// whatever the block shape, the grid or the number of nodes. Blocks are drawn by tasks on the
/// nodes that own them; only permutations are made on the driver.

#include <cstdint>
#include <initializer_list>
#include <memory>

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

  /// The seed the generator was made with.
  uint64_t seed() const;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nums::random
