// Elementwise operations: NumPy type promotion, broadcasting of several operands over their
// block grids (re-blocking an operand whose blocks do not line up), one task per output block.

#include <algorithm>
#include <limits>
#include <span>
#include <unordered_map>

#include "nums/creation.hpp"
#include "nums/math.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/devices.h"
#include "src/expression.h"
#include "src/kernels/cpu/loops.h"
#include "src/placement.h"

namespace nums {

using detail::ObjectRef;
using detail::TaskArg;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// The dtype NumPy computes a float function of `t` in: the smallest float that holds every
// value of an integer dtype exactly (bool, int8 and uint8 go to float16, 16-bit integers to
// float32, wider ones to float64); a float dtype is kept.
DType float_for(DType t) {
  if (is_floating(t)) return t;
  return promote_types(t, DType::kFloat16);
}

}  // namespace

DType result_type(DType a, DType b) { return promote_types(a, b); }

namespace {

// The dtype a weak number takes against an array of dtype d (NumPy 2, NEP 50).
DType weak_dtype(DType d, Number n) {
  if (n.is_complex() || is_complex(d)) return DType::kComplex128;  // nums has no complex64
  const bool d_float = is_floating(d);
  if (n.kind == DType::kFloat64) return d_float ? d : DType::kFloat64;
  if (n.kind == DType::kInt64 || n.kind == DType::kUInt64) {
    return d == DType::kBool ? DType::kInt64 : d;
  }
  return d;
}

bool fits(DType t, Number n) {
  if (n.kind == DType::kUInt64) return !is_integer(t) || t == DType::kUInt64;
  if (n.kind != DType::kInt64 || !is_integer(t) || t == DType::kInt64) return true;
  if (t == DType::kUInt64) return n.i >= 0;
  return dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    return n.i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
           n.i <= static_cast<int64_t>(std::numeric_limits<T>::max());
  });
}

BlockArray scalar_array(const BlockArray& like, Number n, DType t) {
  const auto& raw = detail::LazyAccess::raw(like);
  if (is_complex(t)) {  // complex is never fused: a 0-d block of its own
    return detail::put_ndarray(raw->ctx, NDArray::scalar(n.as_complex()), {});
  }
  // A constant of the expression it meets, fused or not: it travels inline with that
  // expression's tasks (no task, no block of its own).
  auto node = std::make_shared<detail::ExprNode>();
  node->kind = detail::ExprKind::kConst;
  node->dtype = t;
  node->code = n.kind == DType::kFloat64 ? convert_value<int64_t>(n.f) : n.i;
  node->value = n.f;
  return detail::make_pending(raw->ctx, ArrayGrid({}, {}, t), std::move(node));
}

// For comparisons: an integer that does not fit the array's integer dtype compares in int64,
// which holds both exactly.
BlockArray comparable(const BlockArray& like, Number n) {
  const DType t = weak_dtype(like.dtype(), n);
  return scalar_array(like, n, fits(t, n) ? t : DType::kInt64);
}

}  // namespace

BlockArray as_array(const BlockArray& like, Number n) {
  const DType t = weak_dtype(like.dtype(), n);
  if (!fits(t, n)) {
    throw ValueError("integer " + n.integer_text() + " out of bounds for " +
                     std::string(dtype_name(t)) + " (the dtype of the array it meets)");
  }
  return scalar_array(like, n, t);
}

// Whether every element of an integer or bool array of dtype d is below n (an integer above
// int64's maximum that d cannot hold): its comparisons with n are then known without the data.
bool below(DType d, Number n) {
  return n.kind == DType::kUInt64 && (is_integer(d) || d == DType::kBool) && d != DType::kUInt64;
}

#define NUMS_SCALAR_COMPARISON(op)                                      \
  BlockArray operator op(const BlockArray& a, Number b) {               \
    if (below(a.dtype(), b)) return full_like(a, 0 op 1, DType::kBool); \
    return a op comparable(a, b);                                       \
  }                                                                     \
  BlockArray operator op(Number a, const BlockArray& b) {               \
    if (below(b.dtype(), a)) return full_like(b, 1 op 0, DType::kBool); \
    return comparable(b, a) op b;                                       \
  }
