// Indexing. An index is parsed and checked against the array when the IndexExpr is made.
// Reads: a strided view for the integers and slices (reusing whole blocks where they line up),
// unit axes dropped or inserted in place, then the advanced entries: positions along one axis
// ("array.take", one task per output block reading the input blocks that hold its positions),
// several integer arrays broadcast together (their axes merged into one, then one take of the
// flat positions), or a mask over leading axes (each block compressed where it lives, the pieces
// joined into even blocks once the driver knows each mask block's count).
// Writes replace the touched blocks of the array's Impl: "array.assign" copies the old block and
// writes the selected regions; a mask write is a where(), or "array.mask_assign" when each
// selected element gets its own value.

#include "nums/indexing.hpp"

#include <algorithm>
#include <map>

#include "nums/math.hpp"
#include "src/kernels/cpu/loops.h"
#include "src/placement.h"
#include "src/shape_impl.h"

namespace nums {

using detail::ObjectRef;
using detail::TaskArg;

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// `n` axes of x starting at `from` moved to start at `to` (of the result).
BlockArray move_axes(const BlockArray& x, int64_t from, int64_t n, int64_t to) {
  if (n == 0 || from == to) return x;
  std::vector<int64_t> rest, axes;
  for (int64_t d = 0; d < x.ndim(); ++d) {
    if (d < from || d >= from + n) rest.push_back(d);
  }
  axes.assign(rest.begin(), rest.begin() + to);
  for (int64_t d = from; d < from + n; ++d) axes.push_back(d);
  axes.insert(axes.end(), rest.begin() + to, rest.end());
  return x.transpose(axes);
}

// x broadcast to `shape`, materialized: where(true, x, x) against an all-true array of `shape`.
BlockArray broadcast_to(const BlockArray& x, const Shape& shape) {
  auto& ctx = *x.impl()->ctx;
  ArrayGrid grid(shape, detail::choose_block_shape(ctx, shape, DType::kBool, {}), DType::kBool);
  std::vector<ObjectRef> blocks;
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    blocks.push_back(detail::submit_source(
        ctx, "array.full",
        {detail::shape_scalar(grid.block_shape_at(e)),
         detail::int_scalar(static_cast<int64_t>(DType::kBool)), detail::Scalar{1.0},
         detail::int_scalar(1)},
        detail::home_node(ctx, grid, e), engine::OutputSpec{DType::kBool, grid.block_shape_at(e)}));
  });
  return where(detail::make_array(x.impl()->ctx, std::move(grid), std::move(blocks)), x, x);
}

// Elements of x at `positions` along `axis`; one "array.take" per output block.
BlockArray take(const BlockArray& x, int64_t axis, const std::vector<int64_t>& positions) {
  const auto ax = static_cast<size_t>(axis);
  const auto& in = *x.impl();
  const auto p = static_cast<int64_t>(positions.size());
  Shape shape = x.shape(), block = x.block_shape();
  shape[ax] = p;
  block[ax] = std::max<int64_t>(1, std::min(block[ax], p));
  ArrayGrid grid(shape, block, x.dtype());
  const int64_t ib = x.block_shape()[ax];
  const int64_t item = itemsize(x.dtype());
  detail::GatherPlan blocks(*in.ctx);
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const int64_t off = grid.block_offset(e)[ax];
    const int64_t n = grid.block_shape_at(e)[ax];
    std::map<int64_t, int64_t> input_of;  // input block along axis -> argument number
    std::vector<TaskArg> args;
    std::vector<int64_t> input_bytes, source, local;
    for (int64_t k = off; k < off + n; ++k) {
      const int64_t pos = positions[static_cast<size_t>(k)];
      const int64_t g = pos / ib;
      auto [it, added] = input_of.emplace(g, static_cast<int64_t>(args.size()));
      if (added) {
        Shape ie = e;
        ie[ax] = g;
        args.emplace_back(in.blocks[static_cast<size_t>(in.grid.flat(ie))]);
        input_bytes.push_back(shape_size(in.grid.block_shape_at(ie)) * item);
      }
      source.push_back(it->second);
      local.push_back(pos - g * ib);
    }
    args.emplace_back(detail::int_scalar(axis));
    args.emplace_back(detail::Scalar{std::move(source)});
    args.emplace_back(detail::Scalar{std::move(local)});
    blocks.Add("array.take", std::move(args), input_bytes,
               engine::OutputSpec{x.dtype(), grid.block_shape_at(e)});
  });
  return detail::make_array(in.ctx, std::move(grid), std::move(blocks).Run());
}

