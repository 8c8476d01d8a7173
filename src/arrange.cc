// Rearranging arrays: flips, rolls, moved axes, broadcasts, stacks, uneven splits, tiles and
// repeats. Each is built on the distributed primitives (strided views, concatenate, transpose,
// reshape, gathers of block regions), so blocks are cut and joined where they live and nothing
// is gathered to the driver.

#include <algorithm>
#include <numeric>
#include <string>

#include "nums/creation.hpp"
#include "nums/indexing.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/placement.h"
#include "src/shape_impl.h"

namespace nums {

namespace {

// Output block shape along each axis: x's, but at least 1 (a strided view of a non-empty axis).
Shape view_blocks(const BlockArray& x, const Shape& count) {
  Shape b = x.block_shape();
  for (size_t d = 0; d < b.size(); ++d) b[d] = std::max<int64_t>(1, std::min(b[d], count[d]));
  return b;
}

// x along `axis` from `start`, `count` elements.
BlockArray take_range(const BlockArray& x, size_t axis, int64_t start, int64_t count) {
  const size_t nd = static_cast<size_t>(x.ndim());
  Shape st(nd, 0), step(nd, 1), cnt = x.shape();
  st[axis] = start;
  cnt[axis] = count;
  return detail::strided_view(x, st, step, cnt, view_blocks(x, cnt));
}

BlockArray at_least(const BlockArray& x, int64_t nd) {
  BlockArray y = x;
  while (y.ndim() < nd) y = y.expand_dims(0);
  return y;
}

}  // namespace

BlockArray flip(const BlockArray& x, Axes axes) {
  const std::vector<int64_t> ax = detail::normalize_axes(axes, x.ndim(), "flip");
  const size_t nd = static_cast<size_t>(x.ndim());
  Shape start(nd, 0), step(nd, 1);
  for (int64_t a : ax) {
    const auto d = static_cast<size_t>(a);
    if (x.shape()[d] == 0) continue;
    start[d] = x.shape()[d] - 1;
    step[d] = -1;
  }
  if (x.size() == 0 || ax.empty()) return x.copy();
  return detail::strided_view(x, start, step, x.shape(), view_blocks(x, x.shape()));
}

BlockArray roll(const BlockArray& x, int64_t shift, std::optional<int64_t> axis) {
  if (!axis) {
    if (x.ndim() == 0) return x.copy();
    return roll(x.flatten(), shift, 0)
        .reshape(x.shape(), x.ndim() == 1 ? x.block_shape() : Shape{});
  }
  const auto ax = static_cast<size_t>(detail::normalize_axis(*axis, x.ndim(), "roll"));
  const int64_t n = x.shape()[ax];
  if (n == 0 || x.size() == 0) return x.copy();
  const int64_t s = ((shift % n) + n) % n;
  if (s == 0) return x.copy();
  // out = concatenate(x[n - s:], x[:n - s]) along the axis.
  return concatenate({take_range(x, ax, n - s, s), take_range(x, ax, 0, n - s)},
                     static_cast<int64_t>(ax))
      .rechunk(x.block_shape());
}

BlockArray roll(const BlockArray& x, const std::vector<int64_t>& shifts,
                const std::vector<int64_t>& axes) {
  if (shifts.size() != axes.size() && shifts.size() != 1) {
    throw ValueError("roll: " + std::to_string(shifts.size()) + " shifts " + shape_str(shifts) +
                     " for " + std::to_string(axes.size()) + " axes " + shape_str(axes));
  }
  // NumPy adds the shifts of an axis named more than once.
  std::vector<int64_t> total(static_cast<size_t>(x.ndim()), 0);
  for (size_t k = 0; k < axes.size(); ++k) {
    const auto a = static_cast<size_t>(detail::normalize_axis(axes[k], x.ndim(), "roll"));
    const int64_t len = std::max<int64_t>(x.shape()[a], 1);
    total[a] = (total[a] + shifts[shifts.size() == 1 ? 0 : k] % len) % len;
  }
  BlockArray y = x.copy();
  for (size_t a = 0; a < total.size(); ++a) {
    if (total[a] != 0) y = roll(y, total[a], static_cast<int64_t>(a));
  }
  return y;
}

BlockArray moveaxis(const BlockArray& x, const std::vector<int64_t>& source,
                    const std::vector<int64_t>& destination) {
  if (source.size() != destination.size()) {
    throw ValueError("moveaxis: source " + shape_str(source) + " and destination " +
                     shape_str(destination) + " must have the same number of elements");
  }
  const int64_t nd = x.ndim();
  std::vector<int64_t> src, dst;
  for (int64_t a : source) src.push_back(detail::normalize_axis(a, nd, "moveaxis"));
  for (int64_t a : destination) dst.push_back(detail::normalize_axis(a, nd, "moveaxis"));
  for (const auto* v : {&src, &dst}) {
    std::vector<int64_t> sorted = *v;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      throw ValueError("moveaxis: repeated axis in " +
                       std::string(v == &src ? "source " + shape_str(source)
                                             : "destination " + shape_str(destination)));
    }
  }
  // NumPy's order: the axes not moved, in order, with each moved one inserted at its place.
  std::vector<int64_t> order;
  for (int64_t d = 0; d < nd; ++d) {
    if (std::find(src.begin(), src.end(), d) == src.end()) order.push_back(d);
  }
  std::vector<std::pair<int64_t, int64_t>> moves;
  for (size_t k = 0; k < src.size(); ++k) moves.emplace_back(dst[k], src[k]);
  std::sort(moves.begin(), moves.end());
  for (const auto& [d, s] : moves) order.insert(order.begin() + d, s);
  return x.transpose(order);
}

