// array.tensordot on a GPU: the contraction of two float32 or float64 blocks as one cuBLAS GEMM,
// for every axis order that is a matrix as stored or transposed (2-d matmul with either operand
// transposed, and n-d blocks whose contracted axes are contiguous at one end). Batch axes are a
// ShapeError and orders that would need a permuted copy a ValueError, each naming the shapes.

#include <limits>

#include "engine/cuda/cuda_libs.cuh"
#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/kernels.h"
#include "src/kernels/ops.h"

namespace nums::kernels::cuda {
namespace {

// A block's axes as a row-major matrix rows x cols: as stored, or stored transposed.
struct MatrixView {
  int64_t rows = 1, cols = 1;
  bool transposed = false;
  int64_t ld() const { return std::max<int64_t>(1, transposed ? rows : cols); }
};

bool IsRange(const std::vector<int64_t>& axes) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

std::string AxesToString(const std::vector<int64_t>& axes) {
  std::string s = "[";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + std::to_string(axes[i]);
  return s + "]";
}

[[noreturn]] void ThrowShapes(const Block& a, const Block& b, const std::string& why) {
  throw ShapeError("array.tensordot: blocks of shapes " + engine::ShapeToString(a.shape()) +
                   " and " + engine::ShapeToString(b.shape()) + ": " + why);
}

// `x` seen with rows `row_axes` and columns `col_axes`, when that needs no copy; false otherwise.
bool ViewAsMatrix(const Shape& s, const std::vector<int64_t>& row_axes,
                  const std::vector<int64_t>& col_axes, MatrixView& v) {
  for (int64_t a : row_axes) v.rows *= s[static_cast<size_t>(a)];
  for (int64_t a : col_axes) v.cols *= s[static_cast<size_t>(a)];
  std::vector<int64_t> perm = row_axes;
  perm.insert(perm.end(), col_axes.begin(), col_axes.end());
  if (IsRange(perm)) return true;
  std::vector<int64_t> swapped = col_axes;
  swapped.insert(swapped.end(), row_axes.begin(), row_axes.end());
  v.transposed = IsRange(swapped);
  return v.transposed;
}

std::vector<int64_t> FreeAxes(int64_t ndim, const std::vector<int64_t>& contracted) {
  std::vector<int64_t> free;
  for (int64_t d = 0; d < ndim; ++d) {
    if (std::find(contracted.begin(), contracted.end(), d) == contracted.end()) free.push_back(d);
  }
  return free;
}

// Row-major C (m x n) = A (m x k) B (k x n) is column-major C^T = B^T A^T: a row-major matrix
// is its transpose in column-major order with the same leading dimension, so B goes first and
// each operand's stored layout picks its op. cuBLAS is loaded, not linked (cuda_libs.cuh).
// cuBLAS's int sizes: each of m, n, k and the leading dimensions below 2^31 (a block's element
// count may be larger). ValueError naming the size otherwise.
int AsBlasInt(int64_t v, const char* what) {
  if (v > std::numeric_limits<int>::max()) {
    throw ValueError(std::string("array.tensordot: ") + what + " " + std::to_string(v) +
                     " is too large for cuBLAS (2^31 - 1 at most)");
  }
  return static_cast<int>(v);
}

template <typename T>
void Gemm(cublasHandle_t h, const MatrixView& va, const MatrixView& vb, const T* a, const T* b,
          T* c, int64_t m, int64_t k, int64_t n) {
  const T one = 1, zero = 0;
  const cublasOperation_t op_a = va.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = vb.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int in = AsBlasInt(n, "n"), im = AsBlasInt(m, "m"), ik = AsBlasInt(k, "k");
  const int lda = AsBlasInt(va.ld(), "lda"), ldb = AsBlasInt(vb.ld(), "ldb");
  const int ldc = AsBlasInt(std::max<int64_t>(1, n), "ldc");
  if constexpr (std::is_same_v<T, double>) {
    engine::CheckCublas(
        engine::Cublas().Dgemm(h, op_b, op_a, in, im, ik, &one, b, ldb, a, lda, &zero, c, ldc),
        "array.tensordot: cublasDgemm");
  } else {
    engine::CheckCublas(
        engine::Cublas().Sgemm(h, op_b, op_a, in, im, ik, &one, b, ldb, a, lda, &zero, c, ldc),
        "array.tensordot: cublasSgemm");
  }
}

}  // namespace

bool TensordotLayoutFits(const Shape& a, const Shape& b, const std::vector<int64_t>& axes_a,
                         const std::vector<int64_t>& axes_b) {
  MatrixView va, vb;
  return ViewAsMatrix(a, FreeAxes(static_cast<int64_t>(a.size()), axes_a), axes_a, va) &&
         ViewAsMatrix(b, axes_b, FreeAxes(static_cast<int64_t>(b.size()), axes_b), vb);
}

void RegisterLinalgKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [a, b] of one dtype; scalars [axes of a, axes of b (contracted pairwise)] and
  // optionally [batch rank nb], which must be 0 here. Output: a's free axes, then b's.
  registry.Register("array.tensordot", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.tensordot";
    CheckOnDevice(ctx, kName);
    const Block& a = ctx.inputs[0];
    const Block& b = ctx.inputs[1];
    CheckSameDType(a.dtype(), b.dtype(), kName);
    const auto& axes_a = ctx.scalar<std::vector<int64_t>>(0);
    const auto& axes_b = ctx.scalar<std::vector<int64_t>>(1);
    const int64_t nb = ctx.scalars.size() > 2 ? ctx.scalar<int64_t>(2) : 0;
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    if (nb != 0) {
      ThrowShapes(a, b,
                  "batch axes (nb = " + std::to_string(nb) +
                      ") have no CUDA kernel yet; run this product on a CPU");
    }
    if (axes_a.size() != axes_b.size()) ThrowShapes(a, b, "different numbers of contracted axes");
    for (size_t p = 0; p < axes_a.size(); ++p) {
      const int64_t x = axes_a[p], y = axes_b[p];
      if (x < 0 || x >= a.ndim() || y < 0 || y >= b.ndim() ||
          std::count(axes_a.begin(), axes_a.end(), x) != 1 ||
          std::count(axes_b.begin(), axes_b.end(), y) != 1) {
        ThrowShapes(a, b, "contracted axes out of range or repeated");
      }
      if (sa[static_cast<size_t>(x)] != sb[static_cast<size_t>(y)]) {
        ThrowShapes(a, b, "contracted axes differ in length");
      }
    }
    return DispatchFloat(a.dtype(), kName, [&](auto t) {
      using T = decltype(t);
      const auto free_a = FreeAxes(a.ndim(), axes_a);
      const auto free_b = FreeAxes(b.ndim(), axes_b);
      MatrixView va, vb;
      if (!ViewAsMatrix(sa, free_a, axes_a, va) || !ViewAsMatrix(sb, axes_b, free_b, vb)) {
        throw ValueError("array.tensordot: contracting axes " + AxesToString(axes_a) + " of " +
                         engine::ShapeToString(sa) + " with " + AxesToString(axes_b) + " of " +
                         engine::ShapeToString(sb) +
                         " needs a permuted copy, which the CUDA kernel does not make; run it "
                         "on a CPU or transpose the blocks first");
      }
      Shape out_shape;
      for (int64_t d : free_a) out_shape.push_back(sa[static_cast<size_t>(d)]);
      for (int64_t d : free_b) out_shape.push_back(sb[static_cast<size_t>(d)]);
      Launch launch(ctx, kName);
      Block out = AllocateOnDevice(a.dtype(), out_shape, kName);
      const int64_t m = va.rows, k = va.cols, n = vb.cols;
      if (out.size() > 0) {
        if (k == 0) {
          engine::CheckCuda(
              cudaMemsetAsync(out.raw(), 0, static_cast<size_t>(out.nbytes()), launch.stream()),
              "array.tensordot: cudaMemsetAsync");
        } else {
          engine::CheckCublas(engine::Cublas().SetStream(launch.gpu().blas, launch.stream()),
                              "array.tensordot: cublasSetStream");
          Gemm<T>(launch.gpu().blas, va, vb, a.data<T>(), b.data<T>(), out.data<T>(), m, k, n);
        }
      }
      launch.Finish();
      return std::vector<Block>{out};
    });
  });
}

}  // namespace nums::kernels::cuda
