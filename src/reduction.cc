// Reductions: each block is reduced where it lives, then partial results meet in a pairwise tree
// along the reduced grid axes (one tree per output block).

#include <algorithm>

#include "nums/creation.hpp"
#include "nums/math.hpp"
#include "src/array_impl.h"
#include "src/expression.h"
#include "src/placement.h"

namespace nums {

using detail::ObjectRef;
using detail::TaskArg;
using kernels::BinaryOp;
using kernels::ReduceOp;

namespace {

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kProd:
      return "prod";
    case ReduceOp::kMin:
      return "min";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kAll:
      return "all";
    case ReduceOp::kAny:
      return "any";
    case ReduceOp::kNanSum:
      return "nansum";
    case ReduceOp::kNanMin:
      return "nanmin";
    case ReduceOp::kNanMax:
      return "nanmax";
  }
  return "reduce";
}

DType reduce_dtype(ReduceOp op, DType in) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kProd:
    case ReduceOp::kNanSum:
      // NumPy: integers and bools sum in int64, unsigned integers in uint64.
      if (is_floating(in) || is_complex(in)) return in;
      return is_unsigned(in) ? DType::kUInt64 : DType::kInt64;
    case ReduceOp::kAll:
    case ReduceOp::kAny:
      return DType::kBool;
    default:
      return in;
  }
}

// Shape after reducing `axes` (sorted), with 1s kept when `keepdims`.
Shape reduced(const Shape& s, const std::vector<int64_t>& axes, bool keepdims, int64_t fill = 1) {
  Shape out;
  for (size_t d = 0; d < s.size(); ++d) {
    const bool r = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!r) {
      out.push_back(s[d]);
    } else if (keepdims) {
      out.push_back(fill);
    }
  }
  return out;
}

// Groups the blocks of `x` by their entry on the kept axes: one group per output block, in the
// output's row-major order, each group in the input's row-major order.
std::vector<std::vector<size_t>> group_blocks(const ArrayGrid& g, const std::vector<int64_t>& axes,
                                              const ArrayGrid& out) {
  std::vector<std::vector<size_t>> groups(static_cast<size_t>(out.num_blocks()));
  int64_t k = 0;
  detail::for_each_entry(g.grid_shape(), [&](const Shape& e) {
    const Shape oe = reduced(e, axes, out.ndim() == g.ndim(), 0);
    groups[static_cast<size_t>(out.flat(oe))].push_back(static_cast<size_t>(k++));
  });
  return groups;
}

bool has_identity(ReduceOp op) {
  return op != ReduceOp::kMin && op != ReduceOp::kMax && op != ReduceOp::kNanMin &&
         op != ReduceOp::kNanMax;
}

// Whether one of the reduced `axes` has length 0.
bool reduces_empty_axis(const BlockArray& x, const std::vector<int64_t>& axes) {
  if (x.ndim() == 0) return false;
  for (int64_t a : axes) {
    if (x.shape()[static_cast<size_t>(a)] == 0) return true;
  }
  return false;
}