BlockArray moveaxis(const BlockArray& x, int64_t source, int64_t destination) {
  return moveaxis(x, std::vector<int64_t>{source}, std::vector<int64_t>{destination});
}

BlockArray broadcast_to(const BlockArray& x, const Shape& shape) {
  for (int64_t d : shape) {
    if (d < 0) {
      throw ValueError("broadcast_to: all elements of broadcast shape must be non-negative, got " +
                       shape_str(shape));
    }
  }
  const size_t nd = shape.size(), xd = static_cast<size_t>(x.ndim());
  bool ok = xd <= nd;
  for (size_t d = 0; ok && d < xd; ++d) {
    const int64_t xs = x.shape()[d], t = shape[nd - xd + d];
    ok = xs == t || xs == 1;
  }
  if (!ok) {
    throw ShapeError("broadcast_to: cannot broadcast an array of shape " + shape_str(x.shape()) +
                     " to shape " + shape_str(shape));
  }
  detail::check_shape(shape, x.dtype(), "broadcast_to");
  if (x.shape() == shape) return x.copy();
  // x seen with leading axes of length 1 (no data moves). Output blocks line up with x's blocks
  // on the axes x keeps; along a broadcast axis each output block copies the one block of x there
  // with a source step of 0 (array.gather), pulled to wherever the placement puts it.
  Shape padded(nd - xd, 1);
  padded.insert(padded.end(), x.shape().begin(), x.shape().end());
  const BlockArray xp = nd > xd ? detail::regrid_unit_axes(x, padded) : x;
  const auto& in = *xp.impl();
  Shape block = detail::choose_block_shape(*in.ctx, shape, x.dtype(), {});
  std::vector<bool> bcast(nd);
  for (size_t d = 0; d < nd; ++d) {
    bcast[d] = padded[d] != shape[d];
    if (!bcast[d] && shape[d] > 0) block[d] = xp.block_shape()[d];
  }
  ArrayGrid grid(shape, block, x.dtype());
  if (grid.num_blocks() == 0 || shape_size(shape) == 0) {
    return detail::make_array(in.ctx, std::move(grid), {});
  }
  detail::GatherPlan blocks(*in.ctx);
  const int64_t item = itemsize(x.dtype());
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    Shape ie = e;
    std::vector<int64_t> regions;
    for (size_t d = 0; d < nd; ++d) {
      if (bcast[d]) ie[d] = 0;
      regions.push_back(0);
    }
    for (size_t d = 0; d < nd; ++d) regions.push_back(bcast[d] ? 0 : 1);
    regions.insert(regions.end(), bs.begin(), bs.end());
    for (size_t d = 0; d < nd; ++d) regions.push_back(0);
    const auto id = static_cast<size_t>(xp.grid().flat(ie));
    blocks.Add("array.gather",
               {in.blocks[id], detail::shape_scalar(bs),
                detail::int_scalar(static_cast<int64_t>(x.dtype())), detail::Scalar{regions}},
               {shape_size(xp.grid().block_shape_at(ie)) * item},
               engine::OutputSpec{x.dtype(), bs});
  });
  return detail::make_array(in.ctx, std::move(grid), std::move(blocks).Run());
}

