// What watching a run costs: the task timeline (off, on) on the embedded engine's per-task path,
// and the progress bar (off, on) per update and on a logistic-regression fit and a large get().
// Each case's "off" and "on" run in the same binary, one after the other.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <limits>
#include <sstream>

#include "engine/embedded_runtime.h"
#include "nums/nums.hpp"

namespace nums {
namespace {

// A stream that drops what it is given, as a terminal that is not looked at.
class NullBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

// std::cerr into a NullBuffer, and NUMS_PROGRESS set, for one scope.
class QuietBars {
 public:
  explicit QuietBars(bool on) : old_(std::cerr.rdbuf(&null_)) {
    setenv("NUMS_PROGRESS", on ? "always" : "0", 1);
  }
  ~QuietBars() {
    std::cerr.rdbuf(old_);
    unsetenv("NUMS_PROGRESS");
  }

 private:
  NullBuffer null_;
  std::streambuf* old_;
};

// Independent no-op tasks with the timeline off (arg 0) or recording (arg 1).
void BM_NoopTasksTimeline(benchmark::State& state) {
  auto registry = std::make_shared<engine::KernelRegistry>();
  engine::RegisterEngineKernels(*registry);
  auto rt = engine::EmbeddedRuntime::Start({.nodes = 1}, registry);
  const bool on = state.range(0) == 1;
  rt->Timeline({std::numeric_limits<int64_t>::max()}, on);
  constexpr int kBatch = 10000;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) rt->Submit({.kernel = "engine.noop", .node = 0});
    rt->WaitIdle();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(on ? "timeline on" : "timeline off");
}
BENCHMARK(BM_NoopTasksTimeline)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// One ProgressBar::advance(), the bar off (arg 0) or drawing into a dropped stream (arg 1).
void BM_ProgressAdvance(benchmark::State& state) {
  NullBuffer null;
  std::ostream out(&null);
  const bool on = state.range(0) == 1;
  ProgressBar bar(
      "bench", std::numeric_limits<int32_t>::max(),
      {.mode = on ? ProgressOptions::Mode::kOn : ProgressOptions::Mode::kOff, .out = &out});
  for (auto _ : state) bar.advance();
  benchmark::DoNotOptimize(bar.done());
  state.SetLabel(on ? "bar on" : "bar off");
}
BENCHMARK(BM_ProgressAdvance)->Arg(0)->Arg(1);

// A 10-iteration Newton fit (200k x 32 blobs), its bar off (arg 0) or drawn (arg 1).
void BM_FitProgress(benchmark::State& state) {
  Context ctx = init({});
  const auto data = models::make_blobs(200'000, 32, 1337);
  data.X.wait();
  const bool on = state.range(0) == 1;
  QuietBars bars(on);
  for (auto _ : state) {
    models::LogisticRegression lr({.solver = "newton", .max_iter = 10, .tol = 0});
    lr.fit(data.X, data.y);
    benchmark::DoNotOptimize(lr.coef());
  }
  state.SetLabel(on ? "bar on" : "bar off");
}
BENCHMARK(BM_FitProgress)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// get() of 512 MiB (64 blocks): all blocks at once without a bar (arg 0), in groups with it
// (arg 1).
void BM_GetProgress(benchmark::State& state) {
  Context ctx = init({});
  const BlockArray x = ones({8192, 8192}, float64, {1024, 1024});
  x.wait();
  const bool on = state.range(0) == 1;
  QuietBars bars(on);
  for (auto _ : state) benchmark::DoNotOptimize(x.get());
  state.SetBytesProcessed(state.iterations() * int64_t{8192} * 8192 * 8);
  state.SetLabel(on ? "bar on" : "bar off");
}
BENCHMARK(BM_GetProgress)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nums

BENCHMARK_MAIN();
