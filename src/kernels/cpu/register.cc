#include "src/kernels/cpu/kernels.h"

namespace nums::kernels {

void RegisterCpuKernels(engine::KernelRegistry& registry) {
  RegisterElementwiseKernels(registry);
  RegisterReduceKernels(registry);
  RegisterCreationKernels(registry);
  RegisterGatherKernels(registry);
  RegisterRandomKernels(registry);
  RegisterLapackKernels(registry);
  RegisterGlmKernels(registry);
  RegisterShapeKernels(registry);
  RegisterLinalgKernels(registry);
}

}  // namespace nums::kernels
