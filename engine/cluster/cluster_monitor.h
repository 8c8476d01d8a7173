#pragma once
// ClusterMonitor: what the head knows of each node's load, from the stats its heartbeats carry,
// for the dashboard. Keeps each node's latest stats, a bounded history of samples (with rates
// made from the counters of consecutive samples) and a bounded list of recent task errors. Pure
// bookkeeping over times given by the caller, so it is tested step by step.

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "engine/cluster/gen/nums_types.h"

namespace nums::engine::cluster {

/// One node's counters at one time, with the rates since its previous sample.
struct NodeSample {
  int64_t unix_ms = 0;
  int64_t memory_used = 0;
  int64_t spilled_bytes = 0;
  int64_t memory_capacity = 0;
  int64_t num_objects = 0;
  int64_t tasks_queued = 0;
  int64_t tasks_running = 0;
  int64_t tasks_run = 0;  ///< done and failed, since the node process started
  int64_t tasks_failed = 0;
  int64_t net_in_bytes = 0;  ///< since the node process started
  int64_t net_out_bytes = 0;
  double tasks_per_s = 0;  ///< 0 for a node's first sample (or its first after a restart)
  double net_in_per_s = 0;
  double net_out_per_s = 0;
};

/// The sum of the nodes' samples at one time of a regular grid.
struct ClusterSample {
  int64_t unix_ms = 0;
  int64_t memory_used = 0;
  int64_t spilled_bytes = 0;
  int64_t memory_capacity = 0;
  int64_t tasks_queued = 0;
  int64_t tasks_running = 0;
  double tasks_per_s = 0;
  double net_in_per_s = 0;
  double net_out_per_s = 0;
};

/// A task error as the head received it.
struct NodeError {
  int64_t node = -1;  ///< the node that reported it
  wire::TaskErrorW error;
};

/// A driver session over all nodes: what its objects take and on how many nodes it has a lease.
struct SessionTotal {
  uint64_t session = 0;
  int64_t nodes = 0;  ///< nodes holding its objects or its lease
  int64_t leased_nodes = 0;
  int64_t objects = 0;
  int64_t memory_bytes = 0;
  int64_t spilled_bytes = 0;
};

class ClusterMonitor {
 public:
  static constexpr int64_t kDefaultHistory = 600;  ///< samples per node: 10 min at one a second
  static constexpr int64_t kDefaultErrors = 200;

  explicit ClusterMonitor(int64_t history = kDefaultHistory, int64_t errors = kDefaultErrors);

  /// Records node `node`'s stats as of `unix_ms`. Counters lower than the previous sample's mean
  /// the node process restarted: its history starts again. Errors it sent before are skipped.
  void Record(int64_t node, const wire::StatsW& stats, int64_t unix_ms);
  /// Forgets node `node` (it is no longer a member).
  void Forget(int64_t node);

  /// Node `node`'s latest sample; false when it has sent no stats.
  bool Latest(int64_t node, NodeSample* out) const;
  /// Node `node`'s samples newer than `since_ms`, oldest first.
  std::vector<NodeSample> NodeHistory(int64_t node, int64_t since_ms) const;
  /// The cluster on a grid of `step_ms` from the first grid time after `since_ms` to `now_ms`:
  /// at each time, the sum over nodes of each one's latest sample no older than `stale_ms`.
  /// Grid times before the first sample of any node are left out.
  std::vector<ClusterSample> History(int64_t since_ms, int64_t now_ms, int64_t step_ms,
                                     int64_t stale_ms) const;
  /// The recent task errors, oldest first, at most the last `limit`.
  std::vector<NodeError> Errors(int64_t limit) const;
  /// Every driver session some node reported, by the node's latest stats, largest memory first.
  std::vector<SessionTotal> Sessions() const;

 private:
  struct PerNode {
    std::deque<NodeSample> samples;
    std::vector<wire::SessionUsageW> sessions;
    int64_t last_error_seq = 0;
  };
  const int64_t history_;
  const int64_t max_errors_;
  mutable std::mutex mu_;  // guards nodes_ and errors_
  std::map<int64_t, PerNode> nodes_;
  std::deque<NodeError> errors_;
};

}  // namespace nums::engine::cluster
