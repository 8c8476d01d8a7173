// Shape manipulation. Transposes permute the grid and transpose each block where it lives.
// Reshapes are zero-copy when every block of both layouts holds the same row-major range of
// elements; otherwise each output block is gathered from the input blocks holding its range.
// Joining lays blocks end to end along an axis and re-blocks; splitting is a strided view.

#include "nums/shape.hpp"

#include <algorithm>
#include <numeric>
#include <set>

#include "src/checked.h"
#include "src/placement.h"
#include "src/shape_impl.h"

namespace nums {

using detail::ObjectRef;
using detail::TaskArg;

namespace detail {

SliceRange normalize_slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                           std::optional<int64_t> step, int64_t n) {
  const int64_t st = step.value_or(1);
  if (st == 0) throw ValueError("slice step cannot be zero");
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v;
    if (i < 0) {
      i += n;
      if (i < 0) i = st < 0 ? -1 : 0;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t b = adjust(start, st < 0 ? n - 1 : 0);
  const int64_t e = adjust(stop, st < 0 ? -1 : n);
  int64_t count = 0;
  if (st > 0 && e > b) count = (e - b - 1) / st + 1;
  if (st < 0 && b > e) count = (b - e - 1) / (-st) + 1;
  return {b, st, count};
}

BlockArray regrid_unit_axes(const BlockArray& x, const Shape& shape) {
  const Shape& xs = x.shape();
  const Shape& xb = x.block_shape();
  Shape block(shape.size(), 1);
  size_t i = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    while (xs[i] == 1) ++i;
    block[d] = xb[i++];
  }
  ArrayGrid grid(shape, block, x.dtype());
  if (grid == x.grid()) return x.copy();
  return reshape_blocks(x, grid);
}

BlockArray join_slabs(const std::shared_ptr<Context::Impl>& ctx, const ArrayGrid& grid,
                      int64_t axis, const std::vector<int64_t>& lengths,
                      const std::vector<std::vector<ObjectRef>>& slabs) {
  const auto ax = static_cast<size_t>(axis);
  const size_t nd = grid.shape().size();
  std::vector<int64_t> ends(lengths.size());
  std::partial_sum(lengths.begin(), lengths.end(), ends.begin());
  GatherPlan blocks(*ctx);
  const int64_t item = itemsize(grid.dtype());
  for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    const int64_t lo = grid.block_offset(e)[ax], hi = lo + bs[ax];
    // Position of this block among the slab's blocks: e without `axis`, row-major.
    int64_t within = 0;
    for (size_t d = 0; d < nd; ++d) {
      if (d != ax) within = within * grid.grid_shape()[d] + e[d];
    }
    std::vector<TaskArg> args;
    std::vector<int64_t> input_bytes;
    std::vector<int64_t> regions;
    bool whole = false;
    for (auto s =
             static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), lo) - ends.begin());
         s < lengths.size() && ends[s] - lengths[s] < hi; ++s) {
      if (lengths[s] == 0) continue;
      const int64_t start = ends[s] - lengths[s];
      const int64_t a = std::max(lo, start), b = std::min(hi, ends[s]);
      whole = a == start && b == ends[s] && a == lo && b == hi;  // the only piece
      args.emplace_back(slabs[s][static_cast<size_t>(within)]);
      input_bytes.push_back(shape_size(bs) / std::max<int64_t>(bs[ax], 1) * lengths[s] * item);
      for (size_t d = 0; d < nd; ++d) regions.push_back(d == ax ? a - start : 0);
      for (size_t d = 0; d < nd; ++d) regions.push_back(1);
      for (size_t d = 0; d < nd; ++d) regions.push_back(d == ax ? b - a : bs[d]);
      for (size_t d = 0; d < nd; ++d) regions.push_back(d == ax ? a - lo : 0);
    }
    if (whole) {
      blocks.Reuse(std::get<ObjectRef>(args[0]));
      return;
    }
    args.emplace_back(shape_scalar(bs));
    args.emplace_back(int_scalar(static_cast<int64_t>(grid.dtype())));
    args.emplace_back(Scalar{std::move(regions)});
    blocks.Add("array.gather", std::move(args), input_bytes, engine::OutputSpec{grid.dtype(), bs});
  });
  return make_array(ctx, grid, std::move(blocks).Run());
}

}  // namespace detail

