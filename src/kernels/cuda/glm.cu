// glm.newton_terms on a GPU: the loss, gradient and Hessian of a generalised linear model summed
// over one row block, packed as the CPU kernel packs them (src/kernels/cpu/glm.cc).
//
// For X (n x d, row-major) with labels y and optional sample weights s, eta = X w + b and
//   v_r = s_r (mu(eta_r) - y_r),  h_r = s_r mu'(eta_r),  loss = sum_r s_r l(y_r, eta_r)
//   g = [X^T v, sum v],  H = [[X^T diag(h) X, X^T h], [h^T X, sum h]]
// (the last row and column only with an intercept). A row-major X is the column-major d x n
// matrix X^T, so cuBLAS sees it with no copy:
//   eta = X w            one GEMM (m = n, n = 1) on X^T transposed;
//   [X^T v, X^T h]       one GEMM of X^T by the n x 2 column-major [v | h];
//   X^T diag(h) X        GEMMs of X^T by (h_r x_r rows)^T, over chunks of rows so the scaled
//                        copy stays small (a GEMM, not a SYRK of sqrt(h_r) x_r: any sign of h).
// The row terms use the CPU's formulas with the device's exp and log1p (within a few ulp of the
// CPU's polynomials); their sums are fixed-shape block reductions, so results are reproducible.

#include <iterator>
#include <limits>

#include "engine/cuda/cuda_libs.cuh"
#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/kernels.h"
#include "src/kernels/glm_args.h"

namespace nums::kernels::cuda {
namespace {

constexpr const char* kName = "glm.newton_terms";
// Thread blocks of the row kernel at most: each leaves one partial sum of (v, h, loss).
constexpr int64_t kRowBlocks = 1024;
// Elements of the scaled copy of X per Hessian GEMM (32 MiB).
constexpr int64_t kScaledElements = int64_t{1} << 22;

// std::max(a, 0.0) as the CPU computes it: NaN stays NaN.
__device__ __forceinline__ double Max0(double a) { return a < 0.0 ? 0.0 : a; }

// One row's terms at t = eta + b: v = mu - y, h = mu' and the loss (GlmFamily's table).
__device__ __forceinline__ void RowTerms(GlmFamily family, double t, double y, double& v, double& h,
                                         double& loss) {
  if (family == GlmFamily::kGaussian) {
    v = t - y;
    h = 1.0;
    loss = 0.5 * v * v;
  } else if (family == GlmFamily::kPoisson) {
    const double mu = exp(t);
    v = mu - y;
    h = mu;
    loss = mu - y * t;
  } else {
    // e = e^-|t|: both sigmoids are 1 / (1 + e) and e / (1 + e) and both softplus terms
    // max(+-t, 0) + log1p(e), so nothing cancels for large |t|. Below -708 e is 0, as on the
    // CPU (whose exponential flushes there), so such rows weigh exactly 0 on both.
    const double nt = -fabs(t);
    const double e = nt < -708.0 ? 0.0 : exp(nt);
    const double inv = 1.0 / (1.0 + e);
    const double big = t >= 0 ? inv : e * inv;    // s(t)
    const double small = t >= 0 ? e * inv : inv;  // s(-t) = 1 - s(t)
    v = (1.0 - y) * big - y * small;
    h = e * inv * inv;
    const double l = log1p(e);
    loss = (1.0 - y) * (Max0(t) + l) + y * (Max0(-t) + l);
  }
}

// Per row r < n: v[r] and (when h is not null) h[r]; block b's sums of v, h and (with_loss) the
// loss go to partials[3b .. 3b + 2]. eta null means X w = 0. Labels are y[r * stride], weights
// sw[r * stride] (null: 1). Launched with kThreads threads a block.
__global__ void RowTermsKernel(GlmFamily family, const double* eta, double intercept,
                               const double* y, const double* sw, int64_t stride, int64_t n,
                               bool with_loss, double* v, double* h, double* partials) {
  __shared__ double smem[3][kThreads];
  double sv = 0, sh = 0, sl = 0;
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < n;
       r += int64_t{gridDim.x} * blockDim.x) {
    double vr, hr, lr;
    RowTerms(family, (eta != nullptr ? eta[r] : 0.0) + intercept, y[r * stride], vr, hr, lr);
    if (sw != nullptr) {
      const double s = sw[r * stride];
      vr *= s;
      hr *= s;
      lr *= s;
    }
    v[r] = vr;
    if (h != nullptr) h[r] = hr;
    sv += vr;
    sh += hr;
    if (with_loss) sl += lr;
  }
  smem[0][threadIdx.x] = sv;
  smem[1][threadIdx.x] = sh;
  smem[2][threadIdx.x] = sl;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      for (int k = 0; k < 3; ++k) smem[k][threadIdx.x] += smem[k][threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x < 3) partials[3 * blockIdx.x + threadIdx.x] = smem[threadIdx.x][0];
}

// totals[k] = sum over b < blocks of partials[3b + k], in order, by one thread each.
__global__ void SumPartialsKernel(const double* partials, int64_t blocks, double* totals) {
  if (threadIdx.x >= 3) return;
  double s = 0;
  for (int64_t b = 0; b < blocks; ++b) s += partials[3 * b + threadIdx.x];
  totals[threadIdx.x] = s;
}

// scaled[i] = h[row] * x[i] over rows*d elements of a row-major block of d columns.
__global__ void ScaleRowsKernel(const double* x, const double* h, int64_t d, int64_t count,
                                double* scaled) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    scaled[i] = h[i / d] * x[i];
  }
}

