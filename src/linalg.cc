// Products (matmul, dot, tensordot, inner, outer) as one distributed contraction, and
// linalg::norm from elementwise operations and reductions.
//
// The contraction, for C = A @ B on block grids (the general case sums over several axes):
//   C[i, j] = sum_l A[i, l] @ B[l, j]        l over the blocks of the contracted axis
// Blocks of A and B must agree along the contracted axes (and along batch axes both have); when
// they do not, the smaller operand is re-blocked to the larger one's blocks there. Each partial
// product A[i, l] @ B[l, j] is one "array.tensordot" task and the partials of C[i, j] meet in a
// pairwise tree of "array.binary" adds; the optimizer (src/placement.h, LSHS by default) places
// every product and every add by the simulated memory and network loads, so a product normally
// runs where its larger input block is and only the smaller one moves. A contracted length of 0
// gives zero blocks made on C's home nodes. Batched
// matmul is the same with leading batch axes kept by the kernel: one tree per output block,
// the batch blocks of an operand of length 1 (broadcast) reused by every output block.

#include "nums/linalg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "nums/math.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/linalg_dense.h"
#include "src/placement.h"

namespace nums {

using detail::ObjectRef;
using detail::TaskArg;

namespace {

bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }

[[noreturn]] void throw_shapes(const char* op, const BlockArray& a, const BlockArray& b,
                               const std::string& why) {
  throw ShapeError(std::string(op) + ": shapes " + shape_str(a.shape()) + " and " +
                   shape_str(b.shape()) + " " + why);
}

// What to compute: the first `batch` axes of a and b broadcast against each other (both have
// them); a_axes[p] and b_axes[p] are summed over together. Shapes are already checked.
struct Contraction {
  int64_t batch = 0;
  std::vector<int64_t> a_axes, b_axes;
};

// The axes of [batch, ndim) not in `contracted`, in order.
std::vector<int64_t> free_axes(int64_t ndim, int64_t batch,
                               const std::vector<int64_t>& contracted) {
  std::vector<int64_t> out;
  for (int64_t d = batch; d < ndim; ++d) {
    if (std::find(contracted.begin(), contracted.end(), d) == contracted.end()) out.push_back(d);
  }
  return out;
}

int64_t blocks_of(const Shape& shape, const Shape& block) {
  Shape grid(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    grid[d] = shape[d] / block[d] + (shape[d] % block[d] != 0 ? 1 : 0);
  }
  return detail::checked_product(grid).value_or(std::numeric_limits<int64_t>::max());
}

// x's block shape with `fixed` (axis, block size) imposed. The blocks this removes along the
// fixed axes are given back along the free axes (largest block first), so that x keeps about as
// many blocks as before and the contraction as many independent output blocks.
Shape reblock_shape(const BlockArray& x, const std::vector<std::pair<int64_t, int64_t>>& fixed,
                    const std::vector<int64_t>& free) {
  Shape want = x.block_shape();
  for (const auto& [axis, size] : fixed) want[static_cast<size_t>(axis)] = size;
  const int64_t target = x.grid().num_blocks();
  while (blocks_of(x.shape(), want) < target) {
    int64_t best = -1;
    for (int64_t d : free) {
      if (want[static_cast<size_t>(d)] > 1 &&
          (best < 0 || want[static_cast<size_t>(d)] > want[static_cast<size_t>(best)])) {
        best = d;
      }
    }
    if (best < 0) break;
    const auto b = static_cast<size_t>(best);
    const int64_t parts = (x.shape()[b] + want[b] - 1) / want[b] + 1;
    want[b] = std::min(want[b] - 1, (x.shape()[b] + parts - 1) / parts);
  }
  return want;
}

// a and b with blocks that agree along the contracted axes and the shared batch axes.
std::pair<BlockArray, BlockArray> align(const BlockArray& a, const BlockArray& b,
                                        const Contraction& c) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t d = 0; d < c.batch; ++d) {
    if (a.shape()[static_cast<size_t>(d)] > 1 && b.shape()[static_cast<size_t>(d)] > 1) {
      pairs.emplace_back(d, d);
    }
  }
  for (size_t p = 0; p < c.a_axes.size(); ++p) pairs.emplace_back(c.a_axes[p], c.b_axes[p]);
  bool aligned = true;
  for (const auto& [x, y] : pairs) {
    aligned &= a.block_shape()[static_cast<size_t>(x)] == b.block_shape()[static_cast<size_t>(y)];
  }
  if (aligned) return {a, b};
  // Re-block the smaller operand (b on a tie: with the default row-split blocks, A @ B then
  // turns B's row blocks into column blocks and needs no partial sums).
  const bool move_a = a.nbytes() < b.nbytes();
  const BlockArray& x = move_a ? a : b;
  const BlockArray& y = move_a ? b : a;
  std::vector<std::pair<int64_t, int64_t>> fixed;
  for (const auto& [pa, pb] : pairs) {
    const int64_t xa = move_a ? pa : pb, ya = move_a ? pb : pa;
    fixed.emplace_back(xa, y.block_shape()[static_cast<size_t>(ya)]);
  }
  const BlockArray moved = x.rechunk(
      reblock_shape(x, fixed, free_axes(x.ndim(), c.batch, move_a ? c.a_axes : c.b_axes)));
  return move_a ? std::pair{moved, b} : std::pair{a, moved};
}

