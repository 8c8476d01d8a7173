#include <cblas.h>

#include "src/kernels/cpu/kernels.h"

namespace nums::kernels {

void RegisterCpuKernels(engine::KernelRegistry& registry) {
  // Kernels run on a node's TBB threads, so BLAS and LAPACK must not start threads of their own.
  // This is OpenBLAS's process-wide setting: driver-side BLAS calls run on one thread as well.
  openblas_set_num_threads(1);
  RegisterElementwiseKernels(registry);
  RegisterReduceKernels(registry);
  RegisterCreationKernels(registry);
  RegisterGatherKernels(registry);
  RegisterRandomKernels(registry);
  RegisterLapackKernels(registry);
  RegisterGlmKernels(registry);
  RegisterSoftmaxKernels(registry);
  RegisterShapeKernels(registry);
  RegisterLinalgKernels(registry);
  RegisterScanKernels(registry);
  RegisterDiagonalKernels(registry);
  RegisterSortKernels(registry);
  RegisterDenseLinalgKernels(registry);
  RegisterStatisticsKernels(registry);
  RegisterFusedKernels(registry);
  RegisterComplexKernels(registry);
}

}  // namespace nums::kernels
