// Diagonal CPU kernel: one block's stretch of a diagonal over its last two axes.

#include <string>
#include <vector>

#include "src/kernels/cpu/kernels.h"

namespace nums::kernels {

void RegisterDiagonalKernels(engine::KernelRegistry& registry) {
  using engine::Block;
  using engine::Device;
  using engine::KernelContext;
  using engine::Shape;
  // inputs [block of rank >= 2], scalars [row, col, count]: out[..., t] = in[..., row + t,
  // col + t] for t < count; the block's leading axes are kept.
  registry.Register("array.diagonal", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const int64_t r = ctx.scalar<int64_t>(0), c = ctx.scalar<int64_t>(1);
    const int64_t m = ctx.scalar<int64_t>(2);
    const size_t nd = in.shape().size();
    if (nd < 2 || r < 0 || c < 0 || m < 0 || r + m > in.shape()[nd - 2] ||
        c + m > in.shape()[nd - 1]) {
      throw ValueError("array.diagonal: " + std::to_string(m) + " elements from (" +
                       std::to_string(r) + ", " + std::to_string(c) + ") do not fit block " +
                       engine::ShapeToString(in.shape()));
    }
    Shape shape(in.shape().begin(), in.shape().end() - 2);
    shape.push_back(m);
    Block out = Block::Allocate(in.dtype(), shape);
    const int64_t rows = in.shape()[nd - 2], cols = in.shape()[nd - 1];
    const int64_t outer = m == 0 ? 0 : out.size() / m;
    DispatchBits(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* pi = in.data<T>();
      T* po = out.data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        const T* mat = pi + o * rows * cols;
        for (int64_t t = 0; t < m; ++t) po[o * m + t] = mat[(r + t) * cols + c + t];
      }
    });
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
