#pragma once
// The CUDA kernels of the array layer, without CUDA headers: what the node's registry setup calls
// when the project is built with NUMS_WITH_CUDA.

#include <span>
#include <string_view>
#include <vector>

#include "engine/kernel_registry.h"
#include "engine/task.h"

namespace nums::kernels {

/// Registers every CUDA kernel under the name of its CPU twin, with Device::kCuda. The kernels
/// take the same inputs and scalars and return the same outputs; they compute float32 and
/// float64 (other dtypes are a DTypeError naming kernel and dtype). Registering needs no GPU.
void RegisterCudaKernels(engine::KernelRegistry& registry);

/// The names RegisterCudaKernels registers, in order (for tests that pair them with CPU ones).
const std::vector<std::string_view>& CudaKernelNames();

/// Whether the CUDA kernel `name` computes a task with inputs of these dtypes and shapes and these
/// scalars, rather than refusing it (DTypeError for a dtype it lacks, ValueError for a case it
/// does not cover: bit ops, poisson draws, a tensordot that needs a permuted copy, ...). For a
/// node that runs the CPU twin instead of a task its GPU would refuse. Inputs that are wrong for
/// either device (shapes that do not broadcast) count as accepted: the CPU would refuse them too.
bool CudaKernelAccepts(std::string_view name, std::span<const DType> dtypes,
                       std::span<const engine::Shape> shapes,
                       std::span<const engine::Scalar> scalars);

}  // namespace nums::kernels
