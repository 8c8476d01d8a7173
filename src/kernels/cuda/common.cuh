#pragma once
// What every CUDA kernel of the array layer shares: the one dtype switch, host-side checks, the
// launch scope (device, stream, handles lock, final synchronise) and n-d indexing that hides
// broadcasting behind element offsets.

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/cuda/gpu_services.cuh"
#include "engine/kernel_registry.h"
#include "nums/dtype.hpp"
#include "nums/errors.hpp"

namespace nums::kernels::cuda {

using engine::Block;
using engine::KernelContext;
using engine::Shape;

inline constexpr int kMaxDims = 8;  // after collapsing contiguous axes
inline constexpr int kThreads = 256;

/// Calls f(T{}) for float32 and float64; any other dtype is a DTypeError naming the kernel.
template <typename F>
decltype(auto) DispatchFloat(DType t, const char* kernel, F&& f) {
  switch (t) {
    case DType::kFloat32:
      return f(float{});
    case DType::kFloat64:
      return f(double{});
    default:
      break;
  }
  throw DTypeError(std::string(kernel) + ": no CUDA kernel for dtype " +
                   std::string(dtype_name(t)) + " (float32 and float64 only)");
}

/// The scope of one kernel body on its GPU: makes the device current, holds the services' lock
/// (the stream and handles are shared by every task on the device) and, at Finish, waits for the
/// stream so the outputs are complete when the kernel returns.
class Launch {
 public:
  Launch(const KernelContext& ctx, const char* kernel) : kernel_(kernel) {
    if (ctx.gpu == nullptr)
      throw ClusterError(std::string(kernel) + ": CUDA kernel run without a GPU");
    gpu_ = ctx.gpu;
    engine::UseDevice(gpu_->ordinal);
    lock_ = std::unique_lock<std::mutex>(gpu_->mu);
  }
  cudaStream_t stream() const { return gpu_->compute; }
  engine::GpuServices& gpu() const { return *gpu_; }
  /// Throws ClusterError when the last launch failed to start.
  void Check() const { engine::CheckCuda(cudaGetLastError(), kernel_); }
  void Finish() const {
    Check();
    engine::CheckCuda(cudaStreamSynchronize(gpu_->compute), kernel_);
  }

 private:
  const char* kernel_;
  engine::GpuServices* gpu_ = nullptr;
  std::unique_lock<std::mutex> lock_;
};

/// Throws ValueError unless every non-empty input is device memory (a CUDA task's inputs are
/// moved to its GPU before it runs; a host pointer here would fault on the device).
void CheckOnDevice(const KernelContext& ctx, const char* kernel);

/// A block from the thread's current pool (a declared output when one matches), which must be
/// device memory.
Block AllocateOnDevice(DType dtype, Shape shape, const char* kernel);
/// A scratch block from the current pool, never a declared output.
Block AllocateScratch(DType dtype, int64_t n, const char* kernel);

/// Blocks of a grid-stride loop over n elements.
inline unsigned GridFor(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 8192));
}

/// Element offsets into K operands of a row-major index space (the output's), 0-stride along
/// broadcast axes. Axes that are contiguous in every operand are merged, so most calls index
/// over one or two axes.
template <int K>
struct Indexer {
  int nd = 0;
  int64_t shape[kMaxDims] = {};
  int64_t stride[K][kMaxDims] = {};

  __device__ __forceinline__ void Offsets(int64_t i, int64_t (&off)[K]) const {
    if (nd == 1) {  // no division: the common, flat case
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] = i * stride[k][0];
      return;
    }
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] = 0;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t q = i / shape[d];
      const int64_t r = i - q * shape[d];
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] += r * stride[k][d];
      i = q;
    }
  }
};

/// Row-major strides of `shape` padded on the left to `nd` axes, 0 where the (padded) extent is
/// 1 and so broadcast.
Shape BroadcastStrides(const Shape& shape, size_t nd);

/// Collapses (shape, per-operand strides) into an Indexer: drops size-1 axes, merges an axis
/// into the next when every operand steps over it contiguously. ShapeError naming `kernel` when
/// more than kMaxDims axes remain.
template <int K>
Indexer<K> MakeIndexer(const Shape& shape, const std::array<Shape, K>& strides,
                       const char* kernel) {
  std::vector<int64_t> dims;
  std::array<std::vector<int64_t>, K> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !dims.empty();
    for (int k = 0; k < K && merge; ++k) {
      merge = st[k].back() == strides[k][d] * shape[d];
    }
    if (merge) {
      dims.back() *= shape[d];
      for (int k = 0; k < K; ++k) st[k].back() = strides[k][d];
    } else {
      dims.push_back(shape[d]);
      for (int k = 0; k < K; ++k) st[k].push_back(strides[k][d]);
    }
  }
  if (dims.empty()) {  // one element (or a 0-d block): a single axis of length 1
    dims.push_back(1);
    for (int k = 0; k < K; ++k) st[k].push_back(0);
  }
  if (dims.size() > static_cast<size_t>(kMaxDims)) {
    throw ShapeError(std::string(kernel) + ": shape " + engine::ShapeToString(shape) +
                     " has more than " + std::to_string(kMaxDims) +
                     " axes after merging contiguous ones (the CUDA kernel's limit)");
  }
  Indexer<K> ix;
  ix.nd = static_cast<int>(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    ix.shape[d] = dims[d];
    for (int k = 0; k < K; ++k) ix.stride[k][d] = st[k][d];
  }
  return ix;
}

/// NumPy broadcasting of `shapes`; ShapeError naming `kernel` and every shape when they do not
/// broadcast (the CPU kernels' message).
Shape BroadcastOrThrow(const std::vector<Shape>& shapes, const char* kernel);

/// Indexer over the broadcast output `out` of K inputs of shapes `in`.
template <int K>
Indexer<K> BroadcastIndexer(const Shape& out, const std::array<Shape, K>& in, const char* kernel) {
  std::array<Shape, K> strides;
  for (int k = 0; k < K; ++k) strides[k] = BroadcastStrides(in[k], out.size());
  return MakeIndexer<K>(out, strides, kernel);
}

/// Throws DTypeError naming `kernel` unless ConvertOnDevice moves between `from` and `to`.
void CheckConvertible(DType from, DType to, const char* kernel);

/// Converts n elements of `from` at `in` to `to` at `out` on `stream` (NumPy's casting rules, as
/// convert_value). Both dtypes among bool, int32, int64, float32, float64; DTypeError otherwise.
void ConvertOnDevice(DType from, DType to, const void* in, void* out, int64_t n,
                     cudaStream_t stream, const char* kernel);

}  // namespace nums::kernels::cuda
