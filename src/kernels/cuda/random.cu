// array.random on a GPU: the CPU kernel's Philox4x64-10 streams (src/kernels/random.h), element
// by element. Each thread computes its element's global index, the Philox call and lane that
// index reads, and the value the CPU draws from that word: uniform and integers bit for bit;
// normal and exponential to the ulps in which CUDA's log, sqrt, sin and cos differ from the C
// library's. Poisson and binomial (random_discrete.h) have no CUDA kernel yet.
//
// random.h itself cannot be included here: under nvcc, Random123's functions are device-only and
// random.h calls them from host inline functions.

#include <Random123/philox.h>

#include <numbers>

#include "src/kernels/cuda/common.cuh"
#include "src/kernels/cuda/kernels.h"

namespace nums::kernels::cuda {
namespace {

// The codes of RandomKind (src/kernels/random.h); the GPU tests draw with RandomKind's values.
enum class Kind : int64_t { kUniform, kNormal, kIntegers, kExponential, kPoisson, kBinomial };

struct Params {
  uint64_t seed, stream;
  double a, b;
  int64_t ai, bi;
};

// The block's element k -> its row-major index in the whole array.
struct Layout {
  int nd = 0;
  int64_t block[kMaxDims] = {}, offset[kMaxDims] = {}, stride[kMaxDims] = {};
  __device__ uint64_t Global(int64_t k) const {
    int64_t g = 0;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t q = k / block[d];
      g += (offset[d] + (k - q * block[d])) * stride[d];
      k = q;
    }
    return static_cast<uint64_t>(g);
  }
};

__device__ __forceinline__ r123::Philox4x64::ctr_type PhiloxAt(uint64_t seed, uint64_t stream,
                                                               uint64_t call, uint64_t attempt) {
  const r123::Philox4x64::ctr_type ctr = {{call, attempt, 0, 0}};
  const r123::Philox4x64::key_type key = {{seed, stream}};
  return r123::Philox4x64()(ctr, key);
}

// Lane l of 8 32-bit lanes: the low half of word l / 2 first.
__device__ __forceinline__ uint32_t Lane32(const r123::Philox4x64::ctr_type& w, int l) {
  return static_cast<uint32_t>(w.v[l >> 1] >> (32 * (l & 1)));
}

__device__ __forceinline__ double Uniform53(uint64_t w) {
  return static_cast<double>(w >> 11) * 0x1.0p-53;
}
__device__ __forceinline__ double Uniform53OpenLow(uint64_t w) {
  return static_cast<double>((w >> 11) + 1) * 0x1.0p-53;
}
__device__ __forceinline__ float Uniform24(uint32_t w) {
  return static_cast<float>(w >> 8) * 0x1.0p-24f;
}

// Lemire's multiply-shift with the CPU's retries (counter (index, attempt), lane 0).
__device__ uint64_t Bounded64(uint64_t w, uint64_t range, const Params& p, uint64_t index) {
  uint64_t low = w * range, high = __umul64hi(w, range);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;
    for (uint64_t attempt = 1; low < threshold; ++attempt) {
      const uint64_t v = PhiloxAt(p.seed, p.stream, index, attempt).v[0];
      low = v * range;
      high = __umul64hi(v, range);
    }
  }
  return high;
}
__device__ uint32_t Bounded32(uint32_t w, uint32_t range, const Params& p, uint64_t index) {
  uint64_t m = static_cast<uint64_t>(w) * range;
  uint32_t low = static_cast<uint32_t>(m);
  if (low < range) {
    const uint32_t threshold = (0u - range) % range;
    for (uint64_t attempt = 1; low < threshold; ++attempt) {
      m = static_cast<uint64_t>(Lane32(PhiloxAt(p.seed, p.stream, index, attempt), 0)) * range;
      low = static_cast<uint32_t>(m);
    }
  }
  return static_cast<uint32_t>(m >> 32);
}

// Box-Muller as random.h's: lane 2j and 2j + 1 of a call are the pair from words 2j, 2j + 1.
__device__ double Normal01(const r123::Philox4x64::ctr_type& w, int lane) {
  const int j = lane & ~1;
  const double r = sqrt(-2.0 * log(Uniform53OpenLow(w.v[j])));
  const double theta = __dmul_rn(2.0 * std::numbers::pi, Uniform53(w.v[j + 1]));
  return (lane & 1) ? __dmul_rn(r, sin(theta)) : __dmul_rn(r, cos(theta));
}

// The explicit _rn operations keep a + b * u from becoming an FMA: the CPU rounds twice.
template <typename T>
__global__ void FloatKernel(T* out, int64_t n, Layout layout, Kind kind, Params p) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n;
       k += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t g = layout.Global(k);
    if (kind == Kind::kUniform && sizeof(T) == 4) {
      const auto w = PhiloxAt(p.seed, p.stream, g / 8, 0);
      const float low = static_cast<float>(p.a), width = static_cast<float>(p.b - p.a);
      out[k] = static_cast<T>(__fadd_rn(low, __fmul_rn(width, Uniform24(Lane32(w, g % 8)))));
      continue;
    }
    const auto w = PhiloxAt(p.seed, p.stream, g / 4, 0);
    const int lane = static_cast<int>(g % 4);
    if (kind == Kind::kUniform) {
      out[k] = static_cast<T>(__dadd_rn(p.a, __dmul_rn(p.b - p.a, Uniform53(w.v[lane]))));
    } else if (kind == Kind::kNormal) {
      out[k] = static_cast<T>(__dadd_rn(p.a, __dmul_rn(p.b, Normal01(w, lane))));
    } else {  // exponential; 0 - log(u) so that u = 1 gives +0
      out[k] = static_cast<T>(__dmul_rn(p.b, 0.0 - log(Uniform53OpenLow(w.v[lane]))));
    }
  }
}