// x seen as (rows, rest...) with the mask's leading axes merged into rows, the mask as a 1-d
// array blocked like those rows, and the number of true elements of each mask block (a sync).
struct MaskLayout {
  BlockArray x, mask;
  std::vector<int64_t> counts;
  int64_t total = 0;

  MaskLayout(const BlockArray& base, const BlockArray& m) {
    const auto k = static_cast<size_t>(m.ndim());
    Shape rest(base.shape().begin() + static_cast<int64_t>(k), base.shape().end());
    Shape rest_block(base.block_shape().begin() + static_cast<int64_t>(k),
                     base.block_shape().end());
    int64_t rows = 1, row_block = 1;
    for (size_t d = 0; d < k; ++d) {
      rows *= base.shape()[d];
      row_block *= std::min(base.block_shape()[d], base.shape()[d]);
    }
    row_block = std::max<int64_t>(1, row_block);
    Shape s{rows}, b{row_block};
    s.insert(s.end(), rest.begin(), rest.end());
    b.insert(b.end(), rest_block.begin(), rest_block.end());
    x = base.reshape(s, b);
    mask = m.reshape({rows}, {row_block});
    auto& ctx = *base.impl()->ctx;
    detail::GatherPlan count(ctx);
    for (int64_t i = 0; i < mask.grid().num_blocks(); ++i) {
      const int64_t n = shape_size(mask.grid().block_shape_at(mask.grid().entry(i)));
      count.Add("array.count_true", {mask.impl()->blocks[static_cast<size_t>(i)]}, {n},
                engine::OutputSpec{DType::kInt64, {}});
    }
    for (const engine::Block& c : ctx.runtime->Get(std::move(count).Run())) {
      counts.push_back(*c.data<int64_t>());
      total += counts.back();
    }
  }
};

// The rows of x (a mask over its leading axes) where the mask is true, as (count, rest...).
BlockArray mask_select(const BlockArray& base, const BlockArray& m) {
  const MaskLayout l(base, m);
  const auto& in = *l.x.impl();
  Shape shape = l.x.shape(), block = l.x.block_shape();
  shape[0] = l.total;
  block[0] = std::max<int64_t>(1, std::min(block[0], l.total));
  ArrayGrid grid(shape, block, base.dtype());
  std::vector<int64_t> lengths;
  std::vector<std::vector<ObjectRef>> slabs;
  const auto& mask_blocks = l.mask.impl()->blocks;
  const int64_t item = itemsize(base.dtype());
  detail::GatherPlan selected(*in.ctx);
  std::vector<size_t> slab_of;  // per block added to `selected`
  detail::for_each_entry(in.grid.grid_shape(), [&](const Shape& e) {
    const auto i = static_cast<size_t>(e[0]);
    if (l.counts[i] == 0) return;
    if (lengths.size() <= i) {
      lengths.resize(i + 1, 0);
      slabs.resize(i + 1);
    }
    lengths[i] = l.counts[i];
    const ObjectRef& r = in.blocks[static_cast<size_t>(in.grid.flat(e))];
    const Shape bs = in.grid.block_shape_at(e);
    if (l.counts[i] == bs[0]) {
      selected.Reuse(r);
    } else {
      // The counts are known by now: the selection's shape is exact, not an upper bound.
      Shape kept = bs;
      kept[0] = l.counts[i];
      selected.Add("array.compress", {r, mask_blocks[i]}, {shape_size(bs) * item, bs[0]},
                   engine::OutputSpec{base.dtype(), kept});
    }
    slab_of.push_back(i);
  });
  std::vector<ObjectRef> blocks = std::move(selected).Run();
  for (size_t k = 0; k < blocks.size(); ++k) slabs[slab_of[k]].push_back(std::move(blocks[k]));
  return detail::join_slabs(in.ctx, grid, 0, lengths, slabs);
}

