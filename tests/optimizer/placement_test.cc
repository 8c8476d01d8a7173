// Hand-checked placements on small graphs, and each baseline's behaviour.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "nums/errors.hpp"
#include "optimizer/search.h"

namespace nums::optimizer {
namespace {

ClusterState Seeded(const BlockGraph& g, int64_t nodes) {
  return ClusterState(g.LeafBytesPerNode(nodes));
}

// A gather of 100 B from node 0 and 300 B + 50 B from node 1 into a 450 B block. On node 1:
// f = (300 + 50 + 100 + 450) + 100 + 100 = 1100; on node 0: (100 + 350 + 450) + 350 + 350 = 1600.
TEST(Placement, GatherRunsWhereMostOfItsInputIs) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 100);
  const OpId b = g.AddLeaf(1, 300);
  const OpId c = g.AddLeaf(1, 50);
  g.MarkOutput(g.AddGather({a, b, c, a}, 450, "reshape"));  // a read twice moves once
  for (Policy p : {Policy::kLshs, Policy::kLocality}) {
    const Plan plan = Place(g, Seeded(g, 3), p);
    ASSERT_EQ(plan.steps.size(), 1u);
    const PlanStep& s = plan.steps[0];
    EXPECT_EQ(s.node, 1) << PolicyName(p);
    EXPECT_EQ(s.inputs, (std::vector<ValueId>{a, b, c, a}));
    EXPECT_EQ(s.sources, (std::vector<int64_t>{0, 1, 1, 1}));
    EXPECT_EQ(plan.MovedBytes(), 100);
    EXPECT_EQ(plan.state.net_out(0), 100);
    // After the step the copy of a is released: 800 B on node 1, 100 B in and out.
    EXPECT_EQ(plan.state.Objective(), 800 + 100 + 100) << PolicyName(p);
  }
  // Round-robin ignores where the inputs are: node 0, which fetches b and c.
  const Plan rr = Place(g, Seeded(g, 3), Policy::kRoundRobin);
  EXPECT_EQ(rr.steps[0].node, 0);
  EXPECT_EQ(rr.MovedBytes(), 350);
}

// Inputs on three nodes and a fourth, empty node: a gather runs on a node holding an input (the
// empty one is not a candidate). On node 1 (the largest input) f = 800 + 200 + 100 = 1100; on
// node 0 or 2, f = 800 + 300 + 200 = 1300.
TEST(Placement, GatherChoosesAmongInputHolders) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 100);
  const OpId b = g.AddLeaf(1, 200);
  const OpId c = g.AddLeaf(2, 100);
  g.MarkOutput(g.AddGather({a, b, c}, 400));
  const Plan plan = Place(g, Seeded(g, 4), Policy::kLshs);
  EXPECT_EQ(plan.steps[0].node, 1);
  EXPECT_EQ(plan.MovedBytes(), 200);
}

// A source (a block made from no input) and a pinned op run on their nodes under every policy,
// whatever the loads, and pay for what they fetch there like any step.
TEST(Placement, SourcesAndPinnedOpsRunOnTheirNodes) {
  BlockGraph g;
  const OpId s = g.AddSource(2, 100, "full");
  const OpId a = g.AddLeaf(0, 300);
  const OpId b = g.AddBinary(a, s, 100, "qr");
  g.Pin(b, 3);
  const OpId free = g.AddUnary(b, 50, "exp");
  g.MarkOutput(free);
  EXPECT_EQ(g.min_nodes(), 4);
  for (Policy p : {Policy::kLshs, Policy::kLocality, Policy::kRoundRobin}) {
    for (const ClusterState& state : {ClusterState::Empty(5), ClusterState({0, 0, 0, 9000, 0})}) {
      const Plan plan = Place(g, state, p);
      ASSERT_EQ(plan.steps.size(), 3u) << PolicyName(p);
      EXPECT_EQ(plan.steps[0].node, 2) << PolicyName(p);
      EXPECT_TRUE(plan.steps[0].inputs.empty());
      EXPECT_EQ(plan.steps[1].node, 3) << PolicyName(p);
      EXPECT_EQ(plan.steps[1].sources, (std::vector<int64_t>{0, 2}));
      EXPECT_EQ(plan.node_of_op[static_cast<size_t>(b)], 3);
      if (p != Policy::kRoundRobin) {
        EXPECT_EQ(plan.steps[2].node, 3) << PolicyName(p);
      }
    }
  }
  // Every op pinned: the loads cannot matter, whatever the policy.
  BlockGraph pinned;
  const OpId x = pinned.AddSource(1, 8);
  const OpId y = pinned.AddBinary(x, pinned.AddLeaf(0, 8), 8);
  pinned.Pin(y, 0);
  pinned.MarkOutput(y);
  EXPECT_TRUE(LoadsCannotMatter(pinned, Policy::kLshs));
  EXPECT_TRUE(LoadsCannotMatter(pinned, Policy::kRoundRobin));
  EXPECT_FALSE(LoadsCannotMatter(g, Policy::kRoundRobin));  // `free` is the policy's
  // A node past the cluster's is refused, as a leaf's is.
  EXPECT_THROW(Place(g, ClusterState::Empty(3), Policy::kLshs), ValueError);
}