NUMS_SCALAR_COMPARISON(==)
NUMS_SCALAR_COMPARISON(!=)
NUMS_SCALAR_COMPARISON(<)
NUMS_SCALAR_COMPARISON(<=)
NUMS_SCALAR_COMPARISON(>)
NUMS_SCALAR_COMPARISON(>=)
#undef NUMS_SCALAR_COMPARISON

namespace detail {
namespace {

// Operands broadcast to `shape` and re-blocked so that their blocks line up with the output's.
struct Aligned {
  ArrayGrid grid;                     // of the output
  std::span<const BlockArray> given;  // the caller's operands, when they lined up as they were
  std::vector<BlockArray> reblocked;  // otherwise
  std::span<const BlockArray> operands() const { return reblocked.empty() ? given : reblocked; }
};

Aligned align(std::span<const BlockArray> ops, DType out_dtype, const char* op) {
  // The common case: operands of one layout, or numbers (0-d), line up as they are.
  const BlockArray* widest = &ops[0];
  for (const auto& a : ops) {
    if (a.ndim() > widest->ndim()) widest = &a;
  }
  const Shape& wide = widest->shape();
  const Shape& wide_block = widest->block_shape();
  bool lined_up = true;
  for (size_t d = 0; d < wide.size(); ++d) {
    lined_up = lined_up && (wide[d] > 1 || wide_block[d] == 1);  // as the general rule blocks them
  }
  lined_up = lined_up && std::all_of(ops.begin(), ops.end(), [&](const BlockArray& a) {
               return a.ndim() == 0 || (a.shape() == wide && a.block_shape() == wide_block);
             });
  if (lined_up) return {ArrayGrid(wide, wide_block, out_dtype), ops, {}};
  std::vector<Shape> shapes;
  for (const auto& a : ops) shapes.push_back(a.shape());
  Shape shape;
  if (!kernels::BroadcastShapes(shapes, shape)) {
    std::string msg = std::string(op) + ": operands could not be broadcast together with shapes";
    for (const auto& s : shapes) msg += " " + shape_str(s);
    throw ShapeError(msg);
  }
  if (!detail::checked_product(shape)) {
    std::string msg = std::string(op) + ": broadcasting shapes";
    for (const auto& s : shapes) msg += " " + shape_str(s);
    throw ValueError(msg + " gives shape " + shape_str(shape) +
                     ", which has more elements than int64 can count");
  }
  const size_t nd = shape.size();
  // Each axis takes the block size of the largest operand that is not broadcast along it.
  Shape block(nd, 1);
  for (size_t d = 0; d < nd; ++d) {
    int64_t best_size = -1;
    for (const auto& a : ops) {
      const size_t pad = nd - static_cast<size_t>(a.ndim());
      if (d < pad || a.shape()[d - pad] != shape[d] || shape[d] <= 1) continue;
      if (a.size() > best_size) {
        best_size = a.size();
        block[d] = a.block_shape()[d - pad];
      }
    }
    if (shape[d] == 0) block[d] = 1;
  }
  Aligned out{ArrayGrid(shape, block, out_dtype), {}, {}};
  out.reblocked.reserve(ops.size());
  for (const auto& a : ops) {
    const size_t pad = nd - static_cast<size_t>(a.ndim());
    Shape want = a.block_shape();
    for (size_t d = pad; d < nd; ++d) {
      if (a.shape()[d - pad] == shape[d] && shape[d] > 1) want[d - pad] = block[d];
    }
    out.reblocked.push_back(want == a.block_shape() ? a : a.rechunk(want));
  }
  return out;
}

int64_t block_bytes(const BlockArray& a, const Shape& entry) {
  return shape_size(a.grid().block_shape_at(entry)) * itemsize(a.dtype());
}

// The position in `a`'s blocks of the block that meets output block `e` (operand_entry's).
size_t operand_block(const BlockArray& a, const Shape& e) {
  const size_t nd = static_cast<size_t>(a.ndim());
  const size_t pad = e.size() - nd;
  const Shape& grid = a.grid_shape();
  int64_t flat = 0, stride = 1;
  for (size_t d = nd; d-- > 0;) {
    if (grid[d] != 1) flat += e[d + pad] * stride;
    stride *= grid[d];
  }
  return static_cast<size_t>(flat);
}

// The entry of `a`'s block that meets output block `e`.
Shape operand_entry(const BlockArray& a, const Shape& e) {
  const size_t pad = e.size() - static_cast<size_t>(a.ndim());
  Shape ae(static_cast<size_t>(a.ndim()));
  for (size_t d = 0; d < ae.size(); ++d) ae[d] = a.grid_shape()[d] == 1 ? 0 : e[d + pad];
  return ae;
}

}  // namespace

// One task per output block of the aligned operands, placed by the context's policy. Three
// operands (where) are placed by the two value operands; the condition block is pulled along.
BlockArray map_blocks(const char* kernel, const std::vector<BlockArray>& ops,
                      std::vector<TaskArg> scalars, DType out_dtype, const char* op) {
  for (size_t i = 1; i < ops.size(); ++i) check_same_context(ops[0], ops[i], op);
  check_devices(ops, op);
  Aligned al = align(ops, out_dtype, op);
  auto& ctx = ops[0].impl()->ctx;
  ArrayGrid& grid = al.grid;
  if (one_placement(*ctx)) {  // each block's task runs on the one node: no plan
    std::vector<ObjectRef> blocks;
    blocks.reserve(static_cast<size_t>(grid.num_blocks()));
    engine::SubmitBatch batch(*ctx->runtime);
    for_each_entry(grid.grid_shape(), [&](const Shape& e) {
      std::vector<TaskArg> args;
      args.reserve(al.operands().size() + scalars.size());
      for (const BlockArray& a : al.operands()) {
        args.emplace_back(a.impl()->blocks[operand_block(a, e)]);
      }
      args.insert(args.end(), scalars.begin(), scalars.end());
      blocks.push_back(submit(*ctx, kernel, std::move(args), 0,
                              engine::OutputSpec{out_dtype, grid.block_shape_at(e)}));
    });
    batch.Send();
    return make_array(ctx, std::move(grid), std::move(blocks));
  }
  BlockPlan plan(*ctx);
  std::vector<optimizer::OpId> outputs;
  outputs.reserve(static_cast<size_t>(grid.num_blocks()));
  for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    std::vector<optimizer::OpId> in;
    ObjectRef extra;  // the condition of where
    for (size_t k = 0; k < al.operands().size(); ++k) {
      const BlockArray& a = al.operands()[k];
      const Shape ae = operand_entry(a, e);
      const ObjectRef& ref = a.impl()->blocks[static_cast<size_t>(a.grid().flat(ae))];
      if (al.operands().size() == 3 && k == 0) {
        extra = ref;
        continue;
      }
      in.push_back(plan.Leaf({ref}, block_bytes(a, ae)));
    }
    StepFn fn = [&ctx, kernel, &scalars, extra,
                 out = engine::OutputSpec{out_dtype, grid.block_shape_at(e)}](
                    const std::vector<const Refs*>& inputs, int64_t node) {
      std::vector<TaskArg> args;
      args.reserve(inputs.size() + scalars.size() + 1);
      if (extra) args.emplace_back(extra);
      for (const Refs* r : inputs) args.emplace_back((*r)[0]);
      args.insert(args.end(), scalars.begin(), scalars.end());
      return Refs{submit(*ctx, kernel, std::move(args), node, out)};
    };
    const int64_t bytes = shape_size(grid.block_shape_at(e)) * itemsize(out_dtype);
    const optimizer::OpId id = in.size() == 1 ? plan.Unary(in[0], bytes, fn, op, kernel)
                                              : plan.Binary(in[0], in[1], bytes, fn, op, kernel);
    plan.Output(id);
    outputs.push_back(id);
  });
  plan.Run();
  std::vector<ObjectRef> blocks;
  blocks.reserve(outputs.size());
  for (auto id : outputs) blocks.push_back(plan.result(id)[0]);
  return make_array(ctx, std::move(grid), std::move(blocks));
}