BlockArray vstack(const std::vector<BlockArray>& arrays) {
  if (arrays.empty()) throw ValueError("vstack: need at least one array to concatenate");
  std::vector<BlockArray> rows;
  for (const BlockArray& a : arrays) rows.push_back(at_least(a, 2));
  return concatenate(rows, 0);
}

BlockArray hstack(const std::vector<BlockArray>& arrays) {
  if (arrays.empty()) throw ValueError("hstack: need at least one array to concatenate");
  std::vector<BlockArray> parts;
  for (const BlockArray& a : arrays) parts.push_back(at_least(a, 1));
  return concatenate(parts, parts[0].ndim() == 1 ? 0 : 1);
}

std::vector<BlockArray> array_split(const BlockArray& x, int64_t sections, int64_t axis) {
  if (sections <= 0) {
    throw ValueError("array_split: number of sections must be larger than 0, got " +
                     std::to_string(sections));
  }
  const int64_t ax = detail::normalize_axis(axis, x.ndim(), "array_split");
  const int64_t n = x.shape()[static_cast<size_t>(ax)];
  // NumPy: the first n % sections parts are one longer.
  const int64_t each = n / sections, extras = n % sections;
  std::vector<int64_t> indices;
  int64_t at = 0;
  for (int64_t k = 0; k + 1 < sections; ++k) {
    at += each + (k < extras ? 1 : 0);
    indices.push_back(at);
  }
  return split(x, indices, ax);
}

std::vector<BlockArray> array_split(const BlockArray& x, const std::vector<int64_t>& indices,
                                    int64_t axis) {
  detail::normalize_axis(axis, x.ndim(), "array_split");
  return split(x, indices, axis);
}

BlockArray tile(const BlockArray& x, const std::vector<int64_t>& reps) {
  for (int64_t r : reps) {
    if (r < 0) {
      throw ValueError("tile: negative repetition " + std::to_string(r) + " in reps " +
                       shape_str(reps));
    }
  }
  const int64_t nd = std::max<int64_t>(x.ndim(), static_cast<int64_t>(reps.size()));
  std::vector<int64_t> r(static_cast<size_t>(nd) - reps.size(), 1);
  r.insert(r.end(), reps.begin(), reps.end());
  Shape out = at_least(x, nd).shape();
  for (size_t d = 0; d < out.size(); ++d) {
    const auto len = detail::checked_mul(out[d], r[d]);
    if (!len)
      throw ValueError("tile: reps " + shape_str(reps) + " overflow shape " + shape_str(out));
    out[d] = *len;
  }
  detail::check_shape(out, x.dtype(), "tile");
  BlockArray y = at_least(x, nd);
  for (size_t d = 0; d < r.size(); ++d) {
    if (r[d] == 1) continue;
    if (r[d] == 0 || y.shape()[d] == 0) {
      y = take_range(y, d, 0, 0);
      continue;
    }
    y = concatenate(std::vector<BlockArray>(static_cast<size_t>(r[d]), y), static_cast<int64_t>(d));
  }
  return nd == x.ndim() && y.shape() == x.shape() ? x.copy() : y;
}

