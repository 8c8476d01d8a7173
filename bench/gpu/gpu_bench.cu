// The CUDA kernels of the array layer against what the GPU does without nums, on one GPU, each
// pair in this binary:
//   Matmul/Blocked    float64 N x N (N = 16384) as a 2 x 2 grid of blocks: per output block two
//                     array.tensordot partial products and one array.binary add (NumS's tree)
//   Matmul/Cublas     one cublasDgemm of the whole N x N product
//   XTimesYPlus1/Nums x * y + 1 on 2^28 float64 through two array.binary kernels
//   CopyD2D           cudaMemcpy device to device of 2^28 float64 (bandwidth reference)
//   ToDevice/Nums     engine::ToDevice of a 1 GiB host block (staged through pinned memory)
//   ToDevice/Pinned   one cudaMemcpy of 1 GiB from pinned memory
//   Tsqr/Nums         R of 16,000,000 x 64 float64 by TSQR's kernels: linalg.qr of each of 8 row
//                     blocks, then of their 8 R's stacked
//   Geqrf/Cusolver    one cusolverDnDgeqrf of the whole 16,000,000 x 64 matrix (column-major)
//   NewtonTerms/Nums  the heavy part of a logistic-regression Newton iteration: glm.newton_terms
//                     (loss, gradient, Hessian with intercept) over 16,000,000 x 64 float64 as 8
//                     row blocks on the GPU
//   Syrk/Cublas       one cublasDsyrk of X^T X over the same X (the floor's compute half; its
//                     read half is X's bytes at CopyD2D's bandwidth)
//   NewtonTerms/Cpu   the same kernel's CPU twin on the same X in host memory, on every core
// Bytes counted are those read plus written; FLOP are 2 N^3 per product.

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <tbb/parallel_for.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/cuda/cuda_libs.cuh"
#include "engine/cuda/gpu_services.cuh"
#include "engine/gpu.h"
#include "engine/kernel_registry.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cuda/register.h"
#include "src/kernels/glm_ops.h"
#include "src/kernels/ops.h"

namespace nums {
namespace {

using engine::Block;
using engine::MemoryPool;
using engine::Scalar;

constexpr int kGpu = 0;

__global__ void SinFill(double* p, int64_t n, double seed) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = sin(static_cast<double>(i) + seed);
  }
}

struct Gpu {
  engine::KernelRegistry registry;
  std::shared_ptr<MemoryPool> pool;
  engine::GpuServices* services = nullptr;
};

// The GPU, its pool and the CUDA kernels; null without a GPU.
Gpu* TheGpu() {
  static Gpu* gpu = []() -> Gpu* {
    if (engine::DiscoverGpus().empty()) return nullptr;
    auto* g = new Gpu;
    kernels::RegisterCudaKernels(g->registry);
    g->pool =
        engine::MakeGpuPool("gpu-bench", kGpu, engine::DiscoverGpus()[0].memory_bytes * 7 / 8);
    g->services = engine::ServicesOf(kGpu);
    return g;
  }();
  return gpu;
}

bool Skip(benchmark::State& state) {
  if (TheGpu() != nullptr) return false;
  state.SkipWithError(("no GPU: " + engine::NoGpuReason()).c_str());
  return true;
}

Block Run(const std::string& name, std::vector<Block> inputs, std::vector<Scalar> scalars) {
  Gpu& g = *TheGpu();
  MemoryPool::Scope scope(g.pool);
  engine::KernelContext ctx;
  ctx.inputs = inputs;
  ctx.scalars = scalars;
  ctx.pool = g.pool.get();
  ctx.gpu = g.services;
  return (*g.registry.Find(name, engine::Device::kCuda))(ctx)[0];
}

Block Filled(const engine::Shape& shape, double seed) {
  Block b = Block::Allocate(DType::kFloat64, shape, TheGpu()->pool);
  engine::UseDevice(kGpu);
  SinFill<<<4096, 256>>>(b.data<double>(), b.size(), seed);
  engine::CheckCuda(cudaDeviceSynchronize(), "SinFill");
  return b;
}

Scalar Op(kernels::BinaryOp op) { return Scalar(static_cast<int64_t>(op)); }

