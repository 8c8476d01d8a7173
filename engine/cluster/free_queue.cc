#include "engine/cluster/free_queue.h"

#include "engine/cluster/log.h"

namespace nums::engine::cluster {

FreeQueue::FreeQueue(std::vector<std::unique_ptr<NodeClient>> clients,
                     std::function<NodeId(const ObjectId&, NodeId)> holder)
    : holder_(std::move(holder)), clients_(std::move(clients)) {
  thread_ = std::thread([this] { Loop(); });
}

void FreeQueue::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void FreeQueue::Release(const ObjectId& id, NodeId node) {
  {
    std::lock_guard lock(mu_);
    // The output a pinned task is watched by must outlive the task: freed earlier, it would
    // read as finished and release the task's inputs before the task has read them.
    if (watched_.count(id) != 0) {
      deferred_.emplace(id, node);
      return;
    }
  }
  Queue(id, node);
}

void FreeQueue::Reconnect(NodeId node) {
  std::lock_guard lock(mu_);
  reconnect_.insert(node);
}

void FreeQueue::Pin(NodeId node, const ObjectId& output, std::vector<ObjectRef> pins) {
  std::lock_guard lock(mu_);
  watched_.insert(output);
  pinned_.push_back({node, output, std::move(pins)});
  cv_.notify_all();
}

void FreeQueue::Queue(const ObjectId& id, NodeId node) {
  const NodeId holder = holder_(id, node);
  if (holder < 0) return;
  std::lock_guard lock(mu_);
  frees_[holder].push_back(id);
  cv_.notify_all();
}

void FreeQueue::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    const bool stopping = stop_;
    if (stopping) {
      // Nothing will wait for the pinned tasks any more: their inputs go with the rest, and so
      // do the outputs released while they ran (a node drops a result freed before it is
      // made, and fails what waited for it).
      std::vector<Pinned> dropped;
      dropped.swap(pinned_);
      watched_.clear();
      std::vector<std::pair<ObjectId, NodeId>> deferred(deferred_.begin(), deferred_.end());
      deferred_.clear();
      lock.unlock();
      dropped.clear();
      for (const auto& [id, node] : deferred) Queue(id, node);
      lock.lock();
    }
    std::map<NodeId, std::vector<ObjectId>> frees;
    frees.swap(frees_);
    std::vector<Pinned> pinned = TakeDue();
    std::set<NodeId> reconnect;
    reconnect.swap(reconnect_);
    lock.unlock();
    for (NodeId node : reconnect) {
      if (node >= 0 && node < static_cast<NodeId>(clients_.size())) {
        clients_[static_cast<size_t>(node)]->Reconnect();
      }
    }
    SendFrees(frees);
    std::vector<Pinned> finished;
    std::vector<Pinned> still = Poll(std::move(pinned), finished);
    std::vector<std::pair<ObjectId, NodeId>> done;
    for (const auto& p : finished) done.emplace_back(p.output, p.node);
    finished.clear();  // their pins drop here, outside the lock, queueing their frees
    lock.lock();
    const bool polling = !still.empty();  // tasks worth a poll are still running
    for (auto& p : still) pinned_.push_back(std::move(p));
    std::vector<std::pair<ObjectId, NodeId>> released;
    for (const auto& [output, node] : done) {
      watched_.erase(output);
      if (auto it = deferred_.find(output); it != deferred_.end()) {
        released.emplace_back(output, it->second);
        deferred_.erase(it);
      }
    }
    if (!released.empty()) {
      lock.unlock();
      for (const auto& [output, node] : released) Queue(output, node);
      lock.lock();
    }
    if (stopping && frees_.empty()) return;
    if (frees_.empty()) {
      // Look at pinned tasks every few ms (a poll only for those worth one); sleep until a
      // release comes when nothing is pinned.
      if (pinned_.empty()) {
        cv_.wait(lock, [&] { return stop_ || !frees_.empty() || !pinned_.empty(); });
      } else {
        // Pins held elsewhere too only need a look for refs dropped meanwhile.
        const auto every = std::chrono::milliseconds(polling ? 5 : 20);
        cv_.wait_for(lock, every, [&] { return stop_ || !frees_.empty(); });
      }
    }
  }
}

void FreeQueue::SendFrees(const std::map<NodeId, std::vector<ObjectId>>& frees) {
  for (const auto& [node, ids] : frees) {
    if (node < 0 || node >= static_cast<NodeId>(clients_.size())) continue;
    try {
      clients_[static_cast<size_t>(node)]->Free(ids);
    } catch (const Error& e) {
      Log().warn("freeing {} objects on node {}: {}", ids.size(), node, e.what());
    }
  }
}

std::vector<FreeQueue::Pinned> FreeQueue::TakeDue() {
  std::vector<Pinned> due;
  if (pinned_.size() > kPollAllAbove) {
    due.swap(pinned_);
    return due;
  }
  // Copies of each object among the pins; a ref with no more copies than these lives only
  // here, so the task's end would free it. Counted by id (a recovery's second ref to an id
  // makes it look pinned only: polled, never kept too long).
  std::unordered_map<ObjectId, int64_t, ObjectIdHash> copies;
  for (const Pinned& p : pinned_) {
    for (const ObjectRef& r : p.pins) ++copies[r.id()];
  }
  std::vector<Pinned> idle;
  for (Pinned& p : pinned_) {
    bool worth = deferred_.count(p.output) != 0;
    for (size_t i = 0; i < p.pins.size() && !worth; ++i) {
      worth = p.pins[i].use_count() <= copies[p.pins[i].id()];
    }
    (worth ? due : idle).push_back(std::move(p));
  }
  pinned_.swap(idle);
  return due;
}

std::vector<FreeQueue::Pinned> FreeQueue::Poll(std::vector<Pinned> pinned,
                                               std::vector<Pinned>& finished_out) {
  std::map<NodeId, std::vector<size_t>> by_node;
  for (size_t i = 0; i < pinned.size(); ++i) by_node[pinned[i].node].push_back(i);
  std::vector<bool> finished(pinned.size(), false);
  for (const auto& [node, idx] : by_node) {
    std::vector<ObjectId> ids;
    for (size_t i : idx) ids.push_back(pinned[i].output);
    std::vector<bool> done;
    try {
      done = clients_[static_cast<size_t>(node)]->Await(ids, 0, 0, nullptr);
    } catch (const Error& e) {
      Log().warn("polling {} tasks on node {}: {}", ids.size(), node, e.what());
      done.assign(ids.size(), true);  // an unreachable node's tasks need their inputs no more
    }
    for (size_t j = 0; j < idx.size() && j < done.size(); ++j) finished[idx[j]] = done[j];
  }
  std::vector<Pinned> still;
  for (size_t i = 0; i < pinned.size(); ++i) {
    (finished[i] ? finished_out : still).push_back(std::move(pinned[i]));
  }
  return still;
}

}  // namespace nums::engine::cluster