namespace {

// The elementwise op as a pending expression; submits an operand first when the whole would
// pass the size limits.
BlockArray record(ExprKind kind, int64_t code, std::span<const BlockArray> operands,
                  DType out_dtype, const char* op) {
  const auto& ctx = LazyAccess::raw(operands[0])->ctx;
  for (size_t i = 1; i < operands.size(); ++i) check_same_context(operands[0], operands[i], op);
  Aligned al = align(operands, out_dtype, op);
  ArrayGrid& grid = al.grid;
  for (;;) {
    auto node = std::make_shared<ExprNode>();
    node->kind = kind;
    node->dtype = out_dtype;
    node->code = code;
    node->inputs.reserve(al.operands().size());
    for (const auto& a : al.operands()) node->inputs.push_back(expr_of(a));
    const ExprSize size = expr_size(*node);
    if (size.ops <= kMaxExprOps && size.leaves <= kMaxExprLeaves) {
      return make_pending(ctx, std::move(grid), std::move(node));
    }
    // Too large for one task: the largest pending operand is submitted on its own first.
    int64_t largest = -1, largest_ops = 0;
    for (size_t k = 0; k < al.operands().size(); ++k) {
      if (!is_pending(al.operands()[k])) continue;
      const int64_t ops = expr_size(*expr_of(al.operands()[k])).ops;
      if (ops > largest_ops) {
        largest_ops = ops;
        largest = static_cast<int64_t>(k);
      }
    }
    if (largest < 0) return make_pending(ctx, std::move(grid), std::move(node));
    al.operands()[static_cast<size_t>(largest)].impl();
  }
}

}  // namespace