void SetFlops(benchmark::State& state, double flops) {
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

void BM_Matmul_Blocked(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t n = state.range(0), h = n / 2;
  // C_ij = A_i0 B_0j + A_i1 B_1j over a 2 x 2 grid of h x h blocks.
  std::array<std::array<Block, 2>, 2> a, b;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      a[i][j] = Filled({h, h}, 1.0 + i * 2 + j);
      b[i][j] = Filled({h, h}, 5.0 + i * 2 + j);
    }
  }
  const std::vector<Scalar> axes = {Scalar(std::vector<int64_t>{1}),
                                    Scalar(std::vector<int64_t>{0})};
  for (auto _ : state) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        Block p0 = Run("array.tensordot", {a[i][0], b[0][j]}, axes);
        Block p1 = Run("array.tensordot", {a[i][1], b[1][j]}, axes);
        Block c = Run("array.binary", {p0, p1}, {Op(kernels::BinaryOp::kAdd)});
        benchmark::DoNotOptimize(c.raw());
      }
    }
  }
  SetFlops(state, 2.0 * n * n * n);
}

void BM_Matmul_Cublas(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t n = state.range(0);
  Block a = Filled({n, n}, 1.0), b = Filled({n, n}, 5.0);
  Block c = Block::Allocate(DType::kFloat64, {n, n}, TheGpu()->pool);
  engine::GpuServices& s = *TheGpu()->services;
  const double one = 1, zero = 0;
  const int ni = static_cast<int>(n);
  for (auto _ : state) {
    engine::CheckCublas(
        engine::Cublas().Dgemm(s.blas, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, b.data<double>(),
                               ni, a.data<double>(), ni, &zero, c.data<double>(), ni),
        "cublasDgemm");
    engine::CheckCuda(cudaStreamSynchronize(s.compute), "cudaStreamSynchronize");
  }
  SetFlops(state, 2.0 * n * n * n);
}

void BM_XTimesYPlus1_Nums(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t n = int64_t{1} << state.range(0);
  Block x = Filled({n}, 1.0), y = Filled({n}, 2.0);
  Block one = Block::Allocate(DType::kFloat64, {}, TheGpu()->pool);
  const double v = 1.0;
  engine::CheckCuda(cudaMemcpy(one.raw(), &v, sizeof v, cudaMemcpyHostToDevice), "cudaMemcpy");
  for (auto _ : state) {
    Block t = Run("array.binary", {x, y}, {Op(kernels::BinaryOp::kMul)});
    Block z = Run("array.binary", {t, one}, {Op(kernels::BinaryOp::kAdd)});
    benchmark::DoNotOptimize(z.raw());
  }
  // x * y reads two arrays and writes one; + 1 reads one and writes one.
  state.SetBytesProcessed(state.iterations() * 5 * n * 8);
}

void BM_CopyD2D(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t n = int64_t{1} << state.range(0);
  Block x = Filled({n}, 1.0);
  Block y = Block::Allocate(DType::kFloat64, {n}, TheGpu()->pool);
  engine::GpuServices& s = *TheGpu()->services;
  for (auto _ : state) {
    engine::CheckCuda(cudaMemcpyAsync(y.raw(), x.raw(), static_cast<size_t>(x.nbytes()),
                                      cudaMemcpyDeviceToDevice, s.compute),
                      "cudaMemcpyAsync");
    engine::CheckCuda(cudaStreamSynchronize(s.compute), "cudaStreamSynchronize");
  }
  state.SetBytesProcessed(state.iterations() * 2 * n * 8);
}

void BM_ToDevice_Nums(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t n = state.range(0) << 20;  // bytes
  Block host = Block::Allocate(DType::kFloat64, {n / 8}, engine::DriverPool());
  std::memset(host.raw(), 1, static_cast<size_t>(host.nbytes()));
  for (auto _ : state) {
    Block d = engine::ToDevice(host, TheGpu()->pool);
    benchmark::DoNotOptimize(d.raw());
  }
  state.SetBytesProcessed(state.iterations() * n);
}

