#pragma once
// TaskBatcher: holds the tasks submitted inside a batch, per node, and sends those of one node
// in one NodeClient::SubmitTasks: when the batch ends, when a task reads what a held task of
// another node makes, and every kMaxHeldTasks tasks.

#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "engine/cluster/free_queue.h"
#include "engine/cluster/load_view.h"
#include "engine/cluster/node_table.h"

namespace nums::engine::cluster {

class TaskBatcher {
 public:
  /// Tasks a batch holds before it sends them anyway.
  static constexpr size_t kMaxHeldTasks = 1024;

  /// Each node's answer to a send goes to `loads`.
  TaskBatcher(NodeTable& nodes, FreeQueue& frees, LoadView& loads)
      : nodes_(nodes), frees_(frees), loads_(loads) {}

  void Begin();
  /// Ends a batch; the outermost one sends what is held and raises the first send error of the
  /// batch. Throws ValueError without a Begin.
  void End();
  /// Sends first the held tasks of other nodes whose outputs `record` reads (a node must have a
  /// task before a peer asks it for the task's output). Inside a batch, holds `record` with its
  /// `pins` and returns true; outside, returns false and the caller sends it.
  bool Hold(const std::shared_ptr<TaskRecord>& record, std::vector<ObjectRef>& pins);
  /// Whether `id` is an output of a task not sent yet, whose release (of `id`, made on `node`)
  /// then waits until the task is on its node: freed earlier, the result would be kept.
  bool DeferRelease(const ObjectId& id, NodeId node);
  /// Sends everything held; raises what sending raised, or keeps it for End inside a batch.
  void Flush() { Report(SendHeld(nullptr)); }
  /// Sends everything held, logging what sending raised.
  void FlushQuietly();

 private:
  struct HeldTask {
    std::shared_ptr<TaskRecord> record;
    std::vector<ObjectRef> pins;
  };
  /// Sends the tasks held for the nodes in `only` (all when null), one message per node;
  /// returns the first error after trying every task. One send at a time.
  std::exception_ptr SendHeld(const std::set<NodeId>* only);
  /// Raises `error`, or keeps it for End while a batch is open.
  void Report(std::exception_ptr error);

  NodeTable& nodes_;
  FreeQueue& frees_;
  LoadView& loads_;
  std::mutex send_mu_;  // one SendHeld at a time
  std::mutex mu_;       // guards the batch state below
  int depth_ = 0;
  std::map<NodeId, std::vector<HeldTask>> held_;
  // Outputs of tasks held or being sent, and those of them whose last ref dropped meanwhile.
  std::unordered_map<ObjectId, NodeId, ObjectIdHash> held_outputs_;
  std::unordered_map<ObjectId, NodeId, ObjectIdHash> released_held_;
  size_t num_held_ = 0;
  std::exception_ptr error_;  // the first send error of the open batch
};

}  // namespace nums::engine::cluster
