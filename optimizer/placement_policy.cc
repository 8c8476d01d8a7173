#include "optimizer/placement_policy.h"

#include "optimizer/cost_model.h"

namespace nums::optimizer {
namespace {

// LSHS: the candidate with the least objective after the step; on a tie the one that moves
// fewer bytes (a max does not see traffic below it), then the earliest, which by the candidates'
// order is the node holding the larger input. Memory counts above the highest peak so far and
// the graph's floor only (see CostModel), and a candidate is charged what it must send next (see
// Candidate): without them, a greedy that sees maxima only spends network to keep memory low
// that no placement keeps low, and spreads a reduction's partials over nodes that are empty now
// only to move them later.
class LshsPolicy : public PlacementPolicy {
 public:
  int64_t Choose(const StepRequest& request, const ClusterState& state) override {
    const CostModel model(state, request.memory_floor);
    int64_t best_node = request.candidates.front().node;
    int64_t best_cost = -1, best_moved = -1;
    for (const Candidate& c : request.candidates) {
      const int64_t cost = model.Evaluate(c.node, c.incoming, request.out_bytes, c.sends_later);
      if (best_cost < 0 || cost < best_cost || (cost == best_cost && c.moved < best_moved)) {
        best_cost = cost;
        best_moved = c.moved;
        best_node = c.node;
      }
    }
    return best_node;
  }
};

class RoundRobinPolicy : public PlacementPolicy {
 public:
  int64_t Choose(const StepRequest&, const ClusterState& state) override {
    for (;;) {
      const int64_t node = next_++ % state.num_nodes();
      if (state.available(node)) return node;
    }
  }

 private:
  int64_t next_ = 0;
};

class LocalityPolicy : public PlacementPolicy {
 public:
  int64_t Choose(const StepRequest& request, const ClusterState&) override {
    return request.candidates.front().node;
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> MakePlacementPolicy(Policy policy) {
  switch (policy) {
    case Policy::kLshs:
      return std::make_unique<LshsPolicy>();
    case Policy::kRoundRobin:
      return std::make_unique<RoundRobinPolicy>();
    case Policy::kLocality:
      return std::make_unique<LocalityPolicy>();
  }
  return nullptr;
}

}  // namespace nums::optimizer
