#pragma once
// The array layer's internals: what a BlockArray holds, and the few helpers every operation uses
// to turn itself into block tasks.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/task.h"
#include "nums/block_array.hpp"
#include "src/context_impl.h"
#include "src/kernels/ops.h"

namespace nums {

namespace detail {
struct ExprNode;  // see src/expression.h

/// A transpose not yet submitted: the array is `source` with its axes permuted (axis d of the
/// array is axis `axes[d]` of `source`). A contraction reads the source's blocks as they are and
/// passes the transposed layout to GEMM; any other use submits the physical transpose.
struct TransposedView {
  BlockArray source;  ///< a snapshot (later writes through the original handle do not show)
  std::vector<int64_t> axes;
};

/// A mutex that copies as a fresh one, so that an Impl stays copyable (a copy has its own lock).
struct CopyableMutex : std::mutex {
  CopyableMutex() = default;
  CopyableMutex(const CopyableMutex&) {}
  CopyableMutex& operator=(const CopyableMutex&) { return *this; }
};
}  // namespace detail

struct BlockArray::Impl {
  std::shared_ptr<Context::Impl> ctx;
  ArrayGrid grid;
  std::vector<engine::ObjectRef> blocks;  ///< row-major over grid.grid_shape()
  /// A recorded elementwise expression not yet submitted (then `blocks` is empty); impl()
  /// submits it.
  std::shared_ptr<const detail::ExprNode> expr;
  /// A pending transpose (then `blocks` is empty); impl() submits it.
  std::shared_ptr<const detail::TransposedView> view;
  /// The leaf node expressions last read these blocks through (expr_of): made once, not per op.
  std::shared_ptr<const detail::ExprNode> leaf;
  detail::CopyableMutex expr_mu;  // guards expr, view, leaf and blocks while they are submitted

  /// A write through this handle (x += 1, x(i) = v): new blocks, and the old ones' leaf goes.
  void set_blocks(ArrayGrid new_grid, std::vector<engine::ObjectRef> new_blocks) {
    std::lock_guard lock(expr_mu);
    grid = std::move(new_grid);
    blocks = std::move(new_blocks);
    leaf.reset();
    view.reset();
  }
};

namespace detail {

/// The state of an array as it is, without submitting a pending expression: for the code that
/// records expressions and asks only for the layout or the context.
struct LazyAccess {
  static const std::shared_ptr<BlockArray::Impl>& raw(const BlockArray& x) { return x.impl_; }
};

using engine::ObjectRef;
using engine::Scalar;
using engine::TaskArg;

/// The context of the latest nums::init(); an embedded default is started on first use. Throws
/// ClusterError once an explicit init()'s context has ended.
std::shared_ptr<Context::Impl> current_context();

BlockArray make_array(std::shared_ptr<Context::Impl> ctx, ArrayGrid grid,
                      std::vector<ObjectRef> blocks);
/// Names the function the user called in the tasks submitted while it lives, so that a failed
/// task's error says which call it served ("task 'linalg.inv_r_qt (in inv)' ... failed"). Nested
/// scopes keep the outermost name: lstsq's QR tasks are lstsq's.
class UserOp {
 public:
  explicit UserOp(const char* name) : outer_(current_) {
    if (!current_) current_ = name;
  }
  ~UserOp() { current_ = outer_; }
  UserOp(const UserOp&) = delete;
  UserOp& operator=(const UserOp&) = delete;
  /// The name of the outermost live scope on this thread, or nullptr.
  static const char* current() { return current_; }

