// Embedded-engine overheads: task throughput (independent no-ops, chains, fan-in) and put/get of
// large blocks against a memcpy of the same size measured in the same run.

#include <benchmark/benchmark.h>

#include <cstring>

#include "engine/embedded_runtime.h"

namespace nums::engine {
namespace {

std::shared_ptr<const KernelRegistry> Kernels() {
  static auto r = [] {
    auto k = std::make_shared<KernelRegistry>();
    RegisterEngineKernels(*k);
    return k;
  }();
  return r;
}

TaskSpec Noop(std::vector<TaskArg> args = {}, NodeId node = 0) {
  return TaskSpec{"engine.noop", Device::kCpu, node, std::move(args), 1, ""};
}

// Independent no-op tasks, results dropped at once (submit, run, free): the per-task overhead.
void BM_NoopTasks(benchmark::State& state) {
  const int64_t nodes = state.range(0);
  auto rt = EmbeddedRuntime::Start({.nodes = nodes}, Kernels());
  constexpr int kBatch = 10000;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) rt->Submit(Noop({}, i % nodes));
    rt->WaitIdle();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_NoopTasks)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// No-op tasks whose results are kept and fetched with one Get.
void BM_NoopTasksGet(benchmark::State& state) {
  auto rt = EmbeddedRuntime::Start({}, Kernels());
  constexpr int kBatch = 10000;
  std::vector<ObjectRef> refs;
  refs.reserve(kBatch);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) refs.push_back(rt->Submit(Noop())[0]);
    benchmark::DoNotOptimize(rt->Get(refs));
    refs.clear();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_NoopTasksGet)->Unit(benchmark::kMillisecond)->UseRealTime();

// A chain of dependent tasks: each waits for the previous one (latency-bound).
void BM_Chain(benchmark::State& state) {
  auto rt = EmbeddedRuntime::Start({}, Kernels());
  constexpr int kLength = 10000;
  for (auto _ : state) {
    ObjectRef x = rt->Submit(Noop())[0];
    for (int i = 1; i < kLength; ++i) x = rt->Submit(Noop({x}))[0];
    benchmark::DoNotOptimize(rt->Get(x));
  }
  state.SetItemsProcessed(state.iterations() * kLength);
}
BENCHMARK(BM_Chain)->Unit(benchmark::kMillisecond)->UseRealTime();

// Fan-in: `width` producers feeding one consumer, repeated.
void BM_FanIn(benchmark::State& state) {
  const int64_t width = state.range(0);
  auto rt = EmbeddedRuntime::Start({}, Kernels());
  constexpr int kRounds = 100;
  for (auto _ : state) {
    std::vector<ObjectRef> outs;
    for (int r = 0; r < kRounds; ++r) {
      std::vector<TaskArg> args;
      for (int64_t i = 0; i < width; ++i) args.emplace_back(rt->Submit(Noop())[0]);
      outs.push_back(rt->Submit(Noop(std::move(args)))[0]);
    }
    benchmark::DoNotOptimize(rt->Get(outs));
  }
  state.SetItemsProcessed(state.iterations() * kRounds * (width + 1));
}
BENCHMARK(BM_FanIn)->Arg(16)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

// Put then Get of one block: zero-copy in-process, so the rate is far above memcpy's.
void BM_PutGet(benchmark::State& state) {
  auto rt = EmbeddedRuntime::Start({}, Kernels());
  Block block = Block::Allocate(float64, {state.range(0) / 8});
  std::memset(block.raw(), 1, static_cast<size_t>(block.nbytes()));
  for (auto _ : state) {
    ObjectRef r = rt->Put(block, 0);
    Block back = rt->Get(r);
    benchmark::DoNotOptimize(back.raw());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PutGet)->Arg(1 << 20)->Arg(256 << 20)->UseRealTime();

// The reference: copying the same bytes once into a buffer that already exists.
void BM_Memcpy(benchmark::State& state) {
  auto src = Buffer::Allocate(state.range(0));
  auto dst = Buffer::Allocate(state.range(0));
  std::memset(src->data(), 1, static_cast<size_t>(state.range(0)));
  std::memset(dst->data(), 0, static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::memcpy(dst->data(), src->data(), static_cast<size_t>(state.range(0)));
    benchmark::DoNotOptimize(dst->data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Memcpy)->Arg(1 << 20)->Arg(256 << 20)->UseRealTime();

}  // namespace
}  // namespace nums::engine

BENCHMARK_MAIN();
