#pragma once
// Registration of the CPU kernels of the array layer into the engine's registry. Each kernel's
// task scalars are documented where it is registered.

#include "engine/kernel_registry.h"

namespace nums::kernels {

void RegisterElementwiseKernels(engine::KernelRegistry& registry);
void RegisterReduceKernels(engine::KernelRegistry& registry);
void RegisterCreationKernels(engine::KernelRegistry& registry);
void RegisterGatherKernels(engine::KernelRegistry& registry);
void RegisterRandomKernels(engine::KernelRegistry& registry);
void RegisterLapackKernels(engine::KernelRegistry& registry);
void RegisterGlmKernels(engine::KernelRegistry& registry);
void RegisterSoftmaxKernels(engine::KernelRegistry& registry);
void RegisterShapeKernels(engine::KernelRegistry& registry);
void RegisterLinalgKernels(engine::KernelRegistry& registry);
void RegisterScanKernels(engine::KernelRegistry& registry);
void RegisterDiagonalKernels(engine::KernelRegistry& registry);
void RegisterSortKernels(engine::KernelRegistry& registry);
void RegisterDenseLinalgKernels(engine::KernelRegistry& registry);
void RegisterStatisticsKernels(engine::KernelRegistry& registry);
void RegisterFusedKernels(engine::KernelRegistry& registry);

/// Calls f(U{}) with U the unsigned integer of `t`'s item size: kernels that only move elements
/// are built once per width instead of once per dtype (or per pair of dtypes).
template <typename F>
decltype(auto) DispatchBits(DType t, F&& f) {
  switch (itemsize(t)) {
    case 1:
      return f(uint8_t{});
    case 2:
      return f(uint16_t{});
    case 4:
      return f(uint32_t{});
    default:
      return f(uint64_t{});
  }
}

/// `in` converted to `to` (the same block when the dtype already matches).
engine::Block AstypeBlock(const engine::Block& in, DType to);

/// Copies a strided region of `in` (start, step per axis; `count` elements per axis) into `out`
/// at `dst_start`, converting the dtype. Both blocks have the same rank.
void CopyRegion(const engine::Block& in, engine::Block& out, const int64_t* src_start,
                const int64_t* src_step, const int64_t* count, const int64_t* dst_start);

/// Every CPU kernel of the array layer.
void RegisterCpuKernels(engine::KernelRegistry& registry);

}  // namespace nums::kernels
