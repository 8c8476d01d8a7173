// Linear-algebra CPU kernels: tensordot of two blocks (with optional leading batch axes), as one
// OpenBLAS GEMM per batch element for floats and a plain loop for integers and bool.

#include <algorithm>
#include <complex>
#include <type_traits>

#include "src/kernels/cpu/blas.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

// A block's non-batch axes seen as a row-major matrix of `rows` x `cols` elements: the data
// itself when `transposed` (stored as cols x rows) or not, else a permuted copy.
template <typename T>
struct MatrixView {
  const T* data = nullptr;  // first batch element; later ones follow every rows * cols elements
  int64_t rows = 0, cols = 0;
  bool transposed = false;
  Block copy;  // keeps a permuted copy alive
  int64_t ld() const { return std::max<int64_t>(1, transposed ? rows : cols); }
  T at(int64_t batch, int64_t i, int64_t j) const {
    const T* p = data + batch * rows * cols;
    return transposed ? p[j * rows + i] : p[i * cols + j];
  }
};

bool IsRange(const std::vector<int64_t>& axes, int64_t first) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] != first + static_cast<int64_t>(i)) return false;
  }
  return true;
}

// `x` of shape batch + rest seen as (batch count) matrices whose rows are the axes `row_axes` and
// whose columns are `col_axes` (together a permutation of the non-batch axes). No copy when the
// order already fits (as is, or transposed); `allow_transposed` false asks for the as-is layout.
template <typename T>
MatrixView<T> ViewAsMatrix(const Block& x, int64_t nb, const std::vector<int64_t>& row_axes,
                           const std::vector<int64_t>& col_axes, bool allow_transposed) {
  const Shape& s = x.shape();
  MatrixView<T> v;
  v.data = x.data<T>();
  v.rows = 1;
  v.cols = 1;
  for (int64_t a : row_axes) v.rows *= s[static_cast<size_t>(a)];
  for (int64_t a : col_axes) v.cols *= s[static_cast<size_t>(a)];
  std::vector<int64_t> perm = row_axes;
  perm.insert(perm.end(), col_axes.begin(), col_axes.end());
  if (IsRange(perm, nb)) return v;
  std::vector<int64_t> swapped = col_axes;
  swapped.insert(swapped.end(), row_axes.begin(), row_axes.end());
  if (allow_transposed && IsRange(swapped, nb)) {
    v.transposed = true;
    return v;
  }
  // General order: copy each batch element into rows x cols, walking the destination row-major
  // and the source with the permuted strides.
  const size_t nd = s.size();
  Shape src_stride(nd);
  for (size_t d = nd, acc = 1; d-- > 0;) {
    src_stride[d] = static_cast<int64_t>(acc);
    acc *= static_cast<size_t>(s[d]);
  }
  const int64_t inner = v.rows * v.cols;
  const int64_t batches = inner == 0 ? 0 : x.size() / inner;
  v.copy = Block::Allocate(x.dtype(), {batches * inner});
  T* dst = v.copy.template data<T>();
  const T* src = x.data<T>();
  Shape dims(perm.size()), strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    dims[k] = s[static_cast<size_t>(perm[k])];
    strides[k] = src_stride[static_cast<size_t>(perm[k])];
  }
  const int64_t last = dims.empty() ? 1 : dims.back();
  const int64_t last_stride = strides.empty() ? 0 : strides.back();
  for (int64_t b = 0; b < batches; ++b) {
    const T* base = src + b * inner;
    Shape idx(dims.size(), 0);
    for (int64_t o = 0; o < inner; o += last) {
      int64_t off = 0;
      for (size_t k = 0; k + 1 < dims.size(); ++k) off += idx[k] * strides[k];
      for (int64_t j = 0; j < last; ++j) dst[b * inner + o + j] = base[off + j * last_stride];
      for (size_t k = dims.size() - 1; k-- > 0;) {
        if (++idx[k] < dims[k]) break;
        idx[k] = 0;
      }
    }
  }
  v.data = v.copy.template data<T>();
  return v;
}

// c (m x n) = a (m x k) @ b (k x n, row-major) for one batch element; bool is logical or of ands,
// integers wrap around as in NumPy.
template <typename T>
void LoopProduct(const MatrixView<T>& a, int64_t ab, const T* b, T* c, int64_t m, int64_t k,
                 int64_t n) {
  ParallelRanges(m, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(1, n * k)),
                 [&](int64_t i0, int64_t i1) {
                   for (int64_t i = i0; i < i1; ++i) {
                     T* ci = c + i * n;
                     for (int64_t j = 0; j < n; ++j) ci[j] = T{0};
                     for (int64_t l = 0; l < k; ++l) {
                       const T ail = a.at(ab, i, l);
                       if (ail == T{0}) continue;
                       const T* bl = b + l * n;
                       if constexpr (std::is_same_v<T, bool>) {
                         for (int64_t j = 0; j < n; ++j) ci[j] = ci[j] || bl[j];
                       } else {
                         using U = std::make_unsigned_t<T>;
                         for (int64_t j = 0; j < n; ++j) {
                           ci[j] = static_cast<T>(static_cast<U>(ci[j]) +
                                                  static_cast<U>(ail) * static_cast<U>(bl[j]));
                         }
                       }
                     }
                   }
                 });
}