namespace {

// Elements per block when every block holds one contiguous row-major range of the array, all but
// the last of the same length (the blocks split one axis, with the later axes whole); else
// nullopt.
std::optional<int64_t> flat_block_size(const ArrayGrid& g) {
  const Shape& s = g.shape();
  const size_t nd = s.size();
  if (nd == 0) return 1;
  auto eff = [&](size_t d) { return std::min(g.block_shape()[d], s[d]); };
  size_t k = 0;
  while (k + 1 < nd && eff(k) == 1) ++k;
  for (size_t d = k + 1; d < nd; ++d) {
    if (g.block_shape()[d] < s[d]) return std::nullopt;
  }
  const bool one_row =
      std::all_of(s.begin(), s.begin() + static_cast<int64_t>(k), [](int64_t v) { return v == 1; });
  if (!one_row && s[k] % eff(k) != 0) return std::nullopt;
  int64_t f = eff(k);
  for (size_t d = k + 1; d < nd; ++d) f *= s[d];
  return f;
}

// A block shape for `shape` whose blocks hold contiguous ranges of `flat` elements, if any.
std::optional<Shape> contiguous_block_shape(const Shape& shape, int64_t flat) {
  const size_t nd = shape.size();
  for (size_t k = 0; k < nd; ++k) {
    int64_t p = 1;
    for (size_t d = k + 1; d < nd; ++d) p *= shape[d];
    if (p == 0 || flat % p != 0) continue;
    const int64_t b = flat / p;
    const bool one_row = std::all_of(shape.begin(), shape.begin() + static_cast<int64_t>(k),
                                     [](int64_t v) { return v == 1; });
    if (b < 1 || b > shape[k] || (!one_row && shape[k] % b != 0)) continue;
    Shape block(nd, 1);
    block[k] = b;
    for (size_t d = k + 1; d < nd; ++d) block[d] = shape[d];
    return block;
  }
  return std::nullopt;
}

Shape unravel(int64_t f, const Shape& shape) {
  Shape m(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    m[d] = f % shape[d];
    f /= shape[d];
  }
  return m;
}

// Adds to `ids` every block of `g` holding an element whose index lies between a and b
// (row-major order, inclusive), given that the indices agree on the axes before d (lo and hi hold
// them). The range splits into at most two boxes per axis.
void add_range_blocks(const ArrayGrid& g, const Shape& a, const Shape& b, size_t d, Shape& lo,
                      Shape& hi, std::set<int64_t>& ids) {
  const Shape& s = g.shape();
  const size_t nd = s.size();
  auto add_box = [&] {
    Shape glo(nd), count(nd);
    for (size_t k = 0; k < nd; ++k) {
      glo[k] = lo[k] / g.block_shape()[k];
      count[k] = hi[k] / g.block_shape()[k] - glo[k] + 1;
    }
    detail::for_each_entry(count, [&](const Shape& e) {
      Shape ge(nd);
      for (size_t k = 0; k < nd; ++k) ge[k] = glo[k] + e[k];
      ids.insert(g.flat(ge));
    });
  };
  if (d + 1 == nd || a[d] == b[d]) {
    lo[d] = a[d];
    hi[d] = b[d];
    if (d + 1 == nd) {
      add_box();
    } else {
      add_range_blocks(g, a, b, d + 1, lo, hi, ids);
    }
    return;
  }
  bool a_first = true, b_last = true;
  for (size_t k = d + 1; k < nd; ++k) {
    a_first &= a[k] == 0;
    b_last &= b[k] == s[k] - 1;
  }
  int64_t first = a[d], last = b[d];
  if (!a_first) {  // the rest of a's row
    Shape end = b;
    for (size_t k = d + 1; k < nd; ++k) end[k] = s[k] - 1;
    lo[d] = hi[d] = a[d];
    add_range_blocks(g, a, end, d + 1, lo, hi, ids);
    ++first;
  }
  if (!b_last) {  // the start of b's row
    Shape begin = a;
    for (size_t k = d + 1; k < nd; ++k) begin[k] = 0;
    lo[d] = hi[d] = b[d];
    add_range_blocks(g, begin, b, d + 1, lo, hi, ids);
    --last;
  }
  if (first <= last) {  // whole rows in between
    lo[d] = first;
    hi[d] = last;
    for (size_t k = d + 1; k < nd; ++k) {
      lo[k] = 0;
      hi[k] = s[k] - 1;
    }
    add_box();
  }
}

// The input blocks holding the elements of output block `e` of `og` (a reshape of `ig`). Each
// row-major run of the output block maps to a flat range of the input; past kMaxRuns runs their
// hull is used, which may add blocks that are not read.
std::set<int64_t> reshape_sources(const ArrayGrid& ig, const ArrayGrid& og, const Shape& e) {
  constexpr int64_t kMaxRuns = 4096;
  const Shape& os = og.shape();
  const size_t nd = os.size();
  const Shape off = og.block_offset(e);
  const Shape bs = og.block_shape_at(e);
  // Axes after j are whole in the block, so a run spans axis j and the axes after it.
  size_t j = nd - 1;
  while (j > 0 && bs[j] == os[j]) --j;
  int64_t run = 1, runs = 1;
  for (size_t d = j; d < nd; ++d) run *= (d == j ? bs[d] : os[d]);
  for (size_t d = 0; d < j; ++d) runs *= bs[d];
  Shape ostride(nd);
  for (int64_t acc = 1, d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
    ostride[static_cast<size_t>(d)] = acc;
    acc *= os[static_cast<size_t>(d)];
  }
  auto flat_of = [&](const Shape& idx) {
    int64_t f = 0;
    for (size_t d = 0; d < nd; ++d) f += idx[d] * ostride[d];
    return f;
  };
  std::set<int64_t> ids;
  const size_t ind = ig.shape().size();
  Shape lo(ind), hi(ind);
  auto add = [&](int64_t f0, int64_t f1) {
    add_range_blocks(ig, unravel(f0, ig.shape()), unravel(f1, ig.shape()), 0, lo, hi, ids);
  };
  if (runs > kMaxRuns) {
    Shape last(nd);
    for (size_t d = 0; d < nd; ++d) last[d] = off[d] + bs[d] - 1;
    add(flat_of(off), flat_of(last));
    return ids;
  }
  detail::for_each_entry(Shape(bs.begin(), bs.begin() + static_cast<int64_t>(j)),
                         [&](const Shape& p) {
                           Shape idx = off;
                           for (size_t d = 0; d < j; ++d) idx[d] += p[d];
                           const int64_t f = flat_of(idx);
                           add(f, f + run - 1);
                         });
  return ids;
}

}  // namespace

