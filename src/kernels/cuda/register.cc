// RegisterCudaKernels: every CUDA kernel of the array layer, under its CPU twin's name.

#include "src/kernels/cuda/register.h"
#include "src/kernels/cuda/kernels.h"

namespace nums::kernels {

void RegisterCudaKernels(engine::KernelRegistry& registry) {
  cuda::RegisterElementwiseKernels(registry);
  cuda::RegisterReduceKernels(registry);
  cuda::RegisterLinalgKernels(registry);
  cuda::RegisterRandomKernels(registry);
}

const std::vector<std::string_view>& CudaKernelNames() {
  static const std::vector<std::string_view> names = {
      "array.binary", "array.unary",     "array.where",     "array.astype",
      "array.reduce", "array.argreduce", "array.tensordot", "array.random"};
  return names;
}

}  // namespace nums::kernels
