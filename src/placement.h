#pragma once
// BlockPlan: how an array operation asks the optimizer where its block tasks run. The operation
// describes its block ops (leaves are existing blocks; each inner op carries the function that
// submits its task), the optimizer places them on the context's cluster with the context's
// policy (ops whose node is fixed by design are pinned to it), and Run() submits every task, in a
// valid order, to its node, in one engine::SubmitBatch.

#include <functional>
#include <unordered_map>
#include <variant>
#include <vector>

#include "optimizer/block_graph.h"
#include "optimizer/plan.h"
#include "src/array_impl.h"

namespace nums::detail {

/// One value of the plan: the refs of one block op's outputs (arg-reductions carry two).
using Refs = std::vector<ObjectRef>;
/// Submits one block task on `node` reading `inputs` (the op's values, in its order); returns its
/// outputs.
using StepFn = std::function<Refs(const std::vector<const Refs*>& inputs, int64_t node)>;

/// A step applying the elementwise `op` to its two inputs ("array.binary"): the combine of a
/// sum (or max, ...) tree. `out`, when given, declares its output.
StepFn BinaryStep(Context::Impl& ctx, kernels::BinaryOp op,
                  std::optional<engine::OutputSpec> out = std::nullopt);

/// Whether every block task of the context runs on its one node, on the device its mode names:
/// nothing to place, so an operation may submit its tasks without a plan.
inline bool one_placement(const Context::Impl& ctx) {
  return ctx.num_nodes == 1 && ctx.rates.empty();
}

class BlockPlan {
 public:
  explicit BlockPlan(Context::Impl& ctx) : ctx_(ctx) {
    // Most plans are small (an op over a block or a few): they never grow.
    graph_.Reserve(kSmallPlan);
    fns_.reserve(kSmallPlan);
    values_.reserve(kSmallPlan);
  }

  /// An existing block (or pair of blocks); bytes are the first ref's block size. A block given
  /// again is the same leaf.
  optimizer::OpId Leaf(Refs refs, int64_t bytes);
  /// `kernel` (null: unknown) is the kernel the op's tasks run: in device mode "auto" an op
  /// whose kernel has a CUDA body may be placed on a GPU.
  optimizer::OpId Unary(optimizer::OpId in, int64_t bytes, StepFn fn, const char* name,
                        const char* kernel = nullptr);
  optimizer::OpId Binary(optimizer::OpId a, optimizer::OpId b, int64_t bytes, StepFn fn,
                         const char* name, const char* kernel = nullptr);
  /// A partial product of a tensordot (feeds a Reduce); `itemsize` gives its flops.
  optimizer::OpId Product(optimizer::OpId a, optimizer::OpId b, int64_t bytes, StepFn fn,
                          const char* name, const char* kernel = nullptr, int64_t itemsize = 8);
  /// Combines the inputs pairwise with `combine`; the optimizer shapes the tree. A single input
  /// is passed through.
  optimizer::OpId Reduce(std::vector<optimizer::OpId> inputs, int64_t bytes, StepFn combine,
                         const char* name, const char* kernel = nullptr);
  /// A new block assembled from pieces of `inputs` by one task (reshape, concatenate, ...).
  optimizer::OpId Gather(std::vector<optimizer::OpId> inputs, int64_t bytes, StepFn fn,
                         const char* name, const char* kernel = nullptr);
  /// A block task that runs on `node` whatever the policy: a creation or random block on its
  /// block-cyclic home, a step of TSQR's or the tiled Cholesky's trees (shaped by node). It reads
  /// the values of `inputs` (none: it makes its block from scalars alone); its device is the
  /// usual rule's (src/devices.h), not the placement's.
  optimizer::OpId OnNode(int64_t node, std::vector<optimizer::OpId> inputs, int64_t bytes,
                         StepFn fn, const char* name);
  void Output(optimizer::OpId op) { graph_.MarkOutput(op); }

  /// Places and submits every op (on the device the placement chose for it in device mode
  /// "auto", src/devices.h). Each output's refs are then `result(op)`.
  void Run();
  const Refs& result(optimizer::OpId op) const { return values_.at(static_cast<size_t>(op)); }

 private:
  static constexpr int64_t kSmallPlan = 8;
  optimizer::OpId Added(optimizer::OpId id, StepFn fn, const char* kernel);
  /// In device mode "auto" with GPUs: each op's work and whether its kernel has a CUDA body.
  void DescribeWork();
  Context::Impl& ctx_;
  optimizer::BlockGraph graph_;
  struct Step {
    StepFn fn;                     // empty for leaves
    const char* kernel = nullptr;  // null for leaves and unknown kernels
  };
  std::vector<Step> fns_;     // per op
  std::vector<Refs> values_;  // per value id once Run() produced it
  std::unordered_map<engine::ObjectId, optimizer::OpId, engine::ObjectIdHash> leaf_of_;
};

/// The blocks of a new array, each either an existing block taken as it is or assembled by one
/// task from existing blocks (reshape, concatenate, transpose, take, ...), placed together.
class GatherPlan {
 public:
  explicit GatherPlan(Context::Impl& ctx) : ctx_(ctx), plan_(ctx) {}

  /// The next block: `kernel` reads `args`, whose leading ObjectRefs are the blocks it gathers
  /// from (`input_bytes` gives each one's size) and whose rest are scalars; it makes the block
  /// `out` declares, of `bytes` (those of `out`, or 0 for a view of its input that allocates
  /// nothing and so declares nothing).
  void Add(const char* kernel, std::vector<TaskArg> args, const std::vector<int64_t>& input_bytes,
           std::optional<engine::OutputSpec> out, int64_t bytes);
  void Add(const char* kernel, std::vector<TaskArg> args, const std::vector<int64_t>& input_bytes,
           const engine::OutputSpec& out) {
    Add(kernel, std::move(args), input_bytes, out, out.nbytes());
  }
  /// The next block is `block` itself: no task.
  void Reuse(ObjectRef block);
  /// Places and submits every task; the blocks in the order they were added.
  std::vector<ObjectRef> Run() &&;

 private:
  Context::Impl& ctx_;
  BlockPlan plan_;
  bool any_task_ = false;
  std::vector<std::variant<ObjectRef, optimizer::OpId>> blocks_;
};

}  // namespace nums::detail