BlockArray reduce(const BlockArray& x, ReduceOp op, const Axes& axes_in, bool keepdims) {
  const char* name = op_name(op);
  if (x.dtype() == DType::kFloat16) {
    // No float16 kernels: NumPy too accumulates float16 in float32 and rounds the result.
    const BlockArray r = reduce(x.astype(DType::kFloat32), op, axes_in, keepdims);
    return r.dtype() == DType::kBool ? r : r.astype(DType::kFloat16);
  }
  if (is_complex(x.dtype())) {
    // array.reduce's complex loop sums, multiplies and takes NumPy's lexicographic min and
    // max; all and any are of x != 0.
    if (op == ReduceOp::kAll || op == ReduceOp::kAny) return reduce(x != 0, op, axes_in, keepdims);
    if (op != ReduceOp::kSum && op != ReduceOp::kProd && op != ReduceOp::kMin &&
        op != ReduceOp::kMax) {
      throw DTypeError(std::string(name) +
                       " of a complex128 array: not supported (use real, "
                       "imag or abs)");
    }
  }
  const auto axes = detail::normalize_axes(axes_in, x.ndim(), name);
  const DType out_dtype = reduce_dtype(op, x.dtype());
  const Shape out_shape = reduced(x.shape(), axes, keepdims);
  if (x.size() == 0) {
    // Without an identity only an empty reduced axis is an error: min over the non-empty axis of
    // a (0, 5) array is empty, as in NumPy.
    if (!has_identity(op) && reduces_empty_axis(x, axes)) {
      throw ValueError(std::string("zero-size array to reduction operation ") + name +
                       " which has no identity (shape " + shape_str(x.shape()) + ")");
    }
    const Number identity = (op == ReduceOp::kProd || op == ReduceOp::kAll) ? Number(1) : Number(0);
    return full(out_shape, identity, out_dtype);
  }
  // A pending elementwise expression is reduced in the same pass that computes it: each block's
  // partial is one "array.fused_reduce" task over the expression's leaf blocks.
  std::optional<detail::FusedProgram> program;
  if (detail::is_pending(x)) {
    program.emplace(*detail::expr_of(x));
    if (program->leaves().empty()) program.reset();  // numbers only: computed on its own first
  }
  auto& ctx = detail::LazyAccess::raw(x)->ctx;
  const ArrayGrid& g = x.grid();
  const ArrayGrid og(out_shape, reduced(g.block_shape(), axes, keepdims), out_dtype);
  const auto groups = group_blocks(g, axes, og);
  const std::vector<TaskArg> reduce_args = {detail::int_scalar(static_cast<int64_t>(op)),
                                            detail::Scalar{axes}, detail::Scalar{keepdims}};
  // Each block reduces where the optimizer puts it (normally where it lives); the partials of an
  // output block meet in a pairwise tree the optimizer shapes by the loads.
  detail::BlockPlan plan(*ctx);
  std::vector<optimizer::OpId> outputs;
  for (size_t o = 0; o < groups.size(); ++o) {
    const engine::OutputSpec out{out_dtype, og.block_shape_at(og.entry(static_cast<int64_t>(o)))};
    const int64_t out_bytes = out.nbytes();
    std::vector<optimizer::OpId> partials;
    for (size_t k : groups[o]) {
      const Shape in_shape = g.block_shape_at(g.entry(static_cast<int64_t>(k)));
      const engine::OutputSpec part{out_dtype, reduced(in_shape, axes, keepdims)};
      if (program) {
        detail::FusedProgram::BlockInputs in = program->inputs(g.entry(static_cast<int64_t>(k)));
        std::vector<TaskArg> scalars = program->scalars(std::move(in.slots));
        scalars.insert(scalars.end(), reduce_args.begin(), reduce_args.end());
        partials.push_back(detail::plan_fused(plan, *ctx, in, "array.fused_reduce",
                                              std::move(scalars), part, out_bytes, name));
        continue;
      }
      const ObjectRef& b = x.impl()->blocks[k];
      const detail::StepFn partial = [&, part](const auto& in, int64_t node) {
        std::vector<TaskArg> args{(*in[0])[0]};
        args.insert(args.end(), reduce_args.begin(), reduce_args.end());
        return detail::Refs{detail::submit(*ctx, "array.reduce", std::move(args), node, part)};
      };
      const int64_t in_bytes = shape_size(in_shape) * itemsize(x.dtype());
      partials.push_back(
          plan.Unary(plan.Leaf({b}, in_bytes), out_bytes, partial, name, "array.reduce"));
    }
    outputs.push_back(plan.Reduce(std::move(partials), out_bytes,
                                  detail::BinaryStep(*ctx, kernels::CombineOp(op), out), name,
                                  "array.binary"));
    plan.Output(outputs.back());
  }
  plan.Run();
  std::vector<ObjectRef> blocks;
  for (auto id : outputs) blocks.push_back(plan.result(id)[0]);
  return detail::make_array(ctx, og, std::move(blocks));
}

