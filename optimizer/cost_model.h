#pragma once
// CostModel: LSHS's objective for a state that one more block operation would produce, without
// copying the state.

#include <cstdint>
#include <span>

#include "optimizer/cluster_state.h"

namespace nums::optimizer {

/// Evaluates f = max(peak memory) + max(net_in) + max(net_out) after a hypothetical step without
/// copying the state. The memory term starts from the highest peak so far, or from
/// `memory_floor` when that is higher: memory below a peak that the plan has reached already, or
/// that every placement must reach, costs nothing more, so LSHS does not pay network for it (net
/// loads only grow, memory comes and goes). A step only adds to the loads of the nodes it
/// touches, so each maximum after it is the larger of the maximum before (taken once per state,
/// O(nodes)) and the touched nodes' new loads: O(transfers) per candidate.
class CostModel {
 public:
  /// Keeps a reference: `state` must outlive the model and stay unchanged while it is used.
  /// `memory_floor` (0: none) is a bound under the max memory of any placement.
  explicit CostModel(const ClusterState& state, int64_t memory_floor = 0);

  /// The objective after running a step on `node` that receives `incoming` (transfers whose
  /// `to` is `node`, from other nodes) and allocates `out_bytes` there, before any
  /// input is released (the step's peak). `sends_later` bytes are charged to the node's net_out
  /// as well: what it must send afterwards (see Candidate::sends_later).
  int64_t Evaluate(int64_t node, std::span<const Transfer> incoming, int64_t out_bytes,
                   int64_t sends_later = 0) const;

 private:
  const ClusterState& state_;
  int64_t max_memory_, max_net_in_, max_net_out_;
};

}  // namespace nums::optimizer
