// Reduction CUDA kernels: array.reduce (every ReduceOp over any set of axes, float32 and float64)
// and array.argreduce (argmin/argmax along one axis or over all, with global indices).
//
// A reduction is M outputs of R elements each. When the innermost axis is reduced, a thread
// block folds one output (coalesced reads along the row); otherwise a thread folds one output
// and neighbouring threads read neighbouring columns. Long rows are split into chunks so the
// whole GPU works on few outputs; the chunks' partial results are combined by a second launch.
// Chunking depends only on the shapes, so results are reproducible.

#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/device_ops.cuh"
#include "src/kernels/cuda/kernels.h"

namespace nums::kernels::cuda {
namespace {

// Where the elements of output o lie: base(o) from the kept axes, plus off(j) for its j-th
// element from the reduced axes.
struct ReduceGeom {
  int64_t m = 0, r = 0, chunk = 1, chunks = 1;
  Indexer<1> kept, red;
};

template <typename O, typename Combine>
__device__ O BlockCombine(O v, O* smem, Combine combine) {
  smem[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) smem[threadIdx.x] = combine(smem[threadIdx.x], smem[threadIdx.x + s]);
    __syncthreads();
  }
  const O out = smem[0];
  __syncthreads();  // smem is reused by the next output
  return out;
}

// Block per (output, chunk): partial p = o * chunks + c.
template <ReduceOp Op, typename T>
__global__ void ReduceRows(const T* x, typename DReduce<Op, T>::Out* out, ReduceGeom g) {
  using R = DReduce<Op, T>;
  using O = typename R::Out;
  __shared__ O smem[kThreads];
  for (int64_t p = blockIdx.x; p < g.m * g.chunks; p += gridDim.x) {
    const int64_t o = p / g.chunks, c = p - o * g.chunks;
    int64_t base[1], off[1];
    g.kept.Offsets(o, base);
    const int64_t end = min(g.r, (c + 1) * g.chunk);
    O acc = R::Identity();
    for (int64_t j = c * g.chunk + threadIdx.x; j < end; j += blockDim.x) {
      g.red.Offsets(j, off);
      acc = R::Step(acc, x[base[0] + off[0]]);
    }
    acc = BlockCombine(acc, smem, [](O a, O b) { return R::Combine(a, b); });
    if (threadIdx.x == 0) out[p] = acc;
  }
}

// Thread per (output, chunk), neighbouring threads on neighbouring outputs; the partial goes to
// o * chunks + c as ReduceRows'.
template <ReduceOp Op, typename T>
__global__ void ReduceCols(const T* x, typename DReduce<Op, T>::Out* out, ReduceGeom g) {
  using R = DReduce<Op, T>;
  using O = typename R::Out;
  for (int64_t q = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; q < g.m * g.chunks;
       q += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = q / g.m, o = q - c * g.m;
    int64_t base[1], off[1];
    g.kept.Offsets(o, base);
    const int64_t end = min(g.r, (c + 1) * g.chunk);
    O acc = R::Identity();
    for (int64_t j = c * g.chunk; j < end; ++j) {
      g.red.Offsets(j, off);
      acc = R::Step(acc, x[base[0] + off[0]]);
    }
    out[o * g.chunks + c] = acc;
  }
}

// out[o] = the combination of partials[o * chunks, (o + 1) * chunks).
template <ReduceOp Op, typename T>
__global__ void CombinePartials(const typename DReduce<Op, T>::Out* partials,
                                typename DReduce<Op, T>::Out* out, int64_t m, int64_t chunks) {
  using R = DReduce<Op, T>;
  using O = typename R::Out;
  __shared__ O smem[kThreads];
  for (int64_t o = blockIdx.x; o < m; o += gridDim.x) {
    O acc = R::Identity();
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
      acc = R::Combine(acc, partials[o * chunks + c]);
    }
    acc = BlockCombine(acc, smem, [](O a, O b) { return R::Combine(a, b); });
    if (threadIdx.x == 0) out[o] = acc;
  }
}

unsigned BlocksFor(int64_t n) { return static_cast<unsigned>(std::clamp<int64_t>(n, 1, 65535)); }

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::vector<bool> AxisMask(const Shape& shape, const std::vector<int64_t>& axes,
                           const char* kernel) {
  std::vector<bool> mask(shape.size(), false);
  for (int64_t a : axes) {
    if (a < 0 || a >= static_cast<int64_t>(shape.size())) {
      throw IndexError(std::string(kernel) + ": axis " + std::to_string(a) +
                       " out of range for shape " + engine::ShapeToString(shape));
    }
    mask[static_cast<size_t>(a)] = true;
  }
  return mask;
}