TEST(Placement, LoadsCannotMatterWhenEveryOpHasOneCandidate) {
  BlockGraph g;
  const OpId a = g.AddLeaf(1, 100);
  const OpId b = g.AddLeaf(2, 100);
  const OpId sq = g.AddBinary(a, a, 100, "mul");  // one value read twice
  g.MarkOutput(g.AddUnary(sq, 100, "exp"));
  g.MarkOutput(g.AddGather({b}, 50, "transpose"));
  EXPECT_TRUE(LoadsCannotMatter(g, Policy::kLshs));
  EXPECT_TRUE(LoadsCannotMatter(g, Policy::kLocality));
  EXPECT_FALSE(LoadsCannotMatter(g, Policy::kRoundRobin));
  // The plan is the same from empty nodes as from a loaded cluster.
  const Plan empty = Place(g, ClusterState::Empty(3), Policy::kLshs);
  const Plan loaded = Place(g, ClusterState({0, 5000, 9000}), Policy::kLshs);
  EXPECT_EQ(empty.node_of_op, loaded.node_of_op);
  EXPECT_EQ(empty.node_of_op[static_cast<size_t>(sq)], 1);
  BlockGraph two;
  two.MarkOutput(two.AddBinary(two.AddLeaf(0, 8), two.AddLeaf(1, 8), 8));
  EXPECT_FALSE(LoadsCannotMatter(two, Policy::kLshs));
  BlockGraph sum;
  const OpId x = sum.AddLeaf(0, 8);
  sum.MarkOutput(sum.AddReduce({x, x}, 8));
  EXPECT_FALSE(LoadsCannotMatter(sum, Policy::kLshs));
}

TEST(Placement, ElementwiseOnCoLocatedInputsStaysPut) {
  BlockGraph g;
  const OpId a = g.AddLeaf(2, 1000);
  const OpId b = g.AddLeaf(2, 1000);
  g.AddLeaf(0, 5000);  // a busier node elsewhere does not pull the op away
  g.MarkOutput(g.AddBinary(a, b, 1000, "add"));
  for (Policy p : {Policy::kLshs, Policy::kLocality}) {
    const Plan plan = Place(g, Seeded(g, 4), p);
    ASSERT_EQ(plan.steps.size(), 1u);
    EXPECT_EQ(plan.steps[0].node, 2) << PolicyName(p);
    EXPECT_EQ(plan.MovedBytes(), 0);
    EXPECT_EQ(plan.state.memory(2), 3000);
  }
}

// Node 0 is full; a binary op of two small inputs on nodes 0 and 1 with a large output:
// on node 0: f = (1000 + 10 + 100) + 10 + 10 = 1130; on node 1: f = 1000 + 10 + 10 = 1020.
TEST(Placement, LshsMovesSmallInputsAwayFromAFullNode) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  const OpId b = g.AddLeaf(1, 10);
  g.MarkOutput(g.AddBinary(a, b, 100));
  const ClusterState start({1000, 10});
  const Plan lshs = Place(g, start, Policy::kLshs);
  EXPECT_EQ(lshs.steps[0].node, 1);
  EXPECT_EQ(lshs.steps[0].sources[0], 0);  // a moved
  EXPECT_EQ(lshs.steps[0].sources[1], 1);
  EXPECT_EQ(lshs.state.Objective(), 1000 + 10 + 10);
  // Locality ignores the load: equal inputs, so the left input's node.
  EXPECT_EQ(Place(g, start, Policy::kLocality).steps[0].node, 0);
}