void BM_ToDevice_Pinned(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t n = state.range(0) << 20;
  void* pinned = nullptr;
  engine::UseDevice(kGpu);
  engine::CheckCuda(cudaMallocHost(&pinned, static_cast<size_t>(n)), "cudaMallocHost");
  std::memset(pinned, 1, static_cast<size_t>(n));
  Block d = Block::Allocate(DType::kUInt8, {n}, TheGpu()->pool);
  for (auto _ : state) {
    engine::CheckCuda(cudaMemcpy(d.raw(), pinned, static_cast<size_t>(n), cudaMemcpyHostToDevice),
                      "cudaMemcpy");
  }
  engine::CheckCuda(cudaFreeHost(pinned), "cudaFreeHost");
  state.SetBytesProcessed(state.iterations() * n);
}

void BM_Tsqr_Nums(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t rows = state.range(0), cols = 64, parts = 8;
  std::vector<Block> x;
  for (int64_t p = 0; p < parts; ++p) x.push_back(Filled({rows / parts, cols}, 1.0 + p));
  const std::vector<Scalar> r_only = {Scalar(false), Scalar(true)};
  for (auto _ : state) {
    std::vector<Block> rs;
    for (const Block& b : x) rs.push_back(Run("linalg.qr", {b}, r_only));
    Block r = Run("linalg.qr", rs, r_only);
    benchmark::DoNotOptimize(r.raw());
  }
  SetFlops(state, 2.0 * rows * cols * cols - 2.0 / 3.0 * cols * cols * cols);
}

void BM_Geqrf_Cusolver(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t rows = state.range(0), cols = 64;
  Block a = Filled({rows * cols}, 1.0);
  Block tau = Block::Allocate(DType::kFloat64, {cols}, TheGpu()->pool);
  Block info = Block::Allocate(DType::kInt32, {1}, TheGpu()->pool);
  engine::GpuServices& s = *TheGpu()->services;
  const int m = static_cast<int>(rows), n = static_cast<int>(cols);
  int lwork = 0;
  engine::CheckCusolver(
      engine::Cusolver().Dgeqrf_bufferSize(s.solver, m, n, a.data<double>(), m, &lwork),
      "geqrf_bufferSize");
  Block work = Block::Allocate(DType::kFloat64, {std::max(lwork, 1)}, TheGpu()->pool);
  for (auto _ : state) {
    // geqrf overwrites its input: the whole matrix is refilled each time, outside the timing.
    state.PauseTiming();
    SinFill<<<4096, 256>>>(a.data<double>(), a.size(), 1.0);
    engine::CheckCuda(cudaDeviceSynchronize(), "SinFill");
    state.ResumeTiming();
    engine::CheckCusolver(
        engine::Cusolver().Dgeqrf(s.solver, m, n, a.data<double>(), m, tau.data<double>(),
                                  work.data<double>(), lwork, info.data<int32_t>()),
        "geqrf");
    engine::CheckCuda(cudaStreamSynchronize(s.compute), "cudaStreamSynchronize");
  }
  SetFlops(state, 2.0 * rows * cols * cols - 2.0 / 3.0 * cols * cols * cols);
}

// GLM: 16,000,000 x 64 as 8 row blocks, logistic labels 0/1, small coefficients and intercept.
constexpr int64_t kGlmCols = 64, kGlmParts = 8;

__global__ void LabelFill(double* p, int64_t n, double seed) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = sin(static_cast<double>(i) * 0.37 + seed) > 0 ? 1.0 : 0.0;
  }
}

std::vector<Scalar> NewtonScalars() {
  std::vector<double> coef(static_cast<size_t>(kGlmCols + 1));
  for (size_t j = 0; j < coef.size(); ++j) coef[j] = 0.01 * std::sin(1.0 + static_cast<double>(j));
  return {Scalar(static_cast<int64_t>(kernels::GlmFamily::kLogistic)), Scalar(std::move(coef)),
          Scalar(true), Scalar(true), Scalar(true)};
}

