#pragma once
// The three placement policies behind one interface: given a step's candidate nodes and the
// cluster state, pick the node.

#include <cstdint>
#include <memory>
#include <span>

#include "optimizer/cluster_state.h"
#include "optimizer/plan.h"

namespace nums::optimizer {

/// A node a step may run on, and what it would receive to run there.
struct Candidate {
  int64_t node = 0;
  /// The step's inputs the node lacks, one transfer per distinct value (x * x moves x once).
  std::span<const Transfer> incoming;
  int64_t moved = 0;  ///< their bytes
  /// Bytes the node will have to send after the step: the step's result, when it feeds a
  /// reduction and the node lacks its partner there, placed already (the one op ahead that LSHS
  /// looks at).
  int64_t sends_later = 0;
};

/// What a policy sees of one step. Candidates come in order of preference: first the nodes
/// holding the largest input (the earliest on a tie), then those holding the others in the
/// same order, then (for reduction steps) every other node in ascending order.
struct StepRequest {
  std::span<const Candidate> candidates;
  int64_t out_bytes = 0;
  /// Peak memory per node that no placement of the graph avoids (BlockGraph::MemoryFloor):
  /// memory below it costs nothing.
  int64_t memory_floor = 0;
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  /// The chosen node; the caller commits the step to the state afterwards.
  virtual int64_t Choose(const StepRequest& request, const ClusterState& state) = 0;
};

/// The policy object for `policy`; round-robin keeps its counter across calls.
std::unique_ptr<PlacementPolicy> MakePlacementPolicy(Policy policy);

}  // namespace nums::optimizer
