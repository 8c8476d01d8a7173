// A node's resources as `nums start` sets them: --cores N runs N worker threads, whatever TBB's
// default limit on this machine; --gpus N uses the machine's first N GPUs, and asking for more
// than it has stops the node with a clear error.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace nums::testing