BlockArray arg_reduce(const BlockArray& x, bool is_max, std::optional<int64_t> axis_in,
                      bool keepdims) {
  const char* name = is_max ? "argmax" : "argmin";
  if (is_complex(x.dtype())) {
    throw DTypeError(std::string(name) + " of a complex128 array: not supported (use abs)");
  }
  if (x.dtype() == DType::kFloat16)
    return arg_reduce(x.astype(DType::kFloat32), is_max, axis_in, keepdims);
  const int64_t axis = axis_in ? detail::normalize_axis(*axis_in, x.ndim(), name) : -1;
  std::vector<int64_t> axes;
  if (axis >= 0) {
    axes = {axis};
  } else {
    for (int64_t d = 0; d < x.ndim(); ++d) axes.push_back(d);
  }
  if (x.size() == 0) {
    if (axis < 0 || x.shape()[static_cast<size_t>(axis)] == 0) {
      throw ValueError(std::string(name) + ": attempt to get " + name + " of an empty sequence " +
                       "(shape " + shape_str(x.shape()) + ")");
    }
    // Along a non-empty axis of an empty array: an empty result (NumPy).
    return zeros(reduced(x.shape(), axes, keepdims), DType::kInt64);
  }
  auto& ctx = x.impl()->ctx;
  const ArrayGrid& g = x.grid();
  const ArrayGrid og(reduced(x.shape(), axes, false), reduced(g.block_shape(), axes, false),
                     DType::kInt64);
  const auto groups = group_blocks(g, axes, og);
  const TaskArg max_flag = detail::Scalar{is_max};
  detail::BlockPlan plan(*ctx);
  std::vector<optimizer::OpId> outputs;
  for (size_t o = 0; o < groups.size(); ++o) {
    // A partial is a value block and an int64 index block of the output block's shape.
    const Shape out_shape = og.block_shape_at(og.entry(static_cast<int64_t>(o)));
    const std::vector<engine::OutputSpec> outs = {{x.dtype(), out_shape},
                                                  {DType::kInt64, out_shape}};
    const int64_t out_bytes = shape_size(out_shape) * (itemsize(x.dtype()) + 8);
    const detail::StepFn combine = [&, outs](const auto& in, int64_t node) {
      return detail::submit_n(*ctx, "array.argcombine",
                              {(*in[0])[0], (*in[0])[1], (*in[1])[0], (*in[1])[1], max_flag}, node,
                              2, outs);
    };
    std::vector<optimizer::OpId> partials;
    for (size_t k : groups[o]) {
      const ObjectRef& b = x.impl()->blocks[k];
      const Shape entry = g.entry(static_cast<int64_t>(k));
      const detail::StepFn partial = [&, entry, outs](const auto& in, int64_t node) {
        return detail::submit_n(
            *ctx, "array.argreduce",
            {(*in[0])[0], max_flag, detail::int_scalar(axis),
             detail::shape_scalar(g.block_offset(entry)), detail::shape_scalar(x.shape())},
            node, 2, outs);
      };
      const int64_t in_bytes = shape_size(g.block_shape_at(entry)) * itemsize(x.dtype());
      partials.push_back(
          plan.Unary(plan.Leaf({b}, in_bytes), out_bytes, partial, name, "array.argreduce"));
    }
    outputs.push_back(plan.Reduce(std::move(partials), out_bytes, combine, name));
    plan.Output(outputs.back());
  }
  plan.Run();
  std::vector<ObjectRef> blocks;
  for (auto id : outputs) blocks.push_back(plan.result(id)[1]);
  BlockArray out = detail::make_array(ctx, og, std::move(blocks));
  if (!keepdims) return out;
  const Shape kept = axis >= 0 ? reduced(x.shape(), axes, true) : Shape(x.shape().size(), 1);
  const Shape kept_block = axis >= 0 ? reduced(g.block_shape(), axes, true) : kept;
  return detail::reshape_blocks(out, ArrayGrid(kept, kept_block, DType::kInt64));
}

int64_t reduced_count(const BlockArray& x, const Axes& axes) {
  int64_t n = 1;
  for (int64_t a : detail::normalize_axes(axes, x.ndim(), "mean"))
    n *= x.shape()[static_cast<size_t>(a)];
  return n;
}

BlockArray as_float(const BlockArray& x) {
  return is_floating(x.dtype()) || is_complex(x.dtype()) ? x : x.astype(float64);
}

}  // namespace

BlockArray BlockArray::sum(Axes axes, bool keepdims) const {
  return reduce(*this, ReduceOp::kSum, axes, keepdims);
}
BlockArray BlockArray::prod(Axes axes, bool keepdims) const {
  return reduce(*this, ReduceOp::kProd, axes, keepdims);
}
BlockArray BlockArray::min(Axes axes, bool keepdims) const {
  return reduce(*this, ReduceOp::kMin, axes, keepdims);
}
BlockArray BlockArray::max(Axes axes, bool keepdims) const {
  return reduce(*this, ReduceOp::kMax, axes, keepdims);
}
BlockArray BlockArray::all(Axes axes, bool keepdims) const {
  return reduce(*this, ReduceOp::kAll, axes, keepdims);
}
BlockArray BlockArray::any(Axes axes, bool keepdims) const {
  return reduce(*this, ReduceOp::kAny, axes, keepdims);
}

