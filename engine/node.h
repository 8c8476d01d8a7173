#pragma once
// Node: one node's memory, object store, executor and local scheduler. A task waits here until
// its inputs are present (local ones from the store, remote ones through an ObjectSource), then
// until its memory fits (admission), then runs. Tasks waiting at the same time for one remote
// object share one fetch of it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/executor.h"
#include "engine/gpu.h"
#include "engine/histogram.h"
#include "engine/io_threads.h"
#include "engine/kernel_registry.h"
#include "engine/object_store.h"
#include "engine/recent_errors.h"
#include "engine/task.h"
#include "engine/timeline.h"

namespace nums::engine {

/// Where a node finds the objects other nodes hold (in-process stores, or peers over the network).
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  /// Calls `cb` with object `id` of node `holder` once it is ready or failed; counts the transfer.
  virtual void Subscribe(NodeId holder, NodeId receiver, const ObjectId& id, ObjectCallback cb) = 0;
};

/// A node's memory: its capacity, where spilling starts, and where spilled objects go.
struct NodeMemory {
  static constexpr double kDefaultHighWater = 0.8;
  int64_t capacity = 0;                   ///< bytes; 0: the machine's physical memory
  double high_water = kDefaultHighWater;  ///< spilling starts above this fraction of capacity
  std::string spill_root{};  ///< parent of the node's spill directory; empty: no spilling
  std::string spill_name{};  ///< the node's own directory under spill_root
  std::function<void(const std::string&)> log{};  ///< spill decisions (debug); may be empty
  /// GPUs the node uses, the first of those the process has: -1 all of them; more than it has
  /// is a ClusterError. Each gets a device memory pool, a tier the store counts on its own.
  int64_t gpus = -1;
};

class Node {
 public:
  /// How long a task that does not fit waits, while nothing runs on the node, for objects to
  /// be freed before it fails with OutOfMemoryError.
  static constexpr std::chrono::milliseconds kIdleMemoryWait{3000};

  /// Throws IOError when the spill directory cannot be made or is in use.
  Node(NodeId id, int64_t threads, NodeMemory memory,
       std::shared_ptr<const KernelRegistry> registry, ObjectSource* peers);
  /// Stop() and waits for running tasks.
  ~Node();
  /// Fails the tasks waiting for memory and admits no more; running tasks go on. Idempotent.
  void Stop();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Registers the task's outputs as pending and runs it once its inputs are present. `pins` hold
  /// the input objects alive until it has run. A failed input fails the outputs with that error.
  void Submit(std::shared_ptr<const TaskRecord> task, std::vector<ObjectRef> pins);

  /// Frees the objects of driver session `session` and fails, without running them, its tasks
  /// that have not started; their outputs are freed as they finish. Returns the objects freed.
  int64_t DropSession(uint64_t session);

  /// Blocks until no task is queued or running on its compute or I/O threads.
  void WaitIdle() {
    executor_.WaitIdle();
    io_threads_.WaitIdle();
  }