BlockArray BlockArray::T() const { return transpose(); }

BlockArray BlockArray::transpose(std::vector<int64_t> axes) const {
  const int64_t nd = ndim();
  if (axes.empty()) {
    for (int64_t d = nd; d-- > 0;) axes.push_back(d);
  }
  if (static_cast<int64_t>(axes.size()) != nd) {
    throw ValueError("transpose: axes " + shape_str(axes) + " don't match array of shape " +
                     shape_str(shape()));
  }
  std::vector<bool> seen(static_cast<size_t>(nd), false);
  for (auto& a : axes) {
    a = detail::normalize_axis(a, nd, "transpose");
    if (seen[static_cast<size_t>(a)]) {
      throw ValueError("transpose: repeated axis in axes " + shape_str(axes));
    }
    seen[static_cast<size_t>(a)] = true;
  }
  bool identity = true;
  for (size_t d = 0; d < axes.size(); ++d) identity &= axes[d] == static_cast<int64_t>(d);
  if (identity) return copy();
  // Recorded, not submitted: matmul and tensordot read the source's blocks with GEMM's transpose
  // flags; any other use submits it (BlockArray::impl()). A transpose of a pending transpose is
  // one transpose of its source.
  const auto v = detail::pending_transpose(*this);
  // A snapshot: later writes through *this do not show.
  BlockArray source = v ? v->source : copy();
  if (v) {
    std::vector<int64_t> composed(axes.size());
    bool back = true;
    for (size_t d = 0; d < axes.size(); ++d) {
      composed[d] = v->axes[static_cast<size_t>(axes[d])];
      back &= composed[d] == static_cast<int64_t>(d);
    }
    if (back) return source.copy();
    axes = std::move(composed);
  }
  Shape s(axes.size()), b(axes.size());
  for (size_t d = 0; d < axes.size(); ++d) {
    s[d] = source.shape()[static_cast<size_t>(axes[d])];
    b[d] = source.block_shape()[static_cast<size_t>(axes[d])];
  }
  auto ctx = detail::LazyAccess::raw(source)->ctx;
  return detail::make_transposed(std::move(ctx), ArrayGrid(std::move(s), std::move(b), dtype()),
                                 std::make_shared<const detail::TransposedView>(
                                     detail::TransposedView{std::move(source), std::move(axes)}));
}