BlockArray elementwise(ExprKind kind, int64_t code, const char* kernel,
                       std::span<const BlockArray> operands, DType out_dtype, const char* op) {
  const auto& ctx = LazyAccess::raw(operands[0])->ctx;
  // The unfused kernels' scalars: where has none, the others their op or dtype code.
  auto unfused = [&] {
    std::vector<TaskArg> scalars;
    if (kind != ExprKind::kWhere) scalars.push_back(int_scalar(code));
    return map_blocks(kernel, {operands.begin(), operands.end()}, std::move(scalars), out_dtype,
                      op);
  };
  // Unfused, a number operand (the only pending array then) is still recorded, and the op is
  // submitted at once: one task per block, the number inline. Complex ops are never fused (the
  // fused kernel moves elements of at most 8 bytes).
  const bool has_complex = is_complex(out_dtype) ||
                           std::any_of(operands.begin(), operands.end(),
                                       [](const BlockArray& a) { return is_complex(a.dtype()); });
  if (has_complex) return unfused();
  const bool fuse = fusion_enabled(*ctx, operands);
  if (!fuse && std::none_of(operands.begin(), operands.end(), is_pending)) return unfused();
  BlockArray out = record(kind, code, operands, out_dtype, op);
  if (!fuse) out.impl();
  return out;
}

// float16 has no kernels: its ops compute in float32 and round back, as NumPy's float16 loops do.
BlockArray binary(BinaryOp op, const BlockArray& a, const BlockArray& b) {
  if (a.dtype() == DType::kFloat16) {
    const BlockArray r = binary(op, a.astype(DType::kFloat32), b.astype(DType::kFloat32));
    return kernels::HasBoolResult(op) ? r : r.astype(DType::kFloat16);
  }
  if (is_complex(a.dtype()) && !kernels::HasComplexLoop(op)) {
    throw DTypeError(std::string(kernels::OpName(op)) +
                     " of complex128 arrays: NumPy has no complex loop for it");
  }
  const DType out = kernels::HasBoolResult(op) ? DType::kBool : a.dtype();
  const BlockArray operands[] = {a, b};
  return elementwise(ExprKind::kBinary, static_cast<int64_t>(op), "array.binary", operands, out,
                     kernels::OpName(op));
}

BlockArray unary(UnaryOp op, const BlockArray& x) {
  BlockArray in = x;
  if (kernels::NeedsFloat(op) && !is_floating(x.dtype())) in = x.astype(float_for(x.dtype()));
  if (x.dtype() == DType::kBool) {
    if (kernels::RejectsBool(op)) {
      throw DTypeError(std::string(op == UnaryOp::kNeg ? "negative" : "sign") +
                       " of a bool array: NumPy has no bool loop (use logical_not, or astype)");
    }
    if (kernels::BoolAsInt(op)) in = x.astype(DType::kInt8);
  }
  if (in.dtype() == DType::kFloat16) {
    const BlockArray r = unary(op, in.astype(DType::kFloat32));
    return kernels::HasBoolResult(op) ? r : r.astype(DType::kFloat16);
  }
  if (is_complex(in.dtype()) && !kernels::HasComplexLoop(op)) {
    throw DTypeError(std::string(kernels::OpName(op)) +
                     " of a complex128 array: NumPy has no complex loop for it");
  }
  const DType out = kernels::HasBoolResult(op)                        ? DType::kBool
                    : (op == UnaryOp::kAbs && is_complex(in.dtype())) ? DType::kFloat64
                                                                      : in.dtype();
  return elementwise(ExprKind::kUnary, static_cast<int64_t>(op), "array.unary", {&in, 1}, out,
                     kernels::OpName(op));
}

}  // namespace detail

