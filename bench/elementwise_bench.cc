// Elementwise x*y+1 and sum on 2^27 float64 elements (1 GiB per array) in the embedded default
// cluster, against a single-threaded Eigen loop and a STREAM-like triad on all cores, measured in
// the same run; fused expressions (x*y+1, sqrt((x*x + y*y).sum())) against the same with fusion
// off and against a streaming read of x and y. Bytes counted are the logical ones (read x and y,
// write the result). Each case warms up first: on these VMs the first touch of never-used memory
// costs seconds per GiB.

#include <benchmark/benchmark.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <tbb/parallel_reduce.h>

#include <Eigen/Core>
#include <atomic>
#include <nums/nums.hpp>
#include <thread>

#include "src/array_impl.h"

namespace {

constexpr int64_t kN = int64_t{1} << 27;

// Waits for every block of `a` without gathering it to the driver.
void Wait(const nums::BlockArray& a) {
  benchmark::DoNotOptimize(a.impl()->ctx->runtime->Get(a.impl()->blocks));
}

struct Inputs {
  nums::Context ctx = nums::init();
  nums::BlockArray x = nums::linspace(0, 1, kN);
  nums::BlockArray y = nums::linspace(1, 2, kN);
  Inputs() {
    Wait(x);
    Wait(y);
  }
};

Inputs& Data() {
  static Inputs inputs;
  return inputs;
}

// The most memory the node held above what it held before, sampled every millisecond while
// `f` ran once (GiB).
template <typename F>
double PeakExtraGiB(const nums::Context& ctx, F&& f) {
  const int64_t base = ctx.nodes()[0].memory_used;
  std::atomic<bool> done{false};
  std::atomic<int64_t> peak{base};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<int64_t>(peak, ctx.nodes()[0].memory_used);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  f();
  done = true;
  sampler.join();
  return static_cast<double>(peak - base) / (1 << 30);
}

// arg 1: fused (the default); 0: NUMS_FUSE=0's behaviour, each operation its own tasks.
void BM_NumsXmulYplus1(benchmark::State& state) {
  auto& d = Data();
  d.ctx.impl()->fuse = state.range(0) != 0;
  for (auto _ : state) Wait(d.x * d.y + 1.0);
  state.counters["peak_extra_GiB"] = PeakExtraGiB(d.ctx, [&] { Wait(d.x * d.y + 1.0); });
  d.ctx.impl()->fuse = true;
  state.SetBytesProcessed(state.iterations() * kN * 8 * 3);
  state.counters["blocks"] = static_cast<double>(d.x.grid().num_blocks());
}
BENCHMARK(BM_NumsXmulYplus1)
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3)
    ->MinWarmUpTime(2);

// sqrt((x * x + y * y).sum()): a chain ending in a reduction; reads x and y once when fused.
void BM_NumsNormOfTwo(benchmark::State& state) {
  auto& d = Data();
  d.ctx.impl()->fuse = state.range(0) != 0;
  auto norm = [&] { return nums::sqrt((d.x * d.x + d.y * d.y).sum()).item<double>(); };
  for (auto _ : state) benchmark::DoNotOptimize(norm());
  state.counters["peak_extra_GiB"] = PeakExtraGiB(d.ctx, [&] { benchmark::DoNotOptimize(norm()); });
  d.ctx.impl()->fuse = true;
  state.SetBytesProcessed(state.iterations() * kN * 8 * 2);
}
BENCHMARK(BM_NumsNormOfTwo)
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3)
    ->MinWarmUpTime(2);

// The floor of the norm: one streaming read of x and y on all cores (sum of x + y).
void BM_StreamReadTwoAllCores(benchmark::State& state) {
  std::vector<double> x(kN, 0.5), y(kN, 1.5);
  for (auto _ : state) {
    const double s = tbb::parallel_reduce(
        tbb::blocked_range<int64_t>(0, kN, 1 << 16), 0.0,
        [&](const tbb::blocked_range<int64_t>& r, double acc) {
          double lanes[8] = {};
          for (int64_t i = r.begin(); i + 8 <= r.end(); i += 8) {
            for (int k = 0; k < 8; ++k) lanes[k] += x[i + k] + y[i + k];
          }
          for (double l : lanes) acc += l;
          return acc;
        },
        std::plus<double>());
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(state.iterations() * kN * 8 * 2);
}
BENCHMARK(BM_StreamReadTwoAllCores)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3)
    ->MinWarmUpTime(2);

// The reference arrays live for the whole run so warm-up really warms them.
struct EigenInputs {
  Eigen::ArrayXd x = Eigen::ArrayXd::LinSpaced(kN, 0, 1);
  Eigen::ArrayXd y = Eigen::ArrayXd::LinSpaced(kN, 1, 2);
  Eigen::ArrayXd z = Eigen::ArrayXd::Zero(kN);
};

EigenInputs& EigenData() {
  static EigenInputs inputs;
  return inputs;
}

void BM_EigenXmulYplus1SingleThread(benchmark::State& state) {
  auto& [x, y, z] = EigenData();
  for (auto _ : state) {
    z = x * y + 1.0;
    benchmark::DoNotOptimize(z.data());
  }
  state.SetBytesProcessed(state.iterations() * kN * 8 * 3);
}
BENCHMARK(BM_EigenXmulYplus1SingleThread)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3)
    ->MinWarmUpTime(2);

// STREAM-like triad z = x * y + 1 on all cores over memory that is already touched: the
// machine's memory bandwidth for this access pattern.
void BM_StreamTriadAllCores(benchmark::State& state) {
  std::vector<double> x(kN, 0.5), y(kN, 1.5), z(kN, 0.0);
  for (auto _ : state) {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, kN, 1 << 16),
                      [&](const tbb::blocked_range<int64_t>& r) {
                        for (int64_t i = r.begin(); i < r.end(); ++i) z[i] = x[i] * y[i] + 1.0;
                      });
    benchmark::DoNotOptimize(z.data());
  }
  state.SetBytesProcessed(state.iterations() * kN * 8 * 3);
}
BENCHMARK(BM_StreamTriadAllCores)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3)
    ->MinWarmUpTime(2);

void BM_NumsSum(benchmark::State& state) {
  auto& d = Data();
  for (auto _ : state) benchmark::DoNotOptimize(d.x.sum().item<double>());
  state.SetBytesProcessed(state.iterations() * kN * 8);
}
BENCHMARK(BM_NumsSum)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3)->MinWarmUpTime(2);

void BM_EigenSumSingleThread(benchmark::State& state) {
  const Eigen::ArrayXd& x = EigenData().x;
  for (auto _ : state) benchmark::DoNotOptimize(x.sum());
  state.SetBytesProcessed(state.iterations() * kN * 8);
}
BENCHMARK(BM_EigenSumSingleThread)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3)
    ->MinWarmUpTime(2);

}  // namespace

BENCHMARK_MAIN();