BlockArray repeat(const BlockArray& x, int64_t repeats, std::optional<int64_t> axis) {
  if (repeats < 0) {
    throw ValueError("repeat: negative repeats " + std::to_string(repeats));
  }
  const BlockArray y = axis ? x : x.flatten();
  const auto ax = static_cast<size_t>(detail::normalize_axis(axis.value_or(0), y.ndim(), "repeat"));
  Shape out = y.shape();
  const auto len = detail::checked_mul(out[ax], repeats);
  if (!len) throw ValueError("repeat: " + std::to_string(repeats) + " repeats overflow the shape");
  out[ax] = *len;
  // Each element followed by its copies: a new axis of length `repeats` after `axis`, merged.
  Shape wide = y.shape();
  wide.insert(wide.begin() + static_cast<int64_t>(ax) + 1, repeats);
  return broadcast_to(y.expand_dims(static_cast<int64_t>(ax) + 1), wide).reshape(out);
}

std::vector<BlockArray> unstack(const BlockArray& x, int64_t axis) {
  if (x.ndim() == 0) throw IndexError("unstack: a 0-d array has no axis to unstack");
  const int64_t ax = detail::normalize_axis(axis, x.ndim(), "unstack");
  std::vector<BlockArray> out;
  for (int64_t i = 0; i < x.shape()[static_cast<size_t>(ax)]; ++i) {
    std::vector<IndexEntry> index(static_cast<size_t>(ax) + 1, IndexEntry(all));
    index.back() = IndexEntry(i);
    out.emplace_back(IndexExpr(x, index));
  }
  return out;
}

std::vector<BlockArray> broadcast_arrays(const std::vector<BlockArray>& arrays) {
  Shape shape;
  for (const BlockArray& a : arrays) {
    Shape next(std::max(shape.size(), a.shape().size()), 1);
    for (size_t k = 0; k < next.size(); ++k) {
      const int64_t p =
          k < next.size() - shape.size() ? 1 : shape[k - (next.size() - shape.size())];
      const int64_t q =
          k < next.size() - a.shape().size() ? 1 : a.shape()[k - (next.size() - a.shape().size())];
      if (p != q && p != 1 && q != 1) {
        std::string shapes;
        for (const BlockArray& b : arrays)
          shapes += (shapes.empty() ? "" : ", ") + shape_str(b.shape());
        throw ShapeError("broadcast_arrays: shapes " + shapes + " do not broadcast together");
      }
      next[k] = p == 1 ? q : p;
    }
    shape = std::move(next);
  }
  std::vector<BlockArray> out;
  for (const BlockArray& a : arrays) out.push_back(broadcast_to(a, shape));
  return out;
}

BlockArray take(const BlockArray& x, const BlockArray& indices, std::optional<int64_t> axis) {
  const BlockArray y = axis ? x : x.flatten();
  const int64_t ax = detail::normalize_axis(axis.value_or(0), y.ndim(), "take");
  Shape out(y.shape().begin(), y.shape().begin() + ax);
  out.insert(out.end(), indices.shape().begin(), indices.shape().end());
  out.insert(out.end(), y.shape().begin() + ax + 1, y.shape().end());
  std::vector<IndexEntry> index(static_cast<size_t>(ax) + 1, IndexEntry(all));
  index.back() = IndexEntry(indices.ndim() == 1 ? indices : indices.flatten());
  return BlockArray(IndexExpr(y, index)).reshape(out);
}

BlockArray take(const BlockArray& x, const std::vector<int64_t>& indices,
                std::optional<int64_t> axis) {
  return take(x, array(indices), axis);
}

