#pragma once
// Recovery: makes lost objects again from their lineage. It submits again the task that made an
// object, first making again its inputs that are lost or freed, and refuses to run again a task
// whose node was lost too often while the task was there: the task may be what kills them.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cluster/free_queue.h"
#include "engine/cluster/node_table.h"

namespace nums::engine::cluster {

class Recovery {
 public:
  /// Losses of the nodes one task was on after which it is not run again.
  static constexpr int64_t kMaxLosses = 3;

  /// `hold(input, holder)` gives a ref that keeps `input` (on `holder` now) alive until the
  /// task that reads it has run: a live ref of the driver's, or a new one that frees it then.
  Recovery(NodeTable& nodes, FreeQueue& frees,
           std::function<ObjectRef(const ObjectArg& input, NodeId holder)> hold)
      : nodes_(nodes), frees_(frees), hold_(std::move(hold)) {}

  /// Submits again the task that made `id` (on its holder, or on a survivor when the holder is
  /// lost), first making again its inputs that are lost, freed already, or failed for want of
  /// either (recursively). Throws NodeLostError for an object that was put, not computed, and
  /// for a task whose node was lost kMaxLosses times while its output was there (naming the
  /// task and those nodes).
  void Recompute(const ObjectId& id, NodeId node, const std::shared_ptr<const TaskRecord>& task,
                 const std::string& why);
  /// Whether an object input of `task` is gone.
  bool InputGone(const TaskRecord& task) const;
  /// Counts the loss of the node `task` was on (`node` in `epoch`; -1 for where it was first
  /// sent); throws NodeLostError once the task has been on kMaxLosses lost nodes.
  void CountLoss(const std::shared_ptr<const TaskRecord>& task, NodeId node, int64_t epoch);

 private:
  /// Whether `id` on node `holder` must be made again: `holder` is lost, or the object is not
  /// there (freed), or it failed because a node or an input it needed was gone.
  bool MustRemake(const ObjectId& id, NodeId holder);

  struct Losses {
    std::weak_ptr<const TaskRecord> task;  // the entry goes once the lineage is dropped
    std::vector<std::pair<NodeId, int64_t>> placements;  // each (node, epoch) lost once
  };
  NodeTable& nodes_;
  FreeQueue& frees_;
  const std::function<ObjectRef(const ObjectArg&, NodeId)> hold_;
  std::mutex mu_;  // guards losses_, prune_at_
  std::unordered_map<const TaskRecord*, Losses> losses_;
  size_t prune_at_ = 64;
};

}  // namespace nums::engine::cluster
