// linalg.qr on a GPU: QR of blocks stacked vertically (the steps of TSQR), by cuSOLVER's geqrf
// and orgqr, with the CPU kernel's scalars, outputs and sign convention (lapack.cc).

#include <string>
#include <vector>

#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/kernels.h"

namespace nums::kernels::cuda {
namespace {

using engine::Cublas;
using engine::Cusolver;
using engine::Device;

int AsCusolverInt(int64_t v, const char* what) {
  if (v > INT32_MAX) {
    throw ValueError(std::string("linalg.qr: ") + what + " of " + std::to_string(v) +
                     " exceeds cuSOLVER's 32-bit sizes");
  }
  return static_cast<int>(v);
}

// sign[i] = -1 where R's diagonal is negative and positive_diag asks for it, else 1.
template <typename T>
__global__ void SignsKernel(const T* a, int64_t lda, int64_t k, bool positive_diag, T* sign) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < k;
       i += int64_t{gridDim.x} * blockDim.x) {
    sign[i] = positive_diag && a[i + i * lda] < T{0} ? T{-1} : T{1};
  }
}

// R (k x n, row-major) from the upper triangle of the column-major factorization.
template <typename T>
__global__ void ExtractR(const T* a, int64_t lda, int64_t k, int64_t n, const T* sign, T* r) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < k * n;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e / n, j = e - i * n;
    r[e] = j < i ? T{0} : sign[i] * a[i + j * lda];
  }
}

// Q (rows x k, row-major) from the column-major orgqr result, columns signed as R's rows.
template <typename T>
__global__ void ExtractQ(const T* a, int64_t lda, int64_t rows, int64_t k, const T* sign, T* q) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < rows * k;
       e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e / k, j = e - i * k;
    q[e] = sign[j] * a[i + j * lda];
  }
}

// The float and double entry points, chosen by T.
template <typename T>
struct Solver;
template <>
struct Solver<double> {
  static auto geam() { return Cublas().Dgeam; }
  static auto geqrf_size() { return Cusolver().Dgeqrf_bufferSize; }
  static auto geqrf() { return Cusolver().Dgeqrf; }
  static auto orgqr_size() { return Cusolver().Dorgqr_bufferSize; }
  static auto orgqr() { return Cusolver().Dorgqr; }
};
template <>
struct Solver<float> {
  static auto geam() { return Cublas().Sgeam; }
  static auto geqrf_size() { return Cusolver().Sgeqrf_bufferSize; }
  static auto geqrf() { return Cusolver().Sgeqrf; }
  static auto orgqr_size() { return Cusolver().Sorgqr_bufferSize; }
  static auto orgqr() { return Cusolver().Sorgqr; }
};