void BM_NewtonTerms_Nums(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t rows = state.range(0) / kGlmParts;
  std::vector<Block> x, y;
  for (int64_t p = 0; p < kGlmParts; ++p) {
    x.push_back(Filled({rows, kGlmCols}, 1.0 + static_cast<double>(p)));
    Block labels = Block::Allocate(DType::kFloat64, {rows}, TheGpu()->pool);
    LabelFill<<<4096, 256>>>(labels.data<double>(), rows, static_cast<double>(p));
    engine::CheckCuda(cudaDeviceSynchronize(), "LabelFill");
    y.push_back(labels);
  }
  const std::vector<Scalar> scalars = NewtonScalars();
  for (auto _ : state) {
    for (int64_t p = 0; p < kGlmParts; ++p) {
      Block terms =
          Run("glm.newton_terms", {x[static_cast<size_t>(p)], y[static_cast<size_t>(p)]}, scalars);
      benchmark::DoNotOptimize(terms.raw());
    }
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * kGlmCols * 8);
}

void BM_Syrk_Cublas(benchmark::State& state) {
  if (Skip(state)) return;
  const int64_t rows = state.range(0);
  // Row-major X (rows x 64) is column-major X^T (64 x rows): X^T X = A A^T with A = X^T.
  Block x = Filled({rows, kGlmCols}, 1.0);
  Block c = Block::Allocate(DType::kFloat64, {kGlmCols, kGlmCols}, TheGpu()->pool);
  engine::GpuServices& s = *TheGpu()->services;
  const double one = 1.0, zero = 0.0;
  for (auto _ : state) {
    engine::CheckCublas(engine::Cublas().Dsyrk(s.blas, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N,
                                               static_cast<int>(kGlmCols), static_cast<int>(rows),
                                               &one, x.data<double>(), static_cast<int>(kGlmCols),
                                               &zero, c.data<double>(), static_cast<int>(kGlmCols)),
                        "Dsyrk");
    engine::CheckCuda(cudaStreamSynchronize(s.compute), "cudaStreamSynchronize");
  }
  state.SetBytesProcessed(state.iterations() * rows * kGlmCols * 8);
  SetFlops(state, static_cast<double>(rows) * kGlmCols * (kGlmCols + 1));
}

// The CPU twin on host blocks (every core, as a node's task would use them); no GPU needed.
void BM_NewtonTerms_Cpu(benchmark::State& state) {
  static const engine::KernelRegistry* cpu = [] {
    auto* r = new engine::KernelRegistry;
    kernels::RegisterGlmKernels(*r);
    return r;
  }();
  const int64_t rows = state.range(0) / kGlmParts;
  std::vector<Block> x, y;
  for (int64_t p = 0; p < kGlmParts; ++p) {
    Block xb = Block::Allocate(DType::kFloat64, {rows, kGlmCols});
    Block yb = Block::Allocate(DType::kFloat64, {rows});
    double* px = xb.data<double>();
    double* py = yb.data<double>();
    const double seed = 1.0 + static_cast<double>(p);
    tbb::parallel_for(int64_t{0}, rows, [&](int64_t r) {
      for (int64_t j = 0; j < kGlmCols; ++j) {
        px[r * kGlmCols + j] = std::sin(static_cast<double>(r * kGlmCols + j) + seed);
      }
      py[r] = std::sin(static_cast<double>(r) * 0.37 + seed - 1.0) > 0 ? 1.0 : 0.0;
    });
    x.push_back(xb);
    y.push_back(yb);
  }
  const std::vector<Scalar> scalars = NewtonScalars();
  for (auto _ : state) {
    for (int64_t p = 0; p < kGlmParts; ++p) {
      engine::KernelContext ctx;
      const std::vector<Block> in = {x[static_cast<size_t>(p)], y[static_cast<size_t>(p)]};
      ctx.inputs = in;
      ctx.scalars = scalars;
      Block terms = (*cpu->Find("glm.newton_terms", engine::Device::kCpu))(ctx)[0];
      benchmark::DoNotOptimize(terms.raw());
    }
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * kGlmCols * 8);
}

BENCHMARK(BM_Matmul_Blocked)->Arg(16384)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Matmul_Cublas)->Arg(16384)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_XTimesYPlus1_Nums)->Arg(28)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CopyD2D)->Arg(28)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ToDevice_Nums)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ToDevice_Pinned)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Tsqr_Nums)->Arg(16'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Geqrf_Cusolver)->Arg(16'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NewtonTerms_Nums)->Arg(16'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Syrk_Cublas)->Arg(16'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_NewtonTerms_Cpu)->Arg(16'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nums

BENCHMARK_MAIN();
