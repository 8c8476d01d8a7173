// Shape and indexing CPU kernels: transposing a block, gathering a reshaped block from the input
// blocks that hold its elements, taking positions along an axis, writing strided regions, and
// mask selection and assignment along a block's first axis.

#include <emmintrin.h>

#include <algorithm>
#include <cstring>

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

// Row-major element strides of `shape`.
Shape Strides(const Shape& shape) {
  Shape s(shape.size());
  int64_t acc = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

template <typename Out, typename In>
Out Convert(In v) {
  if constexpr (std::is_same_v<Out, bool>) {
    return v != In{0};
  } else {
    return static_cast<Out>(v);
  }
}

// Writes the 32 elements in[0], in[stride], ... to `out` with streaming stores when they fill
// whole cache lines (the transpose's output is not read again soon, and a normal store first
// reads the line it overwrites: a third of the traffic). False, writing nothing, otherwise.
template <typename T>
bool StreamRun(const T* in, int64_t stride, T* out) {
  if (sizeof(T) < 2 || (reinterpret_cast<uintptr_t>(out) & 63) != 0) return false;
  alignas(16) T run[32];
  for (int k = 0; k < 32; ++k) run[k] = in[k * stride];
  for (size_t b = 0; b < sizeof(run); b += 16) {
    _mm_stream_si128(
        reinterpret_cast<__m128i*>(reinterpret_cast<char*>(out) + b),
        _mm_load_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const char*>(run) + b)));
  }
  return true;
}

// out[b][c][r] = in[b][r][c] for `batch` matrices of rows x cols, in square tiles so that both
// the reads and the writes stay in cache lines already fetched (a row-at-a-time loop reads a
// whole column's cache lines for every output row).
template <typename T>
void TransposeTiled(const T* in, T* out, int64_t batch, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  const int64_t tiles = batch * row_tiles;
  ParallelRanges(tiles, std::max<int64_t>(1, kElementGrain / (kTile * std::max<int64_t>(1, cols))),
                 [&](int64_t b, int64_t e) {
                   for (int64_t t = b; t < e; ++t) {
                     const int64_t m = t / row_tiles;
                     const int64_t r0 = (t % row_tiles) * kTile;
                     const int64_t r1 = std::min(rows, r0 + kTile);
                     const T* src = in + m * rows * cols;
                     T* dst = out + m * rows * cols;
                     for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
                       const int64_t c1 = std::min(cols, c0 + kTile);
                       for (int64_t c = c0; c < c1; ++c) {
                         T* run = dst + c * rows + r0;
                         if (r1 - r0 == kTile && StreamRun(src + r0 * cols + c, cols, run)) {
                           continue;
                         }
                         for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
                       }
                     }
                   }
                   _mm_sfence();
                 });
}

Block TransposeBlock(const Block& in, const Shape& axes) {
  const size_t nd = axes.size();
  if (in.ndim() != static_cast<int64_t>(nd)) {
    throw ShapeError("array.transpose: " + std::to_string(nd) + " axes for a block of shape " +
                     engine::ShapeToString(in.shape()));
  }
  Shape shape(nd);
  for (size_t d = 0; d < nd; ++d) shape[d] = in.shape()[static_cast<size_t>(axes[d])];
  // Axes of length > 1 in their old order: the bytes are already in the new order.
  Shape kept;
  for (int64_t a : axes) {
    if (in.shape()[static_cast<size_t>(a)] > 1) kept.push_back(a);
  }
  if (std::is_sorted(kept.begin(), kept.end())) return Block(in.dtype(), shape, in.buffer());
  Block out = Block::Allocate(in.dtype(), shape);
  if (out.size() == 0) return out;
  // The last two axes swapped, leading axes kept (x.T() of a matrix, swapaxes(-1, -2)): tiled.
  bool last_two = nd >= 2 && axes[nd - 1] == static_cast<int64_t>(nd) - 2 &&
                  axes[nd - 2] == static_cast<int64_t>(nd) - 1;
  for (size_t d = 0; d + 2 < nd && last_two; ++d) last_two = axes[d] == static_cast<int64_t>(d);
  if (last_two) {
    const int64_t rows = in.shape()[nd - 2], cols = in.shape()[nd - 1];
    DispatchBits(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      TransposeTiled(in.data<T>(), out.data<T>(), in.size() / (rows * cols), rows, cols);
    });
    return out;
  }
  const Shape istride = Strides(in.shape());
  Shape stride(nd);  // input stride of each output axis
  for (size_t d = 0; d < nd; ++d) stride[d] = istride[static_cast<size_t>(axes[d])];
  const int64_t inner = shape[nd - 1];
  const int64_t outer = out.size() / inner;
  const int64_t inner_stride = stride[nd - 1];
  DispatchBits(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pi = in.data<T>();
    T* po = out.data<T>();
    ParallelRanges(outer, std::max<int64_t>(1, kElementGrain / inner), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t src = 0, rem = o;
        for (size_t d = nd - 1; d-- > 0;) {
          src += (rem % shape[d]) * stride[d];
          rem /= shape[d];
        }
        T* dst = po + o * inner;
        for (int64_t k = 0; k < inner; ++k) dst[k] = pi[src + k * inner_stride];
      }
    });
  });
  return out;
}