namespace {

bool is_float(DType t) { return is_floating(t); }

// Promotes, casts and applies a binary op with NumPy's dtype rules.
BlockArray apply(BinaryOp op, const BlockArray& a, const BlockArray& b) {
  DType t = result_type(a.dtype(), b.dtype());
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kMod:
    case BinaryOp::kFloorDiv:
    case BinaryOp::kPow:
    case BinaryOp::kFmod:
      // Of two bools, as NumPy: + is a logical or, * a logical and, - has no meaning, and the
      // others compute in int8.
      if (t == DType::kBool) {
        if (op == BinaryOp::kSub) {
          throw DTypeError(
              "subtract of two bool arrays: NumPy has no bool loop (use logical_xor, or astype)");
        }
        if (op == BinaryOp::kAdd || op == BinaryOp::kMul) {
          op = op == BinaryOp::kAdd ? BinaryOp::kLogicalOr : BinaryOp::kLogicalAnd;
        } else {
          t = DType::kInt8;
        }
      }
      break;
    case BinaryOp::kBitAnd:
    case BinaryOp::kBitOr:
    case BinaryOp::kBitXor:
    case BinaryOp::kLeftShift:
    case BinaryOp::kRightShift:
      if (is_float(t) || is_complex(t)) {
        throw DTypeError(std::string(kernels::IsShift(op) ? "shift" : "bitwise operation") +
                         " on dtypes " + std::string(dtype_name(a.dtype())) + " and " +
                         std::string(dtype_name(b.dtype())) + ": only integer and bool arrays");
      }
      if (kernels::IsShift(op) && t == DType::kBool) t = DType::kInt8;
      break;
    case BinaryOp::kDiv:
      // NumPy's true_divide of integers is float64.
      if (!is_float(t) && !is_complex(t)) t = DType::kFloat64;
      break;
    default:
      if (kernels::NeedsFloat(op) && !is_float(t)) t = float_for(t);
      break;
  }
  return detail::binary(op, a.astype(t), b.astype(t));
}

}  // namespace

BlockArray operator+(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kAdd, a, b);
}
BlockArray operator-(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kSub, a, b);
}
BlockArray operator*(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kMul, a, b);
}
BlockArray operator/(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kDiv, a, b);
}
BlockArray operator%(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kMod, a, b);
}
BlockArray operator==(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kEq, a, b);
}
BlockArray operator!=(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kNe, a, b);
}
BlockArray operator<(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kLt, a, b);
}
BlockArray operator<=(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kLe, a, b);
}
BlockArray operator>(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kGt, a, b);
}
BlockArray operator>=(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kGe, a, b);
}
BlockArray operator&(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kBitAnd, a, b);
}
BlockArray operator|(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kBitOr, a, b);
}
BlockArray operator^(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kBitXor, a, b);
}
BlockArray operator&&(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kLogicalAnd, a, b);
}
BlockArray operator||(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kLogicalOr, a, b);
}
BlockArray logical_and(const BlockArray& a, const BlockArray& b) { return a && b; }
BlockArray logical_or(const BlockArray& a, const BlockArray& b) { return a || b; }
BlockArray logical_xor(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kLogicalXor, a, b);
}
BlockArray floor_divide(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kFloorDiv, a, b);
}
BlockArray floor_divide(const BlockArray& a, Number b) { return floor_divide(a, as_array(a, b)); }
BlockArray floor_divide(Number a, const BlockArray& b) { return floor_divide(as_array(b, a), b); }
BlockArray remainder(const BlockArray& a, const BlockArray& b) { return a % b; }
BlockArray power(const BlockArray& x, const BlockArray& y) { return apply(BinaryOp::kPow, x, y); }
BlockArray power(const BlockArray& x, Number y) { return power(x, as_array(x, y)); }
BlockArray maximum(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kMaximum, a, b);
}
BlockArray minimum(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kMinimum, a, b);
}
BlockArray maximum(const BlockArray& a, Number b) { return maximum(a, as_array(a, b)); }
BlockArray minimum(const BlockArray& a, Number b) { return minimum(a, as_array(a, b)); }
BlockArray power(Number x, const BlockArray& y) { return power(as_array(y, x), y); }
BlockArray maximum(Number a, const BlockArray& b) { return maximum(as_array(b, a), b); }
BlockArray minimum(Number a, const BlockArray& b) { return minimum(as_array(b, a), b); }
BlockArray remainder(const BlockArray& a, Number b) { return a % b; }
BlockArray remainder(Number a, const BlockArray& b) { return a % b; }
BlockArray clip(const BlockArray& x, Number lo, Number hi) { return minimum(maximum(x, lo), hi); }

