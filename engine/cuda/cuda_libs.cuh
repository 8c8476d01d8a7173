#pragma once
// cuBLAS and cuSOLVER, loaded when a GPU is first used rather than linked: loading them costs a
// process about 280 MB of resident memory (their relocations), which every nums process, most
// of them on machines without a GPU, would otherwise pay at start.

#include <cublas_v2.h>
#include <cusolverDn.h>

namespace nums::engine {

struct CublasApi {
  decltype(&cublasCreate_v2) Create;
  decltype(&cublasDestroy_v2) Destroy;
  decltype(&cublasSetStream_v2) SetStream;
  decltype(&cublasSetMathMode) SetMathMode;
  decltype(&cublasGetStatusName) GetStatusName;
  decltype(&cublasDgemm_v2) Dgemm;
  decltype(&cublasSgemm_v2) Sgemm;
  decltype(&cublasDsyrk_v2) Dsyrk;
  decltype(&cublasSsyrk_v2) Ssyrk;
  decltype(&cublasDgeam) Dgeam;
  decltype(&cublasSgeam) Sgeam;
  decltype(&cublasDtrsm_v2) Dtrsm;
  decltype(&cublasStrsm_v2) Strsm;
};

struct CusolverApi {
  decltype(&cusolverDnCreate) Create;
  decltype(&cusolverDnDestroy) Destroy;
  decltype(&cusolverDnSetStream) SetStream;
  decltype(&cusolverDnDgeqrf_bufferSize) Dgeqrf_bufferSize;
  decltype(&cusolverDnDgeqrf) Dgeqrf;
  decltype(&cusolverDnSgeqrf_bufferSize) Sgeqrf_bufferSize;
  decltype(&cusolverDnSgeqrf) Sgeqrf;
  decltype(&cusolverDnDorgqr_bufferSize) Dorgqr_bufferSize;
  decltype(&cusolverDnDorgqr) Dorgqr;
  decltype(&cusolverDnSorgqr_bufferSize) Sorgqr_bufferSize;
  decltype(&cusolverDnSorgqr) Sorgqr;
  decltype(&cusolverDnDpotrf_bufferSize) Dpotrf_bufferSize;
  decltype(&cusolverDnDpotrf) Dpotrf;
  decltype(&cusolverDnSpotrf_bufferSize) Spotrf_bufferSize;
  decltype(&cusolverDnSpotrf) Spotrf;
  decltype(&cusolverDnDpotrs) Dpotrs;
  decltype(&cusolverDnSpotrs) Spotrs;
};

/// The libraries' entry points, loaded once (thread-safe); throws ClusterError naming the library
/// and where it was looked for when it cannot be loaded or lacks a function.
const CublasApi& Cublas();
const CusolverApi& Cusolver();

}  // namespace nums::engine
