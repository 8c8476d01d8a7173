// nums::sort of N float64 uniform on [0, 1) on the embedded default cluster (one node, every
// core, default blocks: the distributed sample sort) against one std::sort of the same values on
// one core, in the same binary. N is the benchmark's argument (10^8 for the recorded figures).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <nums/nums.hpp>

namespace nums {
namespace {

// The same values for both cases: nums' generator, gathered once for the reference.
BlockArray Values(const Context& ctx, int64_t n) {
  const BlockArray x = random::Generator(ctx, 7).uniform({n});
  x.wait();
  return x;
}

// The sort's result is waited for where it lives, not gathered; one untimed run first lets the
// node's memory pool hold the pages the timed runs reuse (fresh pages are slow here).
void BM_NumsSort(benchmark::State& state) {
  const int64_t n = state.range(0);
  Context ctx = init();
  const BlockArray x = Values(ctx, n);
  sort(x).wait();
  for (auto _ : state) sort(x).wait();
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel("blocks " + shape_str(x.block_shape()) + ", cores " +
                 std::to_string(ctx.num_cores()));
}
BENCHMARK(BM_NumsSort)
    ->Arg(10'000'000)
    ->Arg(100'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// The reference: std::sort on the calling thread, of a copy made untimed before each run.
void BM_StdSort(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<double> values(static_cast<size_t>(n)), work(values.size());
  {
    Context ctx = init();
    const NDArray x = Values(ctx, n).get();
    std::memcpy(values.data(), x.data<double>(), values.size() * sizeof(double));
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::memcpy(work.data(), values.data(), values.size() * sizeof(double));
    state.ResumeTiming();
    std::sort(work.begin(), work.end());
    benchmark::DoNotOptimize(work.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_StdSort)
    ->Arg(10'000'000)
    ->Arg(100'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace nums

BENCHMARK_MAIN();
