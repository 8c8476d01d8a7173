#pragma once
// The per-device services behind engine/gpu.h, for CUDA code (.cu files) only. cuBLAS and
// cuSOLVER are called through Cublas() and Cusolver() (they are loaded, not linked).

#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "engine/cuda/cuda_libs.cuh"
#include "engine/gpu.h"
#include "nums/errors.hpp"

namespace nums::engine {

struct GpuServices {
  int ordinal = 0;
  cudaStream_t compute = nullptr;  ///< kernels run here, in task order per thread
  cudaStream_t copy = nullptr;     ///< host <-> device copies, beside the compute stream
  cublasHandle_t blas = nullptr;
  cusolverDnHandle_t solver = nullptr;
  /// The handles and streams are shared by every task on the device: one task at a time uses
  /// them (kernels on one stream run in order anyway).
  std::mutex mu;
  /// Pinned host memory for staging copies, grown on demand; guarded by staging_mu.
  std::mutex staging_mu;
  void* staging = nullptr;
  int64_t staging_bytes = 0;
};

/// Throws ClusterError naming `what` and the CUDA error when `e` is not cudaSuccess.
void CheckCuda(cudaError_t e, const char* what);
void CheckCublas(cublasStatus_t s, const char* what);
void CheckCusolver(cusolverStatus_t s, const char* what);

/// Makes GPU `ordinal` the calling thread's current device.
void UseDevice(int ordinal);

}  // namespace nums::engine
