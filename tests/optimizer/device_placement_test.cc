// Placement with a device dimension: the node as without rates, then CPU or GPU on it.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "nums/errors.hpp"
#include "optimizer/search.h"

namespace nums::optimizer {
namespace {

constexpr int64_t kBlock = 4096LL * 4096 * 8;  // a 4096 x 4096 float64 block: 128 MiB

// A node like an H100 host: ~1 Tflop/s and 100 GB/s on its CPUs, ~50 Tflop/s and 2 TB/s on its
// GPU, 25 GB/s over PCIe.
NodeRates GpuNode() {
  NodeRates r;
  r.cpu_flops = 1e12;
  r.cpu_bytes_per_s = 1e11;
  r.gpu_flops = 5e13;
  r.gpu_bytes_per_s = 2e12;
  r.link_bytes_per_s = 2.5e10;
  return r;
}

// No GPU: gpu_flops 0 (the other GPU figures do not matter then).
NodeRates CpuNode() {
  NodeRates r = GpuNode();
  r.gpu_flops = 0;
  return r;
}

ClusterState Seeded(const BlockGraph& g, int64_t nodes) {
  return ClusterState(g.LeafBytesPerNode(nodes));
}

// A 4096^3 product on host blocks: 140 ms on the CPU against 14 ms on the GPU, copies included.
TEST(DevicePlacement, ALargeProductGoesToTheGpu) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, kBlock);
  const OpId b = g.AddLeaf(0, kBlock);
  const OpId p = g.AddProduct(a, b, kBlock);
  g.SetWork(p, g.op(p).flops, true);
  g.MarkOutput(p);
  const std::vector<NodeRates> rates{GpuNode()};
  const Plan plan = Place(g, Seeded(g, 1), Policy::kLshs, rates);
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].device, Device::kGpu);
  EXPECT_EQ(plan.device_of_op[static_cast<size_t>(p)], Device::kGpu);
  EXPECT_EQ(plan.device_of_op[static_cast<size_t>(a)], Device::kCpu);
  // Without a GPU kernel, or on a node without a GPU: the CPU.
  g.SetWork(p, g.op(p).flops, false);
  EXPECT_EQ(Place(g, Seeded(g, 1), Policy::kLshs, rates).steps[0].device, Device::kCpu);
  g.SetWork(p, g.op(p).flops, true);
  const std::vector<NodeRates> cpu{CpuNode()};
  EXPECT_EQ(Place(g, Seeded(g, 1), Policy::kLshs, cpu).steps[0].device, Device::kCpu);
}

// An 8 KiB add of host blocks: 0.25 us on the CPU; the GPU's launch alone is 10 us.
TEST(DevicePlacement, ATinyElementwiseOpStaysOnTheCpu) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 8192);
  const OpId b = g.AddLeaf(0, 8192);
  const OpId s = g.AddBinary(a, b, 8192, "add");
  g.SetWork(s, 1024, true);
  g.MarkOutput(s);
  const std::vector<NodeRates> rates{GpuNode()};
  EXPECT_EQ(Place(g, Seeded(g, 1), Policy::kLshs, rates).steps[0].device, Device::kCpu);
}

// A 128 MiB add over a 1 GB/s link. On GPU blocks: 0.2 ms there against 4 ms + 268 ms of copies
// on the CPU. On host blocks: 268 ms of copies to the GPU against 4 ms on the CPU.
TEST(DevicePlacement, ALargeElementwiseOpRunsWhereItsInputsAre) {
  for (Device leaves : {Device::kGpu, Device::kCpu}) {
    BlockGraph g;
    const OpId a = g.AddLeaf(0, kBlock, "a", leaves);
    const OpId b = g.AddLeaf(0, kBlock, "b", leaves);
    const OpId s = g.AddBinary(a, b, kBlock, "add");
    g.SetWork(s, 0, true);
    g.MarkOutput(s);
    NodeRates slow_link = GpuNode();
    slow_link.link_bytes_per_s = 1e9;
    const std::vector<NodeRates> rates{slow_link};
    const Plan plan = Place(g, Seeded(g, 1), Policy::kLshs, rates);
    EXPECT_EQ(plan.steps[0].device, leaves) << DeviceName(leaves);
    EXPECT_EQ(plan.device_of_op[static_cast<size_t>(a)], leaves);
  }
}

// A GPU result read again on its node stays on the GPU; the chain follows its first step.
TEST(DevicePlacement, ResultsKeepTheirDeviceForTheirReaders) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, kBlock);
  const OpId b = g.AddLeaf(0, kBlock);
  const OpId p = g.AddProduct(a, b, kBlock);
  g.SetWork(p, g.op(p).flops, true);
  const OpId e = g.AddUnary(p, kBlock, "exp");
  g.SetWork(e, 0, true);
  g.MarkOutput(e);
  const std::vector<NodeRates> rates{GpuNode()};
  const Plan plan = Place(g, Seeded(g, 1), Policy::kLshs, rates);
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].device, Device::kGpu);
  // On host input exp would stay on the CPU (2.7 ms against 5.5 ms with the copy); its input
  // is on the GPU (0.14 ms there against 8 ms on the CPU), so it runs there.
  EXPECT_EQ(plan.steps[1].device, Device::kGpu);
}

