#pragma once
// Node: one node's object store, executor and local scheduler. A task waits here until its inputs
// are present (local ones from the store, remote ones through an ObjectSource), then runs. Tasks
// waiting at the same time for one remote object share one fetch of it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/executor.h"
#include "engine/kernel_registry.h"
#include "engine/object_store.h"
#include "engine/task.h"

namespace nums::engine {

/// Where a node finds the objects other nodes hold (in-process stores, or peers over the network).
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  /// Calls `cb` with object `id` of node `holder` once it is ready or failed; counts the transfer.
  virtual void Subscribe(NodeId holder, NodeId receiver, const ObjectId& id, ObjectCallback cb) = 0;
};

class Node {
 public:
  Node(NodeId id, int64_t threads, int64_t memory_bytes,
       std::shared_ptr<const KernelRegistry> registry, ObjectSource* peers);

  /// Registers the task's outputs as pending and runs it once its inputs are present. `pins` hold
  /// the input objects alive until it has run. A failed input fails the outputs with that error.
  void Submit(std::shared_ptr<const TaskRecord> task, std::vector<ObjectRef> pins);

  /// Frees the objects of driver session `session` and fails, without running them, its tasks
  /// that have not started; their outputs are freed as they finish. Returns the objects freed.
  int64_t DropSession(uint64_t session);

  NodeId id() const { return id_; }
  ObjectStore& store() { return store_; }
  Executor& executor() { return executor_; }
  int64_t memory_bytes() const { return memory_bytes_; }
  int64_t tasks_run() const { return tasks_run_.load(std::memory_order_relaxed); }
  int64_t net_in_bytes() const { return net_in_.load(std::memory_order_relaxed); }
  int64_t net_out_bytes() const { return net_out_.load(std::memory_order_relaxed); }
  void CountTransfer(int64_t bytes_in, int64_t bytes_out) {
    net_in_.fetch_add(bytes_in, std::memory_order_relaxed);
    net_out_.fetch_add(bytes_out, std::memory_order_relaxed);
  }

 private:
  struct PendingTask;
  void Execute(PendingTask& p);

  // A remote object fetched for the local tasks that need it: kept while one of them has not run,
  // so that they share one transfer (the optimizer counts one copy per node). A failed fetch is
  // not shared with tasks that ask later: they fetch again.
  struct RemoteKey {
    ObjectId id;
    NodeId holder;
    friend bool operator==(const RemoteKey&, const RemoteKey&) = default;
  };
  struct RemoteKeyHash {
    size_t operator()(const RemoteKey& k) const {
      return ObjectIdHash{}(k.id) ^ static_cast<size_t>(k.holder);
    }
  };
  struct Remote {
    int64_t users = 0;  // local tasks holding this entry that have not run
    std::vector<ObjectCallback> waiting;
    std::optional<ObjectValue> value;
  };
  /// Calls `cb` with the object; returns whether the caller holds the shared entry (and must
  /// call ReleaseRemote once its task has run).
  bool FetchRemote(const RemoteKey& key, ObjectCallback cb);
  void ReleaseRemote(const RemoteKey& key);

  const NodeId id_;
  const int64_t memory_bytes_;
  const std::shared_ptr<const KernelRegistry> registry_;
  ObjectSource* const peers_;
  std::atomic<int64_t> tasks_run_{0};
  std::atomic<int64_t> net_in_{0};
  std::atomic<int64_t> net_out_{0};
  bool Dropped(uint64_t session) const;

  mutable std::mutex dropped_mu_;  // guards dropped_
  std::unordered_set<uint64_t> dropped_;
  std::atomic<bool> any_dropped_{false};  // spares Execute the lock until a session is dropped
  std::mutex remote_mu_;                  // guards remote_
  std::unordered_map<RemoteKey, Remote, RemoteKeyHash> remote_;
  ObjectStore store_;
  Executor executor_;  // last: destroyed first, so running tasks never outlive the store
};

}  // namespace nums::engine
