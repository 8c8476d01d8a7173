#pragma once
// CostModel: LSHS's objective for a state that one more block operation would produce, without
// copying the state.

#include <cstdint>
#include <span>

#include "optimizer/cluster_state.h"

namespace nums::optimizer {

/// Evaluates f = max(memory) + max(net_in) + max(net_out) after a hypothetical step without
/// copying the state. A step only adds to the loads of the nodes it touches, so each maximum
/// after it is the larger of the maximum before (taken once per state, O(nodes)) and the touched
/// nodes' new loads: O(transfers) per candidate.
class CostModel {
 public:
  /// Keeps a reference: `state` must outlive the model and stay unchanged while it is used.
  explicit CostModel(const ClusterState& state);

  /// The objective after running a step on `node` that receives `incoming` (transfers whose
  /// `to` is `node`, from other nodes) and allocates `out_bytes` there, before any
  /// input is released (the step's peak).
  int64_t Evaluate(int64_t node, std::span<const Transfer> incoming, int64_t out_bytes) const;

 private:
  const ClusterState& state_;
  int64_t max_memory_, max_net_in_, max_net_out_;
};

}  // namespace nums::optimizer
