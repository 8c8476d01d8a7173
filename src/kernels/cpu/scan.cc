// Scan CPU kernels: a running sum or product along one axis of a block, seeded by a carry (the
// reduction of the blocks before it along that axis), and the carry passed on to the next block.

#include <algorithm>
#include <memory>
#include <vector>

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::Device;
using engine::KernelContext;

enum class ScanOp : int64_t { kSum = 0, kProd = 1 };

// float16 steps compute in float32 and round back, each step, as NumPy's float16 accumulate does.
template <typename T>
T Combine(ScanOp op, T a, T b) {
  if constexpr (std::is_same_v<T, half>) {
    const float x = static_cast<float>(a), y = static_cast<float>(b);
    return half(op == ScanOp::kSum ? x + y : x * y);
  } else {
    return op == ScanOp::kSum ? WrapAdd(a, b) : WrapMul(a, b);
  }
}

// The scan dtypes: dispatch's, and float16.
template <typename F>
void DispatchScan(DType t, F&& f) {
  if (t == DType::kFloat16) return f(half{});
  dispatch(t, std::forward<F>(f), "array.scan");
}

// A block of shape (outer, n, inner) around `axis`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
  AxisView(const Shape& shape, int64_t axis) {
    for (size_t d = 0; d < shape.size(); ++d) {
      const auto a = static_cast<size_t>(axis);
      if (d < a) outer *= shape[d];
      if (d == a) n = shape[d];
      if (d > a) inner *= shape[d];
    }
  }
};

// Checks the block against the axis and the carry (the block's shape with the axis of length 1).
void CheckScanArgs(const char* name, const Block& in, int64_t axis, const Block* carry) {
  if (axis < 0 || axis >= in.ndim()) {
    throw ValueError(std::string(name) + ": axis " + std::to_string(axis) +
                     " out of range for a block of shape " + engine::ShapeToString(in.shape()));
  }
  if (carry == nullptr) return;
  Shape want = in.shape();
  want[static_cast<size_t>(axis)] = 1;
  if (carry->shape() != want || carry->dtype() != in.dtype()) {
    throw ShapeError(std::string(name) + ": carry of shape " +
                     engine::ShapeToString(carry->shape()) + " for a block of shape " +
                     engine::ShapeToString(in.shape()));
  }
}

}  // namespace

void RegisterScanKernels(engine::KernelRegistry& registry) {
  // inputs [block, carry?], scalars [axis, op (0 sum, 1 prod)]: out[.., i, ..] is the carry (or
  // the op's identity) combined with in[.., 0..i, ..] in order.
  registry.Register("array.scan", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const Block* carry = ctx.inputs.size() > 1 ? &ctx.inputs[1] : nullptr;
    const int64_t axis = ctx.scalar<int64_t>(0);
    const auto op = static_cast<ScanOp>(ctx.scalar<int64_t>(1));
    CheckScanArgs("array.scan", in, axis, carry);
    Block out = Block::Allocate(in.dtype(), in.shape());
    const AxisView v(in.shape(), axis);
    DispatchScan(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* pi = in.data<T>();
      const T* pc = carry ? carry->data<T>() : nullptr;
      T* po = out.data<T>();
      const T identity = convert_value<T>(op == ScanOp::kSum ? 0 : 1);
      ParallelRanges(v.outer,
                     std::max<int64_t>(1, kElementGrain / std::max<int64_t>(1, v.n * v.inner)),
                     [&](int64_t b, int64_t e) {
                       // Not std::vector: vector<bool> has no element references.
                       std::unique_ptr<T[]> acc(new T[static_cast<size_t>(v.inner)]);
                       for (int64_t o = b; o < e; ++o) {
                         for (int64_t k = 0; k < v.inner; ++k) {
                           acc[static_cast<size_t>(k)] = pc ? pc[o * v.inner + k] : identity;
                         }
                         for (int64_t i = 0; i < v.n; ++i) {
                           const int64_t base = (o * v.n + i) * v.inner;
                           for (int64_t k = 0; k < v.inner; ++k) {
                             T& a = acc[static_cast<size_t>(k)];
                             a = Combine(op, a, pi[base + k]);
                             po[base + k] = a;
                           }
                         }
                       }
                     });
    });
    return std::vector<Block>{out};
  });
  // inputs [block, carry?], scalars [axis, op]: the carry for the next block along `axis`, the
  // given carry (or the identity) combined with the reduction of the block along `axis` (shape of
  // the block with the axis of length 1).
  registry.Register("array.scan_carry", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const Block* carry = ctx.inputs.size() > 1 ? &ctx.inputs[1] : nullptr;
    const int64_t axis = ctx.scalar<int64_t>(0);
    const auto op = static_cast<ScanOp>(ctx.scalar<int64_t>(1));
    CheckScanArgs("array.scan_carry", in, axis, carry);
    Shape shape = in.shape();
    shape[static_cast<size_t>(axis)] = 1;
    Block out = Block::Allocate(in.dtype(), shape);
    const AxisView v(in.shape(), axis);
    DispatchScan(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* pi = in.data<T>();
      T* po = out.data<T>();
      const T identity = convert_value<T>(op == ScanOp::kSum ? 0 : 1);
      for (int64_t k = 0; k < v.outer * v.inner; ++k)
        po[k] = carry ? carry->data<T>()[k] : identity;
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.n; ++i) {
          const int64_t base = (o * v.n + i) * v.inner;
          for (int64_t k = 0; k < v.inner; ++k) {
            T& a = po[o * v.inner + k];
            a = Combine(op, a, pi[base + k]);
          }
        }
      }
    });
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