BlockArray detail::make_transposed(std::shared_ptr<Context::Impl> ctx, ArrayGrid grid,
                                   std::shared_ptr<const TransposedView> view) {
  auto impl = std::make_shared<BlockArray::Impl>();
  impl->ctx = std::move(ctx);
  impl->grid = std::move(grid);
  impl->view = std::move(view);
  return BlockArray(std::move(impl));
}

std::shared_ptr<const detail::TransposedView> detail::pending_transpose(const BlockArray& x) {
  const auto& impl = LazyAccess::raw(x);
  if (!impl) return nullptr;
  std::lock_guard lock(impl->expr_mu);
  return impl->view;
}

BlockArray detail::transpose_blocks(const BlockArray& x, const std::vector<int64_t>& axes) {
  Shape s(axes.size()), b(axes.size());
  for (size_t d = 0; d < axes.size(); ++d) {
    s[d] = x.shape()[static_cast<size_t>(axes[d])];
    b[d] = x.block_shape()[static_cast<size_t>(axes[d])];
  }
  ArrayGrid grid(s, b, x.dtype());
  const auto& in = *x.impl();  // impl() submits a pending expression
  GatherPlan blocks(*in.ctx);
  for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    Shape ie(axes.size());
    for (size_t d = 0; d < axes.size(); ++d) ie[static_cast<size_t>(axes[d])] = e[d];
    const ObjectRef& r = in.blocks[static_cast<size_t>(in.grid.flat(ie))];
    // Block (i, j) of x.T() is block (j, i) of x, transposed.
    const engine::OutputSpec out{x.dtype(), grid.block_shape_at(e)};
    // When the axes longer than 1 keep their order, the kernel returns a view of the input's
    // bytes: nothing new is allocated.
    const Shape ib = in.grid.block_shape_at(ie);
    Shape kept;
    for (int64_t a : axes) {
      if (ib[static_cast<size_t>(a)] > 1) kept.push_back(a);
    }
    const bool view = std::is_sorted(kept.begin(), kept.end());
    blocks.Add("array.transpose", {r, shape_scalar(axes)}, {out.nbytes()},
               view ? std::nullopt : std::optional(out), out.nbytes());
  });
  return make_array(in.ctx, std::move(grid), std::move(blocks).Run());
}

BlockArray BlockArray::swapaxes(int64_t a, int64_t b) const {
  std::vector<int64_t> axes(static_cast<size_t>(ndim()));
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[static_cast<size_t>(detail::normalize_axis(a, ndim(), "swapaxes"))],
            axes[static_cast<size_t>(detail::normalize_axis(b, ndim(), "swapaxes"))]);
  return transpose(std::move(axes));
}

