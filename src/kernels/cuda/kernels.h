#pragma once
// The registration functions of each file of src/kernels/cuda/ (RegisterCudaKernels calls them).

#include <span>
#include <string_view>
#include <vector>

#include "engine/kernel_registry.h"

namespace nums::kernels::cuda {

void RegisterElementwiseKernels(engine::KernelRegistry& registry);
void RegisterReduceKernels(engine::KernelRegistry& registry);
void RegisterLinalgKernels(engine::KernelRegistry& registry);
void RegisterRandomKernels(engine::KernelRegistry& registry);
void RegisterLapackKernels(engine::KernelRegistry& registry);
void RegisterGlmKernels(engine::KernelRegistry& registry);

/// Whether array.tensordot's CUDA kernel takes these operands as they are stored: a's free axes
/// then its contracted ones (or the reverse), and likewise for b (linalg.cu).
bool TensordotLayoutFits(const engine::Shape& a, const engine::Shape& b,
                         const std::vector<int64_t>& axes_a, const std::vector<int64_t>& axes_b);

/// Whether linalg.qr's CUDA kernel takes blocks of these dtypes and shapes: one float dtype, and
/// sizes within cuSOLVER's 32-bit ints (lapack.cu).
bool QrTakes(std::span<const DType> dtypes, std::span<const engine::Shape> shapes);

/// Whether the CUDA kernel `name` among linalg.cholesky, linalg.right_div_lower_t and
/// linalg.sub_matmul_nt takes blocks of these dtypes and shapes: its input count, one float
/// dtype, 2-d blocks of matching shapes within 32-bit sizes; what fails the CPU's checks as well
/// is refused, so its error is the CPU's (lapack.cu).
bool CholeskyTileTakes(std::string_view name, std::span<const DType> dtypes,
                       std::span<const engine::Shape> shapes);

/// Whether glm.newton_terms' CUDA kernel takes these inputs and scalars: float64 X (n x d) and y
/// (n, or n x 2 with weights) within cuBLAS's 32-bit ints, a known family and a fitting
/// coefficient count; what fails the CPU's checks as well is refused, so its error is the CPU's
/// (glm.cu).
bool NewtonTermsTakes(std::span<const DType> dtypes, std::span<const engine::Shape> shapes,
                      std::span<const engine::Scalar> scalars);

}  // namespace nums::kernels::cuda
