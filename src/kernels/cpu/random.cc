// Random CPU kernels: blocks of counter-based random numbers made where they will live, and the
// row gather that applies a permutation. See src/kernels/random.h for the counter layout.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/random.h"
#include "src/kernels/random_discrete.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

// Writes the values of global elements [g0, g0 + n) to out[0, n). values(call) returns the L
// values of one Philox call (elements call * L ... call * L + L - 1).
template <int L, typename T, typename Values>
void FillRun(T* out, uint64_t g0, int64_t n, const Values& values) {
  uint64_t g = g0;
  for (int64_t k = 0; k < n;) {
    const int lane = static_cast<int>(g % L);
    const std::array<T, L> v = values(g / L);
    const int64_t m = std::min<int64_t>(L - lane, n - k);
    for (int64_t j = 0; j < m; ++j) out[k + j] = v[static_cast<size_t>(lane + j)];
    k += m;
    g += static_cast<uint64_t>(m);
  }
}

// Calls run(local_start, global_start, length) over the block's elements in runs that are
// contiguous in both the block and the array (along the last axis), in parallel for big blocks.
template <typename Run>
void ForEachRun(const Shape& block, const Shape& offset, const Shape& shape, const Run& run) {
  const size_t nd = block.size();
  if (nd == 0) {
    run(int64_t{0}, uint64_t{0}, int64_t{1});
    return;
  }
  const int64_t n = engine::ShapeSize(block);
  const int64_t inner = block[nd - 1];
  Shape stride(nd);
  int64_t s = 1;
  for (size_t d = nd; d-- > 0;) {
    stride[d] = s;
    s *= shape[d];
  }
  ParallelRanges(n, kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e;) {
      const int64_t j = k % inner;
      int64_t rem = k / inner;
      int64_t g = offset[nd - 1] + j;
      for (size_t d = nd - 1; d-- > 0;) {
        g += (offset[d] + rem % block[d]) * stride[d];
        rem /= block[d];
      }
      const int64_t len = std::min(inner - j, e - k);
      run(k, static_cast<uint64_t>(g), len);
      k += len;
    }
  });
}

struct Params {
  uint64_t seed, stream;
  double a, b;
  int64_t ai, bi;
};

template <typename T>
void Uniform(T* out, uint64_t g0, int64_t n, const Params& p) {
  if constexpr (std::is_same_v<T, float>) {
    const float low = static_cast<float>(p.a), width = static_cast<float>(p.b - p.a);
    FillRun<kLanes<uint32_t>>(out, g0, n, [&](uint64_t call) {
      const PhiloxWords w = PhiloxAt(p.seed, p.stream, call, 0);
      std::array<float, kLanes<uint32_t>> v;
      for (int l = 0; l < kLanes<uint32_t>; ++l)
        v[l] = low + width * Uniform24(Lane<uint32_t>(w, l));
      return v;
    });
  } else {
    const double low = p.a, width = p.b - p.a;
    FillRun<kLanes<uint64_t>>(out, g0, n, [&](uint64_t call) {
      const PhiloxWords w = PhiloxAt(p.seed, p.stream, call, 0);
      std::array<double, kLanes<uint64_t>> v;
      for (int l = 0; l < kLanes<uint64_t>; ++l) v[l] = low + width * Uniform53(w.v[l]);
      return v;
    });
  }
}

template <typename T>
void Normal(T* out, uint64_t g0, int64_t n, const Params& p) {
  // Computed in double for every dtype, so float32 tails are as long as float64's.
  FillRun<kLanes<uint64_t>>(out, g0, n, [&](uint64_t call) {
    const PhiloxWords w = PhiloxAt(p.seed, p.stream, call, 0);
    std::array<double, 4> z;
    BoxMuller(w.v[0], w.v[1], z[0], z[1]);
    BoxMuller(w.v[2], w.v[3], z[2], z[3]);
    std::array<T, 4> v;
    for (size_t l = 0; l < 4; ++l) v[l] = static_cast<T>(p.a + p.b * z[l]);
    return v;
  });
}