  NodeId id() const { return id_; }
  ObjectStore& store() { return store_; }
  Executor& executor() { return executor_; }
  int64_t memory_bytes() const { return capacity_; }
  const std::shared_ptr<HostPool>& pool() const { return pool_; }
  /// The GPUs this node uses and their memory pools (same order).
  const std::vector<GpuInfo>& gpus() const { return gpus_; }
  const std::vector<std::shared_ptr<MemoryPool>>& gpu_pools() const { return gpu_pools_; }
  /// Bytes copied between host and GPU memory because a task's input was on the other side.
  int64_t staged_bytes() const { return staged_.load(std::memory_order_relaxed); }
  int64_t tasks_run() const { return tasks_run_.load(std::memory_order_relaxed); }
  /// Tasks run whose outputs are errors (counted in tasks_run() too).
  int64_t tasks_failed() const { return tasks_failed_.load(std::memory_order_relaxed); }
  /// Tasks submitted and not yet run or running (waiting for inputs, a thread or memory).
  int64_t tasks_queued() const {
    const int64_t n = tasks_submitted_.load(std::memory_order_relaxed) -
                      tasks_run_.load(std::memory_order_relaxed) -
                      running_.load(std::memory_order_relaxed);
    return n < 0 ? 0 : n;  // the counters are read one at a time
  }
  /// The last errors raised by tasks run here (not those passed on from a failed input).
  const RecentErrors& recent_errors() const { return recent_errors_; }
  /// Tasks admitted that have not finished.
  int64_t tasks_running() const { return running_.load(std::memory_order_relaxed); }
  /// How long each task run here took, from the start of its execution to its sealed outputs.
  const LatencyHistogram& task_seconds() const { return task_seconds_; }
  /// The tasks run here while recording was on (one event per task counted in tasks_run()).
  /// Recording starts on when the environment has NUMS_TIMELINE=1.
  TaskTrace& trace() { return trace_; }
  /// Declared outputs that a kernel did not make (a wrong declaration), and tasks run that
  /// declared none yet made new blocks: what keeps admission from knowing a task's bytes ahead.
  /// Tasks waiting for memory now.
  int64_t parked_tasks() const {
    std::lock_guard lock(admit_mu_);
    return static_cast<int64_t>(parked_.size());
  }
  int64_t unclaimed_outputs() const { return unclaimed_outputs_.load(); }
  int64_t undeclared_tasks() const { return undeclared_tasks_.load(); }
  int64_t net_in_bytes() const { return net_in_.load(std::memory_order_relaxed); }
  int64_t net_out_bytes() const { return net_out_.load(std::memory_order_relaxed); }
  void CountTransfer(int64_t bytes_in, int64_t bytes_out) {
    net_in_.fetch_add(bytes_in, std::memory_order_relaxed);
    net_out_.fetch_add(bytes_out, std::memory_order_relaxed);
  }

 private:
  struct PendingTask;
  /// Says once per kernel and reason that its tasks run on the CPU instead of the GPU.
  void LogFallback(const std::string& kernel, const std::string& why);
  /// Queues the task on the I/O threads or the compute arena, as it asks.
  void Dispatch(std::shared_ptr<PendingTask> p);
  void Execute(std::shared_ptr<PendingTask> p);
  /// A pending task to fill: a finished one's, its vectors' room kept, or a new one.
  std::shared_ptr<PendingTask> NewPending();
  /// Keeps a finished task no one else holds for NewPending.
  void Recycle(std::shared_ptr<PendingTask> p);
  /// How a recomputable task's output is made again after it was dropped.
  ObjectStore::Remake RemakeOf(const PendingTask& p) const;
  /// Admits `p` (true), parks it until a running task finishes (false), or throws
  /// OutOfMemoryError when it can never fit or nothing could free memory for it.
  bool Admit(const std::shared_ptr<PendingTask>& p, int64_t need);
  /// Whether `need` more bytes fit under the high-water mark, after emptying the pool's cache
  /// and spilling what the eviction policy allows. Called with admit_mu_ held.
  bool MakeRoom(int64_t need);
  /// The pool's reclaimer: spills before an allocation crosses the high-water mark; throws
  /// OutOfMemoryError when the allocation would pass the capacity even so.
  void Reclaim(int64_t need);
  /// Adds the finished task to the timeline (recording is on).
  void RecordTask(const PendingTask& p, std::chrono::steady_clock::time_point started,
                  const std::vector<Block>& outputs, bool failed);
  /// A task that was admitted has finished: returns its reservation, wakes parked tasks.
  void Finished(int64_t reserved);
  int64_t Over(int64_t need) const;
  /// Runs the parked tasks again (they park again if they still do not fit).
  void WakeParked();
  /// While nothing runs, parked tasks wait for frees: this retries them every few ms.
  void IdleRetryLoop();
  /// Queues the spilled ones of a ready task's local inputs to be read back ahead of it.
  void Prefetch(const std::vector<ObjectId>& inputs);
  /// Reads queued objects back while the node's memory has room for them, in queue order.
  void PrefetchLoop();

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
  /// Asks the peer for the object; its value (or error) reaches DeliverRemote.
  void StartFetch(const RemoteKey& key);
  /// Hands a fetched object to the tasks waiting for it; a copy that found no memory is fetched
  /// again later (IdleRetryLoop) instead.
  void DeliverRemote(const RemoteKey& key, const ObjectValue& v);

