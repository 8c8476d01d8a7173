// Elementwise CUDA kernels: array.binary and array.unary (float32, float64), array.where (any
// element width; the condition by truth) and array.astype (bool, int32, int64, float32, float64).
// One grid-stride loop per op and dtype; broadcasting lives in the Indexer's offsets.

#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/device_ops.cuh"
#include "src/kernels/cuda/kernels.h"

namespace nums::kernels::cuda {
namespace {

template <BinaryOp Op, typename T>
__global__ void BinaryKernel(const T* a, const T* b, typename DBinary<Op, T>::Out* out, int64_t n,
                             Indexer<2> ix) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[2];
    ix.Offsets(i, off);
    out[i] = DBinary<Op, T>::Apply(a[off[0]], b[off[1]]);
  }
}

template <UnaryOp Op, typename T>
__global__ void UnaryKernel(const T* x, typename DUnary<Op, T>::Out* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = DUnary<Op, T>::Apply(x[i]);
  }
}

// where() only moves elements: one kernel per element width.
template <typename U>
__global__ void WhereKernel(const bool* cond, const U* x, const U* y, U* out, int64_t n,
                            Indexer<3> ix) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[3];
    ix.Offsets(i, off);
    out[i] = cond[off[0]] ? x[off[1]] : y[off[2]];
  }
}

template <BinaryOp Op, typename T>
Block BinaryOp1(const Block& a, const Block& b, const Shape& shape, const Launch& launch) {
  if constexpr (!FloatBinaryOp(Op)) {
    throw DTypeError(std::string("array.binary: no float loop for ") + OpName(Op));  // checked
  } else {
    using Out = typename DBinary<Op, T>::Out;
    const auto ix = BroadcastIndexer<2>(shape, {a.shape(), b.shape()}, "array.binary");
    Block out = AllocateOnDevice(dtype_of<Out>(), shape, "array.binary");
    const int64_t n = out.size();
    if (n > 0) {
      BinaryKernel<Op, T><<<GridFor(n), kThreads, 0, launch.stream()>>>(a.data<T>(), b.data<T>(),
                                                                        out.data<Out>(), n, ix);
    }
    return out;
  }
}

template <typename T>
Block BinaryDispatch(BinaryOp op, const Block& a, const Block& b, const Shape& shape,
                     const Launch& launch) {
  switch (op) {
#define NUMS_CASE(name) \
  case BinaryOp::name:  \
    return BinaryOp1<BinaryOp::name, T>(a, b, shape, launch);
    NUMS_BINARY_OPS(NUMS_CASE)
#undef NUMS_CASE
  }
  throw ValueError("unknown binary op " + std::to_string(static_cast<int64_t>(op)));
}

template <UnaryOp Op, typename T>
Block UnaryOp1(const Block& x, const Launch& launch) {
  if constexpr (!FloatUnaryOp(Op)) {
    throw DTypeError(std::string("array.unary: no float loop for ") + OpName(Op));  // checked
  } else {
    using Out = typename DUnary<Op, T>::Out;
    Block out = AllocateOnDevice(dtype_of<Out>(), x.shape(), "array.unary");
    const int64_t n = out.size();
    if (n > 0) {
      UnaryKernel<Op, T>
          <<<GridFor(n), kThreads, 0, launch.stream()>>>(x.data<T>(), out.data<Out>(), n);
    }
    return out;
  }
}

template <typename T>
Block UnaryDispatch(UnaryOp op, const Block& x, const Launch& launch) {
  switch (op) {
#define NUMS_CASE(name) \
  case UnaryOp::name:   \
    return UnaryOp1<UnaryOp::name, T>(x, launch);
    NUMS_UNARY_OPS(NUMS_CASE)
#undef NUMS_CASE
  }
  throw ValueError("unknown unary op " + std::to_string(static_cast<int64_t>(op)));
}

}  // namespace

void RegisterElementwiseKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [a, b] of one dtype; scalars [op]. Broadcasts a against b.
  registry.Register("array.binary", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.binary";
    CheckOnDevice(ctx, kName);
    const Block& a = ctx.inputs[0];
    const Block& b = ctx.inputs[1];
    CheckSameDType(a.dtype(), b.dtype(), kName);
    const int64_t code = ctx.scalar<int64_t>(0);
    if (code < 0 || code > static_cast<int64_t>(BinaryOp::kFmax)) {
      throw ValueError("unknown binary op " + std::to_string(code));
    }
    const auto op = static_cast<BinaryOp>(code);
    if (!FloatBinaryOp(op)) {
      throw DTypeError(std::string("array.binary: ") + OpName(op) +
                       " needs integer or bool operands (the CUDA kernels compute float32 and "
                       "float64)");
    }
    const Shape shape = BroadcastOrThrow({a.shape(), b.shape()}, kName);
    return DispatchFloat(a.dtype(), kName, [&](auto t) {
      Launch launch(ctx, kName);
      Block out = BinaryDispatch<decltype(t)>(op, a, b, shape, launch);
      launch.Finish();
      return std::vector<Block>{out};
    });
  });
  // inputs [x]; scalars [op].
  registry.Register("array.unary", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.unary";
    CheckOnDevice(ctx, kName);
    const Block& x = ctx.inputs[0];
    const int64_t code = ctx.scalar<int64_t>(0);
    if (code < 0 || code > static_cast<int64_t>(UnaryOp::kArctanh)) {
      throw ValueError("unknown unary op " + std::to_string(code));
    }
    const auto op = static_cast<UnaryOp>(code);
    if (!FloatUnaryOp(op)) {
      throw DTypeError(std::string("array.unary: ") + OpName(op) +
                       " needs an integer or bool operand (the CUDA kernels compute float32 and "
                       "float64)");
    }
    return DispatchFloat(x.dtype(), kName, [&](auto t) {
      Launch launch(ctx, kName);
      Block out = UnaryDispatch<decltype(t)>(op, x, launch);
      launch.Finish();
      return std::vector<Block>{out};
    });
  });
  // inputs [cond (bool, int32, int64, float32 or float64; by truth), x, y (one dtype)]: x where
  // cond else y, broadcast.
  registry.Register("array.where", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.where";
    CheckOnDevice(ctx, kName);
    const Block& c = ctx.inputs[0];
    const Block& x = ctx.inputs[1];
    const Block& y = ctx.inputs[2];
    CheckSameDType(x.dtype(), y.dtype(), kName);
    const Shape shape = BroadcastOrThrow({c.shape(), x.shape(), y.shape()}, kName);
    const auto ix = BroadcastIndexer<3>(shape, {c.shape(), x.shape(), y.shape()}, kName);
    CheckConvertible(c.dtype(), DType::kBool, kName);
    Launch launch(ctx, kName);
    Block out = AllocateOnDevice(x.dtype(), shape, kName);
    Block cond = c;
    if (c.dtype() != DType::kBool) {
      cond = AllocateScratch(DType::kBool, c.size(), kName);
      ConvertOnDevice(c.dtype(), DType::kBool, c.raw(), cond.raw(), c.size(), launch.stream(),
                      kName);
    }
    const int64_t n = out.size();
    if (n > 0) {
      DispatchBits(x.dtype(), [&](auto w) {
        using U = decltype(w);
        WhereKernel<U><<<GridFor(n), kThreads, 0, launch.stream()>>>(
            cond.data<bool>(), x.data<U>(), y.data<U>(), out.data<U>(), n, ix);
      });
    }
    launch.Finish();  // also keeps the converted condition alive until the kernel is done
    return std::vector<Block>{out};
  });
  // inputs [x]; scalars [dtype]: NumPy's casting between bool, int32, int64, float32, float64.
  registry.Register("array.astype", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.astype";
    CheckOnDevice(ctx, kName);
    const Block& x = ctx.inputs[0];
    const DType to = dtype_from_code(ctx.scalar<int64_t>(0));
    if (x.dtype() == to) return std::vector<Block>{x};
    CheckConvertible(x.dtype(), to, kName);
    Launch launch(ctx, kName);
    Block out = AllocateOnDevice(to, x.shape(), kName);
    ConvertOnDevice(x.dtype(), to, x.raw(), out.raw(), x.size(), launch.stream(), kName);
    launch.Finish();
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels::cuda
