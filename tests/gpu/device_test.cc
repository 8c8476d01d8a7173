// init({.device = "gpu"}): blocks made and computed on each node's GPU give what the CPU gives;
// without a GPU it is a clear ClusterError. GPU runs skip, saying why, where there is none.

#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include <cmath>
#include <string>

#include "engine/gpu.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

TEST(GpuDeviceTest, AnUnknownDeviceIsAValueErrorNamingIt) {
  try {
    (void)init({.device = "tpu"});
    FAIL() << "init accepted device \"tpu\"";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("\"tpu\""), std::string::npos) << e.what();
  }
}

TEST(GpuDeviceTest, TheNodesReportTheirGpus) {
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  for (const NodeStatus& n : ctx.nodes()) {
    EXPECT_EQ(n.gpus, static_cast<int64_t>(engine::DiscoverGpus().size()));
    EXPECT_EQ(static_cast<int64_t>(n.gpu_names.size()), n.gpus);
    EXPECT_EQ(n.gpu_memory_bytes > 0, n.gpus > 0);
    EXPECT_EQ(n.gpu_memory_used, 0);
  }
}

TEST(GpuDeviceTest, WithoutAGpuDeviceGpuIsAClusterErrorNamingTheNode) {
  if (!engine::DiscoverGpus().empty()) GTEST_SKIP() << "this process has a GPU";
  try {
    (void)init({.nodes = 2, .threads_per_node = 1, .device = "gpu"});
    FAIL() << "init with device \"gpu\" succeeded without a GPU";
  } catch (const ClusterError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("node 0 (embedded:0) has no GPU"), std::string::npos) << what;
    EXPECT_NE(what.find(engine::NoGpuReason()), std::string::npos) << what;
  }
}

TEST(GpuDeviceTest, OperationsOnTheGpuMatchTheCpu) {
  if (engine::DiscoverGpus().empty()) {
    GTEST_SKIP() << "no GPU in this process: " << engine::NoGpuReason();
  }
  auto run = [](const std::string& device) {
    Context ctx = init({.nodes = 2, .threads_per_node = 2, .device = device});
    BlockArray a = random::Generator(ctx, 7).random({301, 77}, float64, {64, 32});
    BlockArray b = random::Generator(ctx, 8).random({77, 129}, float64, {32, 64});
    BlockArray c = matmul(a, b);
    BlockArray e = exp(c * 0.01) - c / 3.0;
    BlockArray s = e.sum(0);
    std::vector<NDArray> out{c.get(), e.get(), s.get(), (a.T() * 2.0).get()};
    if (device == "gpu") {
      int64_t used = 0;
      for (const NodeStatus& n : ctx.nodes()) used += n.gpu_memory_used;
      EXPECT_GT(used, 0) << "nothing was held in GPU memory";
    }
    return out;
  };
  const auto cpu = run("cpu");
  const auto gpu = run("gpu");
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    SCOPED_TRACE("result " + std::to_string(i));
    EXPECT_ARRAY_NEAR(gpu[i], cpu[i], 1e-12);
  }
}

}  // namespace
}  // namespace nums
