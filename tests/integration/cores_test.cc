// A node's resources as `nums start` sets them: --cores N runs N worker threads, whatever TBB's
// default limit on this machine; --gpus N uses the machine's first N GPUs, and asking for more
// than it has stops the node with a clear error; a node measures its devices' rates only when it
// has a GPU, and the driver sees them.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/head_daemon.h"
#include "engine/cluster/thrift_clients.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "engine/gpu.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"

namespace nums::testing {
namespace {

using namespace std::chrono_literals;

// Threads of process `pid` that joined a node's arena (named by the executor).
int64_t Workers(pid_t pid) {
  int64_t n = 0;
  for (const auto& t :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name;
    std::getline(std::ifstream(t.path() / "comm"), name);
    n += name == "nums-worker" ? 1 : 0;
  }
  return n;
}

TEST(CoresTest, ANodeStartedWithTwoCoresRunsTwoWorkerThreads) {
  // On a 2-core machine TBB's default pool has one worker: --cores 2 used to run one thread.
  constexpr int kCores = 2;
  LocalCluster cluster(1, kCores);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  BlockArray x = arange(0, 400'000, 1, float64, {10'000});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int64_t workers = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    // Forty blocks at once: every thread the arena may have is asked for.
    EXPECT_DOUBLE_EQ(nums::exp(x * 0.0).sum().item<double>(), 400'000.0);
    workers = Workers(cluster.node_pid(0));
    if (workers >= kCores) break;
  }
  EXPECT_EQ(workers, kCores);
}

TEST(GpusTest, NodesReportTheGpusTheyUseAndRefuseMoreThanTheMachineHas) {
  const auto have = static_cast<int64_t>(engine::DiscoverGpus().size());
  LocalClusterOptions options;
  options.nodes = 2;
  options.node_args_each = {{"--gpus", "0"}, {}};
  LocalCluster cluster(options);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  const auto nodes = ctx.nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].gpus, 0);
  EXPECT_EQ(nodes[1].gpus, have);
  EXPECT_EQ(static_cast<int64_t>(nodes[1].gpu_names.size()), have);
  {
    auto rt = engine::cluster::ThriftRuntime::Connect(
        cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
    const auto infos = rt->Nodes();
    ASSERT_EQ(infos.size(), 2u);
    EXPECT_EQ(infos[0].rates, engine::DeviceRates{}) << "cpu_flops " << infos[0].rates.cpu_flops;
    if (have == 0) {
      EXPECT_EQ(infos[1].rates, engine::DeviceRates{}) << "cpu_flops " << infos[1].rates.cpu_flops;
    } else {
      EXPECT_GT(infos[1].rates.gpu_flops, 0);
      EXPECT_GT(infos[1].rates.link_bytes_per_s, 0);
      EXPECT_GT(infos[1].rates.cpu_flops, 0);
    }
  }
  if (have == 0) {
    // device "gpu" needs a GPU on every node.
    EXPECT_THROW(
        (void)init(
            {.address = cluster.address(), .token_file = cluster.token_file(), .device = "gpu"}),
        ClusterError);
  }
  std::string out;
  const int rc = RunNumsTool({"--state-dir", cluster.state_dir().string(), "status"}, &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("gpus 0"), std::string::npos) << out;

  // One GPU more than there are: the node says so and exits.
  const pid_t pid =
      cluster.Launch({NumsTool(), "--state-dir", cluster.state_dir().string(), "start", "--address",
                      cluster.address(), "--token-file", cluster.token_file(), "--gpus",
                      std::to_string(have + 1), "--foreground"},
                     "too_many_gpus.log");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (cluster.Running(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(cluster.Running(pid));
  std::string log;
  {
    std::ifstream in(cluster.state_dir() / "too_many_gpus.log");
    log.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_NE(log.find("--gpus " + std::to_string(have + 1) + ": this machine has " +
                     std::to_string(have) + " GPU(s)"),
            std::string::npos)
      << log;
}

TEST(RatesTest, TheHeadHandsANodesRatesToDriversAndOldNodesReadAsNotMeasured) {
  engine::cluster::HeadDaemonOptions options;
  options.token = "token";
  auto head = engine::cluster::HeadDaemon::Start(options);
  engine::cluster::Connection<wire::HeadClient> conn("127.0.0.1", head->port(), "token", false,
                                                     10s);
  auto node = [](int port) {
    wire::NodeW n;
    n.host = "127.0.0.1";
    n.port = port;
    n.cores = 1;
    n.id = -1;
    n.live = true;
    return n;
  };
  wire::NodeW measured = node(1);
  measured.__isset.rates = true;
  measured.rates.cpu_flops = 1e10;
  measured.rates.cpu_bytes_per_s = 2e10;
  measured.rates.gpu_flops = 3e13;
  measured.rates.gpu_bytes_per_s = 4e12;
  measured.rates.link_bytes_per_s = 5e10;
  wire::NodeW garbled = node(2);
  garbled.__isset.rates = true;
  garbled.rates.cpu_flops = std::nan("");
  garbled.rates.gpu_flops = -1;
  garbled.rates.link_bytes_per_s = INFINITY;
  garbled.rates.gpu_bytes_per_s = 7e11;
  const wire::NodeW old = node(3);  // from before rates: no field 10
  for (const auto& n : {measured, garbled, old}) {
    conn.Invoke("Head.RegisterNode", [&](wire::HeadClient& c) { return c.RegisterNode(n); });
  }
  const auto members =
      engine::cluster::ConnectThriftHead("127.0.0.1", head->port(), "token")->ListNodes();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].rates, (engine::DeviceRates{.cpu_flops = 1e10,
                                                   .cpu_bytes_per_s = 2e10,
                                                   .gpu_flops = 3e13,
                                                   .gpu_bytes_per_s = 4e12,
                                                   .link_bytes_per_s = 5e10}));
  EXPECT_EQ(members[1].rates, (engine::DeviceRates{.gpu_bytes_per_s = 7e11}));
  EXPECT_EQ(members[2].rates, engine::DeviceRates{});
}

}  // namespace
}  // namespace nums::testing
