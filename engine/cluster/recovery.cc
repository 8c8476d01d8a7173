#include "engine/cluster/recovery.h"

#include <algorithm>

#include "engine/cluster/log.h"

namespace nums::engine::cluster {

void Recovery::Recompute(const ObjectId& id, NodeId node,
                         const std::shared_ptr<const TaskRecord>& task, const std::string& why) {
  if (!task) {
    throw NodeLostError("object " + id.ToString() + ", put on node " + std::to_string(node) +
                        ", is gone (" + why + "); only computed objects are made again");
  }
  auto [holder, epoch] = nodes_.Placement(id, node);
  if (nodes_.Gone(id, node)) CountLoss(task, holder, epoch);
  TaskRecord again = *task;
  // Every input is held until this task has run.
  std::vector<ObjectRef> temps;
  for (auto& arg : again.args) {
    auto* in = std::get_if<ObjectArg>(&arg);
    if (in == nullptr) continue;
    NodeId at = nodes_.Holder(in->id, in->node);
    if (nodes_.Gone(in->id, in->node) || MustRemake(in->id, at)) {
      Recompute(in->id, in->node, in->producer, why);
      at = nodes_.Holder(in->id, in->node);
    }
    temps.push_back(hold_(*in, at));
    in->node = at;
  }
  // A target lost while it is sent the task counts as lost with the task there: it may have
  // died running it. The bound on losses ends the loop; `tries` only guards a flapping node.
  for (int64_t tries = 0;; ++tries) {
    const NodeId target = nodes_.Target(holder, why);
    again.node = target;
    Log().info("recomputing task '{}' on node {} ({})", again.name, target, why);
    try {
      // Outputs that failed on the target stay failed unless they go before the task runs again.
      nodes_.Call(target, [&](NodeClient& c) {
        c.Free(again.returns);
        c.SubmitTasks({&again});
      });
      break;
    } catch (const NodeLostError&) {
      CountLoss(task, target, nodes_.Epoch(target));
      if (tries >= nodes_.size() + kMaxLosses) throw;
      nodes_.ReviveLostNodes(/*force=*/true);
      holder = target;
    }
  }
  nodes_.Moved(again.returns, again.node);
  if (!temps.empty() && !again.returns.empty()) {
    frees_.Pin(again.node, again.returns[0], std::move(temps));
  }
}

bool Recovery::InputGone(const TaskRecord& task) const {
  for (const auto& arg : task.args) {
    const auto* in = std::get_if<ObjectArg>(&arg);
    if (in != nullptr && nodes_.Gone(in->id, in->node)) return true;
  }
  return false;
}

bool Recovery::MustRemake(const ObjectId& id, NodeId holder) {
  std::shared_ptr<const ErrorInfo> error;
  try {
    error = nodes_.Call(holder, [&](NodeClient& c) { return c.Probe(id); });
  } catch (const NodeLostError&) {
    return true;  // the holder itself is lost now, and the object with it
  }
  if (!error) return false;
  return error->code == ErrorCode::kNodeLost || error->IsMissingObject() || error->IsMissingInput();
}

void Recovery::CountLoss(const std::shared_ptr<const TaskRecord>& task, NodeId holder,
                         int64_t epoch) {
  // The driver cannot tell a task that killed its node from one that finished there before the
  // node died of something else; kMaxLosses losses of one task's nodes are taken as its doing.
  std::vector<std::pair<NodeId, int64_t>> lost;
  {
    std::lock_guard lock(mu_);
    if (losses_.size() >= prune_at_) {
      std::erase_if(losses_, [](const auto& kv) { return kv.second.task.expired(); });
      prune_at_ = std::max<size_t>(64, 2 * losses_.size());
    }
    Losses& l = losses_[task.get()];
    if (l.task.expired()) l = Losses{task, {}};  // a new record at a freed one's address
    const std::pair<NodeId, int64_t> at{holder, epoch};
    if (std::find(l.placements.begin(), l.placements.end(), at) == l.placements.end()) {
      l.placements.push_back(at);
    }
    if (static_cast<int64_t>(l.placements.size()) < kMaxLosses) return;
    lost = l.placements;
  }
  std::string on;
  for (const auto& [n, e] : lost) on += (on.empty() ? "" : ", ") + std::to_string(n);
  const std::string name = task->name.empty() ? task->kernel : task->name;
  throw NodeLostError("task '" + name + "' was on node(s) " + on + " when each was lost; it is " +
                      "not run again (it may be what kills them)");
}

}  // namespace nums::engine::cluster
