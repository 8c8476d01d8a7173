// The control plane's cost: one elementwise op on 1-block arrays in the embedded default, from
// the array API call to its completion (`(x + y).wait()`), where the block's arithmetic is
// negligible. Reports the time per op and the heap allocations per op (every global operator
// new of the process, on every thread, is counted). Target: at most 3 us and 15 allocations.

#include <benchmark/benchmark.h>

#include <nums/nums.hpp>

#include "src/array_impl.h"
#include "tests/testing/allocation_counter.h"

namespace nums {
namespace {

constexpr int64_t kElements = 64;  // one small block: the op is all control plane

struct Inputs {
  Context ctx = init();
  BlockArray x = arange(kElements).astype(float64);
  BlockArray y = arange(kElements).astype(float64) * 2.0;
  Inputs() {
    x.wait();
    y.wait();
  }
};

Inputs& Data() {
  static Inputs inputs;
  return inputs;
}

// Runs `op` untimed a few times, then timed, counting the allocations of the timed ops.
template <typename Op>
void Measure(benchmark::State& state, bool fuse, Op op) {
  auto& d = Data();
  d.ctx.impl()->fuse = fuse;
  for (int i = 0; i < 100; ++i) op(d);
  const int64_t before = testing::AllocationCount();
  for (auto _ : state) op(d);
  const int64_t allocations = testing::AllocationCount() - before;
  d.ctx.impl()->fuse = true;
  state.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
}

// arg 1: fused (the default: one "array.fused" task); 0: NUMS_FUSE=0 ("array.binary").
void BM_AddWait(benchmark::State& state) {
  Measure(state, state.range(0) != 0, [](Inputs& d) { (d.x + d.y).wait(); });
}
BENCHMARK(BM_AddWait)->Arg(1)->Arg(0)->UseRealTime();

// A number operand: travels inline with the op's one task.
void BM_AddNumberWait(benchmark::State& state) {
  Measure(state, state.range(0) != 0, [](Inputs& d) { (d.x + 1.0).wait(); });
}
BENCHMARK(BM_AddNumberWait)->Arg(1)->Arg(0)->UseRealTime();

// A unary op ("array.unary" when not fused).
void BM_NegativeWait(benchmark::State& state) {
  Measure(state, state.range(0) != 0, [](Inputs& d) { (-d.x).wait(); });
}
BENCHMARK(BM_NegativeWait)->Arg(1)->Arg(0)->UseRealTime();

}  // namespace
}  // namespace nums

BENCHMARK_MAIN();
