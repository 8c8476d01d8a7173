// init({.device = "gpu"}): blocks made and computed on each node's GPU give what the CPU gives;
// without a GPU it is a clear ClusterError. GPU runs skip, saying why, where there is none.

#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/gpu.h"
#include "src/array_impl.h"
#include "src/devices.h"
#include "src/expression.h"
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

// BlockArray::to and device "auto". What needs no GPU runs everywhere; a ref "made on a GPU" is
// a task submitted for one, which is all the driver's choice of device looks at.

// A block of `x` as a task for device `device` made it, kept to it as to() keeps blocks.
engine::ObjectRef kept_block(const Context& ctx, const BlockArray& x, engine::Device device) {
  engine::TaskSpec spec{"array.astype",
                        device,
                        0,
                        {x.impl()->blocks.at(0), static_cast<int64_t>(x.dtype())},
                        1,
                        "array.astype (test)",
                        {engine::OutputSpec{x.dtype(), x.block_shape()}}};
  spec.device_pinned = true;
  return ctx.impl()->runtime->Submit(std::move(spec))[0];
}

TEST(GpuToTest, ToCpuKeepsEveryValueAndDtypeAndOperationsStayOnTheCpu) {
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  BlockArray x = random::Generator(ctx, 3).random({37, 23}, float64, {16, 16});
  for (const BlockArray& a : {x, x * 3.0 + 1.0, (x > 0.5), (x * 100.0).astype(int32), x.T(),
                              detail::make_complex(x, x * 2.0)}) {
    SCOPED_TRACE(std::string(dtype_name(a.dtype())));
    const BlockArray c = a.to(cpu);
    EXPECT_EQ(c.device(), cpu);
    EXPECT_EQ(c.dtype(), a.dtype());
    EXPECT_EQ(c.shape(), a.shape());
    EXPECT_EQ(c.block_nodes(), a.block_nodes()) << "to() moved blocks between nodes";
    EXPECT_SAME_BYTES(c.get(), a.get());
    for (const auto& b : c.impl()->blocks) EXPECT_TRUE(detail::device_pinned(b));
  }
  const BlockArray c = x.to(cpu);
  const BlockArray r = exp(c) * 2.0 + x;  // a kept operand and a free one
  EXPECT_EQ(r.device(), cpu);
  for (const auto& b : r.impl()->blocks) EXPECT_TRUE(detail::device_pinned(b));
  EXPECT_SAME_BYTES(r.get(), (exp(x) * 2.0 + x).get());
  EXPECT_SAME_BYTES(matmul(c, c.T()).get(), matmul(x, x.T()).get());
}

TEST(GpuToTest, ToGpuWithoutAGpuIsAClusterErrorNamingTheNode) {
  if (!engine::DiscoverGpus().empty()) GTEST_SKIP() << "this process has a GPU";
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  BlockArray x = ones({8, 8}, float64, {4, 8});
  try {
    (void)x.to(gpu);
    FAIL() << "to(nums::gpu) succeeded without a GPU";
  } catch (const ClusterError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("to(nums::gpu): node 0 (embedded:0)"), std::string::npos) << what;
    EXPECT_NE(what.find(engine::NoGpuReason()), std::string::npos) << what;
  }
  EXPECT_EQ(x.sum().item<double>(), 64.0) << "the array was harmed";
}

TEST(GpuToTest, OperandsKeptToDifferentDevicesAreAValueErrorNamingTheOperation) {
  Context ctx = init({.nodes = 1, .threads_per_node = 1});
  BlockArray x = ones({4, 4}, float64);
  BlockArray on_gpu =
      detail::make_array(ctx.impl(), x.grid(), {kept_block(ctx, x, engine::Device::kCuda)});
  EXPECT_EQ(on_gpu.device(), gpu);
  try {
    (void)(on_gpu + x.to(cpu)).get();
    FAIL() << "an add of arrays kept to the cpu and to the gpu ran";
  } catch (const ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("add: operands are kept to different devices"), std::string::npos) << what;
  }
}