BlockArray operator-(const BlockArray& a) {
  if (a.dtype() == DType::kBool) {
    throw DTypeError("unary minus on a bool array: use ! or logical_not");
  }
  return detail::unary(UnaryOp::kNeg, a);
}
BlockArray operator<<(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kLeftShift, a, b);
}
BlockArray operator>>(const BlockArray& a, const BlockArray& b) {
  return apply(BinaryOp::kRightShift, a, b);
}
BlockArray operator~(const BlockArray& a) {
  if (is_float(a.dtype()) || is_complex(a.dtype())) {
    throw DTypeError(std::string("~ on a ") + std::string(dtype_name(a.dtype())) +
                     " array: only integer and bool arrays");
  }
  return detail::unary(UnaryOp::kBitNot, a);
}
BlockArray operator!(const BlockArray& a) { return detail::unary(UnaryOp::kLogicalNot, a); }
BlockArray logical_not(const BlockArray& x) { return !x; }
BlockArray negative(const BlockArray& x) { return -x; }
BlockArray exp(const BlockArray& x) { return detail::unary(UnaryOp::kExp, x); }
BlockArray log(const BlockArray& x) { return detail::unary(UnaryOp::kLog, x); }
BlockArray log1p(const BlockArray& x) { return detail::unary(UnaryOp::kLog1p, x); }
BlockArray sqrt(const BlockArray& x) { return detail::unary(UnaryOp::kSqrt, x); }
BlockArray sin(const BlockArray& x) { return detail::unary(UnaryOp::kSin, x); }
BlockArray cos(const BlockArray& x) { return detail::unary(UnaryOp::kCos, x); }
BlockArray tanh(const BlockArray& x) { return detail::unary(UnaryOp::kTanh, x); }
BlockArray sigmoid(const BlockArray& x) { return detail::unary(UnaryOp::kSigmoid, x); }
BlockArray abs(const BlockArray& x) { return detail::unary(UnaryOp::kAbs, x); }
BlockArray sign(const BlockArray& x) { return detail::unary(UnaryOp::kSign, x); }
BlockArray isnan(const BlockArray& x) { return detail::unary(UnaryOp::kIsNan, x); }
BlockArray isfinite(const BlockArray& x) { return detail::unary(UnaryOp::kIsFinite, x); }

// Unary functions whose dtype rules live in the op table (kernels::NeedsFloat, BoolAsInt, ...).
#define NUMS_UNARY_FUNCTION(name, op) \
  BlockArray name(const BlockArray& x) { return detail::unary(UnaryOp::op, x); }
NUMS_UNARY_FUNCTION(floor, kFloor)
NUMS_UNARY_FUNCTION(ceil, kCeil)
NUMS_UNARY_FUNCTION(trunc, kTrunc)
NUMS_UNARY_FUNCTION(rint, kRint)
NUMS_UNARY_FUNCTION(isinf, kIsInf)
NUMS_UNARY_FUNCTION(signbit, kSignbit)
NUMS_UNARY_FUNCTION(square, kSquare)
NUMS_UNARY_FUNCTION(reciprocal, kReciprocal)
NUMS_UNARY_FUNCTION(expm1, kExpm1)
NUMS_UNARY_FUNCTION(log2, kLog2)
NUMS_UNARY_FUNCTION(log10, kLog10)
NUMS_UNARY_FUNCTION(exp2, kExp2)
NUMS_UNARY_FUNCTION(tan, kTan)
NUMS_UNARY_FUNCTION(arcsin, kArcsin)
NUMS_UNARY_FUNCTION(arccos, kArccos)
NUMS_UNARY_FUNCTION(arctan, kArctan)
NUMS_UNARY_FUNCTION(sinh, kSinh)
NUMS_UNARY_FUNCTION(cosh, kCosh)
NUMS_UNARY_FUNCTION(arcsinh, kArcsinh)
NUMS_UNARY_FUNCTION(arccosh, kArccosh)
NUMS_UNARY_FUNCTION(arctanh, kArctanh)
#undef NUMS_UNARY_FUNCTION

