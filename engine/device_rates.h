#pragma once
// DeviceRates: how fast a node's devices compute and move bytes, measured once when the node
// starts, for placement that chooses CPU or GPU per block step. Measured with the node's own
// kernels (the registry's "array.tensordot" and "array.astype", as its tasks would run them)
// and the engine's staged host<->device copies.

#include <cstdint>
#include <vector>

#include "engine/gpu.h"
#include "engine/kernel_registry.h"

namespace nums::engine {

/// Rates of one node; 0 means not measured (no GPU, no such kernel, or the measurement failed).
struct DeviceRates {
  double cpu_flops = 0;         ///< float64 GEMM flop/s on all the node's compute threads at once
  double cpu_bytes_per_s = 0;   ///< streaming bytes/s (read + written) of one elementwise task
  double gpu_flops = 0;         ///< float64 GEMM flop/s on the node's first GPU
  double gpu_bytes_per_s = 0;   ///< streaming bytes/s (read + written) in that GPU's memory
  double link_bytes_per_s = 0;  ///< host<->GPU copy bytes/s through the pinned staging path
  friend bool operator==(const DeviceRates&, const DeviceRates&) = default;
};

/// The CPU part, on `threads` threads (an arena of its own, like a node's executor): `threads`
/// float64 GEMMs of kCpuGemmSize at once through the registry's "array.tensordot" CPU kernel,
/// and "array.astype" float64 -> float32 of a kStreamBytes block for the bandwidth (a block as
/// the engine makes them, which a large last-level cache may hold: no DRAM figure). Takes about
/// 2 * kPhaseSeconds plus the first touch of ~24 MiB. A rate whose kernel the registry lacks, or
/// whose kernel throws, is 0; never throws.
DeviceRates MeasureCpuRates(const KernelRegistry& registry, int64_t threads);

/// The GPU part for `gpu`: float64 GEMM of kGpuGemmSize through the registry's CUDA
/// "array.tensordot", CUDA "array.astype" of a kGpuStreamBytes device block, and ToDevice /
/// ToHost round trips of an 8 MiB block for the link, each for about kPhase after one untimed
/// call (the first loads cuBLAS). Uses pools of its own, freed when it returns. The CPU fields
/// stay 0; a part that fails is 0; never throws.
DeviceRates MeasureGpuRates(const KernelRegistry& registry, const GpuInfo& gpu);

/// What a node with `threads` compute threads that uses `gpus` reports: all zeros, at no cost,
/// without a GPU (so CPU-only nodes start as fast as ever); both parts, on its first GPU,
/// otherwise.
DeviceRates MeasureNodeRates(const KernelRegistry& registry, int64_t threads,
                             const std::vector<GpuInfo>& gpus);

/// Sizes and times of the measurement.
inline constexpr int64_t kCpuGemmSize = 256;           ///< n of the n x n x n CPU GEMM
inline constexpr int64_t kGpuGemmSize = 1024;          ///< n of the GPU GEMM (an 8 MiB block)
inline constexpr int64_t kStreamBytes = 16 << 20;      ///< float64 bytes the CPU astype reads
inline constexpr int64_t kGpuStreamBytes = 128 << 20;  ///< beyond a GPU's L2 (50 MB on H100)
inline constexpr double kPhaseSeconds = 0.02;          ///< timed calls of each rate, at least one

}  // namespace nums::engine