 private:
  const char* outer_;
  static thread_local const char* current_;
};

/// Submits a one-output block task to `node`; `out`, when given, declares the output's dtype
/// and shape so that the node admits the task only when it fits.
ObjectRef submit(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> args, int64_t node,
                 std::optional<engine::OutputSpec> out = std::nullopt);
std::vector<ObjectRef> submit_n(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> args,
                                int64_t node, int64_t num_returns,
                                std::vector<engine::OutputSpec> outputs = {});
/// Submits a task that makes one block from its scalars alone (a constant, a block of an
/// immutable file). The node may drop such a block under memory pressure and run the task again
/// when it is read, instead of writing it to disk. `io`: the task blocks on I/O and runs on the
/// node's I/O threads.
ObjectRef submit_source(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> args,
                        int64_t node, engine::OutputSpec out, bool io = false);
/// The block-cyclic node of block `entry` of `grid`.
int64_t home_node(const Context::Impl& ctx, const ArrayGrid& grid, const Shape& entry);
/// `a` copied onto the nodes of `ctx` as blocks of `block_shape` (the default rule when empty),
/// each block on its home node: from_ndarray on a given context.
BlockArray put_ndarray(std::shared_ptr<Context::Impl> ctx, const NDArray& a,
                       const Shape& block_shape);
/// `requested` checked against `shape` (ShapeError), or the default rule when empty.
Shape choose_block_shape(const Context::Impl& ctx, const Shape& shape, DType dtype,
                         const Shape& requested);
/// Axis in [0, ndim) (negative counts from the end); IndexError naming `op` otherwise.
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);
/// Sorted distinct axes; all axes for Axes::all(), none for an empty list; ValueError for repeats.
std::vector<int64_t> normalize_axes(const Axes& axes, int64_t ndim, const char* op);
inline Scalar shape_scalar(const Shape& s) { return Scalar{std::vector<int64_t>(s)}; }
inline Scalar int_scalar(int64_t v) { return Scalar{v}; }
/// Throws ClusterError when the arrays live on different contexts.
void check_same_context(const BlockArray& a, const BlockArray& b, const char* op);

/// Calls f(entry) for every entry of a grid of `grid_shape`, row-major.
template <typename F>
void for_each_entry(const Shape& grid_shape, F&& f) {
  const int64_t n = shape_size(grid_shape);
  Shape e(grid_shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    f(static_cast<const Shape&>(e));
    for (size_t d = e.size(); d-- > 0;) {
      if (++e[d] < grid_shape[d]) break;
      e[d] = 0;
    }
  }
}

/// Output axis d, element j reads input index start[d] + j * step[d] for j < count[d]; the
/// result is blocked by `block_shape`. Serves rechunk, slicing and reversal.
BlockArray strided_view(const BlockArray& x, const Shape& start, const Shape& step,
                        const Shape& count, const Shape& block_shape);
/// One `kernel` task per output block of the broadcast operands (re-blocked to line up), with
/// `scalars` after the blocks; placed by the context's policy. Throws ShapeError when the
/// operands do not broadcast.
/// DTypeError naming `op` when `x` is complex128, for the operations nums has no complex
/// kernels for (sorting, selection, scans of products, matrix products, ...).
void reject_complex(const BlockArray& x, const char* op);
/// The real (part 0) or imaginary (1) part, float64, or the conjugate (2) of a complex128 array.
BlockArray complex_part(const BlockArray& x, int64_t part);
/// re + im * 1j, broadcast, as complex128.
BlockArray make_complex(const BlockArray& re, const BlockArray& im);
BlockArray map_blocks(const char* kernel, const std::vector<BlockArray>& operands,
                      std::vector<TaskArg> scalars, DType out_dtype, const char* op);
/// An array of `grid` standing for the pending transpose `view`.
BlockArray make_transposed(std::shared_ptr<Context::Impl> ctx, ArrayGrid grid,
                           std::shared_ptr<const TransposedView> view);
/// `x`'s pending transpose, or null: for the operations that fold it into their kernels.
std::shared_ptr<const TransposedView> pending_transpose(const BlockArray& x);
/// The physical transpose of `x` (axis d of the result is axis axes[d] of x; a permutation),
/// one task per block.
BlockArray transpose_blocks(const BlockArray& x, const std::vector<int64_t>& axes);
/// Elementwise op with broadcasting on arrays already of one dtype.
BlockArray binary(kernels::BinaryOp op, const BlockArray& a, const BlockArray& b);
BlockArray unary(kernels::UnaryOp op, const BlockArray& x);
/// Each block seen with the shape `block_shape_of(entry)`, zero-copy (same element order).
BlockArray reshape_blocks(const BlockArray& x, const ArrayGrid& grid);
/// NumPy's same_kind rule for writing a result of dtype `from` into an array of dtype `to`
/// (bool < integer < float; casts within a kind allowed): DTypeError naming `op` otherwise.
void check_same_kind(DType from, DType to, const char* op);

}  // namespace detail
}  // namespace nums