// Binary functions: arrays broadcast and promote as operators do; a number is weak.
#define NUMS_BINARY_FUNCTION(name, op)                                                  \
  BlockArray name(const BlockArray& a, const BlockArray& b) { return apply(op, a, b); } \
  BlockArray name(const BlockArray& a, Number b) { return name(a, as_array(a, b)); }    \
  BlockArray name(Number a, const BlockArray& b) { return name(as_array(b, a), b); }
NUMS_BINARY_FUNCTION(fmod, BinaryOp::kFmod)
NUMS_BINARY_FUNCTION(arctan2, BinaryOp::kArctan2)
NUMS_BINARY_FUNCTION(hypot, BinaryOp::kHypot)
NUMS_BINARY_FUNCTION(copysign, BinaryOp::kCopysign)
NUMS_BINARY_FUNCTION(logaddexp, BinaryOp::kLogaddexp)
NUMS_BINARY_FUNCTION(left_shift, BinaryOp::kLeftShift)
NUMS_BINARY_FUNCTION(right_shift, BinaryOp::kRightShift)
NUMS_BINARY_FUNCTION(bitwise_and, BinaryOp::kBitAnd)
NUMS_BINARY_FUNCTION(bitwise_or, BinaryOp::kBitOr)
NUMS_BINARY_FUNCTION(bitwise_xor, BinaryOp::kBitXor)
NUMS_BINARY_FUNCTION(fmin, BinaryOp::kFmin)
NUMS_BINARY_FUNCTION(fmax, BinaryOp::kFmax)
#undef NUMS_BINARY_FUNCTION

BlockArray bitwise_invert(const BlockArray& x) { return ~x; }

namespace detail {

void reject_complex(const BlockArray& x, const char* op) {
  if (is_complex(x.dtype())) {
    throw DTypeError(std::string(op) +
                     " of a complex128 array: not supported (nums computes "
                     "complex arrays elementwise, in sums and products only)");
  }
}

BlockArray complex_part(const BlockArray& x, int64_t part) {
  const DType out = part == 2 ? DType::kComplex128 : DType::kFloat64;
  return map_blocks("array.complex_part", {x}, {int_scalar(part)}, out,
                    part == 0   ? "real"
                    : part == 1 ? "imag"
                                : "conj");
}

BlockArray make_complex(const BlockArray& re, const BlockArray& im) {
  return map_blocks("array.complex_make", {re.astype(DType::kFloat64), im.astype(DType::kFloat64)},
                    {}, DType::kComplex128, "complex");
}

}  // namespace detail

BlockArray real(const BlockArray& x) {
  return is_complex(x.dtype()) ? detail::complex_part(x, 0) : x;
}
BlockArray imag(const BlockArray& x) {
  return is_complex(x.dtype()) ? detail::complex_part(x, 1) : zeros_like(x);
}
BlockArray conj(const BlockArray& x) {
  return is_complex(x.dtype()) ? detail::complex_part(x, 2) : x;
}
BlockArray angle(const BlockArray& x, bool deg) {
  // NumPy: arctan2(imag, real) in the float of x (float64 for integers and complex128).
  const BlockArray re = is_complex(x.dtype()) ? real(x) : x.astype(DType::kFloat64);
  const BlockArray a = arctan2(is_complex(x.dtype()) ? imag(x) : zeros_like(re), re);
  return deg ? a * (180.0 / 3.14159265358979323846) : a;
}

