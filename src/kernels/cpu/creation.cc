// Creation CPU kernels: blocks made where they will live, from a few scalars.

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

template <typename T>
T FromNumber(double f, int64_t i, double im) {
  if constexpr (std::is_same_v<T, std::complex<double>>) {
    return {f, im};
  } else if constexpr (std::is_same_v<T, bool>) {
    return f != 0.0 || im != 0.0;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(i);
  } else {
    return convert_value<T>(f);  // float16 rounds to nearest even
  }
}

}  // namespace

void RegisterCreationKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // scalars [shape, dtype, value (double), value (int64), imaginary part (double, optional)]:
  // every element the value.
  registry.Register("array.full", Device::kCpu, [](const KernelContext& ctx) {
    const auto dtype = dtype_from_code(ctx.scalar<int64_t>(1));
    Block out = Block::Allocate(dtype, ctx.scalar<std::vector<int64_t>>(0));
    const double f = ctx.scalar<double>(2);
    const int64_t i = ctx.scalar<int64_t>(3);
    const double im = ctx.scalars.size() > 4 ? ctx.scalar<double>(4) : 0.0;
    dispatch_all(dtype, [&](auto t) {
      using T = decltype(t);
      const T v = FromNumber<T>(f, i, im);
      T* p = out.data<T>();
      ParallelRanges(out.size(), kElementGrain, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) p[k] = v;
      });
    });
    return std::vector<Block>{out};
  });
  // scalars [length, dtype, start, step, offset, start_i, step_i, last_index, last_value]:
  // element k is start + (offset + k) * step (in int64 for integer dtypes); the element whose
  // global index is last_index (if >= 0) is exactly last_value (linspace's endpoint).
  registry.Register("array.arange", Device::kCpu, [](const KernelContext& ctx) {
    const int64_t n = ctx.scalar<int64_t>(0);
    const auto dtype = dtype_from_code(ctx.scalar<int64_t>(1));
    const double start = ctx.scalar<double>(2), step = ctx.scalar<double>(3);
    const int64_t offset = ctx.scalar<int64_t>(4);
    const int64_t start_i = ctx.scalar<int64_t>(5), step_i = ctx.scalar<int64_t>(6);
    const int64_t last_index = ctx.scalar<int64_t>(7);
    const double last_value = ctx.scalar<double>(8);
    Block out = Block::Allocate(dtype, {n});
    dispatch_all(dtype, [&](auto t) {
      using T = decltype(t);
      T* p = out.data<T>();
      for (int64_t k = 0; k < n; ++k) {
        const int64_t g = offset + k;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          p[k] = static_cast<T>(WrapAdd(start_i, WrapMul(g, step_i)));
        } else {
          p[k] = convert_value<T>(g == last_index ? last_value
                                                  : start + static_cast<double>(g) * step);
        }
      }
    });
    return std::vector<Block>{out};
  });
  // scalars [shape (2-d), dtype, row offset, column offset, k]: ones where column - row == k.
  registry.Register("array.eye", Device::kCpu, [](const KernelContext& ctx) {
    const auto& shape = ctx.scalar<std::vector<int64_t>>(0);
    const auto dtype = dtype_from_code(ctx.scalar<int64_t>(1));
    const int64_t r0 = ctx.scalar<int64_t>(2), c0 = ctx.scalar<int64_t>(3);
    const int64_t k = ctx.scalar<int64_t>(4);
    Block out = Block::Allocate(dtype, shape);
    dispatch_all(dtype, [&](auto t) {
      using T = decltype(t);
      T* p = out.data<T>();
      for (int64_t i = 0; i < shape[0]; ++i) {
        for (int64_t j = 0; j < shape[1]; ++j) {
          p[i * shape[1] + j] = convert_value<T>((c0 + j) - (r0 + i) == k ? 1 : 0);
        }
      }
    });
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
