// A cluster whose nodes live in network namespaces of their own, joined by a bridge: the head
// and the driver (this process) stay in the root namespace on the bridge's address, and every
// byte between nodes crosses veth interfaces. Needs root; skipped, saying why, where namespaces
// cannot be made.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/network_lab.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using engine::Block;
using engine::Device;
using engine::ObjectRef;
using engine::TaskSpec;
using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;

constexpr int kNodes = 3;

int64_t Counter(const std::string& link, const std::string& name) {
  std::ifstream in("/sys/class/net/" + link + "/statistics/" + name);
  int64_t value = -1;
  in >> value;
  return value;
}

TEST(ClusterNetnsTest, NodesInTheirOwnNamespacesComputeWhatTheEmbeddedRunDoes) {
  std::unique_ptr<NetworkLab> lab;
  try {
    lab = std::make_unique<NetworkLab>(kNodes);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "cannot make network namespaces here (needs root and iproute2): " << e.what();
  }
  LocalClusterOptions options;
  options.nodes = kNodes;
  options.head_bind = lab->bridge_address();
  for (int k = 0; k < kNodes; ++k) {
    options.node_prefix.push_back({"ip", "netns", "exec", lab->ns(k)});
    options.node_bind.push_back(lab->address(k));
  }
  // Declared after the lab: its processes stop before the namespaces go.
  LocalCluster cluster(options);
  ASSERT_EQ(cluster.address().rfind(lab->bridge_address() + ":", 0), 0u) << cluster.address();

  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  auto nodes = rt->Nodes();
  ASSERT_EQ(nodes.size(), static_cast<size_t>(kNodes));
  for (int k = 0; k < kNodes; ++k) {
    // Each node registered the address it binds in its namespace.
    EXPECT_EQ(nodes[k].address.rfind(lab->address(k) + ":", 0), 0u) << nodes[k].address;
    EXPECT_TRUE(nodes[k].live);
  }

  // A task on node 2 whose input was put on node 0: node 2 pulls it across the bridge.
  const int64_t sent_before = Counter(lab->host_link(0), "rx_bytes");
  ObjectRef a = rt->Put(Ramp(4000, 2.0), 0);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 2, {a}, 1, "across"})[0];
  EXPECT_EQ(Values(rt->Get(b, 60s)), Values(Ramp(4000, 2.0)));
  nodes = rt->Nodes();
  EXPECT_GE(nodes[2].net_in_bytes, 32000);
  EXPECT_GE(nodes[0].net_out_bytes, 32000);
  // What namespace 0 sent left through its veth (counted as received on the bridge side).
  EXPECT_GE(Counter(lab->host_link(0), "rx_bytes") - sent_before, 32000);

  // matmul and sums over blocks on all three nodes equal the embedded run.
  auto program = [](const Context& ctx) {
    random::Generator rng(ctx, 4242);
    BlockArray x = rng.normal({120, 40}, 0.0, 1.0, float64, {40, 20});
    BlockArray w = rng.normal({40, 30}, 0.0, 1.0, float64, {20, 15});
    BlockArray xw = matmul(x, w);
    return std::vector<NDArray>{xw.get(), xw.sum(0).get(), (x + x).sum().get(),
                                matmul(x.T(), x).sum(1).get()};
  };
  Context embedded = nums::init({.nodes = kNodes, .threads_per_node = 1});
  const auto want = program(embedded);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  ASSERT_EQ(ctx.num_nodes(), kNodes);
  int64_t net_before = 0;
  for (const auto& n : ctx.nodes()) net_before += n.net_in_bytes;
  const auto got = program(ctx);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_ARRAY_NEAR(got[i], want[i], 1e-10);
  int64_t net_after = 0;
  for (const auto& n : ctx.nodes()) {
    net_after += n.net_in_bytes;
    EXPECT_GT(n.tasks_run, 0) << "node " << n.id;
  }
  EXPECT_GT(net_after, net_before);  // the matmul moved blocks between nodes
}

}  // namespace
}  // namespace nums::testing