BlockArray BlockArray::reshape(Shape shape, Shape block_shape) const {
  const auto unknown = std::count(shape.begin(), shape.end(), -1);
  if (unknown > 1) throw ValueError("reshape: can only specify one unknown dimension");
  int64_t known = 1;
  for (int64_t d : shape) {
    if (d < -1) throw ValueError("reshape: negative dimension in shape " + shape_str(shape));
    if (d == -1) continue;
    const auto k = detail::checked_mul(known, d);
    if (!k) {
      throw ValueError("reshape: shape " + shape_str(shape) +
                       " has more elements than int64 can count");
    }
    known = *k;
  }
  if (unknown == 1 && known != 0 && size() % known == 0) {
    *std::find(shape.begin(), shape.end(), -1) = size() / known;
  } else if (unknown == 1 || known != size()) {
    throw ShapeError("reshape: cannot reshape array of size " + std::to_string(size()) +
                     " and shape " + shape_str(this->shape()) + " into shape " + shape_str(shape));
  }
  const auto& in = *impl();  // impl() submits a pending expression
  const auto in_flat = flat_block_size(grid());
  Shape bs;
  if (!block_shape.empty() || size() == 0) {
    bs = detail::choose_block_shape(*in.ctx, shape, dtype(), block_shape);
  } else if (auto b = in_flat ? contiguous_block_shape(shape, *in_flat) : std::nullopt) {
    bs = *b;
  } else {
    bs = detail::choose_block_shape(*in.ctx, shape, dtype(), {});
  }
  ArrayGrid grid(shape, bs, dtype());
  if (size() == 0) return detail::make_array(in.ctx, std::move(grid), {});
  if (grid == this->grid()) return copy();
  const auto out_flat = flat_block_size(grid);
  if ((in_flat && out_flat && *in_flat == *out_flat) ||
      (in.blocks.size() == 1 && grid.num_blocks() == 1)) {
    return detail::reshape_blocks(*this, grid);
  }
  detail::GatherPlan blocks(*in.ctx);
  const int64_t item = itemsize(dtype());
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const std::set<int64_t> ids = reshape_sources(this->grid(), grid, e);
    std::vector<TaskArg> args;
    std::vector<int64_t> input_bytes;
    for (int64_t id : ids) {
      args.emplace_back(in.blocks[static_cast<size_t>(id)]);
      input_bytes.push_back(shape_size(this->grid().block_shape_at(this->grid().entry(id))) * item);
    }
    args.emplace_back(detail::shape_scalar(grid.block_shape_at(e)));
    args.emplace_back(detail::shape_scalar(grid.block_offset(e)));
    args.emplace_back(detail::shape_scalar(shape));
    args.emplace_back(detail::shape_scalar(this->shape()));
    args.emplace_back(detail::shape_scalar(this->block_shape()));
    args.emplace_back(detail::Scalar{std::vector<int64_t>(ids.begin(), ids.end())});
    blocks.Add("array.reshape_gather", std::move(args), input_bytes,
               engine::OutputSpec{dtype(), grid.block_shape_at(e)});
  });
  return detail::make_array(in.ctx, std::move(grid), std::move(blocks).Run());
}

BlockArray BlockArray::flatten() const { return reshape({size()}); }

BlockArray BlockArray::expand_dims(int64_t axis) const {
  const int64_t a = detail::normalize_axis(axis, ndim() + 1, "expand_dims");
  Shape s = shape();
  s.insert(s.begin() + a, 1);
  return detail::regrid_unit_axes(*this, s);
}

BlockArray BlockArray::squeeze(std::optional<int64_t> axis) const {
  Shape s;
  if (axis) {
    const int64_t a = detail::normalize_axis(*axis, ndim(), "squeeze");
    if (shape()[static_cast<size_t>(a)] != 1) {
      throw ValueError(
          "squeeze: cannot select an axis to squeeze out which has size not equal "
          "to one: axis " +
          std::to_string(*axis) + " of shape " + shape_str(shape()));
    }
    s = shape();
    s.erase(s.begin() + a);
  } else {
    std::copy_if(shape().begin(), shape().end(), std::back_inserter(s),
                 [](int64_t d) { return d != 1; });
  }
  return detail::regrid_unit_axes(*this, s);
}

BlockArray transpose(const BlockArray& x, std::vector<int64_t> axes) {
  return x.transpose(std::move(axes));
}
BlockArray swapaxes(const BlockArray& x, int64_t a, int64_t b) { return x.swapaxes(a, b); }
BlockArray reshape(const BlockArray& x, Shape shape, Shape block_shape) {
  return x.reshape(std::move(shape), std::move(block_shape));
}
BlockArray expand_dims(const BlockArray& x, int64_t axis) { return x.expand_dims(axis); }
BlockArray squeeze(const BlockArray& x, std::optional<int64_t> axis) { return x.squeeze(axis); }

