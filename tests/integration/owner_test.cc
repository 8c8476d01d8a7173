// Owners that die: a driver killed with kill -9 leaves nothing on the nodes (its lease ends), a
// killed head does not stop a running driver (the head holds membership only), and after a node
// is lost placement uses only the live nodes and where objects live now.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"

namespace nums::testing {
namespace {

using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Totals {
  int64_t objects = 0;
  int64_t memory = 0;
};

// What the nodes hold, asked by a driver of its own (which holds nothing).
Totals Held(const LocalCluster& cluster) {
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  Totals t;
  for (const auto& n : rt->Nodes()) {
    t.objects += n.num_objects;
    t.memory += n.memory_used;
  }
  return t;
}

// Runs the owner_driver in `mode`, waits until it holds its arrays, kills it with SIGKILL
// `after` that, and checks the nodes free everything it had within a few seconds.
void ExpectAKilledDriverLeavesNothing(const std::string& mode, std::chrono::milliseconds after) {
  LocalCluster cluster(2);
  const Totals before = Held(cluster);
  EXPECT_EQ(before.objects, 0);
  const pid_t driver = cluster.Launch(
      {OWNER_DRIVER_PATH, cluster.address(), cluster.token_file(), mode}, "driver.log");
  const auto log = cluster.state_dir() / "driver.log";
  ASSERT_TRUE(PollUntil([&] { return ReadAll(log).find("ready") != std::string::npos; }, 120s))
      << ReadAll(log);
  std::this_thread::sleep_for(after);
  const Totals held = Held(cluster);
  EXPECT_GT(held.objects, 0);
  EXPECT_GT(held.memory, 8 << 20);  // X alone is 12.8 MB
  cluster.Kill(driver);
  const auto killed = Clock::now();
  Totals now;
  EXPECT_TRUE(PollUntil(
      [&] {
        now = Held(cluster);
        return now.objects == before.objects && now.memory == before.memory;
      },
      20s))
      << now.objects << " objects (" << now.memory << " bytes) left of " << held.objects;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed);
  EXPECT_LT(took, 10s) << "freed after " << took.count() << " ms";
  // What an operator sees: every node holds nothing.
  std::string status;
  ASSERT_EQ(RunNumsTool({"--state-dir", cluster.state_dir().string(), "status"}, &status), 0);
  size_t empty = 0;
  for (size_t at = 0; (at = status.find("objects 0  in memory 0 B", at)) != std::string::npos; ++at)
    ++empty;
  EXPECT_EQ(empty, 2u) << status;
}

TEST(OwnerTest, ADriverKilledWhileHoldingDataLeavesNothingBehind) {
  ExpectAKilledDriverLeavesNothing("hold", 0ms);
}

TEST(OwnerTest, ADriverKilledMidFitLeavesNothingBehind) {
  ExpectAKilledDriverLeavesNothing("fit", 1500ms);
}

TEST(OwnerTest, ALiveDriverKeepsItsObjectsPastTheLeaseGrace) {
  // Renewals keep the lease: a driver idle for longer than the grace after a close still has
  // its data.
  LocalCluster cluster(2);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  BlockArray x = arange(0, 100'000, 1).astype(float64);
  EXPECT_DOUBLE_EQ(x.sum().item<double>(), 4999950000.0);
  std::this_thread::sleep_for(5s);
  EXPECT_DOUBLE_EQ((x * 2.0).sum().item<double>(), 9999900000.0);
}

Eigen::VectorXd FitCoefficients(Context ctx) {
  random::Generator rng(ctx, 11);
  BlockArray X = rng.normal({40'000, 6}, 0.0, 1.0, float64, {5'000, 6});
  BlockArray y = (X.sum(1) > 0.0).astype(float64);
  models::LogisticRegression lr({.solver = "newton", .max_iter = 8, .penalty_l2 = 1.0});
  lr.fit(X, y);
  return lr.coef();
}

TEST(OwnerTest, AKilledHeadDoesNotStopARunningFitAndNodesRejoinARestartedHead) {
  const Eigen::VectorXd expected = FitCoefficients(init({.nodes = 2}));
  LocalCluster cluster(2);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  random::Generator rng(ctx, 11);
  BlockArray X = rng.normal({40'000, 6}, 0.0, 1.0, float64, {5'000, 6});
  BlockArray y = (X.sum(1) > 0.0).astype(float64);
  models::LogisticRegression lr({.solver = "newton", .max_iter = 8, .penalty_l2 = 1.0});
  // The head goes while the fit runs (and for certain before its later iterations).
  std::thread killer([&] {
    std::this_thread::sleep_for(100ms);
    cluster.Kill(cluster.head_pid());
  });
  lr.fit(X, y);
  killer.join();
  EXPECT_LT((lr.coef() - expected).cwiseAbs().maxCoeff(), 1e-9);
  // With the head gone for certain: work goes on, and a new driver gets a clear error.
  EXPECT_LT((FitCoefficients(ctx) - expected).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_EQ(ctx.nodes().size(), 2u);
  try {
    (void)init({.address = cluster.address(), .token_file = cluster.token_file()});
    FAIL() << "connecting to a dead head should throw";
  } catch (const ClusterError& e) {
    EXPECT_NE(std::string(e.what()).find(cluster.address()), std::string::npos) << e.what();
  }
  // A head restarted on its address: the nodes register again under their ids.
  cluster.RestartHead();
  std::string status;
  EXPECT_TRUE(PollUntil(
      [&] {
        try {
          auto rt = ThriftRuntime::Connect(cluster.address(),
                                           engine::cluster::ReadToken(cluster.token_file()));
          const auto nodes = rt->Nodes();
          if (nodes.size() != 2 || !nodes[0].live || !nodes[1].live) return false;
        } catch (const ClusterError&) {
          return false;  // no node has registered again yet
        }
        RunNumsTool({"--state-dir", cluster.state_dir().string(), "status"}, &status, 30s);
        return status.find("node 1") != std::string::npos;
      },
      20s))
      << status;
  EXPECT_LT((FitCoefficients(ctx) - expected).cwiseAbs().maxCoeff(), 1e-9);
}

TEST(OwnerTest, PlacementAfterANodeIsLostUsesOnlyLiveNodes) {
  LocalCluster cluster(3);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  BlockArray x = arange(0, 60'000, 1, float64, {5'000});
  const std::vector<int64_t> homes = x.block_nodes();
  ASSERT_NE(std::find(homes.begin(), homes.end(), 1), homes.end());
  cluster.Kill(cluster.node_pid(1));
  // Recomputes node 1's blocks on the survivors.
  EXPECT_DOUBLE_EQ(x.sum().item<double>(), 1799970000.0);
  const auto nodes = ctx.nodes();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_FALSE(nodes[1].live);
  for (int round = 0; round < 3; ++round) {
    BlockArray y = x * 2.0 + x;  // placed with node 1 reporting no memory in use
    for (int64_t n : y.block_nodes()) EXPECT_NE(n, 1) << "placed on the lost node";
    EXPECT_DOUBLE_EQ(y.sum().item<double>(), 3.0 * 1799970000.0);
  }
}

}  // namespace
}  // namespace nums::testing