BlockArray take_along_axis(const BlockArray& x, const BlockArray& indices,
                           std::optional<int64_t> axis) {
  if (!axis) {
    if (indices.ndim() != 1) {
      throw ValueError("take_along_axis: without an axis, indices must be 1-d, got shape " +
                       shape_str(indices.shape()));
    }
    return take_along_axis(x.flatten(), indices, 0);
  }
  if (indices.ndim() != x.ndim()) {
    throw ValueError("take_along_axis: indices of shape " + shape_str(indices.shape()) +
                     " and array of shape " + shape_str(x.shape()) +
                     " must have the same number of dimensions");
  }
  if (!is_integer(indices.dtype())) {
    throw IndexError("take_along_axis: indices must be integers, got " +
                     std::string(dtype_name(indices.dtype())));
  }
  const auto ax = static_cast<size_t>(detail::normalize_axis(*axis, x.ndim(), "take_along_axis"));
  const size_t nd = static_cast<size_t>(x.ndim());
  Shape out(nd);
  for (size_t d = 0; d < nd; ++d) {
    const int64_t a = d == ax ? indices.shape()[d] : x.shape()[d], b = indices.shape()[d];
    if (a != b && a != 1 && b != 1) {
      throw ShapeError("take_along_axis: indices of shape " + shape_str(indices.shape()) +
                       " do not broadcast with the array's shape " + shape_str(x.shape()) +
                       " off axis " + std::to_string(ax));
    }
    out[d] = a == 1 ? b : a;
  }
  const int64_t len = x.shape()[ax];
  const BlockArray idx = indices.astype(DType::kInt64);
  if (idx.size() > 0) {
    const auto lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    if (lo < -len || hi >= len) {
      throw IndexError("take_along_axis: index " + std::to_string(lo < -len ? lo : hi) +
                       " is out of bounds for axis " + std::to_string(ax) + " with size " +
                       std::to_string(len));
    }
  }
  if (shape_size(out) == 0) return zeros(out, x.dtype());
  // The flat position in x of every output element: the axis' index times its stride plus the
  // other axes' own coordinates times theirs.
  const Shape strides = [&] {
    Shape st(nd, 1);
    for (size_t d = nd; d-- > 1;) st[d - 1] = st[d] * x.shape()[d];
    return st;
  }();
  BlockArray flat = where(idx < 0, idx + len, idx) * strides[ax];
  for (size_t d = 0; d < nd; ++d) {
    if (d == ax || x.shape()[d] == 1) continue;
    Shape along(nd, 1);
    along[d] = x.shape()[d];
    flat = flat + arange(x.shape()[d]).reshape(along) * strides[d];
  }
  return take(x.flatten(), broadcast_to(flat, out).flatten()).reshape(out);
}

void put(BlockArray& x, const BlockArray& indices, const BlockArray& values) {
  const BlockArray idx = indices.flatten();
  if (idx.size() == 0) return;
  BlockArray vals = values.flatten().astype(x.dtype());
  if (vals.size() == 0) {
    throw ValueError("put: cannot put " + std::to_string(idx.size()) +
                     " positions from an empty array of values");
  }
  if (vals.size() < idx.size()) {
    // NumPy repeats the values over the positions.
    vals = tile(vals, {(idx.size() + vals.size() - 1) / vals.size()});
  }
  if (vals.size() > idx.size()) vals = take_range(vals, 0, 0, idx.size());
  BlockArray flat = x.flatten();
  flat(idx) = vals;
  std::vector<IndexEntry> whole(static_cast<size_t>(x.ndim()), IndexEntry(all));
  IndexExpr(x, whole) = flat.reshape(x.shape());
}

void put(BlockArray& x, const std::vector<int64_t>& indices, const BlockArray& values) {
  put(x, array(indices), values);
}

