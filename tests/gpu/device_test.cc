// init({.device = "gpu"}): blocks made and computed on each node's GPU give what the CPU gives;
// without a GPU it is a clear ClusterError. GPU runs skip, saying why, where there is none.

#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

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

// A whole Newton fit whose every objective pass runs glm.newton_terms on the nodes' GPUs: the
// same iterations, losses, coefficients and intercept as on the CPU, to 1e-10. Each pass's sums
// differ from the CPU's only in rounding (near 1e-16 of their magnitude), and the Newton steps
// do not amplify that beyond the fit's conditioning (features of unit scale, overlapping classes).
TEST(GpuDeviceTest, LogisticRegressionFitMatchesTheCpu) {
  if (engine::DiscoverGpus().empty()) {
    GTEST_SKIP() << "no GPU in this process: " << engine::NoGpuReason();
  }
  const int64_t n = 2001, d = 7;
  std::mt19937_64 gen(2024);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> xs(static_cast<size_t>(n * d)), ys(static_cast<size_t>(n)),
      ws(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    double score = 0.3;
    for (int64_t j = 0; j < d; ++j) {
      const double v = normal(gen);
      xs[static_cast<size_t>(r * d + j)] = v;
      score += std::sin(1.0 + j) * v;
    }
    ys[static_cast<size_t>(r)] = unit(gen) < 1 / (1 + std::exp(-score)) ? 1.0 : 0.0;
    ws[static_cast<size_t>(r)] = r % 7 == 3 ? 0.0 : 0.5 + unit(gen);
  }
  struct Fit {
    Eigen::VectorXd coef;
    double intercept = 0;
    std::vector<models::IterationInfo> history;
  };
  auto run = [&](const std::string& device, bool weighted) {
    Context ctx = init({.nodes = 2, .threads_per_node = 2, .device = device});
    // * 1.0 makes each block on the device the context computes on.
    const BlockArray X = array(xs, {n, d}, {300, d}) * 1.0;
    const BlockArray y = array(ys, {n}, {300});
    const BlockArray w = array(ws, {n}, {300});
    models::LogisticRegression lr({.solver = "newton", .max_iter = 50, .tol = 1e-10});
    if (weighted) {
      lr.fit(X, y, w);
    } else {
      lr.fit(X, y);
    }
    EXPECT_TRUE(lr.converged()) << device;
    if (device == "gpu") {
      int64_t used = 0;
      for (const NodeStatus& s : ctx.nodes()) used += s.gpu_memory_used;
      EXPECT_GT(used, 0) << "nothing was held in GPU memory";
    }
    return Fit{lr.coef(), lr.intercept(), lr.history()};
  };
  for (bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "with sample weights" : "unweighted");
    const Fit cpu = run("cpu", weighted);
    const Fit gpu = run("gpu", weighted);
    ASSERT_EQ(gpu.coef.size(), cpu.coef.size());
    for (int64_t j = 0; j < cpu.coef.size(); ++j) {
      EXPECT_NEAR(gpu.coef[j], cpu.coef[j], 1e-10 * std::max(1.0, std::abs(cpu.coef[j])))
          << "coefficient " << j;
    }
    EXPECT_NEAR(gpu.intercept, cpu.intercept, 1e-10 * std::max(1.0, std::abs(cpu.intercept)));
    // Newton converges quadratically, so the last step lands far below tol on both; one more
    // step on one device would still agree above.
    EXPECT_LE(std::max(gpu.history.size(), cpu.history.size()) -
                  std::min(gpu.history.size(), cpu.history.size()),
              1u);
    for (size_t k = 0; k < std::min(gpu.history.size(), cpu.history.size()); ++k) {
      EXPECT_NEAR(gpu.history[k].loss, cpu.history[k].loss, 1e-10 * std::abs(cpu.history[k].loss))
          << "iteration " << k;
    }
  }
}

}  // namespace
}  // namespace nums
