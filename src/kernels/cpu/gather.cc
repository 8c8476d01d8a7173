// The gather kernel: builds one block from strided regions of several input blocks. It serves
// rechunking, slicing with steps, concatenation, and writes (the old block, then the new values).

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

template <typename In, typename Out>
void CopyRegionT(const Block& in, Block& out, const int64_t* src_start, const int64_t* src_step,
                 const int64_t* count, const int64_t* dst_start) {
  const Shape& is = in.shape();
  const Shape& os = out.shape();
  const size_t nd = os.size();
  int64_t total = 1;
  for (size_t d = 0; d < nd; ++d) total *= count[d];
  if (total == 0) return;
  Shape istride(nd), ostride(nd);
  int64_t si = 1, so = 1;
  for (size_t d = nd; d-- > 0;) {
    istride[d] = si;
    ostride[d] = so;
    si *= is[d];
    so *= os[d];
  }
  const In* pi = in.data<In>();
  Out* po = out.data<Out>();
  if (nd == 0) {
    po[0] = static_cast<Out>(pi[0]);
    return;
  }
  const int64_t inner = count[nd - 1];
  const int64_t outer = total / inner;
  const int64_t in_step = src_step[nd - 1];
  for (int64_t o = 0; o < outer; ++o) {
    int64_t ib = 0, ob = 0, rem = o;
    for (size_t d = nd - 1; d-- > 0;) {
      const int64_t i = rem % count[d];
      rem /= count[d];
      ib += (src_start[d] + i * src_step[d]) * istride[d];
      ob += (dst_start[d] + i) * ostride[d];
    }
    const In* src = pi + ib + src_start[nd - 1];
    Out* dst = po + ob + dst_start[nd - 1];
    if constexpr (std::is_same_v<In, Out>) {
      if (in_step == 1) {
        std::copy(src, src + inner, dst);
        continue;
      }
    }
    for (int64_t k = 0; k < inner; ++k) {
      if constexpr (std::is_same_v<Out, bool>) {
        dst[k] = src[k * in_step] != In{0};
      } else {
        dst[k] = static_cast<Out>(src[k * in_step]);
      }
    }
  }
}

}  // namespace

void CopyRegion(const Block& in, Block& out, const int64_t* src_start, const int64_t* src_step,
                const int64_t* count, const int64_t* dst_start) {
  // Converted first (rare: the array layer casts before it gathers), then moved as bits.
  const Block src = AstypeBlock(in, out.dtype());
  DispatchBits(out.dtype(), [&](auto u) {
    using U = decltype(u);
    CopyRegionT<U, U>(src, out, src_start, src_step, count, dst_start);
  });
}

void RegisterGatherKernels(engine::KernelRegistry& registry) {
  // inputs [b0, b1, ...]; scalars [out shape, out dtype, regions]. regions holds, for each input
  // in order, 4 * ndim numbers: src_start, src_step (may be negative), count, dst_start. Regions
  // are copied in order (later ones overwrite), converting dtypes; they must cover the output.
  registry.Register("array.gather", engine::Device::kCpu, [](const KernelContext& ctx) {
    const auto& shape = ctx.scalar<std::vector<int64_t>>(0);
    const auto dtype = dtype_from_code(ctx.scalar<int64_t>(1));
    const auto& regions = ctx.scalar<std::vector<int64_t>>(2);
    const size_t nd = shape.size();
    const size_t per = 4 * nd;
    if (regions.size() != per * ctx.inputs.size()) {
      throw ValueError("array.gather: " + std::to_string(regions.size()) + " region numbers for " +
                       std::to_string(ctx.inputs.size()) + " inputs of rank " + std::to_string(nd));
    }
    Block out = Block::Allocate(dtype, shape);
    for (size_t j = 0; j < ctx.inputs.size(); ++j) {
      const Block& in = ctx.inputs[j];
      if (in.ndim() != static_cast<int64_t>(nd)) {
        throw ShapeError("array.gather: input of shape " + engine::ShapeToString(in.shape()) +
                         " for an output of shape " + engine::ShapeToString(shape));
      }
      const int64_t* r = regions.data() + j * per;
      CopyRegion(in, out, r, r + nd, r + 2 * nd, r + 3 * nd);
    }
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
