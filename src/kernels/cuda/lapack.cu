// linalg.qr on a GPU: QR of blocks stacked vertically (the steps of TSQR), by cuSOLVER's geqrf
// and orgqr, with the CPU kernel's scalars, outputs and sign convention (lapack.cc). And the tile
// steps of a tiled Cholesky: linalg.cholesky (potrf), linalg.right_div_lower_t (trsm) and
// linalg.sub_matmul_nt (gemm), checked on the host as their CPU twins (lapack_args.h).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cuda/cuda_libs.cuh"
#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/kernels.h"
#include "src/kernels/lapack_args.h"

namespace nums::kernels::cuda {
namespace {

using engine::Cublas;
using engine::Cusolver;
using engine::Device;

int AsCusolverInt(int64_t v, const char* what, const char* kernel = "linalg.qr") {
  if (v > INT32_MAX) {
    throw ValueError(std::string(kernel) + ": " + what + " of " + std::to_string(v) +
                     " exceeds cuSOLVER's 32-bit sizes");
  }
  return static_cast<int>(v);
}

// Whether every extent of these shapes fits cuBLAS's and cuSOLVER's 32-bit ints.
bool FitsInt32(std::span<const Shape> shapes) {
  for (const Shape& s : shapes) {
    for (int64_t e : s) {
      if (e > INT32_MAX) return false;
    }
  }
  return true;
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

// Row-major (i, j) above the diagonal of an n x n block set to 0.
template <typename T>
__global__ void ZeroStrictUpper(T* a, int64_t n) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n * n;
       e += int64_t{gridDim.x} * blockDim.x) {
    if (e % n > e / n) a[e] = T{0};
  }
}

// The float and double entry points, chosen by T.
template <typename T>
struct Solver;
template <>
struct Solver<double> {
  static auto gemm() { return Cublas().Dgemm; }
  static auto trsm() { return Cublas().Dtrsm; }
  static auto potrf_size() { return Cusolver().Dpotrf_bufferSize; }
  static auto potrf() { return Cusolver().Dpotrf; }
  static auto geam() { return Cublas().Dgeam; }
  static auto geqrf_size() { return Cusolver().Dgeqrf_bufferSize; }
  static auto geqrf() { return Cusolver().Dgeqrf; }
  static auto orgqr_size() { return Cusolver().Dorgqr_bufferSize; }
  static auto orgqr() { return Cusolver().Dorgqr; }
};
template <>
struct Solver<float> {
  static auto gemm() { return Cublas().Sgemm; }
  static auto trsm() { return Cublas().Strsm; }
  static auto potrf_size() { return Cusolver().Spotrf_bufferSize; }
  static auto potrf() { return Cusolver().Spotrf; }
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

// Row-major L (n x n) with A = L L^T, from A's lower triangle. A row-major n x n block read
// column-major (leading dimension n) is its transpose: the buffer holds B = A^T, and A's lower
// triangle is B's upper one. potrf with CUBLAS_FILL_MODE_UPPER reads just that triangle, so it
// factors the symmetric matrix A_sym^T = A_sym, as U^T U with U upper, written over B's upper
// triangle. Read back row-major, that triangle is U^T = L, lower, with L L^T = U^T U = A_sym;
// the other triangle (row-major above the diagonal) still holds A's and is zeroed. The leading
// minors of B and A are the same, so potrf's info names the minor LAPACK's potrf("L") would.
template <typename T>
std::vector<Block> CholeskyTile(const KernelContext& ctx, int64_t offset) {
  const char* kName = "linalg.cholesky";
  const Block& in = ctx.inputs[0];
  const int64_t n = in.shape()[0];
  const int nn = AsCusolverInt(n, "order", kName);
  Launch launch(ctx, kName);
  Block l = AllocateOnDevice(in.dtype(), {n, n}, kName);
  if (n == 0) {
    launch.Finish();
    return {l};
  }
  auto& gpu = launch.gpu();
  T* pl = l.data<T>();
  engine::CheckCuda(cudaMemcpyAsync(pl, in.data<T>(), static_cast<size_t>(in.nbytes()),
                                    cudaMemcpyDeviceToDevice, launch.stream()),
                    "linalg.cholesky: cudaMemcpyAsync");
  engine::CheckCusolver(Cusolver().SetStream(gpu.solver, launch.stream()),
                        "linalg.cholesky: cusolverDnSetStream");
  int lwork = 0;
  engine::CheckCusolver(
      Solver<T>::potrf_size()(gpu.solver, CUBLAS_FILL_MODE_UPPER, nn, pl, nn, &lwork),
      "linalg.cholesky: potrf_bufferSize");
  Block work = AllocateScratch(in.dtype(), std::max(lwork, 1), kName);
  Block info = AllocateScratch(DType::kInt32, 1, kName);
  engine::CheckCusolver(Solver<T>::potrf()(gpu.solver, CUBLAS_FILL_MODE_UPPER, nn, pl, nn,
                                           work.data<T>(), lwork, info.data<int32_t>()),
                        "linalg.cholesky: potrf");
  ZeroStrictUpper<T><<<GridFor(n * n), kThreads, 0, launch.stream()>>>(pl, n);
  launch.Check();
  int32_t host_info = 0;
  engine::CheckCuda(cudaMemcpyAsync(&host_info, info.data<int32_t>(), sizeof(host_info),
                                    cudaMemcpyDeviceToHost, launch.stream()),
                    "linalg.cholesky: cudaMemcpyAsync");
  launch.Finish();  // host_info is read only after the stream is done
  if (host_info > 0) ThrowNotPositiveDefinite(offset + host_info);
  if (host_info < 0) {
    throw ClusterError("linalg.cholesky: potrf rejected its argument " +
                       std::to_string(-host_info));
  }
  return {l};
}

// Y = X L^{-T} (X r x n, L n x n lower, row-major), i.e. Y L^T = X. Column-major, the buffers of
// X and Y hold X^T and Y^T (n x r, leading dimension n) and L's holds L^T, upper: transposed, the
// system is L Y^T = X^T, a left solve with op(L^T) = L, so side left, fill upper (of L^T, which
// is L's lower triangle: its upper one is not read), op T, over a copy of X.
template <typename T>
std::vector<Block> RightDivLowerTTile(const KernelContext& ctx) {
  const char* kName = "linalg.right_div_lower_t";
  const Block& x = ctx.inputs[0];
  const Block& l = ctx.inputs[1];
  const int r = AsCusolverInt(x.shape()[0], "rows", kName);
  const int n = AsCusolverInt(x.shape()[1], "columns", kName);
  Launch launch(ctx, kName);
  Block out = AllocateOnDevice(x.dtype(), x.shape(), kName);
  if (x.size() > 0) {
    engine::CheckCuda(cudaMemcpyAsync(out.data<T>(), x.data<T>(), static_cast<size_t>(x.nbytes()),
                                      cudaMemcpyDeviceToDevice, launch.stream()),
                      "linalg.right_div_lower_t: cudaMemcpyAsync");
    auto& gpu = launch.gpu();
    engine::CheckCublas(Cublas().SetStream(gpu.blas, launch.stream()),
                        "linalg.right_div_lower_t: cublasSetStream");
    const T one = 1;
    engine::CheckCublas(
        Solver<T>::trsm()(gpu.blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T,
                          CUBLAS_DIAG_NON_UNIT, n, r, &one, l.data<T>(), n, out.data<T>(), n),
        "linalg.right_div_lower_t: cublas trsm");
  }
  launch.Finish();
  return {out};
}

// C - A B^T (C r x c, A r x k, B c x k, row-major). Column-major the buffers hold C^T (c x r),
// A^T (k x r) and B^T (k x c), each with its row-major row length as leading dimension, and
// (C - A B^T)^T = C^T - B A^T: gemm with op T on B's buffer and op N on A's, alpha -1 and
// beta 1, over a copy of C.
template <typename T>
std::vector<Block> SubMatmulNTTile(const KernelContext& ctx) {
  const char* kName = "linalg.sub_matmul_nt";
  const Block& c = ctx.inputs[0];
  const Block& a = ctx.inputs[1];
  const Block& b = ctx.inputs[2];
  const int r = AsCusolverInt(c.shape()[0], "rows", kName);
  const int cc = AsCusolverInt(c.shape()[1], "columns", kName);
  const int k = AsCusolverInt(a.shape()[1], "inner size", kName);
  Launch launch(ctx, kName);
  Block out = AllocateOnDevice(c.dtype(), c.shape(), kName);
  if (c.size() > 0) {
    engine::CheckCuda(cudaMemcpyAsync(out.data<T>(), c.data<T>(), static_cast<size_t>(c.nbytes()),
                                      cudaMemcpyDeviceToDevice, launch.stream()),
                      "linalg.sub_matmul_nt: cudaMemcpyAsync");
    if (k > 0) {
      auto& gpu = launch.gpu();
      engine::CheckCublas(Cublas().SetStream(gpu.blas, launch.stream()),
                          "linalg.sub_matmul_nt: cublasSetStream");
      const T minus_one = -1, one = 1;
      engine::CheckCublas(
          Solver<T>::gemm()(gpu.blas, CUBLAS_OP_T, CUBLAS_OP_N, cc, r, k, &minus_one, b.data<T>(),
                            k, a.data<T>(), k, &one, out.data<T>(), cc),
          "linalg.sub_matmul_nt: cublas gemm");
    }
  }
  launch.Finish();
  return {out};
}

// The checks both devices make, in the CPU kernels' order (dtypes, then the body's own), then
// the device's: sizes within 32 bits, inputs in device memory.
template <typename Check, typename Body>
void RegisterTileKernel(engine::KernelRegistry& registry, const char* name, Check check,
                        Body body) {
  registry.Register(name, Device::kCuda, [name, check, body](const KernelContext& ctx) {
    CheckFloatInputs(ctx, name);
    const auto args = check(ctx);
    CheckOnDevice(ctx, name);
    return DispatchFloat(ctx.inputs[0].dtype(), name, [&](auto t) { return body(t, ctx, args); });
  });
}

}  // namespace

bool CholeskyTileTakes(std::string_view name, std::span<const DType> dtypes,
                       std::span<const Shape> shapes) {
  const size_t count = name == "linalg.cholesky"            ? 1
                       : name == "linalg.right_div_lower_t" ? 2
                       : name == "linalg.sub_matmul_nt"     ? 3
                                                            : 0;
  if (count == 0 || dtypes.size() != count || shapes.size() != count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (dtypes[i] != dtypes[0] || shapes[i].size() != 2) return false;
  }
  if (dtypes[0] != DType::kFloat32 && dtypes[0] != DType::kFloat64) return false;
  if (!FitsInt32(shapes)) return false;
  // What the CPU refuses as well: refused here, so its error is the CPU's.
  const Shape& s0 = shapes[0];
  if (count == 1) return s0[0] == s0[1];
  if (count == 2) return shapes[1][0] == shapes[1][1] && s0[1] == shapes[1][0];
  return shapes[1][0] == s0[0] && shapes[2][0] == s0[1] && shapes[1][1] == shapes[2][1];
}

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