BlockArray isclose(const BlockArray& a, const BlockArray& b, double rtol, double atol,
                   bool equal_nan) {
  DType t = result_type(a.dtype(), b.dtype());
  if (is_complex(t)) {  // NumPy's formula with complex moduli
    const BlockArray ac = a.astype(t), bc = b.astype(t);
    BlockArray close = (abs(ac - bc) <= atol + rtol * abs(bc)) && isfinite(bc);
    close = close || ac == bc;
    return equal_nan ? close || (isnan(ac) && isnan(bc)) : close;
  }
  if (!is_float(t)) t = DType::kFloat64;
  if (t == DType::kFloat16) t = DType::kFloat32;  // no float16 kernel
  return detail::map_blocks("array.isclose", {a.astype(t), b.astype(t)},
                            {detail::Scalar{rtol}, detail::Scalar{atol}, detail::Scalar{equal_nan}},
                            DType::kBool, "isclose");
}
namespace {
// NumPy turns a Python int or bool operand of isclose into a float (so no integer range applies).
Number as_float_number(Number n) { return n.kind == DType::kFloat64 ? n : Number(n.f); }
}  // namespace
BlockArray isclose(const BlockArray& a, Number b, double rtol, double atol, bool equal_nan) {
  return isclose(a, as_array(a, as_float_number(b)), rtol, atol, equal_nan);
}
BlockArray isclose(Number a, const BlockArray& b, double rtol, double atol, bool equal_nan) {
  return isclose(as_array(b, as_float_number(a)), b, rtol, atol, equal_nan);
}

bool allclose(const BlockArray& a, const BlockArray& b, double rtol, double atol, bool equal_nan) {
  return isclose(a, b, rtol, atol, equal_nan).all().item<bool>();
}

bool array_equal(const BlockArray& a, const BlockArray& b, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  BlockArray eq = a == b;
  if (equal_nan) eq = eq || (isnan(a) && isnan(b));
  return eq.all().item<bool>();
}

BlockArray round(const BlockArray& x, int64_t decimals) {
  const DType t = x.dtype();
  if (is_integer(t) && decimals >= 0) return x;
  // Bool rounds in float16, as NumPy; float16 computes in float32 and rounds back.
  if (t == DType::kBool) return round(x.astype(DType::kFloat16), decimals);
  if (is_complex(t)) {  // each part, as NumPy
    return detail::make_complex(round(real(x), decimals), round(imag(x), decimals));
  }
  if (t == DType::kFloat16) return round(x.astype(DType::kFloat32), decimals).astype(t);
  return detail::map_blocks("array.round", {x}, {detail::int_scalar(decimals)}, t, "round");
}

BlockArray nan_to_num(const BlockArray& x, double nan, std::optional<double> posinf,
                      std::optional<double> neginf) {
  const DType t = x.dtype();
  if (is_complex(t)) {  // each part, as NumPy
    return detail::make_complex(nan_to_num(real(x), nan, posinf, neginf),
                                nan_to_num(imag(x), nan, posinf, neginf));
  }
  if (!is_float(t)) return x;
  if (t == DType::kFloat16) {
    constexpr double kMax16 = 65504.0;
    return nan_to_num(x.astype(DType::kFloat32), nan, posinf.value_or(kMax16),
                      neginf.value_or(-kMax16))
        .astype(t);
  }
  const double big =
      t == DType::kFloat32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  return detail::map_blocks("array.nan_to_num", {x},
                            {detail::Scalar{nan}, detail::Scalar{posinf.value_or(big)},
                             detail::Scalar{neginf.value_or(-big)}},
                            t, "nan_to_num");
}

BlockArray where(const BlockArray& cond, const BlockArray& x, const BlockArray& y) {
  const DType t = result_type(x.dtype(), y.dtype());
  const BlockArray operands[] = {cond, x.astype(t), y.astype(t)};
  return detail::elementwise(detail::ExprKind::kWhere, 0, "array.where", operands, t, "where");
}
BlockArray where(const BlockArray& cond, Number x, const BlockArray& y) {
  return where(cond, as_array(y, x), y);
}
BlockArray where(const BlockArray& cond, const BlockArray& x, Number y) {
  return where(cond, x, as_array(x, y));
}
BlockArray where(const BlockArray& cond, Number x, Number y) {
  const BlockArray xa = as_array(cond, x);
  return where(cond, xa, as_array(xa, y));
}

}  // namespace nums
