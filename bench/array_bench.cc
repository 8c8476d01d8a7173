// Array-layer operations against the library call they reduce to, in the same binary:
// nums::matmul of two 4096 x 4096 float64 arrays against one multi-threaded OpenBLAS dgemm.

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <nums/nums.hpp>

namespace nums {
namespace {

constexpr int64_t kN = 4096;
constexpr double kGemmFlops = 2.0 * kN * kN * kN;

std::vector<double> RandomValues(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(rng);
  return v;
}

// matmul on the embedded default cluster (one node, all cores) with the engine's default block
// shapes, re-blocking included. `.sum().item<double>()` waits for every output block without
// gathering the 128 MiB result; the sum adds n^2 flops to the product's 2 n^3. Both cases run
// once untimed first: fresh memory is slow to touch on these machines.
void BM_Matmul4096(benchmark::State& state) {
  Context ctx = init();
  const BlockArray a = from_ndarray(NDArray::from_vector(RandomValues(kN * kN, 1), {kN, kN}));
  const BlockArray b = from_ndarray(NDArray::from_vector(RandomValues(kN * kN, 2), {kN, kN}));
  benchmark::DoNotOptimize(matmul(a, b).sum().item<double>());  // warm-up
  for (auto _ : state) {
    benchmark::DoNotOptimize(matmul(a, b).sum().item<double>());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(kGemmFlops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("blocks " + shape_str(a.block_shape()) + ", cores " +
                 std::to_string(ctx.num_cores()));
}
BENCHMARK(BM_Matmul4096)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// The reference: one cblas_dgemm with OpenBLAS on every core, into a C that already exists.
// matmul on 4 embedded nodes with 1024 x 1024 blocks (64 partial products and their sum trees,
// all placed by LSHS). `plan+submit %` is the share of the wall time spent in the matmul call
// itself, which builds the block graph, runs the placement search and submits the tasks.
void BM_Matmul4096FourNodes(benchmark::State& state) {
  Context ctx = init({.nodes = 4});
  const Shape blocks{1024, 1024};
  const BlockArray a =
      from_ndarray(NDArray::from_vector(RandomValues(kN * kN, 1), {kN, kN}), blocks);
  const BlockArray b =
      from_ndarray(NDArray::from_vector(RandomValues(kN * kN, 2), {kN, kN}), blocks);
  benchmark::DoNotOptimize(matmul(a, b).sum().item<double>());  // warm-up
  double submit_seconds = 0, total_seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    BlockArray c = matmul(a, b);
    const auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(c.sum().item<double>());
    const auto t2 = std::chrono::steady_clock::now();
    submit_seconds += std::chrono::duration<double>(t1 - t0).count();
    total_seconds += std::chrono::duration<double>(t2 - t0).count();
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(kGemmFlops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["plan+submit %"] = 100.0 * submit_seconds / total_seconds;
}
BENCHMARK(BM_Matmul4096FourNodes)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_Dgemm4096(benchmark::State& state) {
  const std::vector<double> a = RandomValues(kN * kN, 1), b = RandomValues(kN * kN, 2);
  std::vector<double> c(static_cast<size_t>(kN * kN));
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  openblas_set_num_threads(threads);
  auto gemm = [&] {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0, a.data(), kN, b.data(),
                kN, 0.0, c.data(), kN);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  };
  gemm();  // warm-up
  for (auto _ : state) gemm();
  // Back to what the nums kernels set: one OpenBLAS thread per calling node thread.
  openblas_set_num_threads(1);
  state.counters["FLOP/s"] =
      benchmark::Counter(kGemmFlops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("threads " + std::to_string(threads));
}
BENCHMARK(BM_Dgemm4096)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// x.T() of 2,000,000 x 32 float64 (512 MB, the engine's default blocks of rows: each block
// transposed where it lives) against one memcpy of the same bytes, and matmul(X.T(), X) against
// one cblas_dsyrk over X (the product it computes).
constexpr int64_t kRows = 2'000'000, kCols = 32;

void BM_TransposeTall(benchmark::State& state) {
  Context ctx = init();
  const BlockArray x = random::Generator(ctx, 1).normal({kRows, kCols});
  x.wait();
  x.T().wait();  // untimed: touches the memory the result will reuse
  for (auto _ : state) x.T().wait();
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 8);
  state.counters["block_rows"] = static_cast<double>(x.block_shape()[0]);
}
BENCHMARK(BM_TransposeTall)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

void BM_MemcpyTall(benchmark::State& state) {
  std::vector<double> a = RandomValues(kRows * kCols, 2), b(a.size());
  std::memcpy(b.data(), a.data(), a.size() * sizeof(double));
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), a.size() * sizeof(double));
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 8);
}
BENCHMARK(BM_MemcpyTall)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// An elementwise op reading a transposed operand in place (`x.T() + 1`: one fused pass, no
// transpose made) against the same op on x itself (`x + 1`, the floor: one read, one write), on
// the tall x above and on a square 4096 x 4096 one (arg 1). With fusion off (arg 2 = 0, through
// NUMS_FUSE=0) the transpose is made first, as before transposes were read in place.
void ElementwiseOfTranspose(benchmark::State& state, bool transposed) {
  setenv("NUMS_FUSE", state.range(1) != 0 ? "1" : "0", 1);
  Context ctx = init();
  unsetenv("NUMS_FUSE");
  const bool square = state.range(0) == 1;
  const BlockArray x =
      random::Generator(ctx, 1).normal(square ? Shape{4096, 4096} : Shape{kRows, kCols});
  x.wait();
  auto run = [&] { (transposed ? x.T() + 1 : x + 1).wait(); };
  run();  // untimed: touches the memory the result will reuse
  for (auto _ : state) run();
  state.SetBytesProcessed(state.iterations() * x.size() * 8);
  state.SetLabel("blocks " + shape_str(x.block_shape()));
}
void BM_TransposePlusOne(benchmark::State& state) { ElementwiseOfTranspose(state, true); }
void BM_PlusOne(benchmark::State& state) { ElementwiseOfTranspose(state, false); }
BENCHMARK(BM_TransposePlusOne)
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK(BM_PlusOne)
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);

