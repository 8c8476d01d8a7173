// The device model's arithmetic and choices, and the work a BlockGraph records per op.

#include "optimizer/device_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nums/errors.hpp"
#include "optimizer/block_graph.h"

namespace nums::optimizer {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Round figures, so each term of StepSeconds can be checked by hand.
NodeRates RoundRates() {
  NodeRates r;
  r.cpu_flops = 1e9;
  r.cpu_bytes_per_s = 1e9;
  r.gpu_flops = 1e12;
  r.gpu_bytes_per_s = 1e11;
  r.link_bytes_per_s = 1e10;
  return r;
}

TEST(DeviceModel, Names) {
  EXPECT_EQ(DeviceName(Device::kCpu), "cpu");
  EXPECT_EQ(DeviceName(Device::kGpu), "gpu");
}

// CPU: 2e9 / 1e9 + 1e9 / 1e9 + (GPU inputs) 1e8 / 1e10 = 3.01 s.
// GPU: 2e9 / 1e12 + 1e9 / 1e11 + (host inputs) 4e8 / 1e10 + 10 us = 0.05201 s.
TEST(DeviceModel, StepSecondsAddsComputeBandwidthLinkAndLaunch) {
  const StepWork work{2e9, 1'000'000'000, 400'000'000, 100'000'000, true};
  EXPECT_DOUBLE_EQ(StepSeconds(RoundRates(), Device::kCpu, work), 2.0 + 1.0 + 0.01);
  EXPECT_DOUBLE_EQ(StepSeconds(RoundRates(), Device::kGpu, work),
                   0.002 + 0.01 + 0.04 + kGpuLaunchSeconds);
  EXPECT_EQ(kGpuLaunchSeconds, 10e-6);
  // Inputs already where the step runs cross no link.
  const StepWork on_host{2e9, 1'000'000'000, 400'000'000, 0, true};
  EXPECT_DOUBLE_EQ(StepSeconds(RoundRates(), Device::kCpu, on_host), 3.0);
  const StepWork on_gpu{2e9, 1'000'000'000, 0, 400'000'000, true};
  EXPECT_DOUBLE_EQ(StepSeconds(RoundRates(), Device::kGpu, on_gpu), 0.012 + kGpuLaunchSeconds);
  // An empty step costs nothing on the CPU and the launch on the GPU.
  EXPECT_EQ(StepSeconds(RoundRates(), Device::kCpu, StepWork{0, 0, 0, 0, true}), 0.0);
  EXPECT_EQ(StepSeconds(RoundRates(), Device::kGpu, StepWork{0, 0, 0, 0, true}), kGpuLaunchSeconds);
}

TEST(DeviceModel, UnknownRatesAndMissingGpusCostInfinity) {
  NodeRates no_link = RoundRates();
  no_link.link_bytes_per_s = 0;
  // Work for a rate that is unknown: infinite; no work for it: free whatever the rate.
  EXPECT_EQ(StepSeconds(no_link, Device::kGpu, StepWork{0, 8, 8, 0, true}), kInf);
  EXPECT_DOUBLE_EQ(StepSeconds(no_link, Device::kGpu, StepWork{0, 8, 0, 8, true}),
                   8 / 1e11 + kGpuLaunchSeconds);
  NodeRates cpu_only = RoundRates();
  cpu_only.gpu_flops = 0;
  EXPECT_FALSE(cpu_only.has_gpu());
  EXPECT_TRUE(RoundRates().has_gpu());
  EXPECT_EQ(StepSeconds(cpu_only, Device::kGpu, StepWork{0, 8, 0, 8, true}), kInf);
  EXPECT_EQ(StepSeconds(RoundRates(), Device::kGpu, StepWork{1, 8, 8, 0, false}), kInf);
  EXPECT_EQ(StepSeconds(NodeRates{}, Device::kCpu, StepWork{1, 0, 0, 0, false}), kInf);
}

// A 4096^3 float64 GEMM (2 * 4096^3 flops, three 128 MiB blocks) on host inputs.
TEST(DeviceModel, ChoosesTheFasterDevice) {
  constexpr int64_t kBlock = 4096LL * 4096 * 8;
  const StepWork gemm{2.0 * 4096 * 4096 * 4096, 3 * kBlock, 2 * kBlock, 0, true};
  EXPECT_EQ(ChooseDevice(RoundRates(), gemm), Device::kGpu);
  // An 8-byte add: the launch alone costs more than the CPU's whole step.
  const StepWork tiny{0, 24, 16, 0, true};
  EXPECT_EQ(ChooseDevice(RoundRates(), tiny), Device::kCpu);
  // Without a GPU or a GPU kernel: the CPU, however slow.
  NodeRates cpu_only = RoundRates();
  cpu_only.gpu_flops = 0;
  EXPECT_EQ(ChooseDevice(cpu_only, gemm), Device::kCpu);
  const StepWork on_gpu{0, 3 * kBlock, 0, 2 * kBlock, true};  // would be faster on a GPU
  EXPECT_EQ(ChooseDevice(RoundRates(), on_gpu), Device::kGpu);
  EXPECT_EQ(ChooseDevice(cpu_only, on_gpu), Device::kCpu);
  StepWork no_kernel = gemm;
  no_kernel.gpu_kernel = false;
  EXPECT_EQ(ChooseDevice(RoundRates(), no_kernel), Device::kCpu);
  // A tie (both infinite: no bandwidth known on either device) goes to the CPU.
  NodeRates flops_only;
  flops_only.cpu_flops = 1e9;
  flops_only.gpu_flops = 1e12;
  EXPECT_EQ(ChooseDevice(flops_only, gemm), Device::kCpu);
  // The CPU's rates unknown, the GPU's known: the GPU.
  NodeRates gpu_known = RoundRates();
  gpu_known.cpu_flops = 0;
  gpu_known.cpu_bytes_per_s = 0;
  EXPECT_EQ(ChooseDevice(gpu_known, tiny), Device::kGpu);
}

TEST(DeviceModel, RejectsNegativeRatesAndWork) {
  const StepWork work{1, 8, 8, 0, true};
  for (double NodeRates::*field :
       {&NodeRates::cpu_flops, &NodeRates::cpu_bytes_per_s, &NodeRates::gpu_flops,
        &NodeRates::gpu_bytes_per_s, &NodeRates::link_bytes_per_s}) {
    NodeRates r = RoundRates();
    r.*field = -1;
    EXPECT_THROW(CheckRates(r), ValueError);
    EXPECT_THROW(StepSeconds(r, Device::kCpu, work), ValueError);
    EXPECT_THROW(ChooseDevice(r, work), ValueError);
    r.*field = std::nan("");
    EXPECT_THROW(ChooseDevice(r, work), ValueError);
  }
  EXPECT_THROW(StepSeconds(RoundRates(), Device::kGpu, StepWork{-1, 8, 8, 0, true}), ValueError);
  EXPECT_THROW(ChooseDevice(RoundRates(), StepWork{1, -8, 8, 0, true}), ValueError);
  EXPECT_THROW(ChooseDevice(RoundRates(), StepWork{1, 8, -8, 0, true}), ValueError);
  EXPECT_THROW(ChooseDevice(RoundRates(), StepWork{1, 8, 8, -1, true}), ValueError);
  EXPECT_NO_THROW(CheckRates(NodeRates{}));
}

TEST(BlockGraphWork, ProductFlopsFromTheByteSizes) {
  constexpr int64_t kBlock = 4096LL * 4096 * 8;
  EXPECT_EQ(ProductFlops(kBlock, kBlock, kBlock), 2.0 * 4096 * 4096 * 4096);
  // (m, k, n) = (100, 30, 7) in float32: 2 m n k = 42,000.
  EXPECT_DOUBLE_EQ(ProductFlops(100 * 30 * 4, 30 * 7 * 4, 100 * 7 * 4, 4), 42'000.0);
  EXPECT_EQ(ProductFlops(0, 8, 8), 0.0);
  EXPECT_THROW(ProductFlops(-8, 8, 8), ValueError);
  EXPECT_THROW(ProductFlops(8, 8, 8, 0), ValueError);
}

TEST(BlockGraphWork, OpsCarryFlopsAGpuKernelAndLeavesADevice) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 100 * 30 * 8, "A");
  const OpId b = g.AddLeaf(1, 30 * 7 * 8, "B", Device::kGpu);
  const OpId p = g.AddProduct(a, b, 100 * 7 * 8);
  const OpId q = g.AddProduct(a, b, 100 * 7 * 4, "matmul", 4);
  const OpId s = g.AddBinary(p, p, 100 * 7 * 8, "add");
  EXPECT_EQ(g.op(a).device, Device::kCpu);
  EXPECT_EQ(g.op(b).device, Device::kGpu);
  EXPECT_DOUBLE_EQ(g.op(p).flops, 42'000.0);
  EXPECT_FALSE(g.op(p).gpu_kernel);
  // Read as float32 the same bytes are A 100 x 60 and B 60 x 7: 2 * 100 * 7 * 60 flops.
  EXPECT_DOUBLE_EQ(g.op(q).flops, 84'000.0);
  EXPECT_EQ(g.op(s).flops, 0.0);
  EXPECT_FALSE(g.op(s).gpu_kernel);
  g.SetWork(s, 700, true);
  EXPECT_EQ(g.op(s).flops, 700.0);
  EXPECT_TRUE(g.op(s).gpu_kernel);
  g.SetWork(p, g.op(p).flops, true);
  EXPECT_DOUBLE_EQ(g.op(p).flops, 42'000.0);
  EXPECT_TRUE(g.op(p).gpu_kernel);
  EXPECT_THROW(g.SetWork(a, 1, true), ValueError);  // a leaf computes nothing
  EXPECT_THROW(g.SetWork(s, -1, true), ValueError);
  EXPECT_THROW(g.SetWork(s, std::nan(""), true), ValueError);
  EXPECT_THROW(g.SetWork(99, 1, true), ValueError);
}

}  // namespace
}  // namespace nums::optimizer
