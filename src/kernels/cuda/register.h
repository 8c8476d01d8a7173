#pragma once
// The CUDA kernels of the array layer, without CUDA headers: what the node's registry setup calls
// when the project is built with NUMS_WITH_CUDA.

#include <string_view>
#include <vector>

#include "engine/kernel_registry.h"

namespace nums::kernels {

/// Registers every CUDA kernel under the name of its CPU twin, with Device::kCuda. The kernels
/// take the same inputs and scalars and return the same outputs; they compute float32 and
/// float64 (other dtypes are a DTypeError naming kernel and dtype). Registering needs no GPU.
void RegisterCudaKernels(engine::KernelRegistry& registry);

/// The names RegisterCudaKernels registers, in order (for tests that pair them with CPU ones).
const std::vector<std::string_view>& CudaKernelNames();

}  // namespace nums::kernels