// Copies in[src_start + i * src_step] to out[dst_start + i * dst_step] for i < count (per axis),
// converting the dtype. Steps may be 0 (broadcast, or repeated writes where the last one wins)
// or negative.
template <typename In, typename Out>
void CopyStrided(const Block& in, Block& out, const int64_t* src_start, const int64_t* src_step,
                 const int64_t* count, const int64_t* dst_start, const int64_t* dst_step) {
  const size_t nd = out.shape().size();
  int64_t total = 1;
  for (size_t d = 0; d < nd; ++d) total *= count[d];
  if (total == 0) return;
  const Shape istride = Strides(in.shape());
  const Shape ostride = Strides(out.shape());
  const In* pi = in.data<In>();
  Out* po = out.data<Out>();
  if (nd == 0) {
    po[0] = Convert<Out>(pi[0]);
    return;
  }
  const int64_t inner = count[nd - 1];
  const int64_t si = src_step[nd - 1], so = dst_step[nd - 1];
  for (int64_t o = 0; o < total / inner; ++o) {
    int64_t ib = src_start[nd - 1], ob = dst_start[nd - 1], rem = o;
    for (size_t d = nd - 1; d-- > 0;) {
      const int64_t i = rem % count[d];
      rem /= count[d];
      ib += (src_start[d] + i * src_step[d]) * istride[d];
      ob += (dst_start[d] + i * dst_step[d]) * ostride[d];
    }
    for (int64_t k = 0; k < inner; ++k) po[ob + k * so] = Convert<Out>(pi[ib + k * si]);
  }
}

// Copies of the rows (first-axis slices) of `in`: row src[k] goes to row k of a new block of
// `rows` rows.
Block CopyRows(const Block& in, DType dtype, int64_t rows, const auto& row_source) {
  Shape shape = in.shape();
  shape[0] = rows;
  Block out = Block::Allocate(dtype, shape);
  const int64_t row =
      shape.size() > 1 ? engine::ShapeSize(Shape(shape.begin() + 1, shape.end())) : 1;
  const int64_t bytes = row * itemsize(dtype);
  auto* po = static_cast<uint8_t*>(out.raw());
  for (int64_t k = 0; k < rows; ++k) {
    const auto [block, r] = row_source(k);
    std::memcpy(po + k * bytes, static_cast<const uint8_t*>(block->raw()) + r * bytes,
                static_cast<size_t>(bytes));
  }
  return out;
}

void CheckMask(const Block& x, const Block& mask, const char* kernel) {
  if (mask.dtype() != DType::kBool || mask.ndim() != 1 || x.ndim() < 1 ||
      mask.shape()[0] != x.shape()[0]) {
    throw ShapeError(std::string(kernel) + ": mask of shape " +
                     engine::ShapeToString(mask.shape()) + " for a block of shape " +
                     engine::ShapeToString(x.shape()));
  }
}

}  // namespace

void RegisterShapeKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [x]; scalars [axes]: output axis d is input axis axes[d].
  registry.Register("array.transpose", Device::kCpu, [](const KernelContext& ctx) {
    return std::vector<Block>{TransposeBlock(ctx.inputs[0], ctx.scalar<std::vector<int64_t>>(0))};
  });

  // inputs [blocks of the input array]; scalars [out block shape, out block offset, out array
  // shape, in array shape, in block shape, in block ids]. The output block is the part of the
  // reshaped array at that offset; its elements are those with the same row-major position in
  // the input array, read from the given input blocks (ids: row-major positions in the input's
  // grid, sorted, one per input).
  registry.Register("array.reshape_gather", Device::kCpu, [](const KernelContext& ctx) {
    const auto& bshape = ctx.scalar<std::vector<int64_t>>(0);
    const auto& boff = ctx.scalar<std::vector<int64_t>>(1);
    const auto& oshape = ctx.scalar<std::vector<int64_t>>(2);
    const auto& ishape = ctx.scalar<std::vector<int64_t>>(3);
    const auto& ibs = ctx.scalar<std::vector<int64_t>>(4);
    const auto& ids = ctx.scalar<std::vector<int64_t>>(5);
    if (ids.size() != ctx.inputs.size() || ctx.inputs.empty()) {
      throw ValueError("array.reshape_gather: " + std::to_string(ids.size()) + " block ids for " +
                       std::to_string(ctx.inputs.size()) + " inputs");
    }
    const DType dtype = ctx.inputs[0].dtype();
    Block out = Block::Allocate(dtype, bshape);
    if (out.size() == 0) return std::vector<Block>{out};
    // 0-d arrays are seen as 1-d of one element.
    const Shape os = oshape.empty() ? Shape{1} : oshape;
    const Shape bs = bshape.empty() ? Shape{1} : bshape;
    const Shape bo = boff.empty() ? Shape{0} : boff;
    const Shape is = ishape.empty() ? Shape{1} : ishape;
    const Shape ib = ibs.empty() ? Shape{1} : ibs;
    const size_t ind = is.size(), ond = os.size();
    Shape grid(ind);
    for (size_t d = 0; d < ind; ++d) grid[d] = (is[d] + ib[d] - 1) / ib[d];
    const Shape ostride = Strides(os);
    const int64_t isz = itemsize(dtype);
    auto* po = static_cast<uint8_t*>(out.raw());
    const int64_t inner = bs[ond - 1];
    Shape m(ind), g(ind), local(ind);
    for (int64_t r = 0; r < out.size() / inner; ++r) {
      int64_t f = bo[ond - 1], rem = r;
      for (size_t d = ond - 1; d-- > 0;) {
        f += (bo[d] + rem % bs[d]) * ostride[d];
        rem /= bs[d];
      }
      int64_t dst = r * inner, left = inner;
      while (left > 0) {
        int64_t q = f, id = 0;
        for (size_t d = ind; d-- > 0;) {
          m[d] = q % is[d];
          q /= is[d];
        }
        for (size_t d = 0; d < ind; ++d) {
          g[d] = m[d] / ib[d];
          local[d] = m[d] - g[d] * ib[d];
          id = id * grid[d] + g[d];
        }
        const auto it = std::lower_bound(ids.begin(), ids.end(), id);
        if (it == ids.end() || *it != id) {
          throw ValueError("array.reshape_gather: input block " + std::to_string(id) +
                           " is needed but not given");
        }
        const Block& in = ctx.inputs[static_cast<size_t>(it - ids.begin())];
        const Shape in_shape = in.shape().empty() ? Shape{1} : in.shape();
        int64_t src = 0;
        for (size_t d = 0; d < ind; ++d) src = src * in_shape[d] + local[d];
        const int64_t n = std::min(left, in_shape[ind - 1] - local[ind - 1]);
        std::memcpy(po + dst * isz, static_cast<const uint8_t*>(in.raw()) + src * isz,
                    static_cast<size_t>(n * isz));
        f += n;
        dst += n;
        left -= n;
      }
    }
    return std::vector<Block>{out};
  });

  // inputs [b0, b1, ...] (same shape except along axis); scalars [axis, source, local]: output
  // position k along axis is input source[k]'s position local[k].
  registry.Register("array.take", Device::kCpu, [](const KernelContext& ctx) {
    const auto axis = static_cast<size_t>(ctx.scalar<int64_t>(0));
    const auto& source = ctx.scalar<std::vector<int64_t>>(1);
    const auto& local = ctx.scalar<std::vector<int64_t>>(2);
    const Block& first = ctx.inputs[0];
    Shape shape = first.shape();
    shape[axis] = static_cast<int64_t>(source.size());
    // Rows of the view (outer, axis length, inner) of each block.
    const int64_t outer = engine::ShapeSize(Shape(shape.begin(), shape.begin() + axis));
    const int64_t inner = engine::ShapeSize(Shape(shape.begin() + axis + 1, shape.end()));
    for (const Block& b : ctx.inputs) {
      Shape s = b.shape();
      s[axis] = shape[axis];
      if (s != shape || b.dtype() != first.dtype()) {
        throw ShapeError("array.take: inputs of shapes " + engine::ShapeToString(first.shape()) +
                         " and " + engine::ShapeToString(b.shape()) + " do not line up");
      }
    }
    Block out = Block::Allocate(first.dtype(), shape);
    const int64_t bytes = inner * itemsize(first.dtype());
    auto* po = static_cast<uint8_t*>(out.raw());
    for (int64_t o = 0; o < outer; ++o) {
      for (size_t k = 0; k < source.size(); ++k) {
        const Block& in = ctx.inputs[static_cast<size_t>(source[k])];
        const int64_t len = in.shape()[axis];
        const auto* src = static_cast<const uint8_t*>(in.raw()) + (o * len + local[k]) * bytes;
        std::memcpy(po + (o * shape[axis] + static_cast<int64_t>(k)) * bytes, src,
                    static_cast<size_t>(bytes));
      }
    }
    return std::vector<Block>{out};
  });

  // inputs [old, v1, ...]; scalars [regions]: a copy of old (same dtype) with regions written in
  // order (later ones win). Each region is 1 + 5 * ndim numbers: the input it reads (1, 2, ...),
  // then per axis src_start, src_step (0 broadcasts), count, dst_start, dst_step (may be 0 or
  // negative). Values are converted to old's dtype.
  registry.Register("array.assign", Device::kCpu, [](const KernelContext& ctx) {
    const Block& old = ctx.inputs[0];
    const auto& regions = ctx.scalar<std::vector<int64_t>>(0);
    const size_t nd = old.shape().size();
    const size_t per = 1 + 5 * nd;
    if (regions.size() % per != 0) {
      throw ValueError("array.assign: " + std::to_string(regions.size()) +
                       " region numbers for a block of rank " + std::to_string(nd));
    }
    Block out = Block::Allocate(old.dtype(), old.shape());
    if (old.nbytes() > 0) std::memcpy(out.raw(), old.raw(), static_cast<size_t>(old.nbytes()));
    for (size_t r = 0; r < regions.size(); r += per) {
      const int64_t* p = regions.data() + r;
      const auto j = static_cast<size_t>(p[0]);
      if (j == 0 || j >= ctx.inputs.size() || ctx.inputs[j].ndim() != static_cast<int64_t>(nd)) {
        throw ValueError("array.assign: region reads input " + std::to_string(j) +
                         ", which is missing or of another rank");
      }
      const Block src = AstypeBlock(ctx.inputs[j], out.dtype());
      DispatchBits(out.dtype(), [&](auto u) {
        using U = decltype(u);
        CopyStrided<U, U>(src, out, p + 1, p + 1 + nd, p + 1 + 2 * nd, p + 1 + 3 * nd,
                          p + 1 + 4 * nd);
      });
    }
    return std::vector<Block>{out};
  });

  // inputs [mask]: the number of its true (non-zero) elements, as a 0-d int64 block.
  registry.Register("array.count_true", Device::kCpu, [](const KernelContext& ctx) {
    const Block mask = AstypeBlock(ctx.inputs[0], DType::kBool);
    const bool* p = mask.data<bool>();
    Block out = Block::Allocate(DType::kInt64, {});
    *out.data<int64_t>() = std::count(p, p + mask.size(), true);
    return std::vector<Block>{out};
  });

  // inputs [x, mask (bool, 1-d, x's first dimension)]: the rows of x where mask is true.
  registry.Register("array.compress", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const Block& mask = ctx.inputs[1];
    CheckMask(x, mask, "array.compress");
    std::vector<int64_t> rows;
    const bool* pm = mask.data<bool>();
    for (int64_t i = 0; i < mask.size(); ++i) {
      if (pm[i]) rows.push_back(i);
    }
    return std::vector<Block>{
        CopyRows(x, x.dtype(), static_cast<int64_t>(rows.size()), [&](int64_t k) {
          return std::pair{&x, rows[static_cast<size_t>(k)]};
        })};
  });

  // inputs [old, mask (bool, 1-d, old's first dimension), values (one row per true element)]:
  // old with its rows where mask is true replaced, in order, by the rows of values (converted to
  // old's dtype).
  registry.Register("array.mask_assign", Device::kCpu, [](const KernelContext& ctx) {
    const Block& old = ctx.inputs[0];
    const Block& mask = ctx.inputs[1];
    CheckMask(old, mask, "array.mask_assign");
    const Block values = AstypeBlock(ctx.inputs[2], old.dtype());
    const bool* pm = mask.data<bool>();
    const int64_t count = std::count(pm, pm + mask.size(), true);
    Shape want = old.shape();
    want[0] = count;
    if (values.shape() != want) {
      throw ShapeError("array.mask_assign: values of shape " +
                       engine::ShapeToString(values.shape()) + " for " + std::to_string(count) +
                       " selected rows of a block of shape " + engine::ShapeToString(old.shape()));
    }
    int64_t next = 0;
    return std::vector<Block>{CopyRows(old, old.dtype(), old.shape()[0], [&](int64_t k) {
      return pm[k] ? std::pair{&values, next++} : std::pair{&old, k};
    })};
  });
}

}  // namespace nums::kernels