void Gemm(const MatrixView<double>& a, const MatrixView<double>& b, const double* pa,
          const double* pb, double* c, int64_t m, int64_t k, int64_t n) {
  cblas_dgemm(CblasRowMajor, a.transposed ? CblasTrans : CblasNoTrans,
              b.transposed ? CblasTrans : CblasNoTrans, AsBlasInt(m), AsBlasInt(n), AsBlasInt(k),
              1.0, pa, AsBlasInt(a.ld()), pb, AsBlasInt(b.ld()), 0.0, c,
              AsBlasInt(std::max<int64_t>(1, n)));
}

void Gemm(const MatrixView<float>& a, const MatrixView<float>& b, const float* pa, const float* pb,
          float* c, int64_t m, int64_t k, int64_t n) {
  cblas_sgemm(CblasRowMajor, a.transposed ? CblasTrans : CblasNoTrans,
              b.transposed ? CblasTrans : CblasNoTrans, AsBlasInt(m), AsBlasInt(n), AsBlasInt(k),
              1.0F, pa, AsBlasInt(a.ld()), pb, AsBlasInt(b.ld()), 0.0F, c,
              AsBlasInt(std::max<int64_t>(1, n)));
}

void Gemm(const MatrixView<std::complex<double>>& a, const MatrixView<std::complex<double>>& b,
          const std::complex<double>* pa, const std::complex<double>* pb, std::complex<double>* c,
          int64_t m, int64_t k, int64_t n) {
  const std::complex<double> one(1.0, 0.0), zero(0.0, 0.0);
  cblas_zgemm(CblasRowMajor, a.transposed ? CblasTrans : CblasNoTrans,
              b.transposed ? CblasTrans : CblasNoTrans, AsBlasInt(m), AsBlasInt(n), AsBlasInt(k),
              &one, pa, AsBlasInt(a.ld()), pb, AsBlasInt(b.ld()), &zero, c,
              AsBlasInt(std::max<int64_t>(1, n)));
}

// C = X^T X or X X^T when both operands are one matrix X read with opposite layouts (matmul of
// x.T() and x reads one block twice): a symmetric rank-k update, half GEMM's flops, mirrored so
// that C is exactly symmetric. False when the operands are not of that form.
template <typename T>
bool SymmetricProduct(const MatrixView<T>& a, const MatrixView<T>& b, const T* pa, const T* pb,
                      T* c, int64_t m, int64_t k, int64_t n) {
  if (pa != pb || m != n || a.transposed == b.transposed) return false;
  const auto trans = a.transposed ? CblasTrans : CblasNoTrans;
  const blasint ldc = AsBlasInt(std::max<int64_t>(1, n));
  if constexpr (std::is_same_v<T, double>) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, trans, AsBlasInt(n), AsBlasInt(k), 1.0, pa,
                AsBlasInt(a.ld()), 0.0, c, ldc);
  } else if constexpr (std::is_same_v<T, std::complex<double>>) {  // X^T X, not conjugated
    const T one(1.0, 0.0), zero(0.0, 0.0);
    cblas_zsyrk(CblasRowMajor, CblasUpper, trans, AsBlasInt(n), AsBlasInt(k), &one, pa,
                AsBlasInt(a.ld()), &zero, c, ldc);
  } else {
    cblas_ssyrk(CblasRowMajor, CblasUpper, trans, AsBlasInt(n), AsBlasInt(k), 1.0F, pa,
                AsBlasInt(a.ld()), 0.0F, c, ldc);
  }
  for (int64_t i = 1; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) c[i * n + j] = c[j * n + i];
  }
  return true;
}

[[noreturn]] void ThrowShapes(const Block& a, const Block& b, const std::string& why) {
  throw ShapeError("array.tensordot: blocks of shapes " + engine::ShapeToString(a.shape()) +
                   " and " + engine::ShapeToString(b.shape()) + ": " + why);
}

// The axes of [nb, ndim) not in `contracted`, in order.
std::vector<int64_t> FreeAxes(int64_t ndim, int64_t nb, const std::vector<int64_t>& contracted) {
  std::vector<int64_t> free;
  for (int64_t d = nb; d < ndim; ++d) {
    if (std::find(contracted.begin(), contracted.end(), d) == contracted.end()) free.push_back(d);
  }
  return free;
}

