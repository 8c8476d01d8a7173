#include "engine/device_rates.h"

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "engine/memory_pool.h"
#include "nums/dtype.hpp"

namespace nums::engine {
namespace {

using Clock = std::chrono::steady_clock;

const Clock::duration kPhase =
    std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kPhaseSeconds));

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Calls `step` once untimed (first touch, library loading), then until kPhase has passed, at
// least once; returns the timed calls per second.
double CallsPerSecond(const std::function<void()>& step) {
  step();
  const Clock::time_point start = Clock::now();
  int64_t calls = 0;
  Clock::time_point now;
  do {
    step();
    ++calls;
    now = Clock::now();
  } while (now - start < kPhase);
  return static_cast<double>(calls) / std::max(Seconds(now - start), 1e-9);
}

// A float64 host block with values in [0, 1): no kernel meets a NaN or a denormal.
Block HostValues(Shape shape, const std::shared_ptr<MemoryPool>& pool) {
  Block b = Block::Allocate(DType::kFloat64, std::move(shape), pool);
  double* p = b.data<double>();
  for (int64_t i = 0; i < b.size(); ++i) p[i] = static_cast<double>(i % 1021) / 1021.0;
  return b;
}

// A kernel call as a node makes it: inputs and scalars in order, the pool current on the thread.
void Call(const KernelFn& fn, const std::vector<Block>& inputs, const std::vector<Scalar>& scalars,
          const std::shared_ptr<MemoryPool>& pool, GpuServices* gpu = nullptr) {
  KernelContext ctx{inputs, scalars, 1, 0, pool.get(), {}};
  ctx.gpu = gpu;
  MemoryPool::Scope scope(pool);
  (void)fn(ctx);
}

// "array.tensordot" scalars for the matrix product a @ b: a's axis 1 against b's axis 0.
std::vector<Scalar> MatmulScalars() { return {std::vector<int64_t>{1}, std::vector<int64_t>{0}}; }
// "array.astype" scalars: the dtype code to convert to.
std::vector<Scalar> AstypeScalars(DType to) { return {static_cast<int64_t>(to)}; }

double GemmFlops(int64_t n) { return 2.0 * static_cast<double>(n) * static_cast<double>(n * n); }

// `threads` GEMMs at once, one per thread as a node runs one task per thread: each calls the
// kernel once untimed, then until the phase ends. The rate is the timed flops over the span
// from the first timed call's start to the last one's end.
double ConcurrentGemmFlops(const KernelFn& gemm, tbb::task_arena& arena, int64_t threads,
                           const std::shared_ptr<MemoryPool>& pool) {
  const int64_t n = kCpuGemmSize;
  const std::vector<Block> inputs{HostValues({n, n}, pool), HostValues({n, n}, pool)};
  const std::vector<Scalar> scalars = MatmulScalars();
  std::mutex mu;  // guards first, last, calls, failed
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
  int64_t calls = 0;
  bool failed = false;
  const Clock::time_point until = Clock::now() + kPhase;
  arena.execute([&] {
    tbb::task_group group;
    for (int64_t t = 0; t < threads; ++t) {
      group.run([&] {
        try {
          Call(gemm, inputs, scalars, pool);
          const Clock::time_point start = Clock::now();
          int64_t mine = 0;
          Clock::time_point now;
          do {
            Call(gemm, inputs, scalars, pool);
            ++mine;
            now = Clock::now();
          } while (now < until);
          std::lock_guard lock(mu);
          first = std::min(first, start);
          last = std::max(last, now);
          calls += mine;
        } catch (...) {  // a kernel that refuses reads as not measured
          std::lock_guard lock(mu);
          failed = true;
        }
      });
    }
    group.wait();
  });
  if (failed || calls == 0) return 0;
  return static_cast<double>(calls) * GemmFlops(n) / std::max(Seconds(last - first), 1e-9);
}

}  // namespace