  const NodeId id_;
  const int64_t capacity_;
  const int64_t high_water_;
  const std::function<void(const std::string&)> log_;
  std::shared_ptr<HostPool> pool_;
  const std::shared_ptr<MemoryPool> memory_;  // pool_, as the thread's current pool
  std::vector<GpuInfo> gpus_;
  std::vector<std::shared_ptr<MemoryPool>> gpu_pools_;
  std::atomic<int64_t> staged_{0};
  std::mutex fallback_mu_;  // guards fallbacks_
  std::unordered_set<std::string> fallbacks_;
  const std::shared_ptr<const KernelRegistry> registry_;
  ObjectSource* const peers_;
  std::atomic<int64_t> tasks_run_{0};
  std::atomic<int64_t> tasks_failed_{0};
  std::atomic<int64_t> tasks_submitted_{0};
  LatencyHistogram task_seconds_;
  RecentErrors recent_errors_;
  TaskTrace trace_;
  std::atomic<int64_t> unclaimed_outputs_{0};
  std::atomic<int64_t> undeclared_tasks_{0};
  std::atomic<int64_t> net_in_{0};
  std::atomic<int64_t> net_out_{0};
  bool Dropped(uint64_t session) const;

  mutable std::mutex dropped_mu_;  // guards dropped_
  std::unordered_set<uint64_t> dropped_;
  std::atomic<bool> any_dropped_{false};   // spares Execute the lock until a session is dropped
  std::atomic<int64_t> next_position_{0};  // queue position of the next submitted task
  std::atomic<int64_t> running_{0};        // admitted tasks that have not finished
  std::atomic<int64_t> reserved_{0};       // admitted bytes not yet allocated
  std::atomic<bool> any_parked_{false};
  mutable std::mutex admit_mu_;  // guards parked_, spill_error_; serialises admissions that spill
  std::deque<std::shared_ptr<PendingTask>> parked_;
  std::string spill_error_;             // the last failed spill, for OutOfMemoryError messages
  std::vector<RemoteKey> fetch_retry_;  // guarded by admit_mu_: fetches to try again
  // guarded by admit_mu_: since when each fetch that found no memory has been retried
  std::unordered_map<RemoteKey, std::chrono::steady_clock::time_point, RemoteKeyHash>
      fetch_retry_since_;
  std::atomic<bool> any_fetch_retry_{false};  // fetch_retry_since_ is not empty: spares the lock
  bool stopping_ = false;                     // guarded by admit_mu_
  std::condition_variable retry_cv_;          // with admit_mu_: wakes IdleRetryLoop to stop
  std::thread retry_thread_;
  std::mutex prefetch_mu_;  // guards prefetch_, stop_prefetch_
  std::condition_variable prefetch_cv_;
  std::deque<ObjectId> prefetch_;
  bool stop_prefetch_ = false;
  std::thread prefetch_thread_;  // only with a spill directory
  std::mutex spare_mu_;          // guards spare_
  std::vector<std::shared_ptr<PendingTask>> spare_;
  std::mutex remote_mu_;  // guards remote_
  std::unordered_map<RemoteKey, Remote, RemoteKeyHash> remote_;
  ObjectStore store_;
  IoThreads io_threads_;  // tasks that block on I/O; destroyed before the store
  Executor executor_;     // last: destroyed first, so running tasks never outlive the store
};

}  // namespace nums::engine
