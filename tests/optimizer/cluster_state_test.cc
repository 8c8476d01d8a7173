#include "optimizer/cluster_state.h"

#include <gtest/gtest.h>

#include "nums/errors.hpp"

namespace nums::optimizer {
namespace {

TEST(ClusterState, SeededMemoryAndNoTraffic) {
  const ClusterState s({100, 0, 50});
  EXPECT_EQ(s.num_nodes(), 3);
  EXPECT_EQ(s.memory(0), 100);
  EXPECT_EQ(s.peak_memory(2), 50);
  EXPECT_EQ(s.TotalNetIn(), 0);
  EXPECT_EQ(s.Objective(), 100);
}

TEST(ClusterState, TransferChargesSenderReceiverAndTheCopy) {
  ClusterState s({100, 0, 50});
  s.Apply(Transfer{0, 2, 30});
  EXPECT_EQ(s.net_out(0), 30);
  EXPECT_EQ(s.net_in(2), 30);
  EXPECT_EQ(s.net_in(0), 0);
  EXPECT_EQ(s.memory(0), 100);  // the sender keeps its block
  EXPECT_EQ(s.memory(2), 80);
  s.Apply(Transfer{1, 1, 1000});  // to itself: nothing moves
  EXPECT_EQ(s.TotalNetIn(), 30);
  EXPECT_EQ(s.memory(1), 0);
  EXPECT_EQ(s.Objective(), 100 + 30 + 30);
}

TEST(ClusterState, ReleaseKeepsThePeak) {
  ClusterState s = ClusterState::Empty(2);
  s.Apply(Allocation{1, 70});
  s.Apply(Allocation{1, 30});
  s.Apply(Release{1, 70});
  EXPECT_EQ(s.memory(1), 30);
  EXPECT_EQ(s.peak_memory(1), 100);
  EXPECT_EQ(s.MaxPeakMemory(), 100);
  EXPECT_EQ(s.MaxMemory(), 30);
  EXPECT_THROW(s.Apply(Release{1, 31}), ValueError);
}

TEST(ClusterState, ObjectiveSumsTheMaximaOfDifferentNodes) {
  ClusterState s({10, 500, 0, 0});
  s.Apply(Transfer{2, 3, 40});  // net_out max on node 2, net_in max on node 3
  s.Apply(Transfer{0, 3, 5});
  EXPECT_EQ(s.MaxMemory(), 500);
  EXPECT_EQ(s.MaxNetIn(), 45);
  EXPECT_EQ(s.MaxNetOut(), 40);
  EXPECT_EQ(s.Objective(), 585);
}

TEST(ClusterState, IsACopyableValue) {
  ClusterState a = ClusterState::Empty(2);
  ClusterState b = a;
  b.Apply(Transfer{0, 1, 8});
  EXPECT_EQ(a.TotalNetIn(), 0);
  EXPECT_NE(a, b);
  a.Apply(Transfer{0, 1, 8});
  EXPECT_EQ(a, b);
}

TEST(ClusterState, SpilledBytesAreHeldToo) {
  const ClusterState s({100, 200}, {50, 0});
  EXPECT_EQ(s.memory(0), 150);
  EXPECT_EQ(s.memory(1), 200);
  EXPECT_EQ(s.spilled(0), 50);
  EXPECT_EQ(s.spilled(1), 0);
  EXPECT_EQ(s.MaxMemory(), 200);
  EXPECT_NE(s.ToString().find("50 B of it spilled"), std::string::npos) << s.ToString();
  // Nothing spilled is the same state as no figures at all.
  EXPECT_EQ(ClusterState({1, 2}, {0, 0}), ClusterState({1, 2}));
}

TEST(ClusterState, RejectsBadNodesAndSeeds) {
  EXPECT_THROW(ClusterState::Empty(0), ValueError);
  EXPECT_THROW(ClusterState({1, -1}), ValueError);
  EXPECT_THROW(ClusterState({1, 1}, {1}), ValueError);
  EXPECT_THROW(ClusterState({1, 1}, {0, -1}), ValueError);
  ClusterState s = ClusterState::Empty(2);
  EXPECT_THROW(s.Apply(Allocation{2, 1}), ValueError);
  EXPECT_THROW(s.Apply(Transfer{-1, 0, 1}), ValueError);
}

TEST(FormatBytes, UsesBinaryUnits) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(int64_t{128} << 30), "128.00 GiB");
}

}  // namespace
}  // namespace nums::optimizer