// A sum of two products whose inputs are 100 B and whose results are 200 B; node 2 holds a
// 10,000 B block, so memory on nodes 0 and 1 is free. The first product runs on node 0 (both
// inputs there). The second may run on node 1 (A1) or node 0 (B1): either moves 100 B, but on
// node 1 its result must later travel to node 0's partial, charged to node 1's net_out: f =
// 10,000 + 100 + 200 there against 10,000 + 100 + 100 on node 0. So both partials meet on
// node 0 and the sum moves nothing; locality runs it on A1's node and moves a partial.
TEST(Placement, LshsPlacesAPartialProductWithItsSibling) {
  BlockGraph g;
  const OpId a0 = g.AddLeaf(0, 100, "A0");
  const OpId b0 = g.AddLeaf(0, 100, "B0");
  const OpId a1 = g.AddLeaf(1, 100, "A1");
  const OpId b1 = g.AddLeaf(0, 100, "B1");
  g.AddLeaf(2, 10'000, "other");
  const OpId p0 = g.AddProduct(a0, b0, 200);
  const OpId p1 = g.AddProduct(a1, b1, 200);
  g.MarkOutput(g.AddReduce({p0, p1}, 200));
  const Plan lshs = Place(g, Seeded(g, 3), Policy::kLshs);
  EXPECT_EQ(lshs.node_of_op[static_cast<size_t>(p1)], 0);
  EXPECT_EQ(lshs.MovedBytes(), 100);
  EXPECT_EQ(lshs.state.Objective(), 10'000 + 100 + 100);
  const Plan locality = Place(g, Seeded(g, 3), Policy::kLocality);
  EXPECT_EQ(locality.node_of_op[static_cast<size_t>(p1)], 1);
  EXPECT_EQ(locality.MovedBytes(), 100 + 200);
}

// Partials are paired by the leaves they come from, not by where they were made: whatever the
// policy and the loads, and so wherever the products ran, the reduction combines the same pairs
// in the same order, so a float sum has the same bits whatever the cluster held.
TEST(Placement, AReductionTreeDependsOnTheGraphOnly) {
  BlockGraph g;
  std::vector<OpId> parts;
  for (int64_t k = 0; k < 6; ++k) {
    // Home (k + 1) % 3, where round-robin does not run the product.
    const OpId a = g.AddLeaf((k + 1) % 3, 100);
    const OpId b = g.AddLeaf(k % 3, 100);
    parts.push_back(g.AddProduct(a, b, 100));
  }
  const OpId sum = g.AddReduce(parts, 100);
  g.MarkOutput(sum);
  auto tree = [&](const Plan& plan) {
    std::vector<std::vector<ValueId>> steps;
    for (const PlanStep& s : plan.steps) {
      if (s.op == sum) steps.push_back(s.inputs);
    }
    return steps;
  };
  // Where every step ran: LSHS and locality keep these products on their homes (under LSHS as
  // each shares its home with another), round-robin does not, and LSHS places the reduction's
  // steps by the loads.
  auto nodes_of_steps = [&](const Plan& plan) {
    std::vector<int64_t> nodes;
    for (const PlanStep& s : plan.steps) nodes.push_back(s.node);
    return nodes;
  };
  const Plan first = Place(g, ClusterState({0, 0, 0}), Policy::kLshs);
  EXPECT_EQ(tree(first).size(), parts.size() - 1);
  std::set<std::vector<int64_t>> placements;
  for (Policy p : {Policy::kLshs, Policy::kLocality, Policy::kRoundRobin}) {
    for (const ClusterState& start :
         {ClusterState({0, 0, 0}), ClusterState({100'000, 0, 0}), ClusterState({0, 0, 100'000})}) {
      const Plan plan = Place(g, start, p);
      EXPECT_EQ(tree(plan), tree(first)) << PolicyName(p);
      placements.insert(nodes_of_steps(plan));
    }
  }
  EXPECT_GT(placements.size(), 1u) << "every plan ran its steps on the same nodes";
}

TEST(Placement, UnaryRunsWhereItsInputIs) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  g.MarkOutput(g.AddUnary(a, 100));
  // Even on a full node: candidates are the nodes holding the inputs.
  const Plan plan = Place(g, ClusterState({1000, 0}), Policy::kLshs);
  EXPECT_EQ(plan.steps[0].node, 0);
  EXPECT_EQ(plan.MovedBytes(), 0);
}

// X^T X on 2 nodes, one row block per node: the partial products run where their block is and
// exactly one 64-byte partial moves, the least any placement can move. The last step goes to the
// left partial's node on the tie.
TEST(Placement, TwoNodeXtxIsOptimal) {
  BlockGraph g;
  const OpId x0 = g.AddLeaf(0, 1000, "X0");
  const OpId x1 = g.AddLeaf(1, 1000, "X1");
  const OpId p0 = g.AddProduct(x0, x0, 64);
  const OpId p1 = g.AddProduct(x1, x1, 64);
  const OpId r = g.AddReduce({p0, p1}, 64);
  g.MarkOutput(r);
  const Plan plan = Place(g, Seeded(g, 2), Policy::kLshs);
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[0].node, 0);
  EXPECT_EQ(plan.steps[1].node, 1);
  EXPECT_EQ(plan.steps[2].node, 0);
  EXPECT_EQ(plan.steps[2].output, r);
  EXPECT_EQ(plan.MovedBytes(), 64);
  EXPECT_EQ(plan.node_of_op[static_cast<size_t>(r)], 0);
  EXPECT_EQ(plan.state.net_in(0), 64);
  EXPECT_EQ(plan.state.net_out(1), 64);
  // Partials and the copy released: the inputs and the result remain.
  EXPECT_EQ(plan.state.memory(0), 1064);
  EXPECT_EQ(plan.state.memory(1), 1000);
  // Node 0 held X0, p0, the copy of p1 and the result at once.
  EXPECT_EQ(plan.state.peak_memory(0), 1000 + 3 * 64);
  EXPECT_EQ(plan.state.Objective(), 1064 + 64 + 64);
}

