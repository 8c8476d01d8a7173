// gpu_testing.h with the CUDA runtime.

#include <cuda_runtime.h>

#include "engine/cuda/gpu_services.cuh"
#include "tests/gpu/gpu_testing.h"

namespace nums::testing {
void PoisonDevice(engine::Block& b) {
  if (b.nbytes() == 0) return;
  engine::UseDevice(b.buffer()->pool()->ordinal());
  engine::CheckCuda(cudaMemset(b.raw(), 0xFF, static_cast<size_t>(b.nbytes())), "cudaMemset");
  engine::CheckCuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

}  // namespace nums::testing
