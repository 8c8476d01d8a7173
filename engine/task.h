#pragma once
// What a task is: a kernel name, argument refs and inline scalars, a target node and its outputs.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine/block.h"
#include "engine/memory_pool.h"
#include "engine/object_id.h"
#include "engine/object_ref.h"

namespace nums::engine {

/// An inline argument of a task: parameters such as axes, shapes, seeds or constants.
using Scalar =
    std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

/// One argument as a caller passes it: a ref to a block, or an inline scalar.
using TaskArg = std::variant<ObjectRef, Scalar>;

/// An output a task declares, so that its bytes are known before it runs. The node allocates a
/// declared output before the kernel starts (Block::Allocate hands it out). A data-dependent
/// output (a mask's selection) declares its largest shape as an `upper_bound`: those bytes are
/// admitted, but nothing is allocated ahead.
struct OutputSpec {
  DType dtype = DType::kFloat64;
  Shape shape;
  bool upper_bound = false;
  /// Throws ValueError for a negative or overflowing shape.
  int64_t nbytes() const { return ShapeSize(shape) * itemsize(dtype); }
  friend bool operator==(const OutputSpec&, const OutputSpec&) = default;
};

/// A task as a caller submits it.
struct TaskSpec {
  std::string kernel;  ///< registry name, e.g. "array.add"
  Device device = Device::kCpu;
  NodeId node = 0;            ///< where it runs (the optimizer's choice)
  std::vector<TaskArg> args;  ///< blocks reach the kernel in order, scalars in order
  int64_t num_returns = 1;
  std::string name;  ///< for logs and errors; the kernel name when empty
  /// One per return when declared; empty when the outputs are unknown (then the node learns
  /// their bytes only as the kernel allocates them).
  std::vector<OutputSpec> outputs{};
  int64_t scratch_bytes = 0;  ///< working memory the kernel needs beyond its outputs
  /// Blocking I/O (reading or writing a file): runs on the node's I/O threads, so that waiting
  /// on a disk or a network never holds one of its compute threads.
  bool io = false;
  /// Its one output is cheap to make again from the task's scalars alone (a constant, a block of
  /// an immutable file): under memory pressure it is dropped and remade instead of written to
  /// disk. Only for tasks with no block arguments and one declared output.
  bool recomputable = false;
  /// The user chose `device` for this task's data (the array layer's BlockArray::to): tasks
  /// reading its outputs keep to it. The engine only carries it, with the lineage.
  bool device_pinned = false;
};

/// A block argument as lineage keeps it: the id, where it lives, and the task that made it
/// (null for objects that were put), without keeping the block's data alive.
struct ObjectArg {
  ObjectId id;
  NodeId node = 0;
  std::shared_ptr<const struct TaskRecord> producer;
};

/// A submitted task with its output ids: what a node executes and what lineage keeps so that a
/// lost object can be recomputed.
struct TaskRecord {
  TaskRecord() = default;
  TaskRecord(const TaskRecord&) = default;
  TaskRecord& operator=(const TaskRecord&) = default;
  /// Frees the chain of producers no one else holds iteratively: a lineage a million tasks deep
  /// would otherwise be freed by a million nested destructors.
  ~TaskRecord();

  std::string kernel;
  std::string name;
  Device device = Device::kCpu;
  NodeId node = 0;
  std::vector<std::variant<ObjectArg, Scalar>> args;
  std::vector<ObjectId> returns;
  std::vector<OutputSpec> outputs;  ///< empty, or one per return
  int64_t scratch_bytes = 0;
  bool io = false;             ///< see TaskSpec::io
  bool recomputable = false;   ///< see TaskSpec::recomputable
  bool device_pinned = false;  ///< see TaskSpec::device_pinned
  /// Bytes the node must find room for before it runs the task: declared outputs and scratch.
  int64_t DeclaredBytes() const;
  /// Inputs that were put, not computed: the cluster runtime keeps them alive with the lineage,
  /// since the task could not run again without them.
  std::vector<ObjectRef> sources;
};

/// Throws ValueError when `task` is recomputable but has block arguments or does not declare
/// exactly one output of known shape (it could not be remade from its scalars).
void CheckRecomputable(const TaskRecord& task);

/// Checks `spec` and turns it into the record a node executes, with fresh output ids from `ids`.
/// The argument refs move into `pins` (they keep the inputs alive until the task has run);
/// `source(ref)` is the node each input is read from. Throws ValueError for a negative
/// num_returns, a null ref, outputs that do not match num_returns, or a recomputable task with
/// block arguments or without one declared output.
std::shared_ptr<TaskRecord> MakeTaskRecord(TaskSpec spec, ObjectIdGenerator& ids,
                                           std::vector<ObjectRef>& pins,
                                           const std::function<NodeId(const ObjectRef&)>& source);

}  // namespace nums::engine