template <typename T>
void Exponential(T* out, uint64_t g0, int64_t n, const Params& p) {
  FillRun<kLanes<uint64_t>>(out, g0, n, [&](uint64_t call) {
    const PhiloxWords w = PhiloxAt(p.seed, p.stream, call, 0);
    std::array<T, 4> v;
    // 0 - log(u), not -log(u): u = 1 gives +0, never -0.
    for (size_t l = 0; l < 4; ++l) {
      v[l] = static_cast<T>(p.b * (0.0 - std::log(Uniform53OpenLow(w.v[l]))));
    }
    return v;
  });
}

// Element g0 + j from its own words (ElementUniforms), whatever run it falls in.
template <typename Draw>
void PerElement(int64_t* out, uint64_t g0, int64_t n, const Params& p, const Draw& draw) {
  for (int64_t j = 0; j < n; ++j) {
    ElementUniforms u(p.seed, p.stream, g0 + static_cast<uint64_t>(j));
    out[j] = draw(u);
  }
}

template <typename W, typename T>
void IntegersWith(T* out, uint64_t g0, int64_t n, const Params& p) {
  const W range = static_cast<W>(static_cast<uint64_t>(p.bi) - static_cast<uint64_t>(p.ai));
  const uint64_t low = static_cast<uint64_t>(p.ai);
  constexpr int kL = kLanes<W>;
  FillRun<kL>(out, g0, n, [&](uint64_t call) {
    const PhiloxWords w = PhiloxAt(p.seed, p.stream, call, 0);
    std::array<T, kL> v;
    for (int l = 0; l < kL; ++l) {
      const W r = Bounded<W>(Lane<W>(w, l), range, p.seed, p.stream, call * kL + l);
      // Two's complement wrap: low + r is in [low, high) and so fits T.
      v[static_cast<size_t>(l)] = static_cast<T>(static_cast<int64_t>(low + r));
    }
    return v;
  });
}

template <typename T>
void Integers(T* out, uint64_t g0, int64_t n, const Params& p) {
  // 32-bit lanes (8 values per Philox call) whenever the range allows.
  const uint64_t range = static_cast<uint64_t>(p.bi) - static_cast<uint64_t>(p.ai);
  if (range <= UINT32_MAX) {
    IntegersWith<uint32_t>(out, g0, n, p);
  } else {
    IntegersWith<uint64_t>(out, g0, n, p);
  }
}

}  // namespace

void RegisterRandomKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // scalars [kind (RandomKind), seed, stream, block shape, block offset, array shape, dtype,
  // a, b (double), a_i, b_i (int64)]: the block at `block offset` of an array of `array shape`
  // drawn from stream `stream` of `seed` (seed bits as int64). kUniform: [a, b) in float32 or
  // float64; kNormal: mean a, standard deviation b, float32 or float64; kIntegers: [a_i, b_i)
  // with a_i < b_i, int32 or int64; kExponential: mean b, float32 or float64; kPoisson: mean a
  // in [0, 1e10], int64; kBinomial: a_i trials of probability a, int64. Element i (global
  // row-major index) depends only on (seed, stream, i).
  registry.Register("array.random", Device::kCpu, [](const KernelContext& ctx) {
    const auto kind = static_cast<RandomKind>(ctx.scalar<int64_t>(0));
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
    const bool floating = dtype == DType::kFloat32 || dtype == DType::kFloat64;
    const bool integral = dtype == DType::kInt32 || dtype == DType::kInt64;
    const bool counts = kind == RandomKind::kPoisson || kind == RandomKind::kBinomial;
    if (counts ? dtype != DType::kInt64 : (kind == RandomKind::kIntegers ? !integral : !floating)) {
      throw DTypeError("array.random: dtype " + std::string(dtype_name(dtype)) +
                       " does not fit kind " + std::to_string(static_cast<int64_t>(kind)));
    }
    if (kind == RandomKind::kIntegers && p.ai >= p.bi) {
      throw ValueError("array.random: empty integer range [" + std::to_string(p.ai) + ", " +
                       std::to_string(p.bi) + ")");
    }
    if (kind == RandomKind::kPoisson && !(p.a >= 0.0 && p.a <= kMaxPoissonLam)) {
      throw ValueError("array.random: poisson lam " + std::to_string(p.a) + " out of range");
    }
    if (kind == RandomKind::kBinomial && (p.ai < 0 || !(p.a >= 0.0 && p.a <= 1.0))) {
      throw ValueError("array.random: binomial n " + std::to_string(p.ai) + ", p " +
                       std::to_string(p.a) + " out of range");
    }
    Block out = Block::Allocate(dtype, block);
    dispatch_compute(
        dtype,
        [&](auto t) {
          using T = decltype(t);
          T* data = out.data<T>();
          ForEachRun(block, offset, shape, [&](int64_t k, uint64_t g, int64_t n) {
            if constexpr (std::is_floating_point_v<T>) {
              if (kind == RandomKind::kUniform) {
                Uniform(data + k, g, n, p);
              } else if (kind == RandomKind::kExponential) {
                Exponential(data + k, g, n, p);
              } else {
                Normal(data + k, g, n, p);
              }
            } else if constexpr (std::is_same_v<T, int64_t>) {
              if (kind == RandomKind::kPoisson) {
                PerElement(data + k, g, n, p, [&](ElementUniforms& u) { return Poisson(p.a, u); });
              } else if (kind == RandomKind::kBinomial) {
                PerElement(data + k, g, n, p,
                           [&](ElementUniforms& u) { return Binomial(p.ai, p.a, u); });
              } else {
                Integers(data + k, g, n, p);
              }
            } else if constexpr (std::is_same_v<T, int32_t>) {
              Integers(data + k, g, n, p);
            }
          });
        },
        "array.random");
    return std::vector<Block>{out};
  });

  // inputs [b0, b1, ...]; scalars [out shape, dtype, source, row]: row r of the output is row
  // row[r] of input source[r]. Inputs share the output's trailing shape (permutation(x)).
  registry.Register("array.permute_rows", Device::kCpu, [](const KernelContext& ctx) {
    const auto& shape = ctx.scalar<std::vector<int64_t>>(0);
    const auto dtype = dtype_from_code(ctx.scalar<int64_t>(1));
    const auto& source = ctx.scalar<std::vector<int64_t>>(2);
    const auto& row = ctx.scalar<std::vector<int64_t>>(3);
    if (shape.empty() || static_cast<int64_t>(source.size()) != shape[0] ||
        row.size() != source.size()) {
      throw ShapeError("array.permute_rows: " + std::to_string(source.size()) +
                       " row sources for an output of shape " + engine::ShapeToString(shape));
    }
    Block out = Block::Allocate(dtype, shape);
    const int64_t row_bytes = engine::ShapeSize(shape) / shape[0] * itemsize(dtype);
    auto* dst = static_cast<char*>(out.raw());
    for (size_t r = 0; r < source.size(); ++r) {
      if (source[r] < 0 || static_cast<size_t>(source[r]) >= ctx.inputs.size()) {
        throw ValueError("array.permute_rows: input " + std::to_string(source[r]) + " of " +
                         std::to_string(ctx.inputs.size()));
      }
      const Block& in = ctx.inputs[static_cast<size_t>(source[r])];
      if (in.dtype() != dtype || in.ndim() != static_cast<int64_t>(shape.size()) ||
          !std::equal(shape.begin() + 1, shape.end(), in.shape().begin() + 1) || row[r] < 0 ||
          row[r] >= in.shape()[0]) {
        throw ShapeError("array.permute_rows: row " + std::to_string(row[r]) + " of input " +
                         engine::ShapeToString(in.shape()) + " for an output of shape " +
                         engine::ShapeToString(shape));
      }
      std::memcpy(dst + static_cast<int64_t>(r) * row_bytes,
                  static_cast<const char*>(in.raw()) + row[r] * row_bytes,
                  static_cast<size_t>(row_bytes));
    }
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
