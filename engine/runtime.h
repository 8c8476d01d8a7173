#pragma once
// Runtime: the driver's view of a cluster. One implementation per transport (embedded in-process,
// Thrift over the network); the array layer speaks only this interface.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/device_rates.h"
#include "engine/gpu.h"
#include "engine/object_ref.h"
#include "engine/task.h"
#include "engine/timeline.h"
#include "nums/errors.hpp"

namespace nums::engine {

struct NodeInfo {
  NodeId id = 0;
  std::string address;
  int64_t cores = 0;
  int64_t memory_bytes = 0;   ///< capacity
  int64_t memory_used = 0;    ///< bytes of objects held in memory
  int64_t spilled_bytes = 0;  ///< bytes of objects not in memory (spilled, or dropped to remake)
  int64_t spill_bytes_total = 0;    ///< bytes written to spill files so far
  int64_t restore_bytes_total = 0;  ///< bytes read back from them so far
  int64_t num_objects = 0;
  int64_t tasks_run = 0;
  int64_t net_in_bytes = 0;
  int64_t net_out_bytes = 0;
  int64_t gpus = 0;
  std::vector<GpuInfo> gpu_devices;  ///< name and memory of each GPU
  int64_t gpu_memory_used = 0;       ///< bytes of objects in GPU memory
  /// Its devices' rates, measured when it started; zeros on a node without a GPU (not measured).
  DeviceRates rates;
  bool live = true;
};

/// What placement weighs of a node: the memory it holds, and whether work may go there.
struct NodeLoad {
  int64_t memory_used = 0;    ///< bytes of objects in memory, and outputs it was handed
  int64_t spilled_bytes = 0;  ///< bytes of objects not in memory
  bool live = true;
};

struct WaitResult {
  std::vector<ObjectRef> ready;  ///< finished (ok or failed), in the order given
  std::vector<ObjectRef> not_ready;
};

class Runtime {
 public:
  using Timeout = std::optional<std::chrono::milliseconds>;
  virtual ~Runtime() = default;

  /// Stores `block` on `node`; throws ClusterError for an unknown node.
  virtual ObjectRef Put(Block block, NodeId node) = 0;
  /// Sends the task to its node and returns refs to its outputs at once. Throws ClusterError for
  /// an unknown node or kernel and ValueError for a null ref, before anything is sent.
  virtual std::vector<ObjectRef> Submit(TaskSpec spec) = 0;
  /// Waits for the objects and returns their blocks (zero-copy in-process). A failed object
  /// rethrows its task's error, as the nums::Error subclass it was; TimeoutError past `timeout`.
  virtual std::vector<Block> Get(const std::vector<ObjectRef>& refs, Timeout timeout = {}) = 0;
  Block Get(const ObjectRef& ref, Timeout timeout = {}) {
    return Get(std::vector{ref}, timeout)[0];
  }
  /// Returns once `k` of `refs` are finished (ok or failed) or `timeout` passed.
  virtual WaitResult Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout = {}) = 0;
  /// Returns once every object is finished and rethrows the first failed one's error, as Get
  /// does, without moving any bytes to the driver. By default one no-op task per object, on the
  /// node that holds it, fails with its error and returns an empty block.
  virtual void Await(const std::vector<ObjectRef>& refs);
  /// Frees the objects now, whatever handles remain; a later Get of them raises ClusterError.
  virtual void Free(const std::vector<ObjectRef>& refs) = 0;
  virtual std::vector<NodeInfo> Nodes() = 0;
  /// Each node's load as the runtime knows it already, for placement: never a round trip to the
  /// nodes or the head, so it may lag behind them (ClusterRuntime says by how much). By
  /// default, read from Nodes() (in-process, cheap).
  virtual std::vector<NodeLoad> Loads();
  /// The node that holds the object now: where it was made unless it was recomputed elsewhere.
  virtual NodeId Location(const ObjectRef& ref) { return ref.node(); }

  /// Every node's recorded tasks from seq `since[node]` on (0 where `since` is shorter: all
  /// kept), then recording turned on or off on every node as `record` says (nullopt: left as
  /// it is); each snapshot's `recording` is the state before. Lost nodes are left out.
  /// ClusterError where the runtime keeps no timeline.
  virtual std::vector<NodeTimeline> Timeline(const std::vector<int64_t>& since,
                                             std::optional<bool> record) {
    (void)since;
    (void)record;
    throw ClusterError("timeline: this runtime records no tasks");
  }

  /// Until the matching EndBatch, Submit may hold tasks back and send those of one node in one
  /// message; EndBatch sends what is held and raises what sending it raised (ClusterError for an
  /// unknown kernel). Get, Wait and Free send what is held first. Batches nest; by default
  /// nothing is held.
  virtual void BeginBatch() {}
  virtual void EndBatch() {}
};

/// A batch of submissions for one scope: Send() ends it and raises what sending raised; a batch
/// left unsent (an exception on its way) is sent quietly when the scope ends.
class SubmitBatch {
 public:
  explicit SubmitBatch(Runtime& rt) : rt_(&rt) { rt.BeginBatch(); }
  ~SubmitBatch() {
    if (rt_ == nullptr) return;
    try {
      rt_->EndBatch();
    } catch (...) {  // the error already in flight is the one to report
    }
  }
  SubmitBatch(const SubmitBatch&) = delete;
  SubmitBatch& operator=(const SubmitBatch&) = delete;
  void Send() {
    Runtime* rt = rt_;
    rt_ = nullptr;
    rt->EndBatch();
  }

 private:
  Runtime* rt_;
};

}  // namespace nums::engine