template <typename T>
std::vector<Block> QrStack(const KernelContext& ctx, const Launch& launch, int64_t rows,
                           int64_t n) {
  const char* kName = "linalg.qr";
  const bool want_q = ctx.scalar<bool>(0);
  const bool positive_diag = ctx.scalar<bool>(1);
  const int64_t k = std::min(rows, n);
  const DType dtype = ctx.inputs[0].dtype();
  Block r = AllocateOnDevice(dtype, {k, n}, kName);
  Block q = want_q ? AllocateOnDevice(dtype, {rows, k}, kName) : Block();
  if (k == 0) return want_q ? std::vector<Block>{q, r} : std::vector<Block>{r};

  const int m = AsCusolverInt(rows, "rows"), nn = AsCusolverInt(n, "columns");
  const int lda = m, kk = static_cast<int>(k);
  Block a = AllocateScratch(dtype, rows * n, kName);
  T* pa = a.data<T>();
  auto& gpu = launch.gpu();
  engine::CheckCublas(Cublas().SetStream(gpu.blas, launch.stream()), "linalg.qr: cublasSetStream");
  engine::CheckCusolver(Cusolver().SetStream(gpu.solver, launch.stream()),
                        "linalg.qr: cusolverDnSetStream");
  // Each row-major block is its transpose read column-major: geam writes that transpose into
  // its rows of the column-major stack.
  const T one = 1, zero = 0;
  int64_t row0 = 0;
  for (const Block& b : ctx.inputs) {
    const int rb = static_cast<int>(b.shape()[0]);
    if (rb > 0) {
      T* dst = pa + row0;
      engine::CheckCublas(Solver<T>::geam()(gpu.blas, CUBLAS_OP_T, CUBLAS_OP_N, rb, nn, &one,
                                            b.data<T>(), nn, &zero, dst, lda, dst, lda),
                          "linalg.qr: cublas geam");
    }
    row0 += rb;
  }
  Block tau = AllocateScratch(dtype, k, kName);
  Block info = AllocateScratch(DType::kInt32, 1, kName);
  int lwork = 0;
  engine::CheckCusolver(Solver<T>::geqrf_size()(gpu.solver, m, nn, pa, lda, &lwork),
                        "linalg.qr: geqrf_bufferSize");
  Block work = AllocateScratch(dtype, std::max(lwork, 1), kName);
  engine::CheckCusolver(Solver<T>::geqrf()(gpu.solver, m, nn, pa, lda, tau.data<T>(),
                                           work.data<T>(), lwork, info.data<int32_t>()),
                        "linalg.qr: geqrf");
  Block sign = AllocateScratch(dtype, k, kName);
  SignsKernel<T>
      <<<GridFor(k), kThreads, 0, launch.stream()>>>(pa, lda, k, positive_diag, sign.data<T>());
  launch.Check();
  ExtractR<T><<<GridFor(k * n), kThreads, 0, launch.stream()>>>(pa, lda, k, n, sign.data<T>(),
                                                                r.data<T>());
  launch.Check();
  if (!want_q) {
    launch.Finish();
    return {r};
  }
  int lwork_q = 0;
  engine::CheckCusolver(
      Solver<T>::orgqr_size()(gpu.solver, m, kk, kk, pa, lda, tau.data<T>(), &lwork_q),
      "linalg.qr: orgqr_bufferSize");
  Block work_q = AllocateScratch(dtype, std::max(lwork_q, 1), kName);
  engine::CheckCusolver(Solver<T>::orgqr()(gpu.solver, m, kk, kk, pa, lda, tau.data<T>(),
                                           work_q.data<T>(), lwork_q, info.data<int32_t>()),
                        "linalg.qr: orgqr");
  ExtractQ<T><<<GridFor(rows * k), kThreads, 0, launch.stream()>>>(pa, lda, rows, k, sign.data<T>(),
                                                                   q.data<T>());
  launch.Finish();
  return {q, r};
}

}  // namespace

bool QrTakes(std::span<const DType> dtypes, std::span<const Shape> shapes) {
  if (dtypes.empty() || (dtypes[0] != DType::kFloat32 && dtypes[0] != DType::kFloat64)) {
    return false;
  }
  int64_t rows = 0;
  for (size_t i = 0; i < dtypes.size(); ++i) {
    if (dtypes[i] != dtypes[0]) return false;
    if (i < shapes.size() && shapes[i].size() == 2) {
      rows += shapes[i][0];
      if (shapes[i][1] > INT32_MAX) return false;
    }
  }
  return rows <= INT32_MAX;  // cuSOLVER's sizes are 32-bit
}

void RegisterLapackKernels(engine::KernelRegistry& registry) {
  // scalars as the CPU kernel's: [want_q, positive_diag]; inputs: the 2-d blocks to stack, all
  // of one float dtype and column count. Outputs {Q (rows x k), R (k x n)}, or {R}.
  registry.Register("linalg.qr", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "linalg.qr";
    CheckOnDevice(ctx, kName);
    if (ctx.inputs.empty()) throw ValueError("linalg.qr: no blocks to stack");
    const DType dtype = ctx.inputs[0].dtype();
    int64_t rows = 0;
    const int64_t n = ctx.inputs[0].ndim() == 2 ? ctx.inputs[0].shape()[1] : -1;
    for (const Block& b : ctx.inputs) {
      if (b.ndim() != 2) {
        throw ShapeError("linalg.qr: expected a 2-d block, got shape " +
                         engine::ShapeToString(b.shape()));
      }
      if (b.shape()[1] != n) {
        throw ShapeError("linalg.qr: blocks of " + std::to_string(b.shape()[1]) + " and " +
                         std::to_string(n) + " columns cannot be stacked");
      }
      if (b.dtype() != dtype) {
        throw DTypeError("linalg.qr: blocks of dtypes " + std::string(dtype_name(b.dtype())) +
                         " and " + std::string(dtype_name(dtype)));
      }
      rows += b.shape()[0];
    }
    return DispatchFloat(dtype, kName, [&](auto t) {
      using T = decltype(t);
      AsCusolverInt(rows, "rows");
      AsCusolverInt(n, "columns");
      Launch launch(ctx, kName);
      return QrStack<T>(ctx, launch, rows, n);
    });
  });
}

}  // namespace nums::kernels::cuda