// Four blocks on four nodes: a balanced tree, (0,1) -> 0, (2,3) -> 2, then 2 -> 0; each partial
// crosses the network once and no node sends twice.
TEST(Placement, ReductionOverFourNodesIsATreeThatMovesEachByteOnce) {
  BlockGraph g;
  std::vector<OpId> leaves;
  for (int64_t n = 0; n < 4; ++n) leaves.push_back(g.AddLeaf(n, 100));
  const OpId r = g.AddReduce(leaves, 100);
  g.MarkOutput(r);
  const Plan plan = Place(g, Seeded(g, 4), Policy::kLshs);
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[0].inputs, (std::vector<ValueId>{leaves[0], leaves[1]}));
  EXPECT_EQ(plan.steps[0].node, 0);
  EXPECT_EQ(plan.steps[1].inputs, (std::vector<ValueId>{leaves[2], leaves[3]}));
  EXPECT_EQ(plan.steps[1].node, 2);
  EXPECT_EQ(plan.steps[2].inputs,
            (std::vector<ValueId>{plan.steps[0].output, plan.steps[1].output}));
  EXPECT_EQ(plan.steps[2].node, 0);
  EXPECT_EQ(plan.steps[2].output, r);
  std::map<ValueId, int> moves;
  for (const PlanStep& s : plan.steps) {
    for (int k = 0; k < 2; ++k) {
      if (s.sources[static_cast<size_t>(k)] != s.node) ++moves[s.inputs[static_cast<size_t>(k)]];
    }
  }
  EXPECT_EQ(moves.size(), 3u);
  for (const auto& [v, count] : moves) EXPECT_EQ(count, 1) << "value " << v;
  EXPECT_EQ(plan.MovedBytes(), 300);
  EXPECT_EQ(plan.state.MaxNetOut(), 100);
  EXPECT_EQ(plan.state.MaxNetIn(), 200);
  EXPECT_EQ(plan.state.TotalMemory(), 500);
}