// Per axis of a write: the part of a selection inside one block of the array. dst (local),
// dst_step and n place it; j is its first position in the selection.
struct Segment {
  int64_t dst, dst_step, n, j;
};

}  // namespace

struct IndexExpr::Impl {
  enum class Advanced { kNone, kPositions, kMask };

  BlockArray base;
  Shape start, step, count;         // per axis of base; integers select one element
  std::vector<bool> dropped;        // axes indexed by an integer
  Shape inter_shape;                // after basic indexing: integer axes dropped, newaxes inserted
  std::vector<int64_t> inter_axis;  // axis of base of each inter axis, -1 for a newaxis
  Advanced advanced = Advanced::kNone;
  int64_t adv_axis = -1;           // first axis of base the advanced entry covers
  int64_t adv_inter = -1;          // its place among the inter axes
  std::vector<int64_t> positions;  // kPositions: normalized, row-major over positions_shape
  Shape positions_shape;
  BlockArray mask;  // kMask
  // Several integer-list or integer-array entries: each one's inter axis, normalized positions
  // and shape (the first one's are also in adv_inter / positions / positions_shape), and the
  // shape they broadcast to.
  struct Positions {
    int64_t inter;
    std::vector<int64_t> at;
    Shape shape;
  };
  std::vector<Positions> multi;
  Shape multi_shape;
  bool adv_front = false;  // NumPy puts the advanced axes first (integers apart from it)
  bool mask_only = false;  // the index is the mask, then whole axes at most
  Shape shape;             // of the read (not for kMask: that needs the count)

  BlockArray basic() const;
  BlockArray read() const;
  void write(const BlockArray& values) const;
  void write_regions(const BlockArray& values) const;
  void write_mask(const BlockArray& values) const;
  std::vector<Segment> segments(size_t d, int64_t lo, int64_t n) const;
};

