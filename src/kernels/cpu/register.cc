#include "src/kernels/cpu/kernels.h"

namespace nums::kernels {

void RegisterCpuKernels(engine::KernelRegistry& registry) {
  RegisterElementwiseKernels(registry);
  RegisterReduceKernels(registry);
  RegisterCreationKernels(registry);
  RegisterGatherKernels(registry);
  RegisterLinalgKernels(registry);
}

}  // namespace nums::kernels