BlockArray concatenate(const std::vector<BlockArray>& arrays, int64_t axis) {
  if (arrays.empty()) throw ValueError("concatenate: need at least one array to concatenate");
  const BlockArray& first = arrays[0];
  const int64_t nd = first.ndim();
  if (nd == 0) throw ValueError("concatenate: zero-dimensional arrays cannot be concatenated");
  const auto ax = static_cast<size_t>(detail::normalize_axis(axis, nd, "concatenate"));
  DType dtype = first.dtype();
  Shape shape = first.shape();
  shape[ax] = 0;
  const BlockArray* largest = &first;
  for (const BlockArray& a : arrays) {
    detail::check_same_context(first, a, "concatenate");
    bool fits = a.ndim() == nd;
    for (size_t d = 0; fits && d < shape.size(); ++d) fits = d == ax || a.shape()[d] == shape[d];
    if (!fits) {
      throw ShapeError("concatenate: shapes " + shape_str(first.shape()) + " and " +
                       shape_str(a.shape()) + " do not match off axis " + std::to_string(ax));
    }
    const auto len = detail::checked_add(shape[ax], a.shape()[ax]);
    if (!len) {
      throw ValueError("concatenate: lengths along axis " + std::to_string(ax) +
                       " add up to more than int64 can count, at shape " + shape_str(a.shape()));
    }
    shape[ax] = *len;
    dtype = result_type(dtype, a.dtype());
    if (a.size() > largest->size()) largest = &a;
  }
  Shape block = largest->block_shape();
  for (size_t d = 0; d < block.size(); ++d) block[d] = std::max<int64_t>(1, block[d]);
  ArrayGrid grid(shape, block, dtype);
  const auto& ctx = first.impl()->ctx;
  if (grid.num_blocks() == 0) return detail::make_array(ctx, std::move(grid), {});
  std::vector<int64_t> lengths;
  std::vector<std::vector<ObjectRef>> slabs;
  for (const BlockArray& a : arrays) {
    if (a.shape()[ax] == 0) continue;
    Shape want = block;
    want[ax] = a.block_shape()[ax];
    const BlockArray b = a.astype(dtype).rechunk(want);
    const int64_t start = static_cast<int64_t>(slabs.size());
    slabs.resize(slabs.size() + static_cast<size_t>(b.grid_shape()[ax]));
    lengths.resize(slabs.size());
    detail::for_each_entry(b.grid_shape(), [&](const Shape& e) {
      const auto s = static_cast<size_t>(start + e[ax]);
      slabs[s].push_back(b.impl()->blocks[static_cast<size_t>(b.grid().flat(e))]);
      lengths[s] = b.grid().block_shape_at(e)[ax];
    });
  }
  return detail::join_slabs(ctx, grid, static_cast<int64_t>(ax), lengths, slabs);
}

BlockArray stack(const std::vector<BlockArray>& arrays, int64_t axis) {
  if (arrays.empty()) throw ValueError("stack: need at least one array to stack");
  for (const BlockArray& a : arrays) {
    if (a.shape() != arrays[0].shape()) {
      throw ShapeError("stack: all input arrays must have the same shape, got " +
                       shape_str(arrays[0].shape()) + " and " + shape_str(a.shape()));
    }
  }
  const int64_t ax = detail::normalize_axis(axis, arrays[0].ndim() + 1, "stack");
  std::vector<BlockArray> expanded;
  expanded.reserve(arrays.size());
  for (const BlockArray& a : arrays) expanded.push_back(a.expand_dims(ax));
  return concatenate(expanded, ax);
}

std::vector<BlockArray> split(const BlockArray& x, int64_t sections, int64_t axis) {
  const int64_t ax = detail::normalize_axis(axis, x.ndim(), "split");
  const int64_t n = x.shape()[static_cast<size_t>(ax)];
  if (sections < 1) {
    throw ValueError("split: number of sections must be larger than 0, got " +
                     std::to_string(sections));
  }
  if (n % sections != 0) {
    throw ValueError("split: array split does not result in an equal division: length " +
                     std::to_string(n) + " into " + std::to_string(sections) + " sections");
  }
  std::vector<int64_t> indices;
  for (int64_t k = 1; k < sections; ++k) indices.push_back(k * (n / sections));
  return split(x, indices, ax);
}

std::vector<BlockArray> split(const BlockArray& x, const std::vector<int64_t>& indices,
                              int64_t axis) {
  const auto ax = static_cast<size_t>(detail::normalize_axis(axis, x.ndim(), "split"));
  const auto nd = static_cast<size_t>(x.ndim());
  std::vector<BlockArray> parts;
  for (size_t k = 0; k <= indices.size(); ++k) {
    const std::optional<int64_t> lo = k == 0 ? std::optional<int64_t>(0) : indices[k - 1];
    const std::optional<int64_t> hi =
        k == indices.size() ? std::nullopt : std::optional<int64_t>(indices[k]);
    const detail::SliceRange r = detail::normalize_slice(lo, hi, 1, x.shape()[ax]);
    Shape start(nd, 0), step(nd, 1), count = x.shape();
    start[ax] = r.start;
    count[ax] = r.count;
    parts.push_back(detail::strided_view(x, start, step, count, x.block_shape()));
  }
  return parts;
}

}  // namespace nums