IndexExpr::IndexExpr(const BlockArray& base, std::vector<IndexEntry> index) {
  auto p = std::make_shared<Impl>();
  Impl& x = *p;
  x.base = base;
  const Shape& shape = base.shape();
  const auto nd = static_cast<size_t>(base.ndim());
  int64_t consumed = 0;
  auto ellipsis = index.end();
  for (auto it = index.begin(); it != index.end(); ++it) {
    if (it->kind() == IndexEntry::Kind::kEllipsis) {
      if (ellipsis != index.end()) {
        throw IndexError("an index can only have a single ellipsis ('...')");
      }
      ellipsis = it;
    } else if (it->kind() == IndexEntry::Kind::kArray && it->array().dtype() == DType::kBool) {
      consumed += it->array().ndim();
    } else if (it->kind() != IndexEntry::Kind::kNewAxis) {
      ++consumed;
    }
  }
  if (ellipsis != index.end()) {
    const int64_t fill = std::max<int64_t>(0, base.ndim() - consumed);
    const auto at = index.erase(ellipsis);
    index.insert(at, static_cast<size_t>(fill), IndexEntry(all));
    consumed += fill;
  }
  if (consumed > base.ndim()) {
    throw IndexError("too many indices for array: array is " + std::to_string(nd) +
                     "-dimensional, but " + std::to_string(consumed) + " were indexed");
  }
  x.start.assign(nd, 0);
  x.step.assign(nd, 1);
  x.count = shape;
  x.dropped.assign(nd, false);
  std::vector<size_t> adv_entries;  // places of the integer and advanced entries
  bool whole_axes_after = true;     // only whole slices after the mask
  size_t a = 0;
  auto keep = [&](size_t axis) {
    x.inter_shape.push_back(x.count[axis]);
    x.inter_axis.push_back(static_cast<int64_t>(axis));
  };
  auto check_position = [&](int64_t i, size_t axis) {
    const int64_t n = shape[axis];
    if (i < -n || i >= n) {
      throw IndexError("index " + std::to_string(i) + " is out of bounds for axis " +
                       std::to_string(axis) + " with size " + std::to_string(n));
    }
    return i < 0 ? i + n : i;
  };
  auto set_advanced = [&](Impl::Advanced kind, size_t k) {
    if (x.advanced != Impl::Advanced::kNone) {
      throw ValueError("only one integer-list, integer-array or mask entry per index is supported");
    }
    x.advanced = kind;
    x.adv_axis = static_cast<int64_t>(a);
    x.adv_inter = static_cast<int64_t>(x.inter_shape.size());
    adv_entries.push_back(k);
  };
  auto set_positions = [&](const std::vector<int64_t>& list, Shape list_shape, size_t k) {
    if (x.advanced == Impl::Advanced::kPositions) {  // one more, broadcast with the others
      if (x.multi.empty()) x.multi.push_back({x.adv_inter, x.positions, x.positions_shape});
      Impl::Positions more{static_cast<int64_t>(x.inter_shape.size()), {}, std::move(list_shape)};
      for (int64_t i : list) more.at.push_back(check_position(i, a));
      x.multi.push_back(std::move(more));
      adv_entries.push_back(k);
      keep(a++);
      return;
    }
    set_advanced(Impl::Advanced::kPositions, k);
    for (int64_t i : list) x.positions.push_back(check_position(i, a));
    x.positions_shape = std::move(list_shape);
    keep(a++);
  };
  for (size_t k = 0; k < index.size(); ++k) {
    const IndexEntry& e = index[k];
    switch (e.kind()) {
      case IndexEntry::Kind::kInteger:
        x.start[a] = check_position(e.integer(), a);
        x.count[a] = 1;
        x.dropped[a++] = true;
        adv_entries.push_back(k);
        whole_axes_after = false;
        break;
      case IndexEntry::Kind::kSlice: {
        const slice& s = e.get_slice();
        const auto r = detail::normalize_slice(s.start, s.stop, s.step, shape[a]);
        x.start[a] = r.start;
        x.step[a] = r.step;
        x.count[a] = r.count;
        whole_axes_after &= r.start == 0 && r.step == 1 && r.count == shape[a];
        keep(a++);
        break;
      }
      case IndexEntry::Kind::kEllipsis:  // expanded above
        break;
      case IndexEntry::Kind::kNewAxis:
        x.inter_shape.push_back(1);
        x.inter_axis.push_back(-1);
        whole_axes_after = false;
        break;
      case IndexEntry::Kind::kList:
        set_positions(e.list(), {static_cast<int64_t>(e.list().size())}, k);
        whole_axes_after = false;
        break;
      case IndexEntry::Kind::kArray: {
        const BlockArray& arr = e.array();
        detail::check_same_context(base, arr, "indexing");
        if (arr.dtype() == DType::kBool) {
          if (arr.ndim() == 0) throw ValueError("indexing: a 0-d boolean index is not supported");
          for (size_t d = 0; d < static_cast<size_t>(arr.ndim()); ++d) {
            if (arr.shape()[d] != shape[a + d]) {
              throw IndexError("boolean index did not match indexed array along axis " +
                               std::to_string(a + d) + "; size of axis is " +
                               std::to_string(shape[a + d]) +
                               " but size of corresponding boolean axis is " +
                               std::to_string(arr.shape()[d]) + " (mask shape " +
                               shape_str(arr.shape()) + ", array shape " + shape_str(shape) + ")");
            }
          }
          set_advanced(Impl::Advanced::kMask, k);
          x.mask = arr;
          x.mask_only = k == 0;
          for (int64_t d = 0; d < arr.ndim(); ++d) keep(a++);
        } else if (is_integer(arr.dtype())) {
          set_positions(arr.get().to_vector<int64_t>(), arr.shape(), k);
          whole_axes_after = false;
        } else {
          throw IndexError("arrays used as indices must be of integer or boolean type, got " +
                           std::string(dtype_name(arr.dtype())));
        }
        break;
      }
    }
  }
  x.mask_only &= whole_axes_after;
  for (; a < nd; ++a) keep(a);
  if (x.advanced != Impl::Advanced::kNone && adv_entries.size() > 1) {
    x.adv_front = adv_entries.back() - adv_entries.front() + 1 != adv_entries.size();
  }
  if (!x.multi.empty()) {
    std::vector<Shape> shapes;
    for (const auto& m : x.multi) shapes.push_back(m.shape);
    if (!kernels::BroadcastShapes(shapes, x.multi_shape)) {
      std::string all;
      for (const auto& m : x.multi) all += " " + shape_str(m.shape);
      throw IndexError(
          "shape mismatch: indexing arrays could not be broadcast together with "
          "shapes" +
          all);
    }
    // The broadcast shape takes the first one's place, or goes first (adv_front).
    x.shape.clear();
    for (size_t i = 0; i < x.inter_shape.size(); ++i) {
      const auto inter = static_cast<int64_t>(i);
      if (inter == x.multi[0].inter) {
        x.shape.insert(x.shape.end(), x.multi_shape.begin(), x.multi_shape.end());
      }
      if (std::none_of(x.multi.begin(), x.multi.end(),
                       [&](const Impl::Positions& m) { return m.inter == inter; })) {
        x.shape.push_back(x.inter_shape[i]);
      }
    }
    if (x.adv_front) {
      const auto r = static_cast<int64_t>(x.multi_shape.size());
      std::rotate(x.shape.begin(), x.shape.begin() + x.multi[0].inter,
                  x.shape.begin() + x.multi[0].inter + r);
    }
  } else if (x.advanced != Impl::Advanced::kMask) {
    x.shape = x.inter_shape;
    if (x.advanced == Impl::Advanced::kPositions) {
      const auto q = x.shape.begin() + x.adv_inter;
      x.shape.insert(x.shape.erase(q), x.positions_shape.begin(), x.positions_shape.end());
      if (x.adv_front) {
        const auto r = static_cast<int64_t>(x.positions_shape.size());
        std::rotate(x.shape.begin(), x.shape.begin() + x.adv_inter,
                    x.shape.begin() + x.adv_inter + r);
      }
    }
  }
  impl_ = std::move(p);
}