TEST(Placement, ReductionCombinesCoLocatedPartialsFirst) {
  BlockGraph g;
  std::vector<OpId> leaves;
  for (int64_t i = 0; i < 6; ++i) leaves.push_back(g.AddLeaf(i % 2, 100));
  g.MarkOutput(g.AddReduce(leaves, 100));
  const Plan plan = Place(g, Seeded(g, 2), Policy::kLshs);
  ASSERT_EQ(plan.steps.size(), 5u);
  // Two local steps on each node before the one transfer.
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(plan.steps[i].MovedBytes(), 0) << i;
  EXPECT_EQ(plan.MovedBytes(), 100);
}

// Other nodes dominate every maximum, so both candidates tie: the node with the larger input.
TEST(Placement, TiesGoToTheNodeHoldingTheLargerInput) {
  for (bool left_larger : {true, false}) {
    BlockGraph g;
    const OpId a = g.AddLeaf(0, left_larger ? 20 : 10);
    const OpId b = g.AddLeaf(1, left_larger ? 10 : 20);
    g.MarkOutput(g.AddBinary(a, b, 1));
    ClusterState start({0, 0, 1'000'000, 0});
    start.Apply(Transfer{2, 3, 1000});
    const Plan plan = Place(g, start, Policy::kLshs);
    EXPECT_EQ(plan.steps[0].node, left_larger ? 0 : 1);
    EXPECT_EQ(plan.state.Objective(), start.Objective());
    EXPECT_EQ(Place(g, start, Policy::kLocality).steps[0].node, left_larger ? 0 : 1);
  }
}

TEST(Placement, RoundRobinIgnoresWhereInputsAre) {
  BlockGraph g;
  std::vector<OpId> us;
  const OpId a = g.AddLeaf(0, 10);
  for (int i = 0; i < 3; ++i) us.push_back(g.AddUnary(a, 10));
  g.MarkOutput(g.AddReduce(us, 10));
  const Plan plan = Place(g, Seeded(g, 3), Policy::kRoundRobin);
  ASSERT_EQ(plan.steps.size(), 5u);
  for (size_t i = 0; i < plan.steps.size(); ++i) EXPECT_EQ(plan.steps[i].node, int64_t(i % 3));
  EXPECT_GT(plan.MovedBytes(), 0);
}

TEST(Placement, LocalityRunsWhereTheLargerInputIs) {
  BlockGraph g;
  const OpId big = g.AddLeaf(1, 1000);
  const OpId small = g.AddLeaf(0, 10);
  g.MarkOutput(g.AddBinary(small, big, 1000));
  // Node 1 is full, yet locality stays with the big block.
  const Plan plan = Place(g, ClusterState({10, 1'000'000}), Policy::kLocality);
  EXPECT_EQ(plan.steps[0].node, 1);
  EXPECT_EQ(plan.MovedBytes(), 10);
}

// A small block read by two ops on another node crosses once; its copy goes when the last
// reader is placed.
TEST(Placement, CopiesAreReusedAndReleased) {
  BlockGraph g;
  const OpId w = g.AddLeaf(0, 8, "w");
  const OpId x1 = g.AddLeaf(1, 1000);
  const OpId x2 = g.AddLeaf(1, 1000);
  g.MarkOutput(g.AddProduct(x1, w, 16));
  g.MarkOutput(g.AddProduct(x2, w, 16));
  const Plan plan = Place(g, Seeded(g, 2), Policy::kLshs);
  EXPECT_EQ(plan.steps[0].node, 1);
  EXPECT_EQ(plan.steps[1].node, 1);
  EXPECT_EQ(plan.steps[0].sources[1], 0);
  EXPECT_EQ(plan.steps[1].sources[1], 1);  // already there
  EXPECT_EQ(plan.MovedBytes(), 8);
  EXPECT_EQ(plan.state.memory(1), 2032);
  EXPECT_EQ(plan.state.peak_memory(1), 2000 + 8 + 32);
}

TEST(Placement, AResultNobodyReadsIsReleasedAtOnce) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  g.AddUnary(a, 500);
  const Plan plan = Place(g, Seeded(g, 1), Policy::kLshs);
  EXPECT_EQ(plan.state.memory(0), 10);
  EXPECT_EQ(plan.state.peak_memory(0), 510);
}

TEST(Placement, RejectsALeafOutsideTheCluster) {
  BlockGraph g;
  g.AddLeaf(3, 10);
  EXPECT_THROW(Place(g, ClusterState::Empty(2), Policy::kLshs), ValueError);
}