DeviceRates MeasureCpuRates(const KernelRegistry& registry, int64_t threads) {
  DeviceRates r;
  threads = std::max<int64_t>(1, threads);
  std::shared_ptr<MemoryPool> pool =
      std::make_shared<HostPool>("device rates (host)", PhysicalMemoryBytes());
  // An arena like a node executor's, so that a kernel's parallel loops use `threads` threads;
  // its workers are not named as a node's are (tests count those).
  tbb::task_arena arena(static_cast<int>(threads), 1);
  if (const KernelFn* gemm = registry.Find("array.tensordot", Device::kCpu)) {
    try {
      r.cpu_flops = ConcurrentGemmFlops(*gemm, arena, threads, pool);
    } catch (...) {  // out of memory for the inputs: not measured
    }
  }
  if (const KernelFn* astype = registry.Find("array.astype", Device::kCpu)) {
    try {
      // One elementwise task over a whole block, its loop spread over the arena's threads.
      const std::vector<Block> in{HostValues({kStreamBytes / 8}, pool)};
      const std::vector<Scalar> scalars = AstypeScalars(DType::kFloat32);
      double per_s = 0;
      arena.execute([&] { per_s = CallsPerSecond([&] { Call(*astype, in, scalars, pool); }); });
      r.cpu_bytes_per_s = per_s * static_cast<double>(kStreamBytes + kStreamBytes / 2);
    } catch (...) {
    }
  }
  return r;
}

DeviceRates MeasureGpuRates(const KernelRegistry& registry, const GpuInfo& gpu) {
  DeviceRates r;
  std::shared_ptr<MemoryPool> host;
  std::shared_ptr<MemoryPool> device;
  GpuServices* services = nullptr;
  Block a, b;
  try {
    host = std::make_shared<HostPool>("device rates (host)", PhysicalMemoryBytes());
    device = MakeGpuPool("device rates (gpu " + std::to_string(gpu.ordinal) + ")", gpu.ordinal,
                         gpu.memory_bytes);
    services = ServicesOf(gpu.ordinal);
    a = HostValues({kGpuGemmSize, kGpuGemmSize}, host);
    b = HostValues({kGpuGemmSize, kGpuGemmSize}, host);
  } catch (...) {  // no such GPU, or no memory for the inputs: nothing measured
    return r;
  }
  try {
    // A round trip as a task's staged inputs and a reader's staged outputs make it.
    r.link_bytes_per_s = 2.0 * static_cast<double>(a.nbytes()) * CallsPerSecond([&] {
                           const Block on_device = ToDevice(a, device);
                           (void)ToHost(on_device, host);
                         });
  } catch (...) {
  }
  if (const KernelFn* gemm = registry.Find("array.tensordot", Device::kCuda)) {
    try {
      const std::vector<Block> in{ToDevice(a, device), ToDevice(b, device)};
      const std::vector<Scalar> scalars = MatmulScalars();
      r.gpu_flops = GemmFlops(kGpuGemmSize) *
                    CallsPerSecond([&] { Call(*gemm, in, scalars, device, services); });
    } catch (...) {
    }
  }
  if (const KernelFn* astype = registry.Find("array.astype", Device::kCuda)) {
    try {
      // Device memory as the pool hands it out: the bytes moved do not depend on its values,
      // and filling it from the host would take longer than the measurement.
      const std::vector<Block> in{Block::Allocate(DType::kFloat64, {kGpuStreamBytes / 8}, device)};
      const std::vector<Scalar> scalars = AstypeScalars(DType::kFloat32);
      r.gpu_bytes_per_s = static_cast<double>(kGpuStreamBytes + kGpuStreamBytes / 2) *
                          CallsPerSecond([&] { Call(*astype, in, scalars, device, services); });
    } catch (...) {
    }
  }
  return r;
}

DeviceRates MeasureNodeRates(const KernelRegistry& registry, int64_t threads,
                             const std::vector<GpuInfo>& gpus) {
  if (gpus.empty()) return {};
  DeviceRates r = MeasureGpuRates(registry, gpus[0]);
  const DeviceRates cpu = MeasureCpuRates(registry, threads);
  r.cpu_flops = cpu.cpu_flops;
  r.cpu_bytes_per_s = cpu.cpu_bytes_per_s;
  return r;
}

}  // namespace nums::engine