  // inputs [A (n x n)]; scalars [] or [offset]: L with A = L L^T from A's lower triangle, as the
  // CPU kernel; ValueError naming the leading minor offset + the tile's when A is not positive
  // definite (potrf's info, read back after the stream is done).
  RegisterTileKernel(
      registry, "linalg.cholesky", [](const KernelContext& ctx) { return CheckCholeskyArgs(ctx); },
      [](auto t, const KernelContext& ctx, int64_t offset) {
        return CholeskyTile<decltype(t)>(ctx, offset);
      });
  // inputs [X (r x n), L (n x n lower)]: X L^{-T}.
  RegisterTileKernel(
      registry, "linalg.right_div_lower_t",
      [](const KernelContext& ctx) {
        CheckRightDivLowerTArgs(ctx);
        return 0;
      },
      [](auto t, const KernelContext& ctx, int) { return RightDivLowerTTile<decltype(t)>(ctx); });
  // inputs [C (r x c), A (r x k), B (c x k)]: C - A B^T.
  RegisterTileKernel(
      registry, "linalg.sub_matmul_nt",
      [](const KernelContext& ctx) {
        CheckSubMatmulNTArgs(ctx);
        return 0;
      },
      [](auto t, const KernelContext& ctx, int) { return SubMatmulNTTile<decltype(t)>(ctx); });
}

}  // namespace nums::kernels::cuda
