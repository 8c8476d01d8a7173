// Order statistics against what a gather would cost, in the same binary: nums::median of 8M
// float64 (64 MiB in 16 blocks on 2 embedded nodes) by distributed selection, against gathering
// the array to the driver and running std::nth_element there; and a median along the rows.
// "driver bytes" counts what the selection fetched to the driver.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include <nums/nums.hpp>

#include "src/statistics_impl.h"

namespace nums {
namespace {

constexpr int64_t kN = 8 << 20;

BlockArray RandomArray(const Shape& shape, const Shape& blocks, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> v(static_cast<size_t>(shape_size(shape)));
  for (auto& x : v) x = normal(rng);
  BlockArray a = from_ndarray(NDArray::from_vector(v, shape), blocks);
  a.wait();
  return a;
}

void BM_MedianSelection(benchmark::State& state) {
  Context ctx = init({.nodes = 2});
  const BlockArray x = RandomArray({kN}, {kN / 16}, 1);
  benchmark::DoNotOptimize(median(x).item<double>());  // warm-up
  const int64_t before = detail::statistics_driver_bytes();
  for (auto _ : state) benchmark::DoNotOptimize(median(x).item<double>());
  state.counters["driver bytes"] =
      benchmark::Counter(static_cast<double>(detail::statistics_driver_bytes() - before) /
                         static_cast<double>(state.iterations()));
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(kN * 8),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MedianSelection)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// The reference: gather, then nth_element for the two middle values on the driver.
void BM_MedianGatherNthElement(benchmark::State& state) {
  Context ctx = init({.nodes = 2});
  const BlockArray x = RandomArray({kN}, {kN / 16}, 1);
  for (auto _ : state) {
    const NDArray a = x.get();
    std::vector<double> v(a.data<double>(), a.data<double>() + a.size());
    auto mid = v.begin() + kN / 2;
    std::nth_element(v.begin(), mid, v.end());
    const double hi = *mid, lo = *std::max_element(v.begin(), mid);
    benchmark::DoNotOptimize((lo + hi) / 2);
  }
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(kN * 8),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MedianGatherNthElement)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// Median of each of 8192 rows of 1024: each block holds whole rows and selects them in place.
void BM_MedianAlongRows(benchmark::State& state) {
  Context ctx = init({.nodes = 2});
  const BlockArray x = RandomArray({8192, 1024}, {512, 1024}, 2);
  benchmark::DoNotOptimize(median(x, 1).sum().item<double>());
  for (auto _ : state) benchmark::DoNotOptimize(median(x, 1).sum().item<double>());
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(kN * 8),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MedianAlongRows)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace
}  // namespace nums

BENCHMARK_MAIN();
