// Reduction CPU kernels: a block reduced over some axes, and arg-reductions with global indices.

#include <tbb/parallel_reduce.h>

#include "src/kernels/cpu/fold.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

// Shape of `shape` reduced over `reduced` (a mask), keeping size-1 axes when `keepdims`.
Shape ReducedShape(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) {
      out.push_back(shape[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

std::vector<bool> AxisMask(const Shape& shape, const std::vector<int64_t>& axes) {
  std::vector<bool> mask(shape.size(), false);
  for (int64_t a : axes) {
    if (a < 0 || a >= static_cast<int64_t>(shape.size())) {
      throw IndexError("array.reduce: axis " + std::to_string(a) + " out of range for shape " +
                       engine::ShapeToString(shape));
    }
    mask[static_cast<size_t>(a)] = true;
  }
  return mask;
}

// Folds n elements into `acc` (see Fold for the order of the additions).
template <ReduceOp Op, typename T, typename O>
O FoldRange(O acc, const T* p, int64_t n) {
  Fold<Op, T, O> fold(acc);
  fold.Feed(p, n);
  return fold.Finish();
}

template <ReduceOp Op, typename T>
Block ReduceBlock(const Block& x, const std::vector<bool>& reduced, bool keepdims) {
  using R = Reduce<Op, T>;
  using O = typename R::Out;
  const Shape& shape = x.shape();
  Block out = Block::Allocate(dtype_of<O>(), ReducedShape(shape, reduced, keepdims));
  O* po = out.data<O>();
  const T* px = x.data<T>();
  const int64_t m = out.size();
  for (int64_t i = 0; i < m; ++i) po[i] = R::Identity();
  const int64_t n = x.size();
  if (n == 0) return out;
  const size_t nd = shape.size();
  if (m == 1) {
    // Everything into one value: a parallel reduction over the flat range, split the same way
    // every run (so a sum is reproducible, and equal to the fused kernel's).
    po[0] = tbb::parallel_deterministic_reduce(
        tbb::blocked_range<int64_t>(0, n, kElementGrain), R::Identity(),
        [&](const tbb::blocked_range<int64_t>& r, O acc) {
          return FoldRange<Op, T, O>(acc, px + r.begin(), r.end() - r.begin());
        },
        [](O a, O b) { return R::Combine(a, b); });
    return out;
  }
  // Output stride of each input axis (0 along reduced axes).
  Shape ostride(nd, 0);
  int64_t s = 1;
  for (size_t d = nd; d-- > 0;) {
    if (!reduced[d]) {
      ostride[d] = s;
      s *= shape[d];
    }
  }
  const int64_t inner = shape[nd - 1];
  const int64_t outer = n / inner;
  const bool last_reduced = reduced[nd - 1];
  for (int64_t o = 0; o < outer; ++o) {
    int64_t base = 0, rem = o;
    for (size_t d = nd - 1; d-- > 0;) {
      base += (rem % shape[d]) * ostride[d];
      rem /= shape[d];
    }
    const T* row = px + o * inner;
    if (last_reduced) {
      po[base] = FoldRange<Op, T, O>(po[base], row, inner);
    } else {
      O* dst = po + base;
      for (int64_t i = 0; i < inner; ++i) dst[i] = R::Step(dst[i], row[i]);
    }
  }
  return out;
}

template <typename T>
Block ReduceDispatch(ReduceOp op, const Block& x, const std::vector<bool>& mask, bool keepdims) {
  switch (op) {
    case ReduceOp::kSum:
      return ReduceBlock<ReduceOp::kSum, T>(x, mask, keepdims);
    case ReduceOp::kProd:
      return ReduceBlock<ReduceOp::kProd, T>(x, mask, keepdims);
    case ReduceOp::kMin:
      return ReduceBlock<ReduceOp::kMin, T>(x, mask, keepdims);
    case ReduceOp::kMax:
      return ReduceBlock<ReduceOp::kMax, T>(x, mask, keepdims);
    case ReduceOp::kAll:
      return ReduceBlock<ReduceOp::kAll, T>(x, mask, keepdims);
    case ReduceOp::kAny:
      return ReduceBlock<ReduceOp::kAny, T>(x, mask, keepdims);
    case ReduceOp::kNanSum:
      return ReduceBlock<ReduceOp::kNanSum, T>(x, mask, keepdims);
    case ReduceOp::kNanMin:
      return ReduceBlock<ReduceOp::kNanMin, T>(x, mask, keepdims);
    case ReduceOp::kNanMax:
      return ReduceBlock<ReduceOp::kNanMax, T>(x, mask, keepdims);
  }
  throw ValueError("unknown reduce op " + std::to_string(static_cast<int64_t>(op)));
}

// Whether (v, i) beats the current best (bv, bi): strictly better, NaN first, ties to the
// lower global index.
template <typename T>
bool Better(bool is_max, T v, int64_t i, T bv, int64_t bi) {
  const bool vn = IsNan(v), bn = IsNan(bv);
  if (vn || bn) return vn && (!bn || i < bi);
  if (v == bv) return i < bi;
  return is_max ? bv < v : v < bv;
}

// Arg-reduction of one block over `axis` (-1: all axes, flat index into the whole array).
template <typename T>
std::vector<Block> ArgReduce(bool is_max, const Block& x, int64_t axis, const Shape& offset,
                             const Shape& array_shape) {
  const Shape& shape = x.shape();
  const size_t nd = shape.size();
  if (x.size() == 0) throw ValueError("attempt to get argmin/argmax of an empty sequence");
  const T* px = x.data<T>();
  // Global flat index of local flat index k (row-major in the whole array).
  auto global_flat = [&](int64_t k) {
    int64_t g = 0, stride = 1, rem = k;
    Shape local(nd);
    for (size_t d = nd; d-- > 0;) {
      local[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (size_t d = nd; d-- > 0;) {
      g += (offset[d] + local[d]) * stride;
      stride *= array_shape[d];
    }
    return g;
  };
  if (axis < 0) {
    int64_t best = 0;
    for (int64_t k = 1; k < x.size(); ++k) {
      if (Better(is_max, px[k], k, px[best], best)) best = k;
    }
    Block v = Block::Allocate(dtype_of<T>(), {});
    Block idx = Block::Allocate(DType::kInt64, {});
    *v.data<T>() = px[best];
    *idx.data<int64_t>() = global_flat(best);
    return {v, idx};
  }
  std::vector<bool> mask(nd, false);
  mask[static_cast<size_t>(axis)] = true;
  const Shape out_shape = ReducedShape(shape, mask, false);
  Block v = Block::Allocate(dtype_of<T>(), out_shape);
  Block idx = Block::Allocate(DType::kInt64, out_shape);
  int64_t before = 1, after = 1;
  for (size_t d = 0; d < static_cast<size_t>(axis); ++d) before *= shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < nd; ++d) after *= shape[d];
  const int64_t len = shape[static_cast<size_t>(axis)];
  for (int64_t b = 0; b < before; ++b) {
    for (int64_t a = 0; a < after; ++a) {
      const T* base = px + b * len * after + a;
      int64_t best = 0;
      for (int64_t k = 1; k < len; ++k) {
        if (Better(is_max, base[k * after], k, base[best * after], best)) best = k;
      }
      v.data<T>()[b * after + a] = base[best * after];
      idx.data<int64_t>()[b * after + a] = offset[static_cast<size_t>(axis)] + best;
    }
  }
  return {v, idx};
}

}  // namespace

void RegisterReduceKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [x]; scalars [op, axes, keepdims]. Sums of integers and bools are int64.
  registry.Register("array.reduce", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const auto op = static_cast<ReduceOp>(ctx.scalar<int64_t>(0));
    const bool keepdims = ctx.scalar<bool>(2);
    const auto mask = AxisMask(x.shape(), ctx.scalar<std::vector<int64_t>>(1));
    if (x.dtype() == DType::kComplex128) {
      return std::vector<Block>{ComplexReduce(op, x, mask, keepdims)};
    }
    return std::vector<Block>{dispatch(
        x.dtype(), [&](auto t) { return ReduceDispatch<decltype(t)>(op, x, mask, keepdims); })};
  });
  // inputs [x]; scalars [is_max, axis (-1: all), block offset, array shape] -> [values, int64
  // global indices] (along `axis`, or flat into the array).
  registry.Register("array.argreduce", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const bool is_max = ctx.scalar<bool>(0);
    const int64_t axis = ctx.scalar<int64_t>(1);
    const auto& offset = ctx.scalar<std::vector<int64_t>>(2);
    const auto& array_shape = ctx.scalar<std::vector<int64_t>>(3);
    return dispatch(x.dtype(), [&](auto t) {
      return ArgReduce<decltype(t)>(is_max, x, axis, offset, array_shape);
    });
  });
  // inputs [v1, i1, v2, i2] of equal shapes; scalars [is_max] -> the better (value, index).
  registry.Register("array.argcombine", Device::kCpu, [](const KernelContext& ctx) {
    const bool is_max = ctx.scalar<bool>(0);
    const Block& v1 = ctx.inputs[0];
    const Block& i1 = ctx.inputs[1];
    const Block& v2 = ctx.inputs[2];
    const Block& i2 = ctx.inputs[3];
    Block v = Block::Allocate(v1.dtype(), v1.shape());
    Block idx = Block::Allocate(DType::kInt64, v1.shape());
    dispatch(v1.dtype(), [&](auto t) {
      using T = decltype(t);
      for (int64_t k = 0; k < v1.size(); ++k) {
        const bool second = Better(is_max, v2.data<T>()[k], i2.data<int64_t>()[k], v1.data<T>()[k],
                                   i1.data<int64_t>()[k]);
        v.data<T>()[k] = second ? v2.data<T>()[k] : v1.data<T>()[k];
        idx.data<int64_t>()[k] = second ? i2.data<int64_t>()[k] : i1.data<int64_t>()[k];
      }
    });
    return std::vector<Block>{v, idx};
  });
}

}  // namespace nums::kernels