// The CPU's Pack: out = [loss, g (p), H (p x p row-major, with_hessian)], p = d + intercept.
// g holds X^T v then X^T h (d each); gram is X^T diag(h) X column-major (d x d), read from its
// upper triangle so the result is exactly symmetric; totals are (sum v, sum h, loss).
__global__ void PackKernel(const double* totals, const double* g, const double* gram, int64_t d,
                           int64_t p, int64_t length, double* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < length;
       i += int64_t{gridDim.x} * blockDim.x) {
    double o;
    if (i == 0) {
      o = totals[2];
    } else if (i <= p) {
      const int64_t j = i - 1;
      o = j < d ? g[j] : totals[0];
    } else {
      const int64_t k = i - 1 - p;
      const int64_t a = k / p, b = k - a * p;
      if (a < d && b < d) {
        o = gram[min(a, b) + max(a, b) * d];
      } else if (a < d || b < d) {
        o = g[d + min(a, b)];
      } else {
        o = totals[1];
      }
    }
    out[i] = o;
  }
}

int AsBlasInt(int64_t v, const char* what) {
  if (v > std::numeric_limits<int>::max()) {
    throw ValueError(std::string(kName) + ": " + what + " " + std::to_string(v) +
                     " is too large for cuBLAS (2^31 - 1 at most)");
  }
  return static_cast<int>(v);
}

void Gemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b, int m, int n,
          int k, const double* a, int lda, const double* b, int ldb, double beta, double* c,
          int ldc) {
  const double one = 1;
  engine::CheckCublas(
      engine::Cublas().Dgemm(handle, op_a, op_b, m, n, k, &one, a, lda, b, ldb, &beta, c, ldc),
      "glm.newton_terms: cublasDgemm");
}