BlockArray IndexExpr::Impl::basic() const {
  BlockArray v = base;
  if (start != Shape(start.size(), 0) || step != Shape(step.size(), 1) || count != base.shape()) {
    Shape bs = base.block_shape();
    for (size_t d = 0; d < bs.size(); ++d) bs[d] = std::max<int64_t>(1, std::min(bs[d], count[d]));
    v = detail::strided_view(base, start, step, count, bs);
  }
  return v.shape() == inter_shape ? v : detail::regrid_unit_axes(v, inter_shape);
}

BlockArray IndexExpr::Impl::read() const {
  BlockArray v = basic();
  if (!multi.empty()) {
    // The indexed axes side by side where the first is, merged into one; the flat positions
    // of the broadcast index arrays taken along it.
    const int64_t p = multi[0].inter;
    std::vector<int64_t> perm, merged_dims;
    for (int64_t d = 0; d < v.ndim(); ++d) {
      if (std::none_of(multi.begin(), multi.end(),
                       [&](const Positions& m) { return m.inter == d; }))
        perm.push_back(d);
    }
    for (size_t i = 0; i < multi.size(); ++i) {
      perm.insert(perm.begin() + p + static_cast<int64_t>(i), multi[i].inter);
      merged_dims.push_back(v.shape()[static_cast<size_t>(multi[i].inter)]);
    }
    v = v.transpose(perm);
    Shape s = v.shape();
    int64_t merged = 1;
    for (int64_t n : merged_dims) merged *= n;
    const auto first = s.begin() + p;
    s.insert(s.erase(first, first + static_cast<int64_t>(multi.size())), merged);
    v = v.reshape(s);
    const int64_t count = shape_size(multi_shape);
    std::vector<int64_t> flat(static_cast<size_t>(count), 0);
    for (size_t i = 0; i < multi.size(); ++i) {
      // Element j of the broadcast shape reads element `src` of this index array.
      const Shape& ms = multi[i].shape;
      const size_t lead = multi_shape.size() - ms.size();
      for (int64_t j = 0; j < count; ++j) {
        int64_t rem = j, src = 0, stride = 1;
        for (size_t d = multi_shape.size(); d-- > 0;) {
          const int64_t coord = rem % multi_shape[d];
          rem /= multi_shape[d];
          if (d < lead) continue;
          const int64_t n = ms[d - lead];
          if (n != 1) src += coord * stride;
          stride *= n;
        }
        flat[static_cast<size_t>(j)] =
            flat[static_cast<size_t>(j)] * merged_dims[i] + multi[i].at[static_cast<size_t>(src)];
      }
    }
    v = take(v, p, flat);
    Shape out = v.shape();
    const auto at = out.begin() + p;
    out.insert(out.erase(at), multi_shape.begin(), multi_shape.end());
    v = v.reshape(out);
    if (adv_front) v = move_axes(v, p, static_cast<int64_t>(multi_shape.size()), 0);
  } else if (advanced == Advanced::kPositions) {
    v = take(v, adv_inter, positions);
    const auto r = static_cast<int64_t>(positions_shape.size());
    if (r != 1) {
      Shape s = v.shape();
      const auto q = s.begin() + adv_inter;
      s.insert(s.erase(q), positions_shape.begin(), positions_shape.end());
      v = v.reshape(s);
    }
    if (adv_front) v = move_axes(v, adv_inter, r, 0);
  } else if (advanced == Advanced::kMask) {
    v = move_axes(v, adv_inter, mask.ndim(), 0);
    v = mask_select(v, mask);
    if (!adv_front) v = move_axes(v, 0, 1, adv_inter);
  }
  return v.impl() == base.impl() ? base.copy() : v;
}