void BM_MatmulXtX(benchmark::State& state) {
  Context ctx = init();
  const BlockArray x = random::Generator(ctx, 1).normal({kRows, kCols});
  x.wait();
  matmul(x.T(), x).wait();
  for (auto _ : state) matmul(x.T(), x).wait();
}
BENCHMARK(BM_MatmulXtX)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

void BM_DsyrkXtX(benchmark::State& state) {
  const std::vector<double> a = RandomValues(kRows * kCols, 3);
  std::vector<double> c(kCols * kCols);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, kCols, kRows, 1.0, a.data(), kCols, 0.0,
              c.data(), kCols);
  for (auto _ : state) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, kCols, kRows, 1.0, a.data(), kCols, 0.0,
                c.data(), kCols);
    benchmark::DoNotOptimize(c.data());
  }
}
BENCHMARK(BM_DsyrkXtX)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// The floor on every core: OpenBLAS runs a syrk this narrow on one thread whatever its setting,
// so each core takes one call over its share of the rows, and the partial products are added.
void BM_DsyrkXtXAllCores(benchmark::State& state) {
  const std::vector<double> a = RandomValues(kRows * kCols, 3);
  const auto cores = static_cast<int64_t>(std::max(1U, std::thread::hardware_concurrency()));
  std::vector<std::vector<double>> parts(static_cast<size_t>(cores),
                                         std::vector<double>(kCols * kCols));
  std::vector<double> c(kCols * kCols);
  auto run = [&] {
    std::vector<std::thread> threads;
    for (int64_t t = 0; t < cores; ++t) {
      threads.emplace_back([&, t] {
        const int64_t r0 = kRows * t / cores, r1 = kRows * (t + 1) / cores;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, kCols, static_cast<int>(r1 - r0), 1.0,
                    a.data() + r0 * kCols, kCols, 0.0, parts[static_cast<size_t>(t)].data(), kCols);
      });
    }
    for (auto& th : threads) th.join();
    std::fill(c.begin(), c.end(), 0.0);
    for (const auto& p : parts) {
      for (size_t i = 0; i < c.size(); ++i) c[i] += p[i];
    }
    benchmark::DoNotOptimize(c.data());
  };
  run();
  for (auto _ : state) run();
  state.SetLabel("threads " + std::to_string(cores));
}
BENCHMARK(BM_DsyrkXtXAllCores)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace
}  // namespace nums

BENCHMARK_MAIN();