template <typename T>
__global__ void IntegerKernel(T* out, int64_t n, Layout layout, Params p) {
  const uint64_t range = static_cast<uint64_t>(p.bi) - static_cast<uint64_t>(p.ai);
  const uint64_t low = static_cast<uint64_t>(p.ai);
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n;
       k += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t g = layout.Global(k);
    uint64_t r;
    if (range <= UINT32_MAX) {  // 8 values per call
      const auto w = PhiloxAt(p.seed, p.stream, g / 8, 0);
      r = Bounded32(Lane32(w, static_cast<int>(g % 8)), static_cast<uint32_t>(range), p, g);
    } else {
      const auto w = PhiloxAt(p.seed, p.stream, g / 4, 0);
      r = Bounded64(w.v[g % 4], range, p, g);
    }
    out[k] = static_cast<T>(static_cast<int64_t>(low + r));  // wraps into [low, high)
  }
}

}  // namespace

void RegisterRandomKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // scalars as the CPU kernel's: [kind, seed, stream, block shape, block offset, array shape,
  // dtype, a, b, a_i, b_i]. Uniform, normal and exponential in float32 or float64, integers in
  // int32 or int64; poisson and binomial are a ValueError.
  registry.Register("array.random", Device::kCuda, [](const KernelContext& ctx) {
    const char* kName = "array.random";
    const auto kind = static_cast<Kind>(ctx.scalar<int64_t>(0));
    const Params p{static_cast<uint64_t>(ctx.scalar<int64_t>(1)),
                   static_cast<uint64_t>(ctx.scalar<int64_t>(2)),
                   ctx.scalar<double>(7),
                   ctx.scalar<double>(8),
                   ctx.scalar<int64_t>(9),
                   ctx.scalar<int64_t>(10)};
    const auto& block = ctx.scalar<std::vector<int64_t>>(3);
    const auto& offset = ctx.scalar<std::vector<int64_t>>(4);
    const auto& shape = ctx.scalar<std::vector<int64_t>>(5);
    const auto dtype = dtype_from_code(ctx.scalar<int64_t>(6));
    if (offset.size() != block.size() || shape.size() != block.size()) {
      throw ShapeError("array.random: block " + engine::ShapeToString(block) + ", offset " +
                       engine::ShapeToString(offset) + " and array " +
                       engine::ShapeToString(shape) + " differ in rank");
    }
    if (kind == Kind::kPoisson || kind == Kind::kBinomial) {
      throw ValueError(
          "array.random: poisson and binomial draws have no CUDA kernel; draw them on a CPU");
    }
    if (kind != Kind::kUniform && kind != Kind::kNormal && kind != Kind::kIntegers &&
        kind != Kind::kExponential) {
      throw ValueError("array.random: unknown kind " + std::to_string(static_cast<int64_t>(kind)));
    }
    const bool floating = dtype == DType::kFloat32 || dtype == DType::kFloat64;
    const bool integral = dtype == DType::kInt32 || dtype == DType::kInt64;
    if (kind == Kind::kIntegers ? !integral : !floating) {
      throw DTypeError("array.random: dtype " + std::string(dtype_name(dtype)) +
                       " does not fit kind " + std::to_string(static_cast<int64_t>(kind)));
    }
    if (kind == Kind::kIntegers && p.ai >= p.bi) {
      throw ValueError("array.random: empty integer range [" + std::to_string(p.ai) + ", " +
                       std::to_string(p.bi) + ")");
    }
    if (block.size() > static_cast<size_t>(kMaxDims)) {
      throw ShapeError(std::string(kName) + ": blocks of more than " + std::to_string(kMaxDims) +
                       " axes have no CUDA kernel (block " + engine::ShapeToString(block) + ")");
    }
    Layout layout;
    layout.nd = static_cast<int>(block.size());
    for (size_t d = block.size(), s = 1; d-- > 0;) {
      layout.block[d] = block[d];
      layout.offset[d] = offset[d];
      layout.stride[d] = static_cast<int64_t>(s);
      s *= static_cast<size_t>(shape[d]);
    }
    Launch launch(ctx, kName);
    Block out = AllocateOnDevice(dtype, block, kName);
    const int64_t n = out.size();
    if (n > 0) {
      const unsigned grid = GridFor(n);
      switch (dtype) {
        case DType::kFloat32:
          FloatKernel<float>
              <<<grid, kThreads, 0, launch.stream()>>>(out.data<float>(), n, layout, kind, p);
          break;
        case DType::kFloat64:
          FloatKernel<double>
              <<<grid, kThreads, 0, launch.stream()>>>(out.data<double>(), n, layout, kind, p);
          break;
        case DType::kInt32:
          IntegerKernel<int32_t>
              <<<grid, kThreads, 0, launch.stream()>>>(out.data<int32_t>(), n, layout, p);
          break;
        default:
          IntegerKernel<int64_t>
              <<<grid, kThreads, 0, launch.stream()>>>(out.data<int64_t>(), n, layout, p);
          break;
      }
    }
    launch.Finish();
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels::cuda