TEST(Placement, ExplainNamesNodesAndMoves) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  const OpId b = g.AddLeaf(1, 10);
  g.MarkOutput(g.AddBinary(a, b, 100, "add"));
  const std::string text = Explain(Place(g, ClusterState({1000, 10}), Policy::kLshs), g);
  EXPECT_NE(text.find("plan (lshs): 1 steps on 2 nodes, 10 B moved"), std::string::npos) << text;
  EXPECT_NE(text.find("0: binary %2 = add(%0 <- node 0 (10 B), %1) on node 1, 100 B, output"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("objective"), std::string::npos) << text;
}

// What elementwise.cc would do: one binary op per output block, memory from the engine.
TEST(Placement, PlaceOnClusterSeedsMemoryFromTheEngine) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  const OpId b = g.AddLeaf(1, 10);
  g.MarkOutput(g.AddBinary(a, b, 100));
  const std::vector<int64_t> memory_used{1000, 10};
  const Plan plan = PlaceOnCluster(g, memory_used);
  EXPECT_EQ(plan.policy, Policy::kLshs);
  EXPECT_EQ(plan.node_of_op[2], 1);  // away from the full node, as in the hand-checked case
  EXPECT_EQ(plan, Place(g, ClusterState(memory_used), Policy::kLshs));
  EXPECT_EQ(PlaceOnCluster(g, memory_used, Policy::kLocality).node_of_op[2], 0);
  EXPECT_THROW(PlaceOnCluster(g, std::vector<int64_t>{10}), ValueError);
}

// Two nodes with the same bytes in RAM, one of which has spilled 1000 bytes more to disk: the
// new block goes to the other, which holds less in all.
TEST(Placement, SpilledBytesCountAsTheNodesLoad) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  const OpId b = g.AddLeaf(1, 10);
  g.MarkOutput(g.AddBinary(a, b, 100));
  const std::vector<int64_t> resident{500, 500};
  EXPECT_EQ(
      PlaceOnCluster(g, resident, Policy::kLshs, {}, std::vector<int64_t>{0, 1000}).node_of_op[2],
      0);
  EXPECT_EQ(
      PlaceOnCluster(g, resident, Policy::kLshs, {}, std::vector<int64_t>{1000, 0}).node_of_op[2],
      1);
  EXPECT_THROW(PlaceOnCluster(g, resident, Policy::kLshs, {}, std::vector<int64_t>{1}), ValueError);
}

TEST(Policy, NamesRoundTrip) {
  for (Policy p : {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality}) {
    EXPECT_EQ(ParsePolicy(PolicyName(p)), p);
  }
  EXPECT_THROW(ParsePolicy("random"), ValueError);
}

}  // namespace
}  // namespace nums::optimizer

namespace nums::optimizer {
namespace {

// A lost node holds nothing and so looks cheapest to LSHS; it must never be chosen.
TEST(Placement, ALostNodeIsNeverACandidate) {
  BlockGraph g;
  std::vector<OpId> leaves;
  for (int64_t i = 0; i < 12; ++i) leaves.push_back(g.AddLeaf(i % 3, 1000));
  OpId sum = leaves[0];
  for (size_t i = 1; i < leaves.size(); ++i) {
    sum = g.AddBinary(g.AddUnary(leaves[i], 1000, "neg"), sum, 1000, "add");
  }
  g.MarkOutput(sum);
  const std::vector<int64_t> memory{5000, 0, 5000};
  const bool live[] = {true, false, true};
  for (Policy p : {Policy::kLshs, Policy::kLocality, Policy::kRoundRobin}) {
    const Plan plan = PlaceOnCluster(g, memory, p, live);
    ASSERT_FALSE(plan.steps.empty());
    for (const PlanStep& s : plan.steps) EXPECT_NE(s.node, 1) << PolicyName(p);
  }
  // All lost: nothing to choose from, so the plan ignores liveness (the runtime raises).
  const bool none[] = {false, false, false};
  EXPECT_NO_THROW(PlaceOnCluster(g, memory, Policy::kLshs, none));
  ClusterState state(memory);
  state.MarkUnavailable(0);
  state.MarkUnavailable(1);
  EXPECT_THROW(state.MarkUnavailable(2), ValueError);
}

}  // namespace
}  // namespace nums::optimizer