BlockArray BlockArray::argmin(std::optional<int64_t> axis, bool keepdims) const {
  return arg_reduce(*this, false, axis, keepdims);
}
BlockArray BlockArray::argmax(std::optional<int64_t> axis, bool keepdims) const {
  return arg_reduce(*this, true, axis, keepdims);
}

BlockArray BlockArray::mean(Axes axes, bool keepdims) const {
  // float16 in float32 intermediates, as NumPy's mean does.
  if (dtype() == DType::kFloat16) return astype(float32).mean(axes, keepdims).astype(float16);
  const int64_t n = reduced_count(*this, axes);
  return as_float(*this).sum(axes, keepdims) / Number(n);
}

BlockArray BlockArray::var(Axes axes, int64_t ddof, bool keepdims) const {
  if (dtype() == DType::kFloat16) {
    return astype(float32).var(axes, ddof, keepdims).astype(float16);
  }
  const BlockArray x = as_float(*this);
  const int64_t n = reduced_count(x, axes);
  const BlockArray d = x - x.mean(axes, true);
  // |d|^2: a complex array's variance is real, as in NumPy.
  const BlockArray d2 = is_complex(d.dtype()) ? square(real(d)) + square(imag(d)) : d * d;
  // NumPy divides by max(n - ddof, 0): inf or NaN when ddof >= n, never a negative variance.
  return d2.sum(axes, keepdims) / Number(static_cast<double>(std::max<int64_t>(n - ddof, 0)));
}

BlockArray BlockArray::std(Axes axes, int64_t ddof, bool keepdims) const {
  return nums::sqrt(var(axes, ddof, keepdims));
}

BlockArray nansum(const BlockArray& x, Axes axes, bool keepdims) {
  return reduce(x, ReduceOp::kNanSum, axes, keepdims);
}
BlockArray nanmin(const BlockArray& x, Axes axes, bool keepdims) {
  return reduce(x, ReduceOp::kNanMin, axes, keepdims);
}
BlockArray nanmax(const BlockArray& x, Axes axes, bool keepdims) {
  return reduce(x, ReduceOp::kNanMax, axes, keepdims);
}

BlockArray nanmean(const BlockArray& x, Axes axes, bool keepdims) {
  if (!is_floating(x.dtype())) return x.mean(axes, keepdims);  // nothing to skip
  if (x.dtype() == DType::kFloat16) {
    return nanmean(x.astype(float32), axes, keepdims).astype(float16);
  }
  // The count of numbers in the dtype of x, so that float32 stays float32; 0 / 0 is NaN for a
  // slice of only NaN, as in NumPy.
  const BlockArray count = logical_not(isnan(x)).sum(axes, keepdims).astype(x.dtype());
  return nansum(x, axes, keepdims) / count;
}

BlockArray nanvar(const BlockArray& x, Axes axes, int64_t ddof, bool keepdims) {
  if (!is_floating(x.dtype())) return x.var(axes, ddof, keepdims);
  if (x.dtype() == DType::kFloat16) {
    return nanvar(x.astype(float32), axes, ddof, keepdims).astype(float16);
  }
  // NaN deviations are skipped by nansum; the divisor is max(count - ddof, 0), as in var.
  const BlockArray d = x - nanmean(x, axes, true);
  const BlockArray count = logical_not(isnan(x)).sum(axes, keepdims);
  return nansum(d * d, axes, keepdims) / maximum(count - ddof, 0).astype(x.dtype());
}

BlockArray nanstd(const BlockArray& x, Axes axes, int64_t ddof, bool keepdims) {
  return sqrt(nanvar(x, axes, ddof, keepdims));
}

BlockArray ptp(const BlockArray& x, Axes axes, bool keepdims) {
  if (x.dtype() == DType::kBool) {
    throw DTypeError("ptp of a bool array: NumPy has no bool subtract (use astype)");
  }
  return x.max(axes, keepdims) - x.min(axes, keepdims);
}

}  // namespace nums