// Two products on node 0's GPU feed a sum there: the sum runs on the GPU when it has a GPU
// kernel (its partials are there), on the CPU when not.
TEST(DevicePlacement, ReductionStepsUseTheReduceOpsKernelFlag) {
  for (bool kernel : {true, false}) {
    BlockGraph g;
    const OpId x0 = g.AddLeaf(0, kBlock);
    const OpId x1 = g.AddLeaf(0, kBlock);
    const OpId p0 = g.AddProduct(x0, x0, kBlock);
    const OpId p1 = g.AddProduct(x1, x1, kBlock);
    g.SetWork(p0, g.op(p0).flops, true);
    g.SetWork(p1, g.op(p1).flops, true);
    const OpId r = g.AddReduce({p0, p1}, kBlock);
    g.SetWork(r, 0, kernel);
    g.MarkOutput(r);
    const std::vector<NodeRates> rates{GpuNode()};
    const Plan plan = Place(g, Seeded(g, 1), Policy::kLshs, rates);
    ASSERT_EQ(plan.steps.size(), 3u);
    EXPECT_EQ(plan.steps[0].device, Device::kGpu);
    EXPECT_EQ(plan.steps[1].device, Device::kGpu);
    EXPECT_EQ(plan.steps[2].device, kernel ? Device::kGpu : Device::kCpu);
    EXPECT_EQ(plan.device_of_op[static_cast<size_t>(r)], plan.steps[2].device);
  }
}

// A sum of a host block on node 0 and a GPU block on node 1, over a 1 GB/s link; it runs on
// node 0, which fetches the other block into host memory. With its own block on the host, the
// CPU streams the 384 MiB in 4 ms against 268 ms of copies to the GPU; with it on the GPU, each
// device copies one block in (134 ms) and the GPU streams faster. Were the fetched block counted
// on the GPU, the first case would go to the GPU too.
TEST(DevicePlacement, AnInputFetchedFromAnotherNodeArrivesInHostMemory) {
  for (Device local : {Device::kCpu, Device::kGpu}) {
    BlockGraph g;
    const OpId x0 = g.AddLeaf(0, kBlock, "x0", local);
    const OpId x1 = g.AddLeaf(1, kBlock, "x1", Device::kGpu);
    const OpId r = g.AddReduce({x0, x1}, kBlock);
    g.SetWork(r, 0, true);
    g.MarkOutput(r);
    NodeRates slow_link = GpuNode();
    slow_link.link_bytes_per_s = 1e9;
    const std::vector<NodeRates> rates{slow_link, slow_link};
    const Plan plan = Place(g, Seeded(g, 2), Policy::kLshs, rates);
    ASSERT_EQ(plan.steps.size(), 1u);
    ASSERT_EQ(plan.steps[0].node, 0);
    ASSERT_EQ(plan.steps[0].sources, (std::vector<int64_t>{0, 1}));
    EXPECT_EQ(plan.steps[0].device, local) << DeviceName(local);
  }
}

// C = A B on a grid x grid grid of 128 MiB blocks laid out round-robin over `nodes`; the
// products and sums have GPU kernels when `gpu_kernels`.
BlockGraph Matmul(int64_t grid, int64_t nodes, bool gpu_kernels) {
  BlockGraph g;
  std::vector<OpId> a, b;
  for (int64_t i = 0; i < grid * grid; ++i) {
    a.push_back(g.AddLeaf(i % nodes, kBlock, "A"));
    b.push_back(g.AddLeaf((i + 1) % nodes, kBlock, "B"));
  }
  for (int64_t i = 0; i < grid; ++i) {
    for (int64_t j = 0; j < grid; ++j) {
      std::vector<OpId> parts;
      for (int64_t k = 0; k < grid; ++k) {
        const OpId p = g.AddProduct(a[static_cast<size_t>(i * grid + k)],
                                    b[static_cast<size_t>(k * grid + j)], kBlock);
        if (gpu_kernels) g.SetWork(p, g.op(p).flops, true);
        parts.push_back(p);
      }
      const OpId c = g.AddReduce(parts, kBlock);
      if (gpu_kernels) g.SetWork(c, 0, true);
      g.MarkOutput(c);
    }
  }
  return g;
}

TEST(DevicePlacement, ANodeWithoutAGpuNeverGetsAGpuStep) {
  const BlockGraph g = Matmul(3, 4, true);
  const std::vector<NodeRates> rates{GpuNode(), CpuNode(), GpuNode(), CpuNode()};
  for (Policy policy : {Policy::kLshs, Policy::kLocality, Policy::kRoundRobin}) {
    const Plan plan = Place(g, Seeded(g, 4), policy, rates);
    int64_t gpu_steps = 0;
    for (const PlanStep& s : plan.steps) {
      if (s.node == 1 || s.node == 3) {
        EXPECT_EQ(s.device, Device::kCpu) << PolicyName(policy) << " node " << s.node;
      }
      gpu_steps += s.device == Device::kGpu;
    }
    EXPECT_GT(gpu_steps, 0) << PolicyName(policy);  // nodes 0 and 2 do use theirs
  }
}

