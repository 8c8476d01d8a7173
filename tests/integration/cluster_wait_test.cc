// wait() on a real cluster of `nums` processes on loopback: a node killed before or during the
// wait, and an operation that fails.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/integration/cluster_fixture.h"

namespace nums::testing {
namespace {

using namespace std::chrono_literals;

// The nodes that hold the array's blocks now, as the driver knows them.
std::vector<engine::NodeId> Holders(const BlockArray& x) {
  std::vector<engine::NodeId> out;
  for (const engine::ObjectRef& b : x.impl()->blocks) {
    out.push_back(x.impl()->ctx->runtime->Location(b));
  }
  return out;
}

TEST(ClusterWaitTest, WaitAfterANodeIsKilledMakesItsBlocksAgain) {
  LocalCluster cluster(3);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  constexpr int64_t kBlocks = 12;
  constexpr int64_t kBlock = 100;
  const BlockArray x = arange(0, kBlocks * kBlock, 1, float64, {kBlock});
  const BlockArray y = x * 2.0 + 1.0;
  y.wait();
  const std::vector<engine::NodeId> before = Holders(y);
  ASSERT_NE(std::find(before.begin(), before.end(), 1), before.end());
  cluster.Kill(cluster.node_pid(1));

  y.wait();  // node 1's blocks are made again on the survivors before it returns
  for (engine::NodeId node : Holders(y)) EXPECT_NE(node, 1);
  const NDArray got = y.get();
  for (int64_t i = 0; i < kBlocks * kBlock; ++i) {
    ASSERT_EQ(got.value_at<double>(i), 2.0 * static_cast<double>(i) + 1.0) << "at " << i;
  }
}

TEST(ClusterWaitTest, ANodeKilledDuringTheWaitStillGivesTheRightAnswer) {
  LocalCluster cluster(3);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  // A chain of 30 elementwise steps over 6 blocks of 8 MB, each step's input dropped as the next
  // is made: node 1 dies while wait() waits on it, and its blocks come back from inputs that
  // were freed too.
  BlockArray y = ones({6 * 1'000'000}, float64, {1'000'000});
  for (int i = 0; i < 30; ++i) y = y * 1.0 + 1.0;
  std::thread killer([&] {
    std::this_thread::sleep_for(150ms);
    cluster.Kill(cluster.node_pid(1));
  });
  y.wait();
  killer.join();
  EXPECT_DOUBLE_EQ(y.sum().get().at<double>({}), 6e6 * 31);
}

TEST(ClusterWaitTest, WaitOfAFailedOperationRaisesItsError) {
  LocalCluster cluster(2);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  const BlockArray x = arange(0, 400, 1, float64, {100});
  const BlockArray bad = linalg::cholesky(-eye(4));  // fails inside its task, on a node
  std::string from_get;
  try {
    (void)bad.get();
    FAIL() << "get() raised nothing";
  } catch (const Error& e) {
    from_get = e.what();
  }
  for (const auto& arrays : {std::vector{bad}, std::vector{x, bad}, std::vector{bad, x}}) {
    try {
      wait(arrays);
      ADD_FAILURE() << "wait() raised nothing";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), from_get);
    }
  }
  // What depends on it fails with the same error; the rest waits as before.
  EXPECT_THROW((bad + 1.0).wait(), Error);
  x.wait();
}

}  // namespace
}  // namespace nums::testing
