// The GLM kernel alone ("glm.newton_terms" on one 2,000,000 x 32 float64 row block, all cores)
// against its hardware floor measured in the same binary: one streaming read of X, and one
// cblas_dsyrk over X on all cores. The floor is the larger of the two. Newton
// iterations need the Hessian and the loss (IRLS too: it reports the loss each iteration); L-BFGS
// the loss and gradient; the Hessian without the loss shows what the loss costs.

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "engine/kernel_registry.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/glm_ops.h"

namespace {

using nums::engine::Block;
using nums::engine::KernelContext;
using nums::engine::Scalar;

constexpr int64_t kRows = 2'000'000;
constexpr int64_t kCols = 32;

struct Data {
  nums::engine::KernelRegistry registry;
  Block x = Block::Allocate(nums::DType::kFloat64, {kRows, kCols});
  Block y = Block::Allocate(nums::DType::kFloat64, {kRows});
  std::vector<double> coef = std::vector<double>(kCols + 1);
  tbb::task_arena arena{static_cast<int>(std::thread::hardware_concurrency())};
  Data() {
    nums::kernels::RegisterCpuKernels(registry);
    uint64_t s = 42;  // a fixed LCG: values in [-1, 1), labels from a noisy linear rule
    auto next = [&s] {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      return static_cast<double>(s >> 11) * 0x1.0p-53 * 2 - 1;
    };
    double* px = x.data<double>();
    for (int64_t i = 0; i < kRows * kCols; ++i) px[i] = next();
    for (int64_t j = 0; j <= kCols; ++j) coef[static_cast<size_t>(j)] = 0.1 * next();
    for (int64_t r = 0; r < kRows; ++r) {
      double eta = 0;
      for (int64_t j = 0; j < kCols; ++j) eta += px[r * kCols + j];
      y.data<double>()[r] = eta + next() > 0 ? 1.0 : 0.0;
    }
  }
};

Data& Get() {
  static Data d;
  return d;
}

// One call of glm.newton_terms (logistic) on the whole block, inside an arena of all cores.
void Terms(benchmark::State& state, bool hessian, bool loss) {
  auto& d = Get();
  const auto* fn = d.registry.Find("glm.newton_terms", nums::engine::Device::kCpu);
  std::vector<Block> inputs{d.x, d.y};
  std::vector<Scalar> scalars{int64_t{static_cast<int64_t>(nums::kernels::GlmFamily::kLogistic)},
                              d.coef, true, hessian, loss};
  KernelContext ctx{inputs, scalars, 1, 0, nullptr, {}};
  for (auto _ : state) {
    d.arena.execute([&] { benchmark::DoNotOptimize((*fn)(ctx)); });
  }
  state.SetBytesProcessed(state.iterations() * kRows * (kCols + 1) * 8);
}

void BM_NewtonTerms(benchmark::State& state) { Terms(state, true, true); }
void BM_HessianWithoutLoss(benchmark::State& state) { Terms(state, true, false); }
void BM_LbfgsTerms(benchmark::State& state) { Terms(state, false, true); }

// Floor 1: one streaming read of X on all cores (eight partial sums a thread, so that the adds
// do not wait on each other and the loop runs at the memory's rate).
void BM_FloorReadX(benchmark::State& state) {
  auto& d = Get();
  const double* px = d.x.data<double>();
  for (auto _ : state) {
    const double sum = d.arena.execute([&] {
      return tbb::parallel_reduce(
          tbb::blocked_range<int64_t>(0, kRows * kCols / 8, 1 << 14), 0.0,
          [&](const tbb::blocked_range<int64_t>& r, double s) {
            double acc[8] = {};
            for (int64_t i = r.begin(); i < r.end(); ++i) {
              for (int k = 0; k < 8; ++k) acc[k] += px[i * 8 + k];
            }
            for (double a : acc) s += a;
            return s;
          },
          [](double a, double b) { return a + b; });
    });
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * kRows * kCols * 8);
}

// Floor 2: X^T X by dsyrk over X at full width: OpenBLAS threads a syrk this narrow (32 x 32) on
// one core only, so each core runs one dsyrk over its share of the rows.
void BM_FloorDsyrkX(benchmark::State& state) {
  auto& d = Get();
  const int parts = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<std::vector<double>> c(static_cast<size_t>(parts),
                                     std::vector<double>(kCols * kCols));
  for (auto _ : state) {
    d.arena.execute([&] {
      tbb::parallel_for(0, parts, [&](int k) {
        const int64_t b = kRows * k / parts, e = kRows * (k + 1) / parts;
        // Row-major n x d is the column-major d x n matrix A; C = A A^T.
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, kCols, static_cast<int>(e - b), 1.0,
                    d.x.data<double>() + b * kCols, kCols, 0.0, c[static_cast<size_t>(k)].data(),
                    kCols);
      });
    });
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kRows * kCols * (kCols + 1),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

BENCHMARK(BM_FloorReadX)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_FloorDsyrkX)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_NewtonTerms)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_HessianWithoutLoss)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_LbfgsTerms)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

}  // namespace

BENCHMARK_MAIN();
