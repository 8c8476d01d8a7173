#include "engine/cuda/cuda_libs.cuh"

#include <dlfcn.h>

#include <string>

#include "nums/errors.hpp"

namespace nums::engine {
namespace {

// By soname first (LD_LIBRARY_PATH, the loader's cache), then in the toolkit this was built with.
void* Open(const std::string& soname) {
  if (void* h = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  const std::string first = dlerror();
  const std::string path = std::string(NUMS_CUDA_LIBRARY_DIR) + "/" + soname;
  if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  throw ClusterError("cannot load " + soname + " (" + first + "; " + dlerror() + ")");
}

template <typename F>
void Bind(void* lib, const char* lib_name, const char* symbol, F& out) {
  void* f = dlsym(lib, symbol);
  if (f == nullptr) throw ClusterError(std::string(lib_name) + " has no " + symbol);
  out = reinterpret_cast<F>(f);
}

}  // namespace

const CublasApi& Cublas() {
  static const CublasApi api = [] {
    const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* lib = Open(name);
    CublasApi a{};
    const char* n = name.c_str();
    Bind(lib, n, "cublasCreate_v2", a.Create);
    Bind(lib, n, "cublasDestroy_v2", a.Destroy);
    Bind(lib, n, "cublasSetStream_v2", a.SetStream);
    Bind(lib, n, "cublasSetMathMode", a.SetMathMode);
    Bind(lib, n, "cublasGetStatusName", a.GetStatusName);
    Bind(lib, n, "cublasDgemm_v2", a.Dgemm);
    Bind(lib, n, "cublasSgemm_v2", a.Sgemm);
    Bind(lib, n, "cublasDsyrk_v2", a.Dsyrk);
    Bind(lib, n, "cublasSsyrk_v2", a.Ssyrk);
    Bind(lib, n, "cublasDgeam", a.Dgeam);
    Bind(lib, n, "cublasSgeam", a.Sgeam);
    Bind(lib, n, "cublasDtrsm_v2", a.Dtrsm);
    Bind(lib, n, "cublasStrsm_v2", a.Strsm);
    return a;
  }();
  return api;
}

const CusolverApi& Cusolver() {
  static const CusolverApi api = [] {
    const std::string name = "libcusolver.so." + std::to_string(CUSOLVER_VER_MAJOR);
    void* lib = Open(name);
    CusolverApi a{};
    const char* n = name.c_str();
    Bind(lib, n, "cusolverDnCreate", a.Create);
    Bind(lib, n, "cusolverDnDestroy", a.Destroy);
    Bind(lib, n, "cusolverDnSetStream", a.SetStream);
    Bind(lib, n, "cusolverDnDgeqrf_bufferSize", a.Dgeqrf_bufferSize);
    Bind(lib, n, "cusolverDnDgeqrf", a.Dgeqrf);
    Bind(lib, n, "cusolverDnSgeqrf_bufferSize", a.Sgeqrf_bufferSize);
    Bind(lib, n, "cusolverDnSgeqrf", a.Sgeqrf);
    Bind(lib, n, "cusolverDnDorgqr_bufferSize", a.Dorgqr_bufferSize);
    Bind(lib, n, "cusolverDnDorgqr", a.Dorgqr);
    Bind(lib, n, "cusolverDnSorgqr_bufferSize", a.Sorgqr_bufferSize);
    Bind(lib, n, "cusolverDnSorgqr", a.Sorgqr);
    Bind(lib, n, "cusolverDnDpotrf_bufferSize", a.Dpotrf_bufferSize);
    Bind(lib, n, "cusolverDnDpotrf", a.Dpotrf);
    Bind(lib, n, "cusolverDnSpotrf_bufferSize", a.Spotrf_bufferSize);
    Bind(lib, n, "cusolverDnSpotrf", a.Spotrf);
    Bind(lib, n, "cusolverDnDpotrs", a.Dpotrs);
    Bind(lib, n, "cusolverDnSpotrs", a.Spotrs);
    return a;
  }();
  return api;
}

}  // namespace nums::engine
