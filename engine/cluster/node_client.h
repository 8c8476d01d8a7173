#pragma once
// What the driver asks of a cluster, in engine types: NodeClient for one node, HeadClient for the
// membership. ThriftNodeClient and ThriftHeadClient speak Thrift; tests use an in-process fake.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/gpu.h"
#include "engine/object_store.h"
#include "engine/runtime.h"
#include "engine/task.h"
#include "engine/timeline.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {

/// A node as the head lists it.
struct Member {
  NodeId id = -1;
  std::string host;
  int port = 0;
  int64_t cores = 0;
  int64_t memory_bytes = 0;
  int64_t gpus = 0;
  std::vector<GpuInfo> gpu_devices;  ///< name and memory of each
  DeviceRates rates;                 ///< as it measured them when it started
  bool live = false;
  int64_t incarnation = 0;  ///< names the node's process among its restarts
};

struct NodeStats {
  int64_t memory_used = 0;
  int64_t num_objects = 0;
  int64_t tasks_run = 0;
  int64_t net_in_bytes = 0;
  int64_t net_out_bytes = 0;
  int64_t memory_capacity = 0;
  int64_t spilled_bytes = 0;
  int64_t spill_bytes_total = 0;
  int64_t restore_bytes_total = 0;
  int64_t gpu_memory_used = 0;
};

/// The calls the driver makes to one node; safe to call from several threads. Every call throws
/// NodeLostError when the node does not answer, and the error the node raised otherwise
/// (ClusterError for an unknown kernel or an ended session, AuthError for a refused token).
class NodeClient {
 public:
  virtual ~NodeClient() = default;
  /// Queues the tasks on the node, which runs each once its inputs are there; returns the
  /// node's load as it answered (`live` left true).
  virtual NodeLoad SubmitTasks(const std::vector<const TaskRecord*>& tasks) = 0;
  /// Stores `block` on the node as object `id`.
  virtual void Put(const ObjectId& id, const Block& block) = 0;
  /// The object's value (a block or its error) after waiting up to `wait_ms` for it; nullopt
  /// while it is pending. An object the node does not hold is an error value.
  virtual std::optional<ObjectValue> Get(const ObjectId& id, int32_t wait_ms) = 0;
  /// The error of a failed (or absent) object, without moving its data; null when it is ready
  /// or pending.
  virtual std::shared_ptr<const ErrorInfo> Probe(const ObjectId& id) = 0;
  /// Per id, whether it is finished (ready, failed or absent), once `min_done` are or `wait_ms`
  /// passed. With `failed`, also sets `*failed` to, per id, whether it finished without being
  /// ready (failed or absent), or to an empty vector where the node cannot tell (a node from
  /// before the protocol had it).
  virtual std::vector<bool> Await(const std::vector<ObjectId>& ids, int64_t min_done,
                                  int32_t wait_ms, std::vector<bool>* failed) = 0;
  virtual void Free(const std::vector<ObjectId>& ids) = 0;
  virtual NodeStats Stats() = 0;
  virtual void Ping() = 0;
  /// Renews driver session `session`'s lease for `ttl` and returns the node's load as it
  /// answered; ClusterError once the lease has ended there.
  virtual NodeLoad KeepAlive(uint64_t session, std::chrono::milliseconds ttl) = 0;
  /// The node's timeline from seq `since` on (TaskTrace::Since), then recording turned on or
  /// off as `record` says (nullopt: left as it is). ClusterError where the node has none.
  virtual TraceSnapshot Timeline(int64_t since, std::optional<bool> record) {
    (void)since;
    (void)record;
    throw ClusterError("Node.Timeline: this node client keeps no timeline");
  }
  /// Drops the connection: the next call dials the node's address afresh, reaching the process
  /// that serves it now (the node restarted).
  virtual void Reconnect() = 0;
};

/// A new client of node `member`, connecting at its first call, whose calls give up after
/// `io_timeout`.
using NodeDialer = std::function<std::unique_ptr<NodeClient>(const Member& member,
                                                             std::chrono::milliseconds io_timeout)>;

/// The head, which holds the membership only.
class HeadClient {
 public:
  virtual ~HeadClient() = default;
  /// The nodes that registered, live or not. Throws ClusterError when the head does not answer,
  /// AuthError for a refused token.
  virtual std::vector<Member> ListNodes() = 0;
};

}  // namespace nums::engine::cluster
