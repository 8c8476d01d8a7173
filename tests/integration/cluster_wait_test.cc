// wait() on a real cluster of `nums` processes on loopback: a node killed before or during the
// wait, and an operation that fails.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/gen/Node.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "engine/cluster/transport.h"
#include "engine/cluster/wire.h"
#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using engine::Device;
using engine::ObjectRef;
using engine::TaskSpec;
using engine::cluster::ToWire;
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

// Node.Await with with_failed: the second half of its reply marks what finished without being
// ready, which is what the driver's Await looks at again; without the flag, the reply is as it
// was (FreeQueue and Wait ask that way).
TEST(ClusterWaitTest, NodeAwaitSaysWhichFinishedObjectsAreNotReady) {
  LocalCluster cluster(1);
  const std::string token = engine::cluster::ReadToken(cluster.token_file());
  auto rt = engine::cluster::ThriftRuntime::Connect(cluster.address(), token);
  const ObjectRef ready = rt->Put(Ramp(8, 0.0), 0);
  // identity of no inputs fails on the node (RemoteTaskError).
  const ObjectRef bad = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 0, {}, 1, "bad"})[0];
  EXPECT_THROW(rt->Get(bad, 30s), RemoteTaskError);
  const engine::ObjectId unknown = engine::ObjectIdGenerator().Next();

  auto [host, port] = cluster.NodeAddress(0);
  engine::cluster::Connection<wire::NodeClient> conn(host, port, token, true, 60s);
  const std::vector<wire::ObjectIdW> ids{ToWire(ready.id()), ToWire(bad.id()), ToWire(unknown)};
  std::vector<bool> out;
  conn.Invoke("Node.Await", [&](wire::NodeClient& c) { c.Await(out, ids, 3, 1000, true); });
  EXPECT_EQ(out, (std::vector<bool>{true, true, true, false, true, true}));
  conn.Invoke("Node.Await", [&](wire::NodeClient& c) { c.Await(out, ids, 3, 1000, false); });
  EXPECT_EQ(out, (std::vector<bool>{true, true, true}));

  rt->Await({ready});
  EXPECT_THROW(rt->Await({ready, bad}), RemoteTaskError);
}

}  // namespace
}  // namespace nums::testing
