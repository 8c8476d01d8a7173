#pragma once
// Folding a stream of values into one reduction result, fed in pieces of any length. The plain
// reduction kernel feeds a row at once and the fused kernel feeds it tile by tile; both add in
// the same order, so their results are bit-identical.

#include <cstdint>
#include <type_traits>

#include "src/kernels/ops.h"

namespace nums::kernels {

/// Floating-point sums use eight independent lanes (element i of each group of eight into lane
/// i; a last partial group into lane 0 in order), so the loop vectorizes (a single accumulator is
/// a serial dependency chain) and rounding error grows more slowly; the lanes are summed pairwise
/// and added to the starting value at Finish. Every other op steps one value at a time.
template <ReduceOp Op, typename T, typename O>
class Fold {
 public:
  explicit Fold(O acc) : acc_(acc) {}

  // Built for AVX-512, AVX2 and baseline x86-64 (chosen at load time); the same additions in the
  // same order in each, so the result does not depend on the machine.
  [[gnu::target_clones("avx512f", "avx2", "default")]] void Feed(const T* p, int64_t n) {
    FeedEach(
        n, [p](int64_t i) __attribute__((always_inline)) { return p[i]; });
  }

  /// Feeds value(0), ..., value(n - 1), made as they are folded (an expression's values need no
  /// buffer): the same additions in the same order as Feed of those values. Inlined into the
  /// caller, so it is built for the caller's target.
  template <typename G>
  [[gnu::always_inline]] inline void FeedEach(int64_t n, G value) {
    if constexpr (kLanes) {
      int64_t i = 0;
      if (pending_ > 0) {
        while (pending_ < 8 && i < n) tail_[pending_++] = value(i++);
        if (pending_ < 8) return;
        for (int k = 0; k < 8; ++k) lanes_[k] += tail_[k];
        pending_ = 0;
      }
      // Local lanes stay in registers (the members could alias the inputs as far as the compiler
      // knows).
      O lanes[8];
      for (int k = 0; k < 8; ++k) lanes[k] = lanes_[k];
      // Groups counted from a fresh index: with i's start left by the loop above, GCC does not
      // vectorize the loop when value() reads several arrays.
      const int64_t first = i, groups = (n - i) / 8;
      for (int64_t g = 0; g < groups; ++g) {
        for (int k = 0; k < 8; ++k) lanes[k] += value(first + g * 8 + k);
      }
      i = first + groups * 8;
      for (int k = 0; k < 8; ++k) lanes_[k] = lanes[k];
      for (; i < n; ++i) tail_[pending_++] = value(i);
    } else {
      for (int64_t i = 0; i < n; ++i) acc_ = Reduce<Op, T>::Step(acc_, value(i));
    }
  }

  O Finish() {
    if constexpr (kLanes) {
      for (int k = 0; k < pending_; ++k) lanes_[0] += tail_[k];
      const O total = ((lanes_[0] + lanes_[1]) + (lanes_[2] + lanes_[3])) +
                      ((lanes_[4] + lanes_[5]) + (lanes_[6] + lanes_[7]));
      return acc_ + total;
    } else {
      return acc_;
    }
  }

 private:
  static constexpr bool kLanes = Op == ReduceOp::kSum && std::is_floating_point_v<T>;
  O acc_;
  O lanes_[8] = {};
  T tail_[8] = {};
  int pending_ = 0;  // values of an unfinished group of eight in tail_
};

}  // namespace nums::kernels