// `x`, or the source of x's pending transpose with `contracted` renamed to the source's axes: the
// kernel then reads each source block in the transposed layout (GEMM's transpose flag) and no
// block is transposed. Only when the renaming keeps the batch axes in place and the free axes in
// order, since the kernel emits free axes in its operand's order.
BlockArray read_through(const BlockArray& x, int64_t batch, std::vector<int64_t>& contracted) {
  const auto v = detail::pending_transpose(x);
  if (!v) return x;
  for (int64_t d = 0; d < batch; ++d) {
    if (v->axes[static_cast<size_t>(d)] != d) return x;
  }
  std::vector<int64_t> free;
  for (int64_t d : free_axes(x.ndim(), batch, contracted)) {
    free.push_back(v->axes[static_cast<size_t>(d)]);
  }
  if (!std::is_sorted(free.begin(), free.end())) return x;
  for (int64_t& d : contracted) d = v->axes[static_cast<size_t>(d)];
  return v->source;
}

// The contraction of checked operands: reads pending transposes through, promotes, aligns
// blocks, then one tree of partial products per output block (see the top of this file).
BlockArray contract(const BlockArray& a_view, const BlockArray& b_view, Contraction c) {
  const BlockArray a_in = read_through(a_view, c.batch, c.a_axes);
  const BlockArray b_in = read_through(b_view, c.batch, c.b_axes);
  const DType t = result_type(a_in.dtype(), b_in.dtype());
  // The GEMM kernels exist for bool, int32, int64, float32 and float64 only (compile time).
  // Other integers multiply in int64 and narrow back: sums and products modulo 2^64 narrowed
  // modulo 2^bits are NumPy's wrapping results. float16 computes in float32 and rounds back.
  if (t == DType::kFloat16) {
    return contract(a_in.astype(DType::kFloat32), b_in.astype(DType::kFloat32), c).astype(t);
  }
  if (is_integer(t) && t != DType::kInt32 && t != DType::kInt64) {
    return contract(a_in.astype(DType::kInt64), b_in.astype(DType::kInt64), c).astype(t);
  }
  const auto aligned = align(a_in.astype(t), b_in.astype(t), c);
  const BlockArray& a = aligned.first;
  const BlockArray& b = aligned.second;
  auto& ctx = a.impl()->ctx;
  const ArrayGrid& ga = a.grid();
  const ArrayGrid& gb = b.grid();
  const auto free_a = free_axes(a.ndim(), c.batch, c.a_axes);
  const auto free_b = free_axes(b.ndim(), c.batch, c.b_axes);
  Shape shape, block;
  for (int64_t d = 0; d < c.batch; ++d) {
    const bool from_b = a.shape()[static_cast<size_t>(d)] == 1;
    shape.push_back((from_b ? b : a).shape()[static_cast<size_t>(d)]);
    block.push_back((from_b ? b : a).block_shape()[static_cast<size_t>(d)]);
  }
  for (int64_t d : free_a) {
    shape.push_back(a.shape()[static_cast<size_t>(d)]);
    block.push_back(a.block_shape()[static_cast<size_t>(d)]);
  }
  for (int64_t d : free_b) {
    shape.push_back(b.shape()[static_cast<size_t>(d)]);
    block.push_back(b.block_shape()[static_cast<size_t>(d)]);
  }
  const ArrayGrid og(shape, block, t);
  Shape contracted_grid;
  for (int64_t d : c.a_axes) contracted_grid.push_back(ga.grid_shape()[static_cast<size_t>(d)]);
  const bool empty_sum = shape_size(contracted_grid) == 0;

  std::vector<TaskArg> scalars = {detail::Scalar{c.a_axes}, detail::Scalar{c.b_axes}};
  if (c.batch > 0) scalars.emplace_back(detail::int_scalar(c.batch));
  // Partial products and their sums are placed by the optimizer (LSHS by default: a product
  // normally runs where its larger input is, and the sum tree follows the loads).
  detail::BlockPlan plan(*ctx);
  const int64_t item = itemsize(t);
  std::vector<ObjectRef> blocks;
  std::vector<std::pair<size_t, optimizer::OpId>> planned;  // output block -> op
  blocks.reserve(static_cast<size_t>(og.num_blocks()));
  detail::for_each_entry(og.grid_shape(), [&](const Shape& e) {
    if (empty_sum) {
      blocks.push_back(detail::submit_source(
          *ctx, "array.full",
          {detail::shape_scalar(og.block_shape_at(e)), detail::int_scalar(static_cast<int64_t>(t)),
           detail::Scalar{0.0}, detail::int_scalar(0)},
          detail::home_node(*ctx, og, e), engine::OutputSpec{t, og.block_shape_at(e)}));
      return;
    }
    Shape ea(static_cast<size_t>(a.ndim())), eb(static_cast<size_t>(b.ndim()));
    for (int64_t d = 0; d < c.batch; ++d) {
      const auto u = static_cast<size_t>(d);
      ea[u] = a.shape()[u] == 1 ? 0 : e[u];
      eb[u] = b.shape()[u] == 1 ? 0 : e[u];
    }
    size_t o = static_cast<size_t>(c.batch);
    for (int64_t d : free_a) ea[static_cast<size_t>(d)] = e[o++];
    for (int64_t d : free_b) eb[static_cast<size_t>(d)] = e[o++];
    const engine::OutputSpec out{t, og.block_shape_at(e)};
    const int64_t out_bytes = out.nbytes();
    const detail::StepFn product = [&, out](const auto& in, int64_t node) {
      std::vector<TaskArg> args = {(*in[0])[0], (*in[1])[0]};
      args.insert(args.end(), scalars.begin(), scalars.end());
      return detail::Refs{detail::submit(*ctx, "array.tensordot", std::move(args), node, out)};
    };
    std::vector<optimizer::OpId> partials;
    detail::for_each_entry(contracted_grid, [&](const Shape& k) {
      for (size_t p = 0; p < k.size(); ++p) {
        ea[static_cast<size_t>(c.a_axes[p])] = k[p];
        eb[static_cast<size_t>(c.b_axes[p])] = k[p];
      }
      const ObjectRef& ra = a.impl()->blocks[static_cast<size_t>(ga.flat(ea))];
      const ObjectRef& rb = b.impl()->blocks[static_cast<size_t>(gb.flat(eb))];
      partials.push_back(plan.Product(plan.Leaf({ra}, shape_size(ga.block_shape_at(ea)) * item),
                                      plan.Leaf({rb}, shape_size(gb.block_shape_at(eb)) * item),
                                      out_bytes, product, "tensordot", "array.tensordot", item));
    });
    const optimizer::OpId root =
        plan.Reduce(std::move(partials), out_bytes,
                    detail::BinaryStep(*ctx, kernels::BinaryOp::kAdd, out), "sum", "array.binary");
    plan.Output(root);
    planned.emplace_back(blocks.size(), root);
    blocks.emplace_back();
  });
  plan.Run();
  for (const auto& [k, op] : planned) blocks[k] = plan.result(op)[0];
  return detail::make_array(ctx, og, std::move(blocks));
}