template <typename T>
Block TensordotBlock(const Block& a, const Block& b, const std::vector<int64_t>& axes_a,
                     const std::vector<int64_t>& axes_b, int64_t nb) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (axes_a.size() != axes_b.size()) ThrowShapes(a, b, "different numbers of contracted axes");
  if (nb < 0 || nb > a.ndim() || nb > b.ndim()) ThrowShapes(a, b, "bad batch rank");
  for (size_t p = 0; p < axes_a.size(); ++p) {
    const int64_t x = axes_a[p], y = axes_b[p];
    if (x < nb || x >= a.ndim() || y < nb || y >= b.ndim() ||
        std::count(axes_a.begin(), axes_a.end(), x) != 1 ||
        std::count(axes_b.begin(), axes_b.end(), y) != 1) {
      ThrowShapes(a, b, "contracted axes out of range or repeated");
    }
    if (sa[static_cast<size_t>(x)] != sb[static_cast<size_t>(y)]) {
      ThrowShapes(a, b, "contracted axes differ in length");
    }
  }
  // Batch axes broadcast: element strides (in whole matrices) of each operand, 0 where it is 1.
  Shape out_shape;
  Shape a_stride(static_cast<size_t>(nb)), b_stride(static_cast<size_t>(nb));
  for (int64_t d = 0; d < nb; ++d) {
    const int64_t x = sa[static_cast<size_t>(d)], y = sb[static_cast<size_t>(d)];
    if (x != y && x != 1 && y != 1) ThrowShapes(a, b, "batch axes do not broadcast");
    out_shape.push_back(x == 1 ? y : x);
  }
  for (int64_t d = nb, sx = 1, sy = 1; d-- > 0;) {
    a_stride[static_cast<size_t>(d)] = sa[static_cast<size_t>(d)] == 1 ? 0 : sx;
    b_stride[static_cast<size_t>(d)] = sb[static_cast<size_t>(d)] == 1 ? 0 : sy;
    sx *= sa[static_cast<size_t>(d)];
    sy *= sb[static_cast<size_t>(d)];
  }
  const auto free_a = FreeAxes(a.ndim(), nb, axes_a);
  const auto free_b = FreeAxes(b.ndim(), nb, axes_b);
  for (int64_t d : free_a) out_shape.push_back(sa[static_cast<size_t>(d)]);
  for (int64_t d : free_b) out_shape.push_back(sb[static_cast<size_t>(d)]);
  Block out = Block::Allocate(a.dtype(), out_shape);
  if (out.size() == 0) return out;

  constexpr bool kBlas = std::is_floating_point_v<T> || std::is_same_v<T, std::complex<double>>;
  const MatrixView<T> va = ViewAsMatrix<T>(a, nb, free_a, axes_a, true);
  // The loop wants b's rows contiguous; GEMM takes either layout.
  const MatrixView<T> vb = ViewAsMatrix<T>(b, nb, axes_b, free_b, kBlas);
  const int64_t m = va.rows, k = va.cols, n = vb.cols;
  T* pc = out.data<T>();
  const int64_t batches = out.size() / (m * n);
  Shape idx(static_cast<size_t>(nb), 0);
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      ia += idx[d] * a_stride[d];
      ib += idx[d] * b_stride[d];
    }
    T* c = pc + bi * m * n;
    if (k == 0) {
      std::fill(c, c + m * n, T{0});
    } else if constexpr (kBlas) {
      const T* a_batch = va.data + ia * m * k;
      const T* b_batch = vb.data + ib * k * n;
      if (!SymmetricProduct(va, vb, a_batch, b_batch, c, m, k, n)) {
        Gemm(va, vb, a_batch, b_batch, c, m, k, n);
      }
    } else {
      LoopProduct(va, ia, vb.data + ib * k * n, c, m, k, n);
    }
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace

void RegisterLinalgKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [a, b] of one dtype; scalars [axes of a, axes of b (contracted pairwise)] and
  // optionally [batch rank nb]: the first nb axes of both are batch axes that broadcast (equal
  // or 1). Output: batch axes, then a's free axes, then b's, in order; NumPy's tensordot when
  // nb = 0. Bool is a logical or of ands (NumPy's bool matmul); integers wrap around.
  registry.Register("array.tensordot", Device::kCpu, [](const KernelContext& ctx) {
    const Block& a = ctx.inputs[0];
    const Block& b = ctx.inputs[1];
    CheckSameDType(a.dtype(), b.dtype(), "array.tensordot");
    const auto& axes_a = ctx.scalar<std::vector<int64_t>>(0);
    const auto& axes_b = ctx.scalar<std::vector<int64_t>>(1);
    const int64_t nb = ctx.scalars.size() > 2 ? ctx.scalar<int64_t>(2) : 0;
    if (a.dtype() == DType::kComplex128) {
      return std::vector<Block>{TensordotBlock<std::complex<double>>(a, b, axes_a, axes_b, nb)};
    }
    return std::vector<Block>{dispatch_compute(
        a.dtype(), [&](auto t) { return TensordotBlock<decltype(t)>(a, b, axes_a, axes_b, nb); },
        "array.tensordot")};
  });
}

}  // namespace nums::kernels