TEST(GpuToTest, TheDeviceOfATaskIsItsKeptInputsThenThePlanStepThenTheDefault) {
  Context ctx = init({.nodes = 1, .threads_per_node = 1});
  Context::Impl& impl = *ctx.impl();
  BlockArray x = ones({4, 4}, float64);
  const engine::ObjectRef free_host = x.impl()->blocks.at(0);
  const engine::ObjectRef kept_host = x.to(cpu).impl()->blocks.at(0);
  const engine::ObjectRef kept_gpu = kept_block(ctx, x, engine::Device::kCuda);
  auto device_of = [&](std::vector<engine::TaskArg> args) {
    return detail::task_device(impl, args, "array.binary");
  };
  using engine::Device;
  struct Case {
    DeviceMode mode;
    std::vector<engine::TaskArg> args;
    Device device;
    bool pinned;
  };
  const std::vector<Case> cases = {
      {DeviceMode::kCpu, {free_host, int64_t{0}}, Device::kCpu, false},
      {DeviceMode::kGpu, {free_host}, Device::kCuda, false},
      {DeviceMode::kGpu, {free_host, kept_host}, Device::kCpu, true},
      {DeviceMode::kCpu, {free_host, kept_gpu}, Device::kCuda, true},
      {DeviceMode::kAuto, {free_host}, Device::kCpu, false},
      {DeviceMode::kAuto, {int64_t{3}}, Device::kCpu, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    impl.device = cases[i].mode;
    const detail::TaskDevice d = device_of(cases[i].args);
    EXPECT_EQ(d.device, cases[i].device);
    EXPECT_EQ(d.pinned, cases[i].pinned);
  }
  impl.device = DeviceMode::kCpu;
  {
    detail::StepDevice step(Device::kCuda);  // a plan step placed on the GPU
    EXPECT_EQ(device_of({free_host}).device, Device::kCuda);
    EXPECT_EQ(device_of({kept_host}).device, Device::kCpu) << "a kept input yields to a step";
    {
      detail::StepDevice inner(Device::kCpu);
      EXPECT_EQ(device_of({free_host}).device, Device::kCpu);
    }
    EXPECT_EQ(device_of({free_host}).device, Device::kCuda);
  }
  EXPECT_EQ(device_of({free_host}).device, Device::kCpu);
  EXPECT_THROW(device_of({kept_host, kept_gpu}), ValueError);
}

TEST(GpuToTest, ElementwiseWorkBoundForAGpuIsNotFused) {
  Context ctx = init({.nodes = 1, .threads_per_node = 1});
  if (!ctx.impl()->fuse) GTEST_SKIP() << "NUMS_FUSE=0: nothing is fused";
  BlockArray x = ones({4, 4}, float64);
  BlockArray on_gpu =
      detail::make_array(ctx.impl(), x.grid(), {kept_block(ctx, x, engine::Device::kCuda)});
  const BlockArray both_cpu[] = {x, x};
  const BlockArray one_gpu[] = {x, on_gpu};
  EXPECT_TRUE(detail::fusion_enabled(*ctx.impl(), both_cpu));
  EXPECT_FALSE(detail::fusion_enabled(*ctx.impl(), one_gpu));
  ctx.impl()->device = DeviceMode::kGpu;
  EXPECT_FALSE(detail::fusion_enabled(*ctx.impl(), {&x, 1}));
  ctx.impl()->device = DeviceMode::kCpu;
}

TEST(GpuToTest, AutoWithoutAGpuRunsEverythingOnTheCpuAsDeviceCpuDoes) {
  if (!engine::DiscoverGpus().empty()) GTEST_SKIP() << "this process has a GPU";
  auto run = [](const std::string& device) {
    Context ctx = init({.nodes = 2, .threads_per_node = 1, .device = device});
    BlockArray a = random::Generator(ctx, 5).random({90, 40}, float64, {32, 16});
    BlockArray m = matmul(a.T(), a);
    BlockArray e = exp(a * 0.1) - a / 3.0;
    EXPECT_EQ(m.device(), cpu);
    EXPECT_EQ(e.device(), cpu);
    return std::vector<NDArray>{m.get(), e.get(), e.sum(0).get()};
  };
  const auto want = run("cpu");
  const auto got = run("auto");
  for (size_t i = 0; i < want.size(); ++i) EXPECT_SAME_BYTES(got[i], want[i]);
}

// Device "auto" decides per step from the nodes' rates. Here they are given (no GPU needed: the
// choice is what the submitted tasks ask for, and none of them is waited for).
TEST(GpuToTest, AutoSendsALargeProductToTheGpuAndKeepsSmallHostWorkOnTheCpu) {
  Context ctx = init({.nodes = 1, .threads_per_node = 1});
  Context::Impl& impl = *ctx.impl();
  impl.device = DeviceMode::kAuto;
  impl.rates = {optimizer::NodeRates{1e11, 1e10, 1e13, 1e12, 1e10}};
  auto devices_of = [](const BlockArray& x) {
    std::vector<engine::Device> d;
    for (const auto& b : detail::LazyAccess::raw(x)->blocks) d.push_back(detail::block_device(b));
    return d;
  };
  using engine::Device;
  BlockArray big = ones({2048, 2048}, float64, {2048, 2048});
  BlockArray product = matmul(big, big);  // 17 GFLOP: 0.17 s on this CPU, 8 ms on the GPU
  EXPECT_EQ(devices_of(product), std::vector<Device>{Device::kCuda});
  BlockArray tiny = ones({8}, float64);
  BlockArray sum = tiny + tiny;
  sum.impl();
  EXPECT_EQ(devices_of(sum), std::vector<Device>{Device::kCpu});
  BlockArray small_product = matmul(ones({8, 8}, float64), ones({8, 8}, float64));
  EXPECT_EQ(devices_of(small_product), std::vector<Device>{Device::kCpu});
  // Elementwise work on blocks already on the GPU stays there rather than cross the link.
  engine::TaskSpec spec{"array.astype",
                        Device::kCuda,
                        0,
                        {big.impl()->blocks.at(0), static_cast<int64_t>(float64)},
                        1,
                        "array.astype (test)",
                        {engine::OutputSpec{float64, big.block_shape()}}};
  BlockArray on_gpu =
      detail::make_array(ctx.impl(), big.grid(), {impl.runtime->Submit(std::move(spec))[0]});
  BlockArray scaled = on_gpu * on_gpu;
  scaled.impl();
  EXPECT_EQ(devices_of(scaled), std::vector<Device>{Device::kCuda});
  // Without rates (no node has a GPU) everything stays on the CPU.
  impl.rates.clear();
  EXPECT_EQ(devices_of(matmul(big, big)), std::vector<Device>{Device::kCpu});
  impl.device = DeviceMode::kCpu;
}

// With a GPU: arrays moved there stay there through operations, and come back unchanged.
TEST(GpuToTest, ToGpuMovesTheBlocksAndOperationsFollowThem) {
  if (engine::DiscoverGpus().empty()) {
    GTEST_SKIP() << "no GPU in this process: " << engine::NoGpuReason();
  }
  Context ctx = init({.nodes = 2, .threads_per_node = 2});
  BlockArray x = random::Generator(ctx, 9).random({301, 77}, float64, {64, 32});
  BlockArray g = x.to(gpu);
  EXPECT_EQ(g.device(), gpu);
  int64_t used = 0;
  for (const NodeStatus& n : ctx.nodes()) used += n.gpu_memory_used;
  EXPECT_GE(used, x.nbytes());
  BlockArray e = exp(g * 0.5) + g;
  BlockArray m = matmul(g.T(), g);
  EXPECT_EQ(e.device(), gpu);
  EXPECT_EQ(m.device(), gpu);
  BlockArray back = e.to(cpu);
  EXPECT_EQ(back.device(), cpu);
  EXPECT_ARRAY_NEAR(back.get(), (exp(x * 0.5) + x).get(), 1e-12);
  EXPECT_ARRAY_NEAR(m.get(), matmul(x.T(), x).get(), 1e-12);
  EXPECT_SAME_BYTES(g.get(), x.get());
  EXPECT_THROW((void)(g + back).get(), ValueError);
}

TEST(GpuToTest, AutoOnAGpuUsesTheMeasuredRatesAndMatchesTheCpu) {
  if (engine::DiscoverGpus().empty()) {
    GTEST_SKIP() << "no GPU in this process: " << engine::NoGpuReason();
  }
  auto run = [](const std::string& device) {
    Context ctx = init({.nodes = 2, .threads_per_node = 2, .device = device});
    BlockArray a = random::Generator(ctx, 11).random({4096, 2048}, float64, {2048, 2048});
    BlockArray m = matmul(a.T(), a);
    if (device == "auto") {
      EXPECT_EQ(ctx.impl()->rates.size(), 2u);
      for (const auto& r : ctx.impl()->rates) EXPECT_GT(r.gpu_flops, 0.0);
      EXPECT_EQ(m.device(), gpu) << "a 2048^3 product stayed on the CPU";
    }
    return std::vector<NDArray>{m.get(), (a * 2.0 + 1.0).sum(0).get()};
  };
  const auto want = run("cpu");
  const auto got = run("auto");
  for (size_t i = 0; i < want.size(); ++i) EXPECT_ARRAY_NEAR(got[i], want[i], 1e-12);
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