// The geometry of reducing `shape` over `reduced`; `rows` says whether a block folds each output
// (the innermost axis longer than 1 is reduced) or a thread does.
ReduceGeom MakeReduceGeom(const Shape& shape, const std::vector<bool>& reduced, bool& rows) {
  const char* kName = "array.reduce";
  const size_t nd = shape.size();
  Shape kept_shape, kept_stride, red_shape, red_stride;
  Shape stride(nd);
  for (size_t d = nd, s = 1; d-- > 0;) {
    stride[d] = static_cast<int64_t>(s);
    s *= static_cast<size_t>(shape[d]);
  }
  rows = true;
  for (size_t d = 0; d < nd; ++d) {
    if (reduced[d]) {
      red_shape.push_back(shape[d]);
      red_stride.push_back(stride[d]);
    } else {
      kept_shape.push_back(shape[d]);
      kept_stride.push_back(stride[d]);
    }
    if (shape[d] > 1) rows = reduced[d];
  }
  ReduceGeom g;
  g.kept = MakeIndexer<1>(kept_shape, {kept_stride}, kName);
  g.red = MakeIndexer<1>(red_shape, {red_stride}, kName);
  g.m = engine::ShapeSize(kept_shape);
  g.r = engine::ShapeSize(red_shape);
  // Enough partials to fill the GPU, none shorter than is worth a launch.
  const int64_t want = rows ? 2048 : 131072, least = rows ? 4096 : 32;
  if (g.m > 0) {
    g.chunks =
        std::clamp<int64_t>(CeilDiv(want, g.m), 1, std::max<int64_t>(1, CeilDiv(g.r, least)));
    g.chunk = std::max<int64_t>(1, CeilDiv(g.r, g.chunks));
    g.chunks = std::max<int64_t>(1, CeilDiv(g.r, g.chunk));
  }
  return g;
}

template <ReduceOp Op, typename T>
Block ReduceOn(const Block& x, const std::vector<bool>& reduced, bool keepdims,
               const Launch& launch) {
  const char* kName = "array.reduce";
  using O = typename DReduce<Op, T>::Out;
  Shape out_shape;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (!reduced[d]) {
      out_shape.push_back(x.shape()[d]);
    } else if (keepdims) {
      out_shape.push_back(1);
    }
  }
  bool rows = true;
  const ReduceGeom g = MakeReduceGeom(x.shape(), reduced, rows);
  Block out = AllocateOnDevice(dtype_of<O>(), out_shape, kName);
  if (g.m == 0) return out;
  Block partials;
  O* dst = out.data<O>();
  if (g.chunks > 1) {
    partials = AllocateScratch(dtype_of<O>(), g.m * g.chunks, kName);
    dst = partials.data<O>();
  }
  if (rows) {
    ReduceRows<Op, T>
        <<<BlocksFor(g.m * g.chunks), kThreads, 0, launch.stream()>>>(x.data<T>(), dst, g);
  } else {
    ReduceCols<Op, T>
        <<<GridFor(g.m * g.chunks), kThreads, 0, launch.stream()>>>(x.data<T>(), dst, g);
  }
  if (g.chunks > 1) {
    launch.Check();
    CombinePartials<Op, T><<<BlocksFor(g.m), kThreads, 0, launch.stream()>>>(
        partials.data<O>(), out.data<O>(), g.m, g.chunks);
  }
  launch.Finish();  // before `partials` goes back to the pool
  return out;
}

template <typename T>
Block ReduceDispatch(ReduceOp op, const Block& x, const std::vector<bool>& mask, bool keepdims,
                     const Launch& launch) {
  switch (op) {
    case ReduceOp::kSum:
      return ReduceOn<ReduceOp::kSum, T>(x, mask, keepdims, launch);
    case ReduceOp::kProd:
      return ReduceOn<ReduceOp::kProd, T>(x, mask, keepdims, launch);
    case ReduceOp::kMin:
      return ReduceOn<ReduceOp::kMin, T>(x, mask, keepdims, launch);
    case ReduceOp::kMax:
      return ReduceOn<ReduceOp::kMax, T>(x, mask, keepdims, launch);
    case ReduceOp::kAll:
      return ReduceOn<ReduceOp::kAll, T>(x, mask, keepdims, launch);
    case ReduceOp::kAny:
      return ReduceOn<ReduceOp::kAny, T>(x, mask, keepdims, launch);
    case ReduceOp::kNanSum:
      return ReduceOn<ReduceOp::kNanSum, T>(x, mask, keepdims, launch);
    case ReduceOp::kNanMin:
      return ReduceOn<ReduceOp::kNanMin, T>(x, mask, keepdims, launch);
    case ReduceOp::kNanMax:
      return ReduceOn<ReduceOp::kNanMax, T>(x, mask, keepdims, launch);
  }
  throw ValueError("unknown reduce op " + std::to_string(static_cast<int64_t>(op)));
}

