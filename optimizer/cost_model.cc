#include "optimizer/cost_model.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::optimizer {

CostModel::CostModel(const ClusterState& state, int64_t memory_floor)
    : state_(state),
      max_memory_(std::max(memory_floor, state.MaxPeakMemory())),
      max_net_in_(state.MaxNetIn()),
      max_net_out_(state.MaxNetOut()) {}

int64_t CostModel::Evaluate(int64_t node, std::span<const Transfer> incoming, int64_t out_bytes,
                            int64_t sends_later) const {
  int64_t in_bytes = 0;
  int64_t max_net_out = std::max(max_net_out_, state_.net_out(node) + sends_later);
  for (size_t i = 0; i < incoming.size(); ++i) {
    const Transfer& t = incoming[i];
    if (t.to != node || t.from == node) {
      throw ValueError(
          "CostModel::Evaluate: a transfer must come from another node into the step's");
    }
    in_bytes += t.bytes;
    // What this sender sends in the step, counted at its first transfer.
    bool first = true;
    int64_t sent = 0;
    for (size_t j = 0; j < incoming.size(); ++j) {
      if (incoming[j].from != t.from) continue;
      if (j < i) first = false;
      sent += incoming[j].bytes;
    }
    if (first) max_net_out = std::max(max_net_out, state_.net_out(t.from) + sent);
  }
  return std::max(max_memory_, state_.memory(node) + in_bytes + out_bytes) +
         std::max(max_net_in_, state_.net_in(node) + in_bytes) + max_net_out;
}

}  // namespace nums::optimizer