BlockArray tensordot_checked(const BlockArray& a, const BlockArray& b,
                             const std::vector<int64_t>& a_axes_in,
                             const std::vector<int64_t>& b_axes_in, const char* op) {
  detail::check_same_context(a, b, op);
  if (a_axes_in.size() != b_axes_in.size()) {
    throw ValueError(std::string(op) + ": " + std::to_string(a_axes_in.size()) + " axes of a but " +
                     std::to_string(b_axes_in.size()) + " axes of b");
  }
  Contraction c;
  for (int64_t x : a_axes_in) c.a_axes.push_back(detail::normalize_axis(x, a.ndim(), op));
  for (int64_t y : b_axes_in) c.b_axes.push_back(detail::normalize_axis(y, b.ndim(), op));
  for (const auto* axes : {&c.a_axes, &c.b_axes}) {
    std::vector<int64_t> sorted = *axes;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      throw ValueError(std::string(op) + ": repeated axis in " + shape_str(*axes));
    }
  }
  for (size_t p = 0; p < c.a_axes.size(); ++p) {
    const int64_t la = a.shape()[static_cast<size_t>(c.a_axes[p])];
    const int64_t lb = b.shape()[static_cast<size_t>(c.b_axes[p])];
    if (la != lb) {
      throw_shapes(op, a, b,
                   "do not align: axis " + std::to_string(c.a_axes[p]) + " of a has length " +
                       std::to_string(la) + ", axis " + std::to_string(c.b_axes[p]) +
                       " of b has length " + std::to_string(lb));
    }
  }
  return contract(a, b, c);
}