// ---- argmin / argmax ----

// Whether (v, i) beats the best so far (bv, bi): strictly better, NaN first, ties to the lower
// index; a total order, so any combining tree finds the CPU's sequential answer.
template <typename T>
__device__ __forceinline__ bool Better(bool is_max, T v, int64_t i, T bv, int64_t bi) {
  const bool vn = DIsNan(v), bn = DIsNan(bv);
  if (vn || bn) return vn && (!bn || i < bi);
  if (v == bv) return i < bi;
  return is_max ? bv < v : v < bv;
}

// Output o's elements are x[base(o) + j * step], j < len; base(o) = (o / after) * len * after +
// o % after (all axes: after = 1, len = size).
struct ArgGeom {
  int64_t m = 0, len = 0, after = 1, chunk = 1, chunks = 1;
  bool is_max = false;
};

template <typename T>
__device__ void BlockArgCombine(bool is_max, T& v, int64_t& i, T* sv, int64_t* si) {
  sv[threadIdx.x] = v;
  si[threadIdx.x] = i;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s && si[threadIdx.x + s] >= 0 &&
        (si[threadIdx.x] < 0 || Better(is_max, sv[threadIdx.x + s], si[threadIdx.x + s],
                                       sv[threadIdx.x], si[threadIdx.x]))) {
      sv[threadIdx.x] = sv[threadIdx.x + s];
      si[threadIdx.x] = si[threadIdx.x + s];
    }
    __syncthreads();
  }
  v = sv[0];
  i = si[0];
  __syncthreads();
}

// Block per (output, chunk): the best (value, local index) of the chunk; index -1 for none.
template <typename T>
__global__ void ArgRows(const T* x, T* pv, int64_t* pi, ArgGeom g) {
  __shared__ T sv[kThreads];
  __shared__ int64_t si[kThreads];
  for (int64_t p = blockIdx.x; p < g.m * g.chunks; p += gridDim.x) {
    const int64_t o = p / g.chunks, c = p - o * g.chunks;
    const int64_t base = (o / g.after) * g.len * g.after + o % g.after;
    const int64_t end = min(g.len, (c + 1) * g.chunk);
    T bv = T{0};
    int64_t bi = -1;
    for (int64_t j = c * g.chunk + threadIdx.x; j < end; j += blockDim.x) {
      const T v = x[base + j * g.after];
      if (bi < 0 || Better(g.is_max, v, j, bv, bi)) {
        bv = v;
        bi = j;
      }
    }
    BlockArgCombine(g.is_max, bv, bi, sv, si);
    if (threadIdx.x == 0) {
      pv[p] = bv;
      pi[p] = bi;
    }
  }
}

// Global coordinates of a local index: along one axis, offset + j; over all axes, the flat
// index of the block's element j in the whole array (row-major).
struct GlobalIndex {
  int nd = 0;
  int64_t axis_offset = 0;
  int64_t shape[kMaxDims] = {}, offset[kMaxDims] = {}, array_shape[kMaxDims] = {};
  __device__ int64_t operator()(int64_t j) const {
    if (nd == 0) return axis_offset + j;
    int64_t g = 0, stride = 1;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t q = j / shape[d];
      g += (offset[d] + (j - q * shape[d])) * stride;
      stride *= array_shape[d];
      j = q;
    }
    return g;
  }
};

template <typename T>
__global__ void ArgCombine(const T* pv, const int64_t* pi, T* v, int64_t* idx, ArgGeom g,
                           GlobalIndex global) {
  __shared__ T sv[kThreads];
  __shared__ int64_t si[kThreads];
  for (int64_t o = blockIdx.x; o < g.m; o += gridDim.x) {
    T bv = T{0};
    int64_t bi = -1;
    for (int64_t c = threadIdx.x; c < g.chunks; c += blockDim.x) {
      const int64_t q = o * g.chunks + c;
      if (pi[q] >= 0 && (bi < 0 || Better(g.is_max, pv[q], pi[q], bv, bi))) {
        bv = pv[q];
        bi = pi[q];
      }
    }
    BlockArgCombine(g.is_max, bv, bi, sv, si);
    if (threadIdx.x == 0) {
      v[o] = bv;
      idx[o] = global(bi);
    }
  }
}

