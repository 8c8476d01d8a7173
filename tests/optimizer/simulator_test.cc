#include <gtest/gtest.h>

#include "nums/array_grid.hpp"
#include "nums/errors.hpp"
#include "optimizer/search.h"
#include "optimizer/simulator/simulate.h"

namespace nums::optimizer::sim {
namespace {

constexpr Policy kAll[] = {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality};

int64_t CountKind(const BlockGraph& g, OpKind kind) {
  int64_t n = 0;
  for (const Op& op : g.ops()) n += op.kind == kind;
  return n;
}

TEST(Workloads, InputsAreBlockCyclic) {
  // 4 nodes as a 2x2 grid, 2 blocks per node: a 3x3 block grid (round(sqrt(8)) = 3).
  const Workload w = BuildWorkload({"add", 4, 30, 30, 2});
  const NodeGrid ng = NodeGrid::for_nodes(4);
  const ArrayGrid grid({30, 30}, {10, 10}, DType::kFloat64);
  ASSERT_EQ(CountKind(w.graph, OpKind::kLeaf), 18);
  for (int64_t f = 0; f < 9; ++f) {
    const Op& a = w.graph.op(f);
    EXPECT_EQ(a.node, ng.node_of(grid.entry(f), grid.grid_shape())) << f;
    EXPECT_EQ(a.bytes, 10 * 10 * 8);
    EXPECT_EQ(w.graph.op(f + 9).node, a.node);  // B's block sits with A's
  }
  EXPECT_EQ(w.initial.TotalMemory(), 2 * 30 * 30 * 8);
  EXPECT_EQ(w.graph.OutputBytes(), 30 * 30 * 8);
}

TEST(Workloads, GraphShapes) {
  const Workload mm = BuildWorkload({"matmul", 4, 40, 40, 4});  // 4x4 blocks
  EXPECT_EQ(CountKind(mm.graph, OpKind::kProduct), 64);
  EXPECT_EQ(CountKind(mm.graph, OpKind::kReduce), 16);
  const Workload xtx = BuildWorkload({"xtx", 4, 1000, 8, 2});  // 8 row blocks
  EXPECT_EQ(CountKind(xtx.graph, OpKind::kProduct), 8);
  EXPECT_EQ(xtx.graph.OutputBytes(), 8 * 8 * 8);
  const Workload lr = BuildWorkload({"lr", 4, 1000, 8, 2});
  // X w, X^T r and the Hessian's partial products per row block; g and H reductions.
  EXPECT_EQ(CountKind(lr.graph, OpKind::kProduct), 3 * 8);
  EXPECT_EQ(CountKind(lr.graph, OpKind::kReduce), 2);
  EXPECT_EQ(lr.graph.OutputBytes(), 2 * 8 * 8);  // gradient and new weights
  const Workload tsqr = BuildWorkload({"tsqr", 4, 1000, 8, 2});
  EXPECT_EQ(CountKind(tsqr.graph, OpKind::kUnary), 8);
  EXPECT_EQ(tsqr.graph.op(tsqr.graph.size() - 1).inputs.size(), 8u);
  const Workload sum0 = BuildWorkload({"sum0", 4, 30, 30, 2});
  EXPECT_EQ(CountKind(sum0.graph, OpKind::kReduce), 3);
  EXPECT_EQ(sum0.graph.OutputBytes(), 30 * 8);
  EXPECT_THROW(BuildWorkload({"fft", 4}), ValueError);
  EXPECT_THROW(BuildWorkload({"add", 0}), ValueError);
}

// Every workload keeps the plan invariants under every policy on a cluster of 16.
TEST(Simulate, EveryWorkloadAndPolicyBalancesItsBooks) {
  for (const std::string& name : WorkloadNames()) {
    const Workload w = BuildWorkload({name, 16, 0, 0, 2});
    for (const PolicyResult& r : Simulate(w, kAll)) {
      SCOPED_TRACE(name + " " + std::string(PolicyName(r.plan.policy)));
      EXPECT_EQ(r.plan.state.TotalNetIn(), r.plan.MovedBytes());
      EXPECT_EQ(r.plan.state.TotalNetOut(), r.plan.MovedBytes());
      EXPECT_EQ(r.plan.state.TotalMemory(), w.initial.TotalMemory() + w.graph.OutputBytes());
    }
  }
}

// Logistic regression on 16 nodes: LSHS never moves a block of X (each one moves only the small
// blocks: w, the partial gradients and Hessians), while round-robin moves most of X.
TEST(Simulate, LogisticRegressionKeepsXInPlaceUnderLshs) {
  const Workload w = BuildWorkload({"lr", 16, int64_t{1} << 24, 64, 4});
  const int64_t x_block = (int64_t{1} << 24) / 64 * 64 * 8;
  const auto results = Simulate(w, kAll);
  const Plan& lshs = results[0].plan;
  const Plan& rr = results[1].plan;
  for (const PlanStep& s : lshs.steps) {
    for (int k = 0; k < s.num_inputs(); ++k) {
      const auto kk = static_cast<size_t>(k);
      if (s.sources[kk] != s.node) {
        EXPECT_LT(s.input_bytes[kk], x_block / 100);
      }
    }
  }
  EXPECT_GT(rr.state.MaxNetIn(), x_block);
  EXPECT_LE(2 * lshs.state.MaxNetIn(), rr.state.MaxNetIn());
  EXPECT_LE(2 * lshs.state.MaxNetOut(), rr.state.MaxNetOut());
  EXPECT_LE(lshs.state.MaxPeakMemory(), rr.state.MaxPeakMemory());
}

TEST(Simulate, NoPolicyGoesBelowTheMemoryFloor) {
  for (const std::string& name : WorkloadNames()) {
    const Workload w = BuildWorkload({name, 8, 0, 0, 2});
    const int64_t floor = w.graph.MemoryFloor(8);
    for (const PolicyResult& r : Simulate(w, kAll)) {
      EXPECT_GE(r.plan.state.MaxPeakMemory(), floor) << name << " " << PolicyName(r.plan.policy);
    }
  }
}

// Matmul as in bench/RESULTS.md: LSHS's objective is no worse than locality's at 4, 8, 16 and
// 32 nodes (before partials sharing a home stayed there, LSHS ended at 15.74 against 13.29 GiB on
// 32 nodes; before it counted memory from its peak and floor and looked ahead to the reduction,
// at 17.0 against 15.25 GiB on 16).
TEST(Simulate, LshsMatmulIsNoWorseThanLocality) {
  const auto objective = [](const ClusterState& s) {
    return s.MaxPeakMemory() + s.MaxNetIn() + s.MaxNetOut();
  };
  for (int64_t nodes : {4, 8, 16, 32}) {
    const Workload w = BuildWorkload({"matmul", nodes, 0, 0, 4});
    const auto results = Simulate(w, kAll);
    const ClusterState& lshs = results[0].plan.state;
    const ClusterState& locality = results[2].plan.state;
    EXPECT_LE(objective(lshs), objective(locality)) << nodes << " nodes";
    EXPECT_LE(lshs.MaxPeakMemory(), locality.MaxPeakMemory()) << nodes << " nodes";
  }
}

TEST(Simulate, LshsHoldsANewtonStepAtItsMemoryFloor) {
  // X^T * s is as large as X and is written whole before the Hessian's products read it, so
  // every node must hold its share of both: LSHS adds only the small vectors on top.
  const Workload w = BuildWorkload({"lr", 16, 1 << 20, 16, 4});
  const int64_t floor = w.graph.MemoryFloor(16);
  const int64_t x_per_node = (int64_t{1} << 20) * 16 * 8 / 16;
  EXPECT_GE(floor, 2 * x_per_node);
  const Plan lshs = Place(w.graph, w.initial, Policy::kLshs);
  EXPECT_LE(static_cast<double>(lshs.state.MaxPeakMemory()), 1.02 * static_cast<double>(floor));
}

TEST(Simulate, TableHasARowPerPolicyAndTheRatios) {
  const Workload w = BuildWorkload({"xtx", 4, 1000, 8, 2});
  const std::string table = FormatTable(w, Simulate(w, kAll));
  EXPECT_NE(table.find("| lshs | 15 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| round-robin | 15 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| locality | 15 |"), std::string::npos) << table;
  EXPECT_NE(table.find("LSHS / round-robin: max memory"), std::string::npos) << table;
  EXPECT_NE(table.find("Memory floor (no placement goes below it): "), std::string::npos) << table;
}

// A 32768^2 matmul on 4 nodes, 2 of them with a GPU: every 8192^3 product on those goes to the
// GPU (0.7 s on the CPU against 0.07 s), none elsewhere, and the nodes are LSHS's as without GPUs.
TEST(Simulate, MatmulProductsGoToTheGpusThereAre) {
  Workload w = BuildWorkload({"matmul", 4, 32'768, 32'768, 4});
  const Plan cpu_only = Place(w.graph, w.initial, Policy::kLshs);
  AssumeGpuKernels(w.graph);
  const std::vector<NodeRates> rates = ExampleRates(4, 2);
  ASSERT_EQ(rates.size(), 4u);
  EXPECT_TRUE(rates[1].has_gpu());
  EXPECT_FALSE(rates[2].has_gpu());
  const auto results = Simulate(w, std::vector<Policy>{Policy::kLshs}, rates);
  const Plan& plan = results[0].plan;
  EXPECT_EQ(plan.node_of_op, cpu_only.node_of_op);
  int64_t gpu_products = 0;
  for (const PlanStep& s : plan.steps) {
    if (w.graph.op(s.op).kind != OpKind::kProduct) continue;
    EXPECT_EQ(s.device, s.node < 2 ? Device::kGpu : Device::kCpu) << "node " << s.node;
    gpu_products += s.device == Device::kGpu;
  }
  EXPECT_GT(gpu_products, 0);
  const std::string devices = FormatDevices(w, results);
  EXPECT_NE(devices.find("Steps on a GPU: lshs "), std::string::npos) << devices;
  EXPECT_NE(devices.find("(products " + std::to_string(gpu_products) + " of 64)"),
            std::string::npos)
      << devices;
  EXPECT_THROW(ExampleRates(4, 5), ValueError);
  EXPECT_TRUE(ExampleRates(4, 0)[0] == ExampleRates(4, 0)[3]);
}

}  // namespace
}  // namespace nums::optimizer::sim
