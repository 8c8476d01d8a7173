#pragma once
// CostModel: LSHS's objective for a state that one more block operation would produce, without
// copying the state.

#include <array>
#include <cstdint>
#include <span>

#include "optimizer/cluster_state.h"

namespace nums::optimizer {

/// Evaluates f = max(memory) + max(net_in) + max(net_out) after a hypothetical step, from the
/// three largest values of each load taken once per state in O(nodes). A step with at most two
/// senders touches at most three nodes, so the maximum over the untouched nodes is the largest
/// of the three that is not touched: O(1). A gather from more senders costs O(nodes).
class CostModel {
 public:
  /// Keeps a reference: `state` must outlive the model and stay unchanged while it is used.
  explicit CostModel(const ClusterState& state);

  /// The objective after running a step on `node` that receives `incoming` (transfers whose
  /// `to` is `node`, from other nodes) and allocates `out_bytes` there, before any
  /// input is released (the step's peak).
  int64_t Evaluate(int64_t node, std::span<const Transfer> incoming, int64_t out_bytes) const;

 private:
  /// The three largest values of a load and their nodes (node -1 pads small clusters).
  struct Top3 {
    std::array<int64_t, 3> value{};
    std::array<int64_t, 3> node{-1, -1, -1};
    void Offer(int64_t node, int64_t value);
    int64_t MaxExcluding(int64_t a, int64_t b) const;
  };

  const ClusterState& state_;
  Top3 memory_, net_in_, net_out_;
};

}  // namespace nums::optimizer