std::vector<Segment> IndexExpr::Impl::segments(size_t d, int64_t lo, int64_t n) const {
  std::vector<Segment> segs;
  if (advanced == Advanced::kPositions && static_cast<int64_t>(d) == adv_axis) {
    // Runs of positions inside the block with one stride between them.
    for (size_t j = 0; j < positions.size(); ++j) {
      const int64_t local = positions[j] - lo;
      if (local < 0 || local >= n) continue;
      if (!segs.empty()) {
        Segment& s = segs.back();
        const int64_t last = s.dst + (s.n - 1) * s.dst_step;
        if (s.j + s.n == static_cast<int64_t>(j) && (s.n == 1 || local - last == s.dst_step)) {
          s.dst_step = local - last;
          ++s.n;
          continue;
        }
      }
      segs.push_back({local, 1, 1, static_cast<int64_t>(j)});
    }
    return segs;
  }
  // The selection start + j * step for j < count, inside [lo, lo + n).
  const int64_t s = step[d], b = start[d], hi = lo + n - 1;
  int64_t j0 = s > 0 ? ceil_div(lo - b, s) : ceil_div(b - hi, -s);
  int64_t j1 = s > 0 ? floor_div(hi - b, s) : floor_div(b - lo, -s);
  j0 = std::max<int64_t>(j0, 0);
  j1 = std::min(j1, count[d] - 1);
  if (j0 <= j1) segs.push_back({b + j0 * s - lo, s, j1 - j0 + 1, j0});
  return segs;
}

void IndexExpr::Impl::write(const BlockArray& values) const {
  detail::check_same_context(base, values, "index assignment");
  if (!multi.empty()) {
    throw ValueError(
        "assignment through several integer-list or integer-array entries of one "
        "index is not supported; read through them, or assign through one");
  }
  if (advanced == Advanced::kMask) {
    write_mask(values);
  } else {
    write_regions(values);
  }
}

