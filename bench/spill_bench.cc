// Memory as a resource: a Newton iteration of logistic regression on X four times the cluster's
// memory, against a sequential read of X's bytes from the same spill disk; and spilling and
// restoring against the disk's sequential write and read. All in one run, in the directory
// NUMS_BENCH_SPILL_DIR (default /tmp). Spill files are not fsynced, so neither is the reference.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nums/nums.hpp>
#include <vector>

#include "engine/object_store.h"

namespace {

namespace fs = std::filesystem;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kXBytes = int64_t{2048} * kMiB;  // X: 2 GiB of float64
constexpr int64_t kMemory = kXBytes / 4;           // the cluster's memory: a quarter of X
constexpr int64_t kCols = 32;
constexpr int64_t kBlockRows = 65'536;  // 16 MiB blocks

fs::path Dir() {
  const char* d = std::getenv("NUMS_BENCH_SPILL_DIR");
  return d ? fs::path(d) : fs::temp_directory_path();
}

// Sequential write then read of `bytes` in 8 MiB pieces, in the spill disk's directory.
void BM_DiskSequential(benchmark::State& state) {
  const bool write = state.range(0) == 0;
  const fs::path file = Dir() / "nums-bench-seq.bin";
  std::vector<char> buf(8 * kMiB, 1);
  auto pass = [&](bool w) {
    const int fd = open(file.c_str(), w ? (O_WRONLY | O_CREAT | O_TRUNC) : O_RDONLY, 0600);
    for (int64_t done = 0; done < kXBytes; done += static_cast<int64_t>(buf.size())) {
      const ssize_t n =
          w ? ::write(fd, buf.data(), buf.size()) : ::read(fd, buf.data(), buf.size());
      if (n <= 0) state.SkipWithError("disk I/O failed");
    }
    close(fd);
  };
  if (!write) pass(true);
  for (auto _ : state) pass(write);
  fs::remove(file);
  state.SetBytesProcessed(state.iterations() * kXBytes);
}
BENCHMARK(BM_DiskSequential)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"read"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// The object store writing X's blocks to its spill files (Spill) and reading them back (TryGet).
void BM_StoreSpillRestore(benchmark::State& state) {
  using namespace nums::engine;
  using Clock = std::chrono::steady_clock;
  const bool restore = state.range(0) == 1;
  for (auto _ : state) {
    auto pool = std::make_shared<HostPool>("bench", kXBytes * 2);
    ObjectStore store(0, pool, std::make_unique<SpillDirectory>(Dir().string(), "bench-store"));
    std::vector<ObjectId> ids;
    for (int64_t k = 0; k < kXBytes / (16 * kMiB); ++k) {
      Block b = Block::Allocate(nums::float64, {2 * kMiB}, pool);
      std::memset(b.raw(), 1, static_cast<size_t>(b.nbytes()));
      ids.push_back({1, static_cast<uint64_t>(k + 1)});
      store.Seal(ids.back(), std::move(b), true);
    }
    auto start = Clock::now();
    store.Spill(kXBytes);
    if (restore) {
      start = Clock::now();
      for (const ObjectId& id : ids) {
        benchmark::DoNotOptimize(store.TryGet(id));
        store.Spill(16 * kMiB);  // keep memory bounded as a node under pressure would
      }
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    if (store.stats().spill_bytes_total < kXBytes) state.SkipWithError("not everything spilled");
  }
  state.SetBytesProcessed(state.iterations() * kXBytes);
}
BENCHMARK(BM_StoreSpillRestore)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"restore"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseManualTime();

// One Newton iteration (one pass over X plus the driver's solve) with X four times the embedded
// cluster's memory (arg 1), and with X in memory (arg 0, the compute floor of the same work).
void BM_NewtonIteration(benchmark::State& state) {
  const bool spilled = state.range(0) == 1;
  nums::InitOptions options;
  if (spilled) options.memory = kMemory;
  options.spill_dir = (Dir() / "nums-bench").string();
  nums::Context ctx = nums::init(options);
  nums::random::Generator rng(ctx, 3);
  const int64_t rows = kXBytes / (kCols * 8);
  nums::BlockArray X = rng.normal({rows, kCols}, 0.0, 1.0, nums::float64, {kBlockRows, kCols});
  nums::BlockArray y = (X.sum(1) > 0.0).astype(nums::float64);
  benchmark::DoNotOptimize(y.sum().item<double>());
  double seconds = 0;
  int64_t iterations = 0, passes = 0;
  for (auto _ : state) {
    nums::models::LogisticRegression lr({.solver = "newton", .max_iter = 3, .penalty_l2 = 1.0});
    lr.fit(X, y);
    for (const auto& it : lr.history()) {
      if (it.iteration == 0) continue;
      seconds += it.seconds;
      passes += it.passes;
      ++iterations;
    }
  }
  const double n = static_cast<double>(std::max<int64_t>(iterations, 1));
  state.counters["s_per_iteration"] = seconds / n;
  state.counters["passes_per_iteration"] = static_cast<double>(passes) / n;
  const auto node = ctx.nodes().at(0);
  state.counters["spilled_GiB"] = static_cast<double>(node.spill_bytes_total) / (1 << 30);
  state.counters["restored_GiB"] = static_cast<double>(node.restore_bytes_total) / (1 << 30);
}
BENCHMARK(BM_NewtonIteration)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"spilled"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
