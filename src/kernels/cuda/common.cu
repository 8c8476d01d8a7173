// Host-side helpers of the CUDA kernels (common.cuh) and the device dtype conversion.

#include "src/kernels/cuda/common.cuh"

namespace nums::kernels::cuda {
namespace {

// convert_value is constexpr, so (with --expt-relaxed-constexpr) the device applies the very
// rules the CPU kernels do, out-of-range floats to integers included.
template <typename From, typename To>
__global__ void ConvertKernel(const From* in, To* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = convert_value<To>(in[i]);
  }
}

}  // namespace

void CheckOnDevice(const KernelContext& ctx, const char* kernel) {
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const Block& b = ctx.inputs[i];
    if (b.size() > 0 && b.device() != engine::Device::kCuda) {
      throw ValueError(std::string(kernel) + ": input " + std::to_string(i) +
                       " is in host memory (a CUDA kernel takes device blocks)");
    }
  }
}

Block AllocateOnDevice(DType dtype, Shape shape, const char* kernel) {
  Block out = Block::Allocate(dtype, std::move(shape));
  if (out.size() > 0 && out.device() != engine::Device::kCuda) {
    throw ClusterError(
        std::string(kernel) +
        ": the thread's pool is host memory (a CUDA kernel runs with its GPU's pool)");
  }
  return out;
}

Block AllocateScratch(DType dtype, int64_t n, const char* kernel) {
  const auto& pool = engine::MemoryPool::Current();
  if (pool->device() != engine::Device::kCuda) {
    throw ClusterError(
        std::string(kernel) +
        ": the thread's pool is host memory (a CUDA kernel runs with its GPU's pool)");
  }
  return Block::Allocate(dtype, {n}, pool);
}

Shape BroadcastStrides(const Shape& shape, size_t nd) {
  Shape strides(nd, 0);
  int64_t s = 1;
  for (size_t j = 0; j < shape.size(); ++j) {
    const size_t src = shape.size() - 1 - j;
    const size_t dst = nd - 1 - j;
    strides[dst] = shape[src] == 1 ? 0 : s;
    s *= shape[src];
  }
  return strides;
}

Shape BroadcastOrThrow(const std::vector<Shape>& shapes, const char* kernel) {
  size_t nd = 0;
  for (const auto& s : shapes) nd = std::max(nd, s.size());
  Shape out(nd, 1);
  bool ok = true;
  for (const auto& s : shapes) {
    for (size_t j = 0; j < s.size(); ++j) {
      const int64_t v = s[s.size() - 1 - j];
      int64_t& o = out[nd - 1 - j];
      if (v == o || v == 1) continue;
      if (o != 1) ok = false;
      o = v;
    }
  }
  if (!ok) {
    std::string msg = std::string(kernel) + ": shapes";
    for (const auto& s : shapes) msg += " " + engine::ShapeToString(s);
    throw ShapeError(msg + " do not broadcast");
  }
  return out;
}

void CheckConvertible(DType from, DType to, const char* kernel) {
  dispatch_compute(
      from, [](auto) {}, kernel);
  dispatch_compute(
      to, [](auto) {}, kernel);
}

void ConvertOnDevice(DType from, DType to, const void* in, void* out, int64_t n,
                     cudaStream_t stream, const char* kernel) {
  dispatch_compute(
      from,
      [&](auto f) {
        dispatch_compute(
            to,
            [&](auto t) {
              using From = decltype(f);
              using To = decltype(t);
              if (n == 0) return;
              ConvertKernel<From, To><<<GridFor(n), kThreads, 0, stream>>>(
                  static_cast<const From*>(in), static_cast<To*>(out), n);
            },
            kernel);
      },
      kernel);
}

}  // namespace nums::kernels::cuda
