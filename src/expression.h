#pragma once
// Fused elementwise expressions. Elementwise operations (binary and unary ops, astype, where,
// numbers) do not submit tasks at once: they record a small DAG on the result's BlockArray::Impl.
// The DAG is submitted at the first use that needs blocks (BlockArray::impl(), the one accessor
// every other piece of code uses), as ONE task per output block ("array.fused") that evaluates
// the whole expression over cache-sized tiles of the block; a reduction of a pending array
// reduces each input block in the same pass ("array.fused_reduce").
//
// The program a task carries (scalars, so that it runs on any node): a vector of int64 of
// kProgramHeader + kNodeInts * nodes entries, the nodes in topological order, the last one the
// result; a vector of double (the constants' values); and the slots (for each leaf, the index of
// its block among the task's block arguments). A node is [kind, dtype, code, in0, in1, in2]:
//   kLeaf:   code = leaf number (slots maps it to a block argument), in0 = 1 when the block is
//            read with its last two axes swapped (a transpose read in place), else 0
//   kConst:  code = the value as int64, in0 = index into the doubles
//   kUnary:  code = UnaryOp, in0           kBinary: code = BinaryOp, in0, in1
//   kAstype: dtype = the target, in0       kWhere:  in0 = condition (by truth), in1, in2
// Each op computes in its node's dtype with the op functors of src/kernels/ops.h, in the order and
// with the promotions of the unfused operations, so results are bit-identical to them.

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "src/array_impl.h"
#include "src/placement.h"

namespace nums::detail {

enum class ExprKind : int64_t { kLeaf, kConst, kUnary, kBinary, kAstype, kWhere };

inline constexpr int64_t kProgramVersion = 1;
inline constexpr int64_t kProgramHeader = 2;  ///< [version, number of nodes]
inline constexpr int64_t kNodeInts = 6;
/// Largest expression recorded before an operand is submitted on its own: distinct op nodes and
/// distinct leaf arrays of one expression.
inline constexpr int64_t kMaxExprOps = 48;
inline constexpr int64_t kMaxExprLeaves = 12;

/// One node of a recorded expression; immutable once made (shared by every array built on it).
struct ExprNode {
  ExprKind kind = ExprKind::kLeaf;
  DType dtype = DType::kFloat64;
  int64_t code = 0;
  double value = 0;  ///< kConst: the number as a double (the int64 is `code`)
  std::vector<std::shared_ptr<const ExprNode>> inputs;
  BlockArray leaf;  ///< kLeaf: a snapshot of the array's blocks and grid
  /// kLeaf: `leaf` is read with its last two axes swapped (x.T() read in place, never made).
  bool transposed = false;

  /// Once the array of this node was submitted, its blocks: later expressions read them instead
  /// of computing the node again.
  BlockArray done() const {
    std::lock_guard lock(mu_);
    return done_;
  }
  void set_done(BlockArray blocks) const {
    std::lock_guard lock(mu_);
    done_ = std::move(blocks);
  }

 private:
  mutable std::mutex mu_;  // guards done_
  mutable BlockArray done_;
};
using ExprPtr = std::shared_ptr<const ExprNode>;

/// Whether an elementwise operation on `operands` is recorded and fused (Context::Impl::fuse):
/// not when its tasks are bound for a GPU (device "gpu", or an operand with blocks on one).
bool fusion_enabled(const Context::Impl& ctx, std::span<const BlockArray> operands);

/// Whether `x` holds a pending expression.
bool is_pending(const BlockArray& x);

/// The expression node standing for `x`: its pending expression, or a leaf over its blocks.
ExprPtr expr_of(const BlockArray& x);

/// A pending array of `grid` computing `node`, on `ctx`.
BlockArray make_pending(std::shared_ptr<Context::Impl> ctx, ArrayGrid grid, ExprPtr node);

/// Distinct op nodes and distinct leaves of the DAG under `node` (submitted nodes count as
/// leaves).
struct ExprSize {
  int64_t ops = 0, leaves = 0;
};
ExprSize expr_size(const ExprNode& root);

/// Submits `impl`'s pending expression (the caller holds impl.expr_mu; impl.expr is set): one
/// "array.fused" task per block, placed by the context's policy.
void submit_expression(BlockArray::Impl& impl);

/// A pending expression flattened into a task program, for tasks over its array's blocks.
class FusedProgram {
 public:
  /// The expression `root` (a pending array's) as a program.
  explicit FusedProgram(const ExprNode& root);

  /// A leaf array, lining up with `x`'s grid (or broadcast along its axes) as it is, or with its
  /// last two axes swapped when `transposed`.
  struct Leaf {
    BlockArray array;
    bool transposed = false;
  };
  const std::vector<Leaf>& leaves() const { return leaves_; }
  /// The distinct blocks that block `entry` of `x` reads, their bytes, and the slots scalar.
  struct BlockInputs {
    std::vector<ObjectRef> refs;
    std::vector<int64_t> bytes;
    std::vector<int64_t> slots;
  };
  BlockInputs inputs(const Shape& entry) const;
  /// The whole argument list of a task over block `entry`: its distinct leaf blocks, then
  /// [program, constants, slots]. The `last` block's takes the program: no block may follow.
  std::vector<TaskArg> block_args(const Shape& entry, bool last);
  /// [program, constants, slots] for a task over block `entry`.
  std::vector<TaskArg> scalars(std::vector<int64_t> slots) const;

 private:
  std::vector<Leaf> leaves_;
  std::vector<int64_t> program_;
  std::vector<double> constants_;
};

/// Adds to `plan` one task over a block whose leaf blocks are `in` (at least one): `kernel`
/// reads them, then `scalars`; it makes `out` (of `bytes`). Unary, binary or gather op of the
/// block graph by the number of distinct blocks.
optimizer::OpId plan_fused(BlockPlan& plan, Context::Impl& ctx, const FusedProgram::BlockInputs& in,
                           const char* kernel, std::vector<TaskArg> scalars, engine::OutputSpec out,
                           int64_t bytes, const char* name);

/// An elementwise operation over `operands` (already of the dtypes the op computes in): recorded
/// as a node of `kind` and `code` when the context fuses, otherwise run at once as `kernel`
/// (map_blocks; its scalar is `code`, none for where). Broadcasting is checked here, at the call:
/// ShapeError naming `op`.
BlockArray elementwise(ExprKind kind, int64_t code, const char* kernel,
                       std::span<const BlockArray> operands, DType out_dtype, const char* op);

}  // namespace nums::detail