// a * b with NumPy's dtype for products of 0-d operands (bool * bool stays bool).
BlockArray scalar_product(const BlockArray& a, const BlockArray& b) {
  if (a.dtype() == DType::kBool && b.dtype() == DType::kBool) return a && b;
  return a * b;
}

// x seen with leading axes of length 1 up to rank `ndim` (zero-copy block views).
BlockArray with_leading_ones(const BlockArray& x, int64_t ndim) {
  if (x.ndim() == ndim) return x;
  Shape shape(static_cast<size_t>(ndim - x.ndim()), 1), block = shape;
  shape.insert(shape.end(), x.shape().begin(), x.shape().end());
  block.insert(block.end(), x.block_shape().begin(), x.block_shape().end());
  return detail::reshape_blocks(x, ArrayGrid(shape, block, x.dtype()));
}

// x's elements as a 1-d array in row-major order: blocks that split only the first axis are runs
// of that order, so x is re-blocked to those (when it is not already) and viewed as 1-d.
BlockArray flat(const BlockArray& x) {
  if (x.ndim() == 1) return x;
  if (x.ndim() == 0) return detail::reshape_blocks(x, ArrayGrid({1}, {1}, x.dtype()));
  Shape rows = x.shape();
  rows[0] = x.block_shape()[0];
  const BlockArray r = x.rechunk(rows);
  const int64_t row_size = shape_size(Shape(x.shape().begin() + 1, x.shape().end()));
  return detail::reshape_blocks(r, ArrayGrid({x.size()}, {rows[0] * row_size}, x.dtype()));
}