void IndexExpr::Impl::write_regions(const BlockArray& values) const {
  Shape vs = values.shape();
  while (vs.size() > shape.size() && vs[0] == 1) vs.erase(vs.begin());
  bool fits = vs.size() <= shape.size();
  vs.insert(vs.begin(), shape.size() - std::min(vs.size(), shape.size()), 1);
  for (size_t d = 0; fits && d < shape.size(); ++d) fits = vs[d] == shape[d] || vs[d] == 1;
  if (!fits) {
    throw ShapeError("could not broadcast input array from shape " + shape_str(values.shape()) +
                     " into shape " + shape_str(shape));
  }
  BlockArray v = detail::regrid_unit_axes(values, vs);
  // Into the order of the inter axes, the positions' axes merged into one.
  if (advanced == Advanced::kPositions) {
    const auto q = adv_inter;
    const auto r = static_cast<int64_t>(positions_shape.size());
    if (adv_front) v = move_axes(v, 0, r, q);
    if (r != 1) {
      Shape s = v.shape();
      const auto first = s.begin() + q;
      const bool broadcast = std::all_of(first, first + r, [](int64_t n) { return n == 1; });
      if (!broadcast && !std::equal(first, first + r, positions_shape.begin())) {
        Shape full = s;
        std::copy(positions_shape.begin(), positions_shape.end(), full.begin() + q);
        v = broadcast_to(v, full);
      }
      s.insert(s.erase(first, first + r), broadcast ? 1 : static_cast<int64_t>(positions.size()));
      v = broadcast ? detail::regrid_unit_axes(v, s) : v.reshape(s);
    }
  }
  // Into the axes of base: newaxes dropped (length 1), integer axes back as length 1.
  Shape region(dropped.size(), 1);
  for (size_t i = 0; i < inter_axis.size(); ++i) {
    if (inter_axis[i] >= 0) region[static_cast<size_t>(inter_axis[i])] = v.shape()[i];
  }
  v = detail::regrid_unit_axes(v, region);
  auto& bi = *base.impl();
  const ArrayGrid& g = bi.grid;
  const ArrayGrid& vg = v.grid();
  const size_t nd = region.size();
  struct Piece {
    int64_t block, src, src_step, n, dst, dst_step;
  };
  std::vector<ObjectRef> blocks = bi.blocks;
  for (size_t k = 0; k < blocks.size(); ++k) {
    const Shape e = g.entry(static_cast<int64_t>(k));
    const Shape off = g.block_offset(e), bs = g.block_shape_at(e);
    std::vector<std::vector<Piece>> pieces(nd);
    bool touched = true;
    for (size_t d = 0; d < nd && touched; ++d) {
      for (const Segment& s : segments(d, off[d], bs[d])) {
        if (region[d] == 1) {
          pieces[d].push_back({0, 0, 0, s.n, s.dst, s.dst_step});
          continue;
        }
        const int64_t vb = vg.block_shape()[d];
        for (int64_t j = s.j; j < s.j + s.n;) {
          const int64_t gb = j / vb, local = j - gb * vb;
          const int64_t m = std::min(s.j + s.n - j, vb - local);
          pieces[d].push_back({gb, local, 1, m, s.dst + (j - s.j) * s.dst_step, s.dst_step});
          j += m;
        }
      }
      touched = !pieces[d].empty();
    }
    if (!touched) continue;
    std::vector<TaskArg> args{blocks[k]};
    std::map<int64_t, int64_t> input_of;  // block of v -> argument number
    std::vector<int64_t> regions;
    std::vector<size_t> pick(nd, 0);
    for (;;) {
      Shape ve(nd);
      for (size_t d = 0; d < nd; ++d) ve[d] = pieces[d][pick[d]].block;
      const int64_t flat = vg.flat(ve);
      auto [it, added] = input_of.emplace(flat, static_cast<int64_t>(args.size()));
      if (added) args.emplace_back(v.impl()->blocks[static_cast<size_t>(flat)]);
      regions.push_back(it->second);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].src);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].src_step);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].n);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].dst);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].dst_step);
      size_t d = nd;
      while (d-- > 0) {
        if (++pick[d] < pieces[d].size()) break;
        pick[d] = 0;
      }
      if (d == static_cast<size_t>(-1)) break;
    }
    args.emplace_back(detail::Scalar{std::move(regions)});
    const int64_t node = blocks[k].node();
    blocks[k] = detail::submit(
        *bi.ctx, "array.assign", std::move(args), node,
        engine::OutputSpec{g.dtype(), g.block_shape_at(g.entry(static_cast<int64_t>(k)))});
  }
  bi.blocks = std::move(blocks);
}

