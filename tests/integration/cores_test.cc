// `nums start --cores N` runs N worker threads, whatever TBB's default limit on this machine.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace nums::testing
