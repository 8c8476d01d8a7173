#include "optimizer/cost_model.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "nums/errors.hpp"

namespace nums::optimizer {
namespace {

// The objective by brute force: apply the step to a copy of the state.
int64_t BruteForce(ClusterState s, int64_t node, const std::vector<Transfer>& incoming,
                   int64_t out) {
  for (const Transfer& t : incoming) s.Apply(t);
  s.Apply(Allocation{node, out});
  return s.Objective();
}

TEST(CostModel, MatchesApplyingTheStepToACopy) {
  std::mt19937_64 rng(7);
  for (int64_t nodes : {1, 2, 3, 4, 7}) {
    for (int trial = 0; trial < 300; ++trial) {
      std::uniform_int_distribution<int64_t> node(0, nodes - 1), bytes(0, 1000);
      std::vector<int64_t> memory;
      for (int64_t n = 0; n < nodes; ++n) memory.push_back(bytes(rng));
      ClusterState s(memory);
      for (int t = 0; t < 6; ++t) s.Apply(Transfer{node(rng), node(rng), bytes(rng)});
      const int64_t at = node(rng);
      std::vector<Transfer> incoming;
      const int k = static_cast<int>(rng() % 6);  // up to 5: gathers from many senders
      for (int i = 0; i < k && nodes > 1; ++i) {
        int64_t from = node(rng);
        if (from == at) from = (at + 1) % nodes;
        incoming.push_back(Transfer{from, at, bytes(rng)});
      }
      const int64_t out = bytes(rng);
      const CostModel model(s);
      ASSERT_EQ(model.Evaluate(at, incoming, out), BruteForce(s, at, incoming, out))
          << "nodes " << nodes << " trial " << trial;
    }
  }
}

TEST(CostModel, TwoTransfersFromOneSenderAddUp) {
  ClusterState s = ClusterState::Empty(3);
  s.Apply(Transfer{2, 1, 100});  // node 2 sent most so far
  const CostModel model(s);
  const std::vector<Transfer> in{{0, 1, 60}, {0, 1, 60}};
  // node 0 sends 120 > 100; node 1 receives 220 and holds 220 + 5.
  EXPECT_EQ(model.Evaluate(1, in, 5), 225 + 220 + 120);
}

// Memory counts from the highest of the peaks so far and the floor, not from today's loads.
TEST(CostModel, CountsMemoryFromThePeakOrTheFloor) {
  ClusterState s({100, 0});
  s.Apply(Allocation{1, 500});
  s.Apply(Release{1, 500});  // node 1 peaked at 500 and holds nothing now
  EXPECT_EQ(CostModel(s).Evaluate(0, {}, 50), 500);
  EXPECT_EQ(CostModel(s).Evaluate(0, {}, 450), 550);
  EXPECT_EQ(CostModel(s, 1000).Evaluate(0, {}, 450), 1000);
  EXPECT_EQ(CostModel(s, 1000).Evaluate(0, {}, 950), 1050);
}

// What a node must send after the step counts with what it has sent already.
TEST(CostModel, ChargesWhatTheNodeSendsLater) {
  ClusterState s = ClusterState::Empty(3);
  s.Apply(Transfer{2, 0, 100});
  s.Apply(Transfer{1, 2, 30});
  const CostModel model(s);
  // memory: node 0 holds 100 (the copy); max net_in 100; max net_out 100 (node 2).
  EXPECT_EQ(model.Evaluate(1, {}, 0, 50), 100 + 100 + 100);
  EXPECT_EQ(model.Evaluate(1, {}, 0, 80), 100 + 100 + 110);
  const std::vector<Transfer> in{{1, 0, 40}};  // node 1 sends 40 now and 0 sends 60 later
  EXPECT_EQ(model.Evaluate(0, in, 0, 60), 140 + 140 + 100);
  EXPECT_EQ(model.Evaluate(0, in, 0, 120), 140 + 140 + 120);
}

TEST(CostModel, RejectsTransfersThatDoNotReachTheNode) {
  const ClusterState s = ClusterState::Empty(3);
  const CostModel model(s);
  const std::vector<Transfer> wrong{{0, 2, 1}};
  EXPECT_THROW(model.Evaluate(1, wrong, 0), ValueError);
  const std::vector<Transfer> self{{1, 1, 1}};
  EXPECT_THROW(model.Evaluate(1, self, 0), ValueError);
}

}  // namespace
}  // namespace nums::optimizer
