#pragma once
// The registration functions of each file of src/kernels/cuda/ (RegisterCudaKernels calls them).

#include "engine/kernel_registry.h"

namespace nums::kernels::cuda {

void RegisterElementwiseKernels(engine::KernelRegistry& registry);
void RegisterReduceKernels(engine::KernelRegistry& registry);
void RegisterLinalgKernels(engine::KernelRegistry& registry);
void RegisterRandomKernels(engine::KernelRegistry& registry);

}  // namespace nums::kernels::cuda
