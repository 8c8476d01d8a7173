#pragma once
// Registration of the CPU kernels of the array layer into the engine's registry. Each kernel's
// task scalars are documented where it is registered.

#include "engine/kernel_registry.h"
#include "src/kernels/ops.h"

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
void RegisterComplexKernels(engine::KernelRegistry& registry);

/// complex128 blocks' elementwise ops and sums (complex.cc): what array.binary, array.unary and
/// array.reduce run for a complex128 operand. DTypeError for an op NumPy has no complex loop for.
engine::Block ComplexBinary(BinaryOp op, const engine::Block& a, const engine::Block& b,
                            const engine::Shape& shape);
engine::Block ComplexUnary(UnaryOp op, const engine::Block& x);
engine::Block ComplexReduce(ReduceOp op, const engine::Block& x, const std::vector<bool>& reduced,
                            bool keepdims);

/// `in` converted to `to` (the same block when the dtype already matches).
engine::Block AstypeBlock(const engine::Block& in, DType to);

/// Copies a strided region of `in` (start, step per axis; `count` elements per axis) into `out`
/// at `dst_start`, converting the dtype. Both blocks have the same rank.
void CopyRegion(const engine::Block& in, engine::Block& out, const int64_t* src_start,
                const int64_t* src_step, const int64_t* count, const int64_t* dst_start);

/// Every CPU kernel of the array layer.
void RegisterCpuKernels(engine::KernelRegistry& registry);

}  // namespace nums::kernels
