#pragma once
// The three placement policies behind one interface: given a step's candidate nodes and the
// cluster state, pick the node.

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "optimizer/cluster_state.h"
#include "optimizer/plan.h"

namespace nums::optimizer {

/// A node a step may run on, and which of the step's inputs it already holds.
struct Candidate {
  int64_t node = 0;
  std::array<bool, 2> holds{false, false};
};

/// What a policy sees of one step. Candidates come in order of preference: first the nodes
/// holding the larger input (the left one on a tie), then those holding the other, then (for
/// reduction steps) every other node in ascending order.
struct StepRequest {
  std::span<const Candidate> candidates;
  int num_inputs = 1;
  std::array<int64_t, 2> sources{-1, -1};  ///< where an input is fetched from when missing
  std::array<int64_t, 2> input_bytes{0, 0};
  bool same_input = false;  ///< both inputs are one value (x * x): it moves once
  int64_t out_bytes = 0;
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
