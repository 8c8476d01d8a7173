#pragma once
// Loop skeletons shared by the CPU kernels: TBB-parallel ranges and broadcast iteration in runs
// along the last axis, so op bodies are tight inner loops with no per-element dispatch.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <array>
#include <cstdint>
#include <vector>

#include "engine/block.h"

namespace nums::kernels {

using engine::Shape;

/// Calls f(begin, end) over [0, n), in parallel on this node's threads when n is large.
template <typename F>
void ParallelRanges(int64_t n, int64_t grain, F&& f) {
  if (n <= grain) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { f(r.begin(), r.end()); });
}

inline constexpr int64_t kElementGrain = 1 << 16;

/// `shape` left-padded with 1s to `ndim` dimensions.
inline Shape PadLeft(const Shape& shape, size_t ndim) {
  Shape out(ndim - shape.size(), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

/// NumPy broadcasting of several shapes; empty optional-like result signalled by `ok` = false.
inline bool BroadcastShapes(const std::vector<Shape>& shapes, Shape& out) {
  size_t nd = 0;
  for (const auto& s : shapes) nd = std::max(nd, s.size());
  out.assign(nd, 1);
  for (const auto& s0 : shapes) {
    const Shape s = PadLeft(s0, nd);
    for (size_t d = 0; d < nd; ++d) {
      if (s[d] == out[d] || s[d] == 1) continue;
      if (out[d] != 1) return false;
      out[d] = s[d];
    }
  }
  return true;
}

/// Visits the elements of `out` in runs along the last axis. For each run, run(out_start, length,
/// starts, steps) gets each input's first element and step (0 where it is broadcast).
template <size_t K, typename Run>
void BroadcastRuns(const Shape& out, const std::array<Shape, K>& inputs, Run&& run) {
  const int64_t n = engine::ShapeSize(out);
  if (n == 0) return;
  const size_t nd = out.size();
  std::array<Shape, K> padded;
  bool simple = true;
  for (size_t k = 0; k < K; ++k) {
    padded[k] = PadLeft(inputs[k], nd);
    if (padded[k] != out && engine::ShapeSize(inputs[k]) != 1) simple = false;
  }
  if (simple || nd == 0) {
    std::array<int64_t, K> steps;
    for (size_t k = 0; k < K; ++k) steps[k] = engine::ShapeSize(inputs[k]) == 1 ? 0 : 1;
    ParallelRanges(n, kElementGrain, [&](int64_t b, int64_t e) {
      std::array<int64_t, K> starts;
      for (size_t k = 0; k < K; ++k) starts[k] = b * steps[k];
      run(b, e - b, starts, steps);
    });
    return;
  }
  // Row-major strides of each input, 0 along broadcast axes.
  std::array<Shape, K> strides;
  for (size_t k = 0; k < K; ++k) {
    strides[k].assign(nd, 0);
    int64_t s = 1;
    for (size_t d = nd; d-- > 0;) {
      strides[k][d] = padded[k][d] == 1 ? 0 : s;
      s *= padded[k][d];
    }
  }
  const int64_t inner = out[nd - 1];
  const int64_t outer = n / inner;
  std::array<int64_t, K> steps;
  for (size_t k = 0; k < K; ++k) steps[k] = strides[k][nd - 1];
  ParallelRanges(outer, std::max<int64_t>(1, kElementGrain / inner), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      std::array<int64_t, K> starts{};
      int64_t rem = o;
      for (size_t d = nd - 1; d-- > 0;) {
        const int64_t i = rem % out[d];
        rem /= out[d];
        for (size_t k = 0; k < K; ++k) starts[k] += i * strides[k][d];
      }
      run(o * inner, inner, starts, steps);
    }
  });
}

}  // namespace nums::kernels
