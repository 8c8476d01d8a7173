// Elementwise CPU kernels: binary and unary ops with broadcasting inside a block, where, astype,
// and a zero-copy block reshape.

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "src/kernels/cpu/elementwise_loops.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {
namespace {

using engine::KernelContext;

Shape BroadcastOrThrow(const std::vector<Shape>& shapes, const char* kernel) {
  Shape out;
  if (!BroadcastShapes(shapes, out)) {
    std::string msg = std::string(kernel) + ": shapes";
    for (const auto& s : shapes) msg += " " + engine::ShapeToString(s);
    throw ShapeError(msg + " do not broadcast");
  }
  return out;
}

template <typename From, typename To>
void Convert(const Block& in, Block& out) {
  const From* p = in.data<From>();
  To* q = out.data<To>();
  ParallelRanges(in.size(), kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) q[i] = convert_value<To>(p[i]);
  });
}

}  // namespace

Block AstypeBlock(const Block& in, DType to) {
  if (in.dtype() == to) return in;
  Block out = Block::Allocate(to, in.shape());
  dispatch_all(in.dtype(), [&](auto from) {
    dispatch_all(to, [&](auto dst) { Convert<decltype(from), decltype(dst)>(in, out); });
  });
  return out;
}

void RegisterElementwiseKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [a, b] of one dtype; scalars [op]. Broadcasts a against b.
  registry.Register("array.binary", Device::kCpu, [](const KernelContext& ctx) {
    const Block& a = ctx.inputs[0];
    const Block& b = ctx.inputs[1];
    CheckSameDType(a.dtype(), b.dtype(), "array.binary");
    const auto op = static_cast<BinaryOp>(ctx.scalar<int64_t>(0));
    const Shape shape = BroadcastOrThrow({a.shape(), b.shape()}, "array.binary");
    if (a.dtype() == DType::kComplex128) return std::vector<Block>{ComplexBinary(op, a, b, shape)};
    return std::vector<Block>{dispatch(
        a.dtype(), [&](auto t) { return BinaryDispatch<decltype(t)>(op, a, b, shape); },
        "array.binary")};
  });
  // inputs [x]; scalars [op].
  registry.Register("array.unary", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const auto op = static_cast<UnaryOp>(ctx.scalar<int64_t>(0));
    if (x.dtype() == DType::kComplex128) return std::vector<Block>{ComplexUnary(op, x)};
    return std::vector<Block>{dispatch(
        x.dtype(), [&](auto t) { return UnaryDispatch<decltype(t)>(op, x); }, "array.unary")};
  });
  // inputs [cond (any dtype, by truth), x, y (one dtype)]: x where cond else y, broadcast.
  registry.Register("array.where", Device::kCpu, [](const KernelContext& ctx) {
    const Block cond = AstypeBlock(ctx.inputs[0], DType::kBool);
    const Block& x = ctx.inputs[1];
    const Block& y = ctx.inputs[2];
    CheckSameDType(x.dtype(), y.dtype(), "array.where");
    const Shape shape = BroadcastOrThrow({cond.shape(), x.shape(), y.shape()}, "array.where");
    Block out = Block::Allocate(x.dtype(), shape);
    DispatchBits(x.dtype(), [&](auto t) {  // the values only move
      using T = decltype(t);
      const bool* pc = cond.data<bool>();
      const T* px = x.data<T>();
      const T* py = y.data<T>();
      T* po = out.data<T>();
      BroadcastRuns<3>(
          shape, {cond.shape(), x.shape(), y.shape()},
          [&](int64_t o, int64_t n, std::array<int64_t, 3> s, std::array<int64_t, 3> st) {
            for (int64_t i = 0; i < n; ++i) {
              po[o + i] = pc[s[0] + i * st[0]] ? px[s[1] + i * st[1]] : py[s[2] + i * st[2]];
            }
          });
    });
    return std::vector<Block>{out};
  });
  // inputs [x]; scalars [decimals]: round half to even at 10^-decimals, as NumPy's round (which
  // scales, rounds and unscales in the array's float type; integers in float64 and back).
  registry.Register("array.round", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const int64_t decimals = ctx.scalar<int64_t>(0);
    const double scale = std::pow(10.0, static_cast<double>(decimals < 0 ? -decimals : decimals));
    Block out = Block::Allocate(x.dtype(), x.shape());
    dispatch(x.dtype(), [&](auto t) {
      using T = decltype(t);
      using F = std::conditional_t<std::is_same_v<T, float>, float, double>;
      const F f = static_cast<F>(scale);
      const T* px = x.data<T>();
      T* po = out.data<T>();
      ParallelRanges(x.size(), kElementGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const F v = static_cast<F>(px[i]);
          const F r = decimals == 0  ? std::nearbyint(v)
                      : decimals > 0 ? std::nearbyint(v * f) / f
                                     : std::nearbyint(v / f) * f;
          po[i] = convert_value<T>(r);
        }
      });
    });
    return std::vector<Block>{out};
  });
  // inputs [x (float)]; scalars [nan, posinf, neginf]: NaN and the infinities replaced.
  registry.Register("array.nan_to_num", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const double nan = ctx.scalar<double>(0), posinf = ctx.scalar<double>(1),
                 neginf = ctx.scalar<double>(2);
    Block out = Block::Allocate(x.dtype(), x.shape());
    dispatch(x.dtype(), [&](auto t) {
      using T = decltype(t);
      if constexpr (!std::is_floating_point_v<T>) {
        throw DTypeError("array.nan_to_num: a float block (the array layer passes others by)");
      } else {
        const T n = static_cast<T>(nan), p = static_cast<T>(posinf), m = static_cast<T>(neginf);
        const T* px = x.data<T>();
        T* po = out.data<T>();
        ParallelRanges(x.size(), kElementGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            const T v = px[i];
            po[i] = v != v ? n : std::isinf(v) ? (v > 0 ? p : m) : v;
          }
        });
      }
    });
    return std::vector<Block>{out};
  });
  // inputs [a, b] of one float dtype; scalars [rtol, atol, equal_nan]: NumPy's isclose,
  // |a - b| <= atol + rtol * |b| for finite b, or a == b (equal infinities), broadcast.
  registry.Register("array.isclose", Device::kCpu, [](const KernelContext& ctx) {
    const Block& a = ctx.inputs[0];
    const Block& b = ctx.inputs[1];
    CheckSameDType(a.dtype(), b.dtype(), "array.isclose");
    const double rtol = ctx.scalar<double>(0), atol = ctx.scalar<double>(1);
    const bool equal_nan = ctx.scalar<bool>(2);
    const Shape shape = BroadcastOrThrow({a.shape(), b.shape()}, "array.isclose");
    Block out = Block::Allocate(DType::kBool, shape);
    dispatch(a.dtype(), [&](auto t) {
      using T = decltype(t);
      if constexpr (!std::is_floating_point_v<T>) {
        throw DTypeError("array.isclose: float blocks (the array layer casts first)");
      } else {
        // NumPy 2 computes in the arrays' float type, with rtol and atol as weak scalars.
        const T rt = static_cast<T>(rtol), at = static_cast<T>(atol);
        const T* pa = a.data<T>();
        const T* pb = b.data<T>();
        bool* po = out.data<bool>();
        BroadcastRuns<2>(
            shape, {a.shape(), b.shape()},
            [&](int64_t o, int64_t n, std::array<int64_t, 2> s, std::array<int64_t, 2> st) {
              for (int64_t i = 0; i < n; ++i) {
                const T x = pa[s[0] + i * st[0]], y = pb[s[1] + i * st[1]];
                po[o + i] = (std::abs(x - y) <= at + rt * std::abs(y) && std::isfinite(y)) ||
                            x == y || (equal_nan && x != x && y != y);
              }
            });
      }
    });
    return std::vector<Block>{out};
  });
  // inputs [x]; scalars [dtype].
  registry.Register("array.astype", Device::kCpu, [](const KernelContext& ctx) {
    return std::vector<Block>{AstypeBlock(ctx.inputs[0], dtype_from_code(ctx.scalar<int64_t>(0)))};
  });
  // inputs [x]; scalars [shape]: the same bytes seen with another shape of the same size.
  registry.Register("array.reshape_block", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    Shape shape = ctx.scalar<std::vector<int64_t>>(0);
    if (engine::ShapeSize(shape) != x.size()) {
      throw ShapeError("array.reshape_block: cannot view a block of shape " +
                       engine::ShapeToString(x.shape()) + " as " + engine::ShapeToString(shape));
    }
    return std::vector<Block>{Block(x.dtype(), std::move(shape), x.buffer())};
  });
}

}  // namespace nums::kernels
