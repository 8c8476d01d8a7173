// Recorded elementwise expressions: size accounting, flattening into a task program, and the
// submission of a pending array as one fused task per block.

#include "src/expression.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory_resource>
#include <variant>

#include "src/devices.h"
#include "src/placement.h"

namespace nums::detail {
namespace {

bool has_blocks(const BlockArray& a) { return LazyAccess::raw(a) != nullptr; }

// The array a node reads as a leaf: its own snapshot, or the blocks it was submitted as.
BlockArray leaf_array(const ExprNode& n) {
  if (n.kind == ExprKind::kLeaf) return n.leaf;
  return n.done();
}

// The same blocks in the same layout (one array seen through two handles or snapshots).
bool same_blocks(const BlockArray& a, const BlockArray& b) {
  const auto& x = *LazyAccess::raw(a);
  const auto& y = *LazyAccess::raw(b);
  if (&x == &y) return true;
  if (!(x.grid == y.grid) || x.blocks.size() != y.blocks.size()) return false;
  for (size_t k = 0; k < x.blocks.size(); ++k) {
    if (!(x.blocks[k].id() == y.blocks[k].id())) return false;
  }
  return true;
}

// The entry of leaf `a`'s block that meets block `e` of the expression's grid (`transposed`: a
// is read with its last two axes swapped).
Shape leaf_entry(const BlockArray& a, bool transposed, const Shape& e) {
  const size_t nd = static_cast<size_t>(a.ndim());
  const size_t pad = e.size() - nd;
  const Shape& grid = a.grid_shape();
  Shape ae(nd);
  for (size_t d = 0; d < nd; ++d) {
    // Axis d of the leaf as read: axis d of its grid, or the other of the last two.
    const size_t g = transposed && d + 2 >= nd ? 2 * nd - 3 - d : d;
    ae[d] = grid[g] == 1 ? 0 : e[d + pad];
  }
  if (transposed) std::swap(ae[nd - 1], ae[nd - 2]);
  return ae;
}

// The same entry as leaf_entry, as the position of the block in `a`'s blocks (no Shape made).
size_t leaf_block(const BlockArray& a, bool transposed, const Shape& e) {
  const size_t nd = static_cast<size_t>(a.ndim());
  const size_t pad = e.size() - nd;
  const Shape& grid = a.grid_shape();
  int64_t flat = 0, stride = 1;
  for (size_t s = nd; s-- > 0;) {
    const size_t from = transposed && s + 2 >= nd ? 2 * nd - 3 - s : s;
    if (grid[s] != 1) flat += e[from + pad] * stride;
    stride *= grid[s];
  }
  return static_cast<size_t>(flat);
}

// Whether `axes` swaps the last two axes and keeps the others: a transpose the fused kernel reads
// in place.
bool swaps_last_two(const std::vector<int64_t>& axes) {
  const auto n = static_cast<int64_t>(axes.size());
  if (n < 2 || axes[n - 1] != n - 2 || axes[n - 2] != n - 1) return false;
  for (int64_t d = 0; d + 2 < n; ++d) {
    if (axes[static_cast<size_t>(d)] != d) return false;
  }
  return true;
}

}  // namespace

bool fusion_enabled(const Context::Impl& ctx, std::span<const BlockArray> operands) {
  // The fused kernel runs on CPUs only: work bound for a GPU stays one task per op there.
  if (!ctx.fuse || ctx.device == DeviceMode::kGpu) return false;
  for (const BlockArray& x : operands) {
    const auto& impl = LazyAccess::raw(x);
    std::lock_guard lock(impl->expr_mu);
    for (const engine::ObjectRef& b : impl->blocks) {
      if (block_device(b) == engine::Device::kCuda) return false;
    }
  }
  return true;
}

bool is_pending(const BlockArray& x) {
  const auto& impl = LazyAccess::raw(x);
  if (!impl) return false;
  std::lock_guard lock(impl->expr_mu);
  return impl->expr != nullptr;
}

ExprPtr expr_of(const BlockArray& x) {
  {
    const auto& raw = LazyAccess::raw(x);
    std::lock_guard lock(raw->expr_mu);
    if (raw->expr) return raw->expr;
  }
  if (const auto view = pending_transpose(x); view && swaps_last_two(view->axes)) {
    // Read in place by the fused kernel: the transpose is never made.
    auto node = std::make_shared<ExprNode>();
    node->kind = ExprKind::kLeaf;
    node->dtype = x.dtype();
    node->leaf = view->source;
    node->transposed = true;
    return node;
  }
  const auto& impl = x.impl();  // submits another pending transpose (and takes the lock)
  std::lock_guard lock(impl->expr_mu);
  // A snapshot, not the handle: writes through x (x += 1, x(i) = v) replace x's blocks later,
  // while the expression keeps the values it was recorded with. Made once per set of blocks.
  if (impl->leaf && same_blocks(impl->leaf->leaf, x)) return impl->leaf;
  auto node = std::make_shared<ExprNode>();
  node->kind = ExprKind::kLeaf;
  node->dtype = x.dtype();
  node->leaf = make_array(impl->ctx, impl->grid, impl->blocks);
  impl->leaf = node;
  return node;
}

BlockArray make_pending(std::shared_ptr<Context::Impl> ctx, ArrayGrid grid, ExprPtr node) {
  auto impl = std::make_shared<BlockArray::Impl>();
  impl->ctx = std::move(ctx);
  impl->grid = std::move(grid);
  impl->expr = std::move(node);
  return BlockArray(std::move(impl));
}

ExprSize expr_size(const ExprNode& root) {
  ExprSize size;
  // Expressions stay small (kMaxExprOps): linear searches beat hashing, and the lists of the
  // usual expression fit on the stack.
  std::array<std::byte, 1024> room;
  std::pmr::monotonic_buffer_resource arena(room.data(), room.size());
  std::pmr::vector<const ExprNode*> seen(&arena);
  seen.reserve(2 * kMaxExprLeaves);
  std::pmr::vector<BlockArray> leaves(&arena);
  leaves.reserve(kMaxExprLeaves);
  auto visit = [&](auto& self, const ExprNode& n) -> void {
    if (std::find(seen.begin(), seen.end(), &n) != seen.end()) return;
    seen.push_back(&n);
    if (n.kind == ExprKind::kConst) return;
    BlockArray leaf = leaf_array(n);
    if (has_blocks(leaf)) {
      for (const auto& l : leaves) {
        if (same_blocks(l, leaf)) return;
      }
      leaves.push_back(std::move(leaf));
      ++size.leaves;
      return;
    }
    ++size.ops;
    for (const auto& in : n.inputs) self(self, *in);
  };
  visit(visit, root);
  return size;
}

FusedProgram::FusedProgram(const ExprNode& root) {
  // Node -> its number in the program; a linear search, as in expr_size.
  std::array<std::byte, 1024> room;
  std::pmr::monotonic_buffer_resource arena(room.data(), room.size());
  std::pmr::vector<std::pair<const ExprNode*, int64_t>> index(&arena);
  index.reserve(2 * kMaxExprLeaves);
  program_.reserve(kProgramHeader + kNodeInts * 2 * kMaxExprLeaves);
  program_ = {kProgramVersion, 0};
  // Post-order: inputs before the node; each distinct node once.
  auto visit = [&](auto& self, const ExprNode& n) -> int64_t {
    for (const auto& [node, id] : index) {
      if (node == &n) return id;
    }
    int64_t node[kNodeInts] = {
        static_cast<int64_t>(n.kind), static_cast<int64_t>(n.dtype), n.code, 0, 0, 0};
    const BlockArray leaf = n.kind == ExprKind::kConst ? BlockArray() : leaf_array(n);
    if (has_blocks(leaf)) {
      const bool transposed = n.kind == ExprKind::kLeaf && n.transposed;
      node[0] = static_cast<int64_t>(ExprKind::kLeaf);
      size_t k = 0;
      while (k < leaves_.size() &&
             !(leaves_[k].transposed == transposed && same_blocks(leaves_[k].array, leaf))) {
        ++k;
      }
      if (k == leaves_.size()) leaves_.push_back({leaf, transposed});
      node[2] = static_cast<int64_t>(k);
      node[3] = transposed ? 1 : 0;
    } else if (n.kind == ExprKind::kConst) {
      node[3] = static_cast<int64_t>(constants_.size());
      constants_.push_back(n.value);
    } else {
      for (size_t i = 0; i < n.inputs.size(); ++i) node[3 + i] = self(self, *n.inputs[i]);
    }
    const int64_t id = program_[1]++;
    program_.insert(program_.end(), node, node + kNodeInts);
    index.emplace_back(&n, id);
    return id;
  };
  visit(visit, root);
}

FusedProgram::BlockInputs FusedProgram::inputs(const Shape& entry) const {
  BlockInputs in;
  in.refs.reserve(leaves_.size());
  in.bytes.reserve(leaves_.size());
  in.slots.reserve(leaves_.size());
  for (const auto& [leaf, transposed] : leaves_) {
    const auto& impl = *LazyAccess::raw(leaf);
    const Shape le = leaf_entry(leaf, transposed, entry);
    const ObjectRef& ref = impl.blocks[static_cast<size_t>(impl.grid.flat(le))];
    size_t k = 0;
    while (k < in.refs.size() && !(in.refs[k].id() == ref.id())) ++k;
    if (k == in.refs.size()) {
      in.refs.push_back(ref);
      in.bytes.push_back(shape_size(impl.grid.block_shape_at(le)) * itemsize(leaf.dtype()));
    }
    in.slots.push_back(static_cast<int64_t>(k));
  }
  return in;
}

std::vector<TaskArg> FusedProgram::block_args(const Shape& entry, bool last) {
  std::vector<TaskArg> args;
  args.reserve(leaves_.size() + 3);
  std::vector<int64_t> slots;
  slots.reserve(leaves_.size());
  size_t distinct = 0;
  for (const auto& [leaf, transposed] : leaves_) {
    const auto& impl = *LazyAccess::raw(leaf);
    const ObjectRef& ref = impl.blocks[leaf_block(leaf, transposed, entry)];
    size_t k = 0;
    while (k < distinct && !(std::get<ObjectRef>(args[k]).id() == ref.id())) ++k;
    if (k == distinct) {
      args.emplace_back(ref);
      ++distinct;
    }
    slots.push_back(static_cast<int64_t>(k));
  }
  if (last) {  // no block needs them after this one
    args.emplace_back(Scalar{std::move(program_)});
    args.emplace_back(Scalar{std::move(constants_)});
  } else {
    args.emplace_back(Scalar{program_});
    args.emplace_back(Scalar{constants_});
  }
  args.emplace_back(Scalar{std::move(slots)});
  return args;
}

std::vector<TaskArg> FusedProgram::scalars(std::vector<int64_t> slots) const {
  // Emplaced, not listed: a braced list would copy each vector once more.
  std::vector<TaskArg> args;
  args.reserve(3);
  args.emplace_back(Scalar{program_});
  args.emplace_back(Scalar{constants_});
  args.emplace_back(Scalar{std::move(slots)});
  return args;
}

optimizer::OpId plan_fused(BlockPlan& plan, Context::Impl& ctx, const FusedProgram::BlockInputs& in,
                           const char* kernel, std::vector<TaskArg> scalars, engine::OutputSpec out,
                           int64_t bytes, const char* name) {
  std::vector<optimizer::OpId> leaves;
  for (size_t k = 0; k < in.refs.size(); ++k) {
    leaves.push_back(plan.Leaf({in.refs[k]}, in.bytes[k]));
  }
  StepFn fn = [&ctx, kernel, out = std::move(out), scalars = std::move(scalars)](
                  const std::vector<const Refs*>& inputs, int64_t node) mutable {  // runs once
    std::vector<TaskArg> args;
    args.reserve(inputs.size() + scalars.size());
    for (const Refs* r : inputs) args.emplace_back((*r)[0]);
    args.insert(args.end(), std::make_move_iterator(scalars.begin()),
                std::make_move_iterator(scalars.end()));
    return Refs{submit(ctx, kernel, std::move(args), node, out)};
  };
  // One op of the block graph whatever the size of the expression: the optimizer places the
  // fused task as it would place a single elementwise op over the same blocks.
  if (leaves.size() == 1) return plan.Unary(leaves[0], bytes, std::move(fn), name, kernel);
  if (leaves.size() == 2) {
    return plan.Binary(leaves[0], leaves[1], bytes, std::move(fn), name, kernel);
  }
  return plan.Gather(std::move(leaves), bytes, std::move(fn), name, kernel);
}

void submit_expression(BlockArray::Impl& impl) {
  const ExprPtr root = impl.expr;
  auto& ctx = impl.ctx;
  if (const BlockArray done = root->done(); has_blocks(done)) {
    // Another handle on the same expression (a copy) was submitted already.
    impl.blocks = LazyAccess::raw(done)->blocks;
    impl.expr.reset();
    return;
  }
  const ArrayGrid& grid = impl.grid;
  FusedProgram program(*root);
  if (one_placement(*ctx)) {  // each block's task runs on the one node: no plan
    std::vector<ObjectRef> refs;
    refs.reserve(static_cast<size_t>(grid.num_blocks()));
    engine::SubmitBatch batch(*ctx->runtime);
    for_each_entry(grid.grid_shape(), [&](const Shape& e) {
      engine::OutputSpec out{grid.dtype(), grid.block_shape_at(e)};
      const bool last = static_cast<int64_t>(refs.size()) + 1 == grid.num_blocks();
      std::vector<TaskArg> args = program.block_args(e, last);
      refs.push_back(program.leaves().empty()
                         ? submit_source(*ctx, "array.fused", std::move(args), 0, std::move(out))
                         : submit(*ctx, "array.fused", std::move(args), 0, std::move(out)));
    });
    batch.Send();
    root->set_done(make_array(ctx, grid, refs));
    impl.blocks = std::move(refs);
    impl.expr.reset();
    return;
  }
  BlockPlan plan(*ctx);
  std::vector<std::variant<ObjectRef, optimizer::OpId>> blocks;
  blocks.reserve(static_cast<size_t>(grid.num_blocks()));
  bool any_op = false;
  for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    FusedProgram::BlockInputs in = program.inputs(e);
    engine::OutputSpec out{grid.dtype(), grid.block_shape_at(e)};
    std::vector<TaskArg> scalars = program.scalars(std::move(in.slots));
    if (in.refs.empty()) {
      // Numbers only: the block is made from the task's scalars where the array's home is.
      blocks.emplace_back(submit_source(*ctx, "array.fused", std::move(scalars),
                                        home_node(*ctx, grid, e), std::move(out)));
      return;
    }
    const int64_t bytes = out.nbytes();
    const optimizer::OpId id = plan_fused(plan, *ctx, in, "array.fused", std::move(scalars),
                                          std::move(out), bytes, "fused");
    plan.Output(id);
    blocks.emplace_back(id);
    any_op = true;
  });
  if (any_op) plan.Run();
  std::vector<ObjectRef> refs;
  refs.reserve(blocks.size());
  for (auto& b : blocks) {
    if (auto* op = std::get_if<optimizer::OpId>(&b)) {
      refs.push_back(plan.result(*op).at(0));
    } else {
      refs.push_back(std::move(std::get<ObjectRef>(b)));
    }
  }
  impl.blocks = refs;
  impl.expr.reset();
  root->set_done(make_array(ctx, grid, std::move(refs)));
}

}  // namespace nums::detail