template <typename T>
std::vector<Block> ArgReduceOn(bool is_max, const Block& x, int64_t axis, const Shape& offset,
                               const Shape& array_shape, const Launch& launch) {
  const char* kName = "array.argreduce";
  const Shape& shape = x.shape();
  const size_t nd = shape.size();
  ArgGeom g;
  g.is_max = is_max;
  GlobalIndex global;
  Shape out_shape;
  if (axis < 0) {
    if (nd > static_cast<size_t>(kMaxDims)) {
      throw ShapeError(std::string(kName) + ": blocks of more than " + std::to_string(kMaxDims) +
                       " axes have no CUDA kernel (shape " + engine::ShapeToString(shape) + ")");
    }
    g.m = 1;
    g.len = x.size();
    global.nd = static_cast<int>(nd);
    for (size_t d = 0; d < nd; ++d) {
      global.shape[d] = shape[d];
      global.offset[d] = offset[d];
      global.array_shape[d] = array_shape[d];
    }
  } else {
    if (axis >= static_cast<int64_t>(nd)) {
      throw IndexError(std::string(kName) + ": axis " + std::to_string(axis) +
                       " out of range for shape " + engine::ShapeToString(shape));
    }
    g.len = shape[static_cast<size_t>(axis)];
    for (size_t d = 0; d < nd; ++d) {
      if (d > static_cast<size_t>(axis)) g.after *= shape[d];
      if (d != static_cast<size_t>(axis)) out_shape.push_back(shape[d]);
    }
    g.m = engine::ShapeSize(out_shape);
    global.axis_offset = offset[static_cast<size_t>(axis)];
  }
  if (x.size() == 0) throw ValueError("attempt to get argmin/argmax of an empty sequence");
  g.chunks = std::clamp<int64_t>(CeilDiv(2048, g.m), 1, std::max<int64_t>(1, CeilDiv(g.len, 4096)));
  g.chunk = std::max<int64_t>(1, CeilDiv(g.len, g.chunks));
  g.chunks = std::max<int64_t>(1, CeilDiv(g.len, g.chunk));
  Block v = AllocateOnDevice(dtype_of<T>(), out_shape, kName);
  Block idx = AllocateOnDevice(DType::kInt64, out_shape, kName);
  Block pv = AllocateScratch(dtype_of<T>(), g.m * g.chunks, kName);
  Block pi = AllocateScratch(DType::kInt64, g.m * g.chunks, kName);
  ArgRows<T><<<BlocksFor(g.m * g.chunks), kThreads, 0, launch.stream()>>>(x.data<T>(), pv.data<T>(),
                                                                          pi.data<int64_t>(), g);
  launch.Check();
  ArgCombine<T><<<BlocksFor(g.m), kThreads, 0, launch.stream()>>>(
      pv.data<T>(), pi.data<int64_t>(), v.data<T>(), idx.data<int64_t>(), g, global);
  launch.Finish();  // before the partials go back to the pool
  return {v, idx};
}

}  // namespace

void RegisterReduceKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [x]; scalars [op, axes, keepdims].
  registry.Register("array.reduce", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.reduce";
    CheckOnDevice(ctx, kName);
    const Block& x = ctx.inputs[0];
    const int64_t code = ctx.scalar<int64_t>(0);
    if (code < 0 || code > static_cast<int64_t>(ReduceOp::kNanMax)) {
      throw ValueError("unknown reduce op " + std::to_string(code));
    }
    const auto op = static_cast<ReduceOp>(code);
    const bool keepdims = ctx.scalar<bool>(2);
    const auto mask = AxisMask(x.shape(), ctx.scalar<std::vector<int64_t>>(1), kName);
    return DispatchFloat(x.dtype(), kName, [&](auto t) {
      Launch launch(ctx, kName);
      return std::vector<Block>{ReduceDispatch<decltype(t)>(op, x, mask, keepdims, launch)};
    });
  });
  // inputs [x]; scalars [is_max, axis (-1: all), block offset, array shape] -> [values, int64
  // global indices] (along `axis`, or flat into the array).
  registry.Register("array.argreduce", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.argreduce";
    CheckOnDevice(ctx, kName);
    const Block& x = ctx.inputs[0];
    const bool is_max = ctx.scalar<bool>(0);
    const int64_t axis = ctx.scalar<int64_t>(1);
    const auto& offset = ctx.scalar<std::vector<int64_t>>(2);
    const auto& array_shape = ctx.scalar<std::vector<int64_t>>(3);
    if (offset.size() != x.shape().size() || array_shape.size() != x.shape().size()) {
      throw ShapeError(std::string(kName) + ": block offset and array shape need " +
                       std::to_string(x.ndim()) + " entries for a block of shape " +
                       engine::ShapeToString(x.shape()));
    }
    return DispatchFloat(x.dtype(), kName, [&](auto t) {
      Launch launch(ctx, kName);
      return ArgReduceOn<decltype(t)>(is_max, x, axis, offset, array_shape, launch);
    });
  });
}

}  // namespace nums::kernels::cuda