std::vector<Block> NewtonTerms(const KernelContext& ctx) {
  const Block& x = ctx.inputs[0];
  const Block& y = ctx.inputs[1];
  // The CPU kernel's checks, in its order and with its errors, before anything touches the GPU.
  const NewtonTermsArgs args = ReadNewtonTermsArgs(ctx);
  const int64_t code = args.family_code;
  const GlmFamily family = args.family();
  const std::vector<double>& coef = *args.coef;
  const bool fit_intercept = args.fit_intercept, with_hessian = args.with_hessian,
             with_loss = args.with_loss;
  const int64_t n = args.n, d = args.d;
  const int64_t p = d + (fit_intercept ? 1 : 0);
  // The CPU finds an unknown family at its first row, so an empty block passes.
  if (n > 0 && (code < 0 || code > static_cast<int64_t>(GlmFamily::kPoisson))) {
    throw ValueError("unknown GLM family " + std::to_string(code));
  }
  const int in = AsBlasInt(n, "rows"), id = AsBlasInt(d, "features");
  CheckOnDevice(ctx, kName);

  Launch launch(ctx, kName);
  cudaStream_t stream = launch.stream();
  const int64_t length = 1 + p + (with_hessian ? p * p : 0);
  Block out = AllocateOnDevice(DType::kFloat64, {length}, kName);
  const bool use_coef = !coef.empty() && d > 0 && n > 0;
  const double intercept = (!coef.empty() && fit_intercept) ? coef[static_cast<size_t>(d)] : 0.0;
  const int64_t blocks = std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, kRowBlocks);
  const int64_t cols = with_hessian ? 2 : 1;  // v, and h when the Hessian is asked for
  // Scratch: coef (d), eta (n), [v | h] (n x cols), partials, totals (3), g (d x cols) and gram
  // (d x d) right after g, each starting on a 256-byte boundary as cuBLAS's fastest paths like.
  const int64_t gram_size = with_hessian ? d * d : 0;
  const int64_t sizes[] = {d, n, n * cols, 3 * blocks, 3, d * cols + gram_size};
  int64_t offsets[std::size(sizes)], total = 0;
  for (size_t k = 0; k < std::size(sizes); ++k) {
    offsets[k] = total;
    total += (sizes[k] + 31) / 32 * 32;
  }
  Block scratch = AllocateScratch(DType::kFloat64, total, kName);
  double* dcoef = scratch.data<double>() + offsets[0];
  double* eta = scratch.data<double>() + offsets[1];
  double* vh = scratch.data<double>() + offsets[2];
  double* partials = scratch.data<double>() + offsets[3];
  double* totals = scratch.data<double>() + offsets[4];
  double* g = scratch.data<double>() + offsets[5];
  double* gram = g + d * cols;

  auto& gpu = launch.gpu();
  engine::CheckCublas(engine::Cublas().SetStream(gpu.blas, stream),
                      "glm.newton_terms: cublasSetStream");
  if (use_coef) {
    engine::CheckCuda(cudaMemcpyAsync(dcoef, coef.data(), static_cast<size_t>(d) * sizeof(double),
                                      cudaMemcpyHostToDevice, stream),
                      "glm.newton_terms: cudaMemcpyAsync");
    // eta (n) = (X^T)^T w with X^T the column-major d x n view of X.
    Gemm(gpu.blas, CUBLAS_OP_T, CUBLAS_OP_N, in, 1, id, x.data<double>(), id, dcoef, id, 0.0, eta,
         std::max(in, 1));
  }
  const double* py = y.data<double>();
  const bool weighted = y.ndim() == 2;
  RowTermsKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      family, use_coef ? eta : nullptr, intercept, py, weighted ? py + 1 : nullptr,
      weighted ? 2 : 1, n, with_loss, vh, with_hessian ? vh + n : nullptr, partials);
  launch.Check();
  SumPartialsKernel<<<1, 32, 0, stream>>>(partials, blocks, totals);
  launch.Check();
  Block scaled;  // h_r x_r for a chunk of rows; freed after the final synchronise
  if (d > 0 && n > 0) {
    // g (d x cols) = X^T [v | h].
    Gemm(gpu.blas, CUBLAS_OP_N, CUBLAS_OP_N, id, static_cast<int>(cols), in, x.data<double>(), id,
         vh, in, 0.0, g, id);
    if (with_hessian) {
      // gram (d x d) = sum over chunks of X_c^T (h_c x_c rows): column-major X^T by its scaled
      // copy transposed.
      const int64_t chunk = std::max<int64_t>(1, std::min(n, kScaledElements / d));
      scaled = AllocateScratch(DType::kFloat64, chunk * d, kName);
      for (int64_t r0 = 0; r0 < n; r0 += chunk) {
        const int64_t rows = std::min(chunk, n - r0);
        const double* xc = x.data<double>() + r0 * d;
        ScaleRowsKernel<<<GridFor(rows * d), kThreads, 0, stream>>>(xc, vh + n + r0, d, rows * d,
                                                                    scaled.data<double>());
        launch.Check();
        Gemm(gpu.blas, CUBLAS_OP_N, CUBLAS_OP_T, id, id, static_cast<int>(rows), xc, id,
             scaled.data<double>(), id, r0 == 0 ? 0.0 : 1.0, gram, id);
      }
    }
  } else if (d > 0) {  // no rows: every sum is 0
    engine::CheckCuda(
        cudaMemsetAsync(g, 0, static_cast<size_t>(d * cols + gram_size) * sizeof(double), stream),
        "glm.newton_terms: cudaMemsetAsync");
  }
  PackKernel<<<GridFor(length), kThreads, 0, stream>>>(totals, g, gram, d, p, length,
                                                       out.data<double>());
  launch.Finish();
  return {out};
}

}  // namespace

void RegisterGlmKernels(engine::KernelRegistry& registry) {
  // The CPU kernel's inputs, scalars and output (src/kernels/cpu/glm.cc): inputs [X_i (n x d
  // float64), y_i (n, or n x 2: labels and sample weights)]; scalars [family, coef (p doubles or
  // empty for zeros), fit_intercept, with_hessian, optionally with_loss]; output [loss, gradient
  // (p), Hessian (p x p row-major, when with_hessian)], p = d + fit_intercept.
  registry.Register("glm.newton_terms", engine::Device::kCuda, NewtonTerms);
}

bool NewtonTermsTakes(std::span<const DType> dtypes, std::span<const Shape> shapes,
                      std::span<const engine::Scalar> scalars) {
  if (dtypes.size() != 2 || shapes.size() != 2) return false;
  if (dtypes[0] != DType::kFloat64 || dtypes[1] != DType::kFloat64) return false;
  const Shape& sx = shapes[0];
  const Shape& sy = shapes[1];
  if (sx.size() != 2 || sy.empty() || sy.size() > 2 || sy[0] != sx[0] ||
      (sy.size() == 2 && sy[1] != 2)) {
    return false;
  }
  const int64_t n = sx[0], d = sx[1];
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  if (n > kIntMax || d > kIntMax) return false;
  // Missing or mistyped scalars are errors on either device: accepted here.
  if (scalars.size() < 4) return true;
  const auto* code = std::get_if<int64_t>(&scalars[0]);
  const auto* coef = std::get_if<std::vector<double>>(&scalars[1]);
  const auto* fit_intercept = std::get_if<bool>(&scalars[2]);
  if (code != nullptr && n > 0 &&
      (*code < 0 || *code > static_cast<int64_t>(GlmFamily::kPoisson))) {
    return false;
  }
  if (coef != nullptr && fit_intercept != nullptr && !coef->empty() &&
      static_cast<int64_t>(coef->size()) != d + (*fit_intercept ? 1 : 0)) {
    return false;
  }
  return true;
}

}  // namespace nums::kernels::cuda