// The vector norm along `axis` of a float array.
BlockArray vector_norm_along(const BlockArray& x, std::optional<double> ord, int64_t axis,
                             bool keepdims) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (!ord || *ord == 2) return nums::sqrt((x * x).sum(axis, keepdims));
  if (*ord == kInf) return nums::abs(x).max(axis, keepdims);
  if (*ord == -kInf) return nums::abs(x).min(axis, keepdims);
  if (*ord == 0) return (x != 0).astype(x.dtype()).sum(axis, keepdims);
  if (*ord == 1) return nums::abs(x).sum(axis, keepdims);
  return nums::power(nums::power(nums::abs(x), *ord).sum(axis, keepdims), 1.0 / *ord);
}

// The matrix norm over axes (row, col) of a float array.
BlockArray matrix_norm_over(const BlockArray& x, std::optional<double> ord, int64_t row,
                            int64_t col, bool keepdims) {
  if (!ord) return nums::sqrt((x * x).sum({row, col}, keepdims));
  // ord 1: largest column sum (sum over rows, then the max over columns); inf: rows and columns
  // swapped. Without keepdims the second reduction's axis shifts when the first was before it.
  const bool by_columns = std::abs(*ord) == 1;
  const int64_t first = by_columns ? row : col;
  int64_t second = by_columns ? col : row;
  if (!keepdims && first < second) --second;
  const BlockArray sums = nums::abs(x).sum(first, keepdims);
  return *ord > 0 ? sums.max(second, keepdims) : sums.min(second, keepdims);
}

}  // namespace

BlockArray tensordot(const BlockArray& a, const BlockArray& b, const std::vector<int64_t>& a_axes,
                     const std::vector<int64_t>& b_axes) {
  return tensordot_checked(a, b, a_axes, b_axes, "tensordot");
}

BlockArray tensordot(const BlockArray& a, const BlockArray& b, int64_t axes) {
  if (axes < 0 || axes > a.ndim() || axes > b.ndim()) {
    throw ValueError("tensordot: axes = " + std::to_string(axes) + " for operands of shapes " +
                     shape_str(a.shape()) + " and " + shape_str(b.shape()));
  }
  std::vector<int64_t> a_axes, b_axes;
  for (int64_t i = 0; i < axes; ++i) {
    a_axes.push_back(a.ndim() - axes + i);
    b_axes.push_back(i);
  }
  return tensordot_checked(a, b, a_axes, b_axes, "tensordot");
}

BlockArray matmul(const BlockArray& a, const BlockArray& b) {
  detail::check_same_context(a, b, "matmul");
  if (a.ndim() == 0 || b.ndim() == 0) {
    throw ValueError("matmul: operands of shapes " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()) + ": a 0-d operand has no axis to multiply over");
  }
  const int64_t b_axis = b.ndim() == 1 ? 0 : b.ndim() - 2;
  const int64_t ka = a.shape().back(), kb = b.shape()[static_cast<size_t>(b_axis)];
  if (ka != kb) {
    throw_shapes("matmul", a, b,
                 "do not align: " + std::to_string(ka) +
                     " (last axis of a) != " + std::to_string(kb) + " (" +
                     (b.ndim() == 1 ? "only" : "second-to-last") + " axis of b)");
  }
  // Without batch axes on b (or with a 1-d a, which only b's axes shape), NumPy's promotion
  // and removal of 1-d axes is exactly tensordot's axis order.
  if (b.ndim() <= 2 || a.ndim() == 1) return contract(a, b, {0, {a.ndim() - 1}, {b_axis}});
  const int64_t ndim = std::max(a.ndim(), b.ndim());
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  const Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  for (size_t i = 1; i <= std::min(batch_a.size(), batch_b.size()); ++i) {
    const int64_t x = batch_a[batch_a.size() - i], y = batch_b[batch_b.size() - i];
    if (x != y && x != 1 && y != 1) {
      throw_shapes("matmul", a, b, "do not broadcast over their leading (batch) axes");
    }
  }
  return contract(with_leading_ones(a, ndim), with_leading_ones(b, ndim),
                  {ndim - 2, {ndim - 1}, {ndim - 2}});
}