void IndexExpr::Impl::write_mask(const BlockArray& values) const {
  if (!mask_only) {
    throw ValueError("writing through a mask needs the mask alone as the index (x(mask) = y)");
  }
  const auto k = static_cast<size_t>(mask.ndim());
  const Shape rest(base.shape().begin() + static_cast<int64_t>(k), base.shape().end());
  Shape vs = values.shape();
  while (vs.size() > rest.size() + 1 && vs[0] == 1) vs.erase(vs.begin());
  bool fits = vs.size() <= rest.size() + 1;
  vs.insert(vs.begin(), rest.size() + 1 - std::min(vs.size(), rest.size() + 1), 1);
  for (size_t d = 1; fits && d < vs.size(); ++d) fits = vs[d] == rest[d - 1] || vs[d] == 1;
  // The shape written to, with `rows` for the (maybe unknown) number of selected rows.
  auto fail = [&](const std::string& rows) {
    const std::string target =
        "(" + rows + (rest.empty() ? ",)" : ", " + shape_str(rest).substr(1));
    throw ShapeError("could not broadcast input array from shape " + shape_str(values.shape()) +
                     " into shape " + target + ", the elements selected by a mask of shape " +
                     shape_str(mask.shape()) + " in an array of shape " + shape_str(base.shape()));
  };
  if (!fits) fail("n");
  BlockArray result;
  if (vs[0] == 1) {
    // One value (or row) for every selected element: a where().
    Shape cond_shape = mask.shape();
    cond_shape.resize(base.shape().size(), 1);
    const Shape row(vs.begin() + 1, vs.end());
    result = where(detail::regrid_unit_axes(mask, cond_shape),
                   detail::regrid_unit_axes(values, row), base);
  } else {
    const MaskLayout l(base, mask);
    if (vs[0] != l.total) fail(std::to_string(l.total));
    Shape full{l.total};
    full.insert(full.end(), rest.begin(), rest.end());
    BlockArray v = detail::regrid_unit_axes(values, vs);
    if (vs != full) v = broadcast_to(v, full);
    const auto& in = *l.x.impl();
    std::vector<ObjectRef> blocks = in.blocks;
    std::vector<int64_t> first_row(l.counts.size(), 0);  // of each mask block's values
    for (size_t i = 1; i < l.counts.size(); ++i) first_row[i] = first_row[i - 1] + l.counts[i - 1];
    for (size_t b = 0; b < blocks.size(); ++b) {
      const Shape e = in.grid.entry(static_cast<int64_t>(b));
      const auto i = static_cast<size_t>(e[0]);
      if (l.counts[i] == 0) continue;
      Shape start = in.grid.block_offset(e), count = in.grid.block_shape_at(e);
      start[0] = first_row[i];
      count[0] = l.counts[i];
      const BlockArray piece = detail::strided_view(v, start, Shape(start.size(), 1), count, count);
      blocks[b] = detail::submit(*in.ctx, "array.mask_assign",
                                 {blocks[b], l.mask.impl()->blocks[i], piece.impl()->blocks[0]},
                                 blocks[b].node(),
                                 engine::OutputSpec{in.grid.dtype(), in.grid.block_shape_at(e)});
    }
    result = detail::make_array(in.ctx, in.grid, std::move(blocks))
                 .reshape(base.shape(), base.block_shape());
  }
  result = result.astype(base.dtype()).rechunk(base.block_shape());
  base.impl()->set_blocks(base.grid(), result.impl()->blocks);
}

IndexExpr::operator BlockArray() const { return impl_->read(); }

IndexExpr& IndexExpr::operator=(const BlockArray& values) {
  impl_->write(values);
  return *this;
}

IndexExpr& IndexExpr::operator=(Number value) {
  impl_->write(as_array(impl_->base, value));
  return *this;
}

IndexExpr& IndexExpr::operator=(const IndexExpr& values) {
  impl_->write(BlockArray(values));
  return *this;
}

#define NUMS_INDEX_COMPOUND(op, name)                                   \
  IndexExpr& IndexExpr::operator op##=(const BlockArray& values) {      \
    const BlockArray result = BlockArray(*this) op values;              \
    detail::check_same_kind(result.dtype(), impl_->base.dtype(), name); \
    impl_->write(result);                                               \
    return *this;                                                       \
  }                                                                     \
  IndexExpr& IndexExpr::operator op##=(Number value) {                  \
    return *this op## = as_array(impl_->base, value);                   \
  }
NUMS_INDEX_COMPOUND(+, "+=")
NUMS_INDEX_COMPOUND(-, "-=")
NUMS_INDEX_COMPOUND(*, "*=")
NUMS_INDEX_COMPOUND(/, "/=")
#undef NUMS_INDEX_COMPOUND

}  // namespace nums
