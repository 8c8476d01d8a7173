#include "engine/cluster/task_batcher.h"

#include <span>

#include "engine/cluster/log.h"

namespace nums::engine::cluster {

void TaskBatcher::Begin() {
  std::lock_guard lock(mu_);
  ++depth_;
}

void TaskBatcher::End() {
  {
    std::lock_guard lock(mu_);
    if (depth_ == 0) throw ValueError("EndBatch without BeginBatch");
    if (--depth_ > 0) return;
  }
  std::exception_ptr error = SendHeld(nullptr);
  {
    std::lock_guard lock(mu_);
    if (!error) error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

bool TaskBatcher::Hold(const std::shared_ptr<TaskRecord>& record, std::vector<ObjectRef>& pins) {
  bool hold = false;
  std::set<NodeId> producers;  // nodes holding back a task whose output this one reads
  {
    std::lock_guard lock(mu_);
    hold = depth_ > 0;
    for (const auto& arg : record->args) {
      const auto* in = std::get_if<ObjectArg>(&arg);
      if (in == nullptr) continue;
      auto it = held_outputs_.find(in->id);
      if (it != held_outputs_.end() && it->second != record->node) producers.insert(it->second);
    }
  }
  if (!producers.empty()) Report(SendHeld(&producers));
  if (!hold) return false;
  bool full = false;
  {
    std::lock_guard lock(mu_);
    for (const ObjectId& out : record->returns) held_outputs_[out] = record->node;
    held_[record->node].push_back({record, std::move(pins)});
    full = ++num_held_ >= kMaxHeldTasks;
  }
  if (full) Flush();
  return true;
}

bool TaskBatcher::DeferRelease(const ObjectId& id, NodeId node) {
  std::lock_guard lock(mu_);
  if (held_outputs_.count(id) == 0) return false;
  released_held_.emplace(id, node);
  return true;
}

void TaskBatcher::FlushQuietly() {
  try {
    if (auto error = SendHeld(nullptr)) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    Log().warn("sending the tasks a batch held: {}", e.what());
  }
}

void TaskBatcher::Report(std::exception_ptr error) {
  if (!error) return;
  {
    std::lock_guard lock(mu_);
    if (depth_ > 0) {
      if (!error_) error_ = error;
      return;
    }
  }
  std::rethrow_exception(error);
}

// The refs of held tasks are out already, so a node lost while sending is not retried here:
// Get finds their outputs gone and recomputes them from the lineage, like any lost object.
std::exception_ptr TaskBatcher::SendHeld(const std::set<NodeId>* only) {
  std::lock_guard sending(send_mu_);
  std::map<NodeId, std::vector<HeldTask>> held;
  {
    std::lock_guard lock(mu_);
    if (only == nullptr) {
      held.swap(held_);
    } else {
      for (NodeId node : *only) {
        if (auto it = held_.find(node); it != held_.end()) held.insert(held_.extract(it));
      }
    }
    for (const auto& [node, tasks] : held) num_held_ -= tasks.size();
  }
  std::exception_ptr first;
  auto submit = [&](NodeId node, std::span<HeldTask> tasks) {
    std::vector<const TaskRecord*> batch;
    batch.reserve(tasks.size());
    for (const HeldTask& t : tasks) batch.push_back(t.record.get());
    const auto asked = LoadView::Clock::now();
    const NodeLoad load = nodes_.Call(node, [&](NodeClient& c) { return c.SubmitTasks(batch); });
    loads_.Report(node, load, OutputBytes(batch), asked);
    for (HeldTask& t : tasks) {
      if (!t.pins.empty() && !t.record->returns.empty()) {
        frees_.Pin(node, t.record->returns[0], std::move(t.pins));
      }
    }
  };
  for (auto& [node, tasks] : held) {
    try {
      submit(node, tasks);
    } catch (const NodeLostError& e) {
      Log().warn("sending {} tasks to node {}: {}", tasks.size(), node, e.what());
    } catch (...) {
      // The node refused the batch for one bad task (an unknown kernel): the others still go.
      for (HeldTask& t : tasks) {
        try {
          submit(node, std::span<HeldTask>(&t, 1));
        } catch (...) {
          if (!first) first = std::current_exception();
        }
      }
    }
  }
  // Refs to these outputs dropped while they were held are released now that the node knows
  // them (freed earlier, the result would have been kept when it came).
  std::vector<std::pair<ObjectId, NodeId>> released;
  {
    std::lock_guard lock(mu_);
    for (const auto& [node, tasks] : held) {
      for (const HeldTask& t : tasks) {
        for (const ObjectId& out : t.record->returns) {
          held_outputs_.erase(out);
          if (auto it = released_held_.find(out); it != released_held_.end()) {
            released.emplace_back(*it);
            released_held_.erase(it);
          }
        }
      }
    }
  }
  for (const auto& [id, node] : released) frees_.Release(id, node);
  return first;
}

}  // namespace nums::engine::cluster