BlockArray dot(const BlockArray& a, const BlockArray& b) {
  if (a.ndim() == 0 || b.ndim() == 0) return scalar_product(a, b);
  return tensordot_checked(a, b, {a.ndim() - 1}, {b.ndim() == 1 ? 0 : b.ndim() - 2}, "dot");
}

BlockArray inner(const BlockArray& a, const BlockArray& b) {
  if (a.ndim() == 0 || b.ndim() == 0) return scalar_product(a, b);
  return tensordot_checked(a, b, {a.ndim() - 1}, {b.ndim() - 1}, "inner");
}

BlockArray outer(const BlockArray& a, const BlockArray& b) {
  detail::check_same_context(a, b, "outer");
  const BlockArray fa = flat(a), fb = flat(b);
  const BlockArray col =
      detail::reshape_blocks(fa, ArrayGrid({fa.size(), 1}, {fa.block_shape()[0], 1}, fa.dtype()));
  const BlockArray row =
      detail::reshape_blocks(fb, ArrayGrid({1, fb.size()}, {1, fb.block_shape()[0]}, fb.dtype()));
  return scalar_product(col, row);
}

namespace linalg {

BlockArray norm(const BlockArray& x, std::optional<double> ord, Axes axis, bool keepdims) {
  std::vector<int64_t> axes;
  if (axis.axes) {
    for (int64_t d : *axis.axes) axes.push_back(detail::normalize_axis(d, x.ndim(), "norm"));
  } else if (ord && (x.ndim() == 1 || x.ndim() == 2)) {
    axes = x.ndim() == 1 ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 1};
  } else if (ord) {
    throw ValueError("norm: an ord needs a 1-d or 2-d array or an axis; got shape " +
                     shape_str(x.shape()));
  }
  if (axes.size() > 2 || (axes.size() == 2 && axes[0] == axes[1])) {
    throw ValueError("norm: axis " + shape_str(*axis.axes) +
                     ": give one axis (vector norm) or two different axes (matrix norm)");
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (axes.size() == 2 && ord && std::abs(*ord) == 2) {
    return linalg::dense::spectral_norm(x, *ord > 0 ? "2" : "-2", axes[0], axes[1], keepdims);
  }
  if (axes.size() == 2 && ord && std::abs(*ord) != 1 && std::abs(*ord) != kInf) {
    throw ValueError("norm: matrix ord " + std::to_string(*ord) +
                     " is not supported (1, -1, 2, -2, inf, -inf, or none for Frobenius)");
  }
  if (axes.size() == 1 && ord && std::abs(*ord) == kInf &&
      x.shape()[static_cast<size_t>(axes[0])] == 0) {
    throw ValueError("norm: ord " + std::to_string(*ord) + " of an empty vector (shape " +
                     shape_str(x.shape()) + ") has no value");
  }
  // A complex array's norms are those of its moduli (matrix norms here are 1, inf and Frobenius).
  const BlockArray f = is_complex(x.dtype()) ? nums::abs(x)
                       : is_float(x.dtype()) ? x
                                             : x.astype(DType::kFloat64);
  if (axes.empty()) return nums::sqrt((f * f).sum(Axes::all(), keepdims));
  if (axes.size() == 1) return vector_norm_along(f, ord, axes[0], keepdims);
  return matrix_norm_over(f, ord, axes[0], axes[1], keepdims);
}

}  // namespace linalg
}  // namespace nums