TEST(DevicePlacement, AnOpWithoutAGpuKernelNeverGoesToTheGpu) {
  const BlockGraph g = Matmul(3, 4, false);
  const std::vector<NodeRates> rates(4, GpuNode());
  const Plan plan = Place(g, Seeded(g, 4), Policy::kLshs, rates);
  for (const PlanStep& s : plan.steps) EXPECT_EQ(s.device, Device::kCpu);
  EXPECT_TRUE(std::all_of(plan.device_of_op.begin(), plan.device_of_op.end(),
                          [](Device d) { return d == Device::kCpu; }));
}

// The device never changes a node: with rates the nodes, moves and loads are those of the plan
// without rates, whatever the policy; without rates (or with rates and no GPU) the plan is the
// one of a graph that records no work at all.
TEST(DevicePlacement, RatesChangeDevicesOnly) {
  const BlockGraph plain = Matmul(3, 4, false);
  const BlockGraph g = Matmul(3, 4, true);
  const std::vector<NodeRates> rates{GpuNode(), CpuNode(), GpuNode(), GpuNode()};
  const std::vector<NodeRates> no_gpus(4, CpuNode());
  for (Policy policy : {Policy::kLshs, Policy::kLocality, Policy::kRoundRobin}) {
    const Plan before = Place(plain, Seeded(plain, 4), policy);
    EXPECT_EQ(Place(g, Seeded(g, 4), policy), before) << PolicyName(policy);
    EXPECT_EQ(Place(g, Seeded(g, 4), policy, no_gpus), before) << PolicyName(policy);
    const Plan with = Place(g, Seeded(g, 4), policy, rates);
    EXPECT_NE(with, before) << PolicyName(policy);  // some step is on a GPU
    EXPECT_EQ(with.node_of_op, before.node_of_op) << PolicyName(policy);
    EXPECT_EQ(with.state, before.state) << PolicyName(policy);
    ASSERT_EQ(with.steps.size(), before.steps.size());
    for (size_t i = 0; i < with.steps.size(); ++i) {
      PlanStep step = with.steps[i];
      step.device = Device::kCpu;
      EXPECT_EQ(step, before.steps[i]) << PolicyName(policy) << " step " << i;
    }
  }
  // PlaceOnCluster passes the rates on.
  const std::vector<int64_t> memory = g.LeafBytesPerNode(4);
  EXPECT_EQ(PlaceOnCluster(g, memory, Policy::kLshs, {}, {}, rates),
            Place(g, Seeded(g, 4), Policy::kLshs, rates));
  EXPECT_EQ(PlaceOnCluster(g, memory), Place(plain, Seeded(plain, 4), Policy::kLshs));
}

TEST(DevicePlacement, IsDeterministic) {
  const BlockGraph g = Matmul(3, 4, true);
  const std::vector<NodeRates> rates{GpuNode(), CpuNode(), GpuNode(), GpuNode()};
  const Plan first = Place(g, Seeded(g, 4), Policy::kLshs, rates);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Place(g, Seeded(g, 4), Policy::kLshs, rates), first);
}

TEST(DevicePlacement, ExplainNamesDevicesOnlyWhenAGpuIsUsed) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, kBlock);
  const OpId p = g.AddProduct(a, a, kBlock);
  g.SetWork(p, g.op(p).flops, true);
  g.MarkOutput(p);
  const std::string cpu = Explain(Place(g, Seeded(g, 1), Policy::kLshs), g);
  EXPECT_NE(cpu.find(") on node 0, 128.00 MiB"), std::string::npos) << cpu;
  EXPECT_EQ(cpu.find("gpu"), std::string::npos) << cpu;
  const std::vector<NodeRates> rates{GpuNode()};
  const std::string gpu = Explain(Place(g, Seeded(g, 1), Policy::kLshs, rates), g);
  EXPECT_NE(gpu.find(") on node 0 gpu, 128.00 MiB"), std::string::npos) << gpu;
}

TEST(DevicePlacement, RejectsRatesThatDoNotFitTheCluster) {
  const BlockGraph g = Matmul(2, 2, true);
  EXPECT_THROW(Place(g, Seeded(g, 2), Policy::kLshs, std::vector<NodeRates>{GpuNode()}),
               ValueError);
  NodeRates negative = GpuNode();
  negative.link_bytes_per_s = -1;
  EXPECT_THROW(Place(g, Seeded(g, 2), Policy::kLshs, std::vector<NodeRates>{GpuNode(), negative}),
               ValueError);
}

}  // namespace
}  // namespace nums::optimizer
