#pragma once
// The registration functions of each file of src/kernels/cuda/ (RegisterCudaKernels calls them).

#include <vector>

#include "engine/kernel_registry.h"

namespace nums::kernels::cuda {

void RegisterElementwiseKernels(engine::KernelRegistry& registry);
void RegisterReduceKernels(engine::KernelRegistry& registry);
void RegisterLinalgKernels(engine::KernelRegistry& registry);
void RegisterRandomKernels(engine::KernelRegistry& registry);

/// Whether array.tensordot's CUDA kernel takes these operands as they are stored: a's free axes
/// then its contracted ones (or the reverse), and likewise for b (linalg.cu).
bool TensordotLayoutFits(const engine::Shape& a, const engine::Shape& b,
                         const std::vector<int64_t>& axes_a, const std::vector<int64_t>& axes_b);

}  // namespace nums::kernels::cuda