namespace {

/// One axis of pad(): `before` and `after` elements around y along `ax`.
BlockArray pad_axis(const BlockArray& y, size_t ax, int64_t before, int64_t after,
                    const std::string& mode, Number constant) {
  if (before == 0 && after == 0) return y;
  const int64_t n = y.shape()[ax];
  if (mode == "constant") {
    std::vector<BlockArray> parts;
    Shape side = y.shape();
    side[ax] = before;
    if (before > 0) parts.push_back(full(side, constant, y.dtype()));
    parts.push_back(y);
    side[ax] = after;
    if (after > 0) parts.push_back(full(side, constant, y.dtype()));
    return concatenate(parts, static_cast<int64_t>(ax));
  }
  if (n == 0) {
    throw ValueError("pad: can't extend empty axis " + std::to_string(ax) + " using mode '" + mode +
                     "'");
  }
  if (mode == "edge" || (n == 1 && (mode == "reflect" || mode == "symmetric"))) {
    std::vector<BlockArray> parts;
    Shape side = y.shape();
    side[ax] = before;
    if (before > 0) parts.push_back(broadcast_to(take_range(y, ax, 0, 1), side));
    parts.push_back(y);
    side[ax] = after;
    if (after > 0) parts.push_back(broadcast_to(take_range(y, ax, n - 1, 1), side));
    return concatenate(parts, static_cast<int64_t>(ax));
  }
  // The other modes extend one period of a pattern periodically: wrap repeats y, symmetric
  // repeats y and its mirror, reflect y and its mirror without the two edge elements.
  BlockArray period = y;
  const auto a = static_cast<int64_t>(ax);
  if (mode == "symmetric") {
    period = concatenate({y, flip(y, a)}, a);
  } else if (mode == "reflect") {
    period = n > 2 ? concatenate({y, flip(take_range(y, ax, 1, n - 2), a)}, a) : y;
  } else if (mode != "wrap") {
    throw ValueError("pad: mode '" + mode +
                     "' is not one of constant, edge, reflect, symmetric, wrap");
  }
  const int64_t p = period.shape()[ax];
  const int64_t start = (before + p - 1) / p * p - before;
  const int64_t total = n + before + after;
  const int64_t reps = (start + total + p - 1) / p;
  Shape reps_shape(static_cast<size_t>(y.ndim()), 1);
  reps_shape[ax] = reps;
  return take_range(tile(period, reps_shape), ax, start, total);
}

}  // namespace

BlockArray pad(const BlockArray& x, const std::vector<std::array<int64_t, 2>>& widths,
               const std::string& mode, Number constant) {
  if (widths.size() != 1 && widths.size() != static_cast<size_t>(x.ndim())) {
    throw ValueError("pad: " + std::to_string(widths.size()) + " (before, after) pairs for an " +
                     std::to_string(x.ndim()) + "-d array of shape " + shape_str(x.shape()));
  }
  for (const auto& w : widths) {
    if (w[0] < 0 || w[1] < 0) {
      throw ValueError("pad: negative width (" + std::to_string(w[0]) + ", " +
                       std::to_string(w[1]) + ")");
    }
  }
  static const char* const kModes[] = {"constant", "edge", "reflect", "symmetric", "wrap"};
  if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes)) {
    throw ValueError("pad: mode '" + mode +
                     "' is not one of constant, edge, reflect, symmetric, wrap");
  }
  if (mode == "constant") as_array(x, constant);  // ValueError when it does not fit x's dtype
  BlockArray y = x;
  for (size_t d = 0; d < static_cast<size_t>(x.ndim()); ++d) {
    const auto& w = widths[widths.size() == 1 ? 0 : d];
    y = pad_axis(y, d, w[0], w[1], mode, constant);
  }
  return y.impl() == x.impl() ? x.copy() : y;
}

BlockArray pad(const BlockArray& x, int64_t width, const std::string& mode, Number constant) {
  return pad(x, std::vector<std::array<int64_t, 2>>{{width, width}}, mode, constant);
}

BlockArray matrix_transpose(const BlockArray& x) {
  if (x.ndim() < 2) {
    throw ValueError("matrix_transpose: needs at least 2 axes, got shape " + shape_str(x.shape()));
  }
  return swapaxes(x, -2, -1);
}

}  // namespace nums
