// Properties every plan keeps, over random graphs, cluster sizes and policies.

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "optimizer/search.h"

namespace nums::optimizer {
namespace {

BlockGraph RandomGraph(std::mt19937_64& rng, int64_t nodes) {
  BlockGraph g;
  std::uniform_int_distribution<int64_t> node(0, nodes - 1), bytes(0, 4096);
  const int64_t leaves = 1 + static_cast<int64_t>(rng() % 12);
  for (int64_t i = 0; i < leaves; ++i) g.AddLeaf(node(rng), bytes(rng));
  const int64_t ops = static_cast<int64_t>(rng() % 40);
  for (int64_t i = 0; i < ops; ++i) {
    auto pick = [&] { return static_cast<OpId>(rng() % static_cast<uint64_t>(g.size())); };
    switch (rng() % 6) {
      case 0:
        g.AddUnary(pick(), bytes(rng));
        break;
      case 5:
        g.AddSource(node(rng), bytes(rng));
        break;
      case 1:
        g.AddBinary(pick(), pick(), bytes(rng));
        break;
      case 2:
        g.AddProduct(pick(), pick(), bytes(rng));
        break;
      case 3: {
        std::vector<OpId> in(1 + rng() % 6);  // may read one value twice
        for (OpId& v : in) v = pick();
        g.AddGather(std::move(in), bytes(rng));
        break;
      }
      default: {
        std::vector<OpId> in(2 + rng() % 6);
        for (OpId& v : in) v = pick();
        g.AddReduce(std::move(in), bytes(rng));
      }
    }
    const OpKind kind = g.op(g.size() - 1).kind;
    if (kind != OpKind::kReduce && kind != OpKind::kSource && rng() % 5 == 0) {
      g.Pin(g.size() - 1, node(rng));
    }
    if (rng() % 3 == 0) g.MarkOutput(g.size() - 1);
  }
  g.MarkOutput(g.size() - 1);
  return g;
}

void CheckPlan(const BlockGraph& g, const ClusterState& start, const Plan& plan) {
  const int64_t n = g.size();
  ASSERT_EQ(plan.node_of_op.size(), static_cast<size_t>(n));
  std::set<std::pair<ValueId, int64_t>> held;  // (value, node) holding it now
  std::vector<int64_t> producer(static_cast<size_t>(n), -1);
  std::vector<int64_t> steps_of(static_cast<size_t>(n), 0);
  std::set<ValueId> partials_made, partials_read;
  for (OpId id = 0; id < n; ++id) {
    if (g.op(id).kind == OpKind::kLeaf) {
      held.insert({id, g.op(id).node});
      producer[static_cast<size_t>(id)] = g.op(id).node;
    }
  }
  for (const PlanStep& s : plan.steps) {
    ++steps_of[static_cast<size_t>(s.op)];
    const Op& op = g.op(s.op);
    bool holds_an_input = false;
    for (int k = 0; k < s.num_inputs(); ++k) {
      const auto kk = static_cast<size_t>(k);
      const ValueId v = s.inputs[kk];
      if (v < n) {
        // Parents before children: an op's result exists before a step reads it.
        ASSERT_GE(producer[static_cast<size_t>(v)], 0) << "step reads %" << v << " early";
        if (op.kind != OpKind::kReduce) {
          EXPECT_EQ(v, op.inputs[kk]);
        }
      } else {
        ASSERT_TRUE(partials_made.count(v)) << "partial read before it is made";
        ASSERT_TRUE(partials_read.insert(v).second) << "partial read twice";
      }
      ASSERT_TRUE(held.count({v, s.sources[kk]})) << "fetched from a node without it";
      holds_an_input |= held.count({v, s.node}) > 0;
      held.insert({v, s.node});
    }
    if (op.kind != OpKind::kReduce && op.node >= 0) {
      EXPECT_EQ(s.node, op.node) << "step of %" << s.op << " off the node it is pinned to";
    } else if (plan.policy != Policy::kRoundRobin && op.kind != OpKind::kReduce) {
      EXPECT_TRUE(holds_an_input) << "step of %" << s.op << " on a node without its inputs";
    }
    if (s.output < n) {
      ASSERT_EQ(s.output, s.op);
      ASSERT_EQ(producer[static_cast<size_t>(s.op)], -1) << "op placed twice";
      producer[static_cast<size_t>(s.op)] = s.node;
    } else {
      ASSERT_EQ(op.kind, OpKind::kReduce);
      ASSERT_TRUE(partials_made.insert(s.output).second);
    }
    held.insert({s.output, s.node});
  }
  EXPECT_EQ(partials_made, partials_read);
  int64_t output_bytes = 0;
  for (OpId id = 0; id < n; ++id) {
    const Op& op = g.op(id);
    const auto i = static_cast<size_t>(id);
    EXPECT_EQ(plan.node_of_op[i], producer[i]);
    const int64_t expected = op.kind == OpKind::kLeaf ? 0
                             : op.kind == OpKind::kReduce
                                 ? static_cast<int64_t>(op.inputs.size()) - 1
                                 : 1;
    EXPECT_EQ(steps_of[i], expected) << "op " << id;
    if (op.is_output && op.kind != OpKind::kLeaf) output_bytes += op.bytes;
  }
  const ClusterState& end = plan.state;
  EXPECT_EQ(end.TotalNetIn(), plan.MovedBytes());
  EXPECT_EQ(end.TotalNetOut(), plan.MovedBytes());
  // Intermediates and copies are gone: the inputs and the outputs remain.
  EXPECT_EQ(end.TotalMemory(), start.TotalMemory() + output_bytes);
  for (int64_t node = 0; node < end.num_nodes(); ++node) {
    EXPECT_GE(end.peak_memory(node), end.memory(node));
  }
}

TEST(PlanInvariants, HoldForRandomGraphsEveryPolicyAndClusterSize) {
  std::mt19937_64 rng(2024);
  for (int64_t nodes : {1, 2, 3, 5, 8}) {
    for (int trial = 0; trial < 60; ++trial) {
      const BlockGraph g = RandomGraph(rng, nodes);
      const ClusterState start(g.LeafBytesPerNode(nodes));
      for (Policy p : {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality}) {
        SCOPED_TRACE(std::string(PolicyName(p)) + " nodes " + std::to_string(nodes) + " trial " +
                     std::to_string(trial));
        const Plan plan = Place(g, start, p);
        CheckPlan(g, start, plan);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// The same graph with work on every op (random flops, some GPU kernels) and some leaves on a GPU.
BlockGraph WithRandomWork(std::mt19937_64& rng, const BlockGraph& g) {
  BlockGraph w;
  for (OpId id = 0; id < g.size(); ++id) {
    const Op& op = g.op(id);
    OpId added = 0;
    switch (op.kind) {
      case OpKind::kLeaf:
        added = w.AddLeaf(op.node, op.bytes, op.name, rng() % 2 ? Device::kGpu : Device::kCpu);
        break;
      case OpKind::kUnary:
        added = w.AddUnary(op.inputs[0], op.bytes, op.name);
        break;
      case OpKind::kBinary:
        added = w.AddBinary(op.inputs[0], op.inputs[1], op.bytes, op.name);
        break;
      case OpKind::kProduct:
        added = w.AddProduct(op.inputs[0], op.inputs[1], op.bytes, op.name);
        break;
      case OpKind::kReduce:
        added = w.AddReduce(op.inputs, op.bytes, op.name);
        break;
      case OpKind::kGather:
        added = w.AddGather(op.inputs, op.bytes, op.name);
        break;
      case OpKind::kSource:
        added = w.AddSource(op.node, op.bytes, op.name);
        break;
    }
    if (op.node >= 0 && op.kind != OpKind::kLeaf && op.kind != OpKind::kSource) {
      w.Pin(added, op.node);
    }
    if (op.kind != OpKind::kLeaf) {
      w.SetWork(added, static_cast<double>(rng() % 3 ? rng() % 100'000 : 0), rng() % 4 != 0);
    }
    if (op.is_output) w.MarkOutput(added);
  }
  return w;
}

// Rates change devices, never nodes: with random rates (some nodes without a GPU, slow and fast
// links, rates scaled to make both devices win) the steps, moves and loads are those of the plan
// without rates; a step is on a GPU only where the node has one and the op a GPU kernel, and each
// op's device is that of its last step.
TEST(PlanInvariants, RatesChangeDevicesNeverNodes) {
  std::mt19937_64 rng(31);
  int64_t gpu_steps = 0, cpu_steps = 0;
  for (int64_t nodes : {1, 2, 3, 5}) {
    for (int trial = 0; trial < 40; ++trial) {
      const BlockGraph g = WithRandomWork(rng, RandomGraph(rng, nodes));
      const ClusterState start(g.LeafBytesPerNode(nodes));
      std::vector<NodeRates> rates;
      for (int64_t n = 0; n < nodes; ++n) {
        const double scale = static_cast<double>(1 + rng() % 1000);
        NodeRates r{1e6, 1e7, rng() % 3 ? 1e8 * scale : 0, 1e9, 1e6 * scale};
        rates.push_back(r);
      }
      for (Policy p : {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality}) {
        SCOPED_TRACE(std::string(PolicyName(p)) + " nodes " + std::to_string(nodes) + " trial " +
                     std::to_string(trial));
        const Plan without = Place(g, start, p);
        const Plan with = Place(g, start, p, rates);
        CheckPlan(g, start, with);
        if (HasFatalFailure()) return;
        EXPECT_EQ(with.node_of_op, without.node_of_op);
        EXPECT_EQ(with.state, without.state);
        ASSERT_EQ(with.steps.size(), without.steps.size());
        for (size_t i = 0; i < with.steps.size(); ++i) {
          const PlanStep& s = with.steps[i];
          EXPECT_EQ(without.steps[i].device, Device::kCpu);
          PlanStep cpu = s;
          cpu.device = Device::kCpu;
          EXPECT_EQ(cpu, without.steps[i]);
          if (s.device == Device::kGpu) {
            EXPECT_TRUE(rates[static_cast<size_t>(s.node)].has_gpu());
            EXPECT_TRUE(g.op(s.op).gpu_kernel);
            ++gpu_steps;
          } else {
            ++cpu_steps;
          }
          if (s.output == s.op) {
            EXPECT_EQ(with.device_of_op[static_cast<size_t>(s.op)], s.device);
          }
        }
        for (OpId id = 0; id < g.size(); ++id) {
          if (g.op(id).kind == OpKind::kLeaf) {
            EXPECT_EQ(with.device_of_op[static_cast<size_t>(id)], g.op(id).device);
          }
        }
      }
    }
  }
  EXPECT_GT(gpu_steps, 0);  // the rates make both devices win somewhere
  EXPECT_GT(cpu_steps, 0);
}

TEST(PlanInvariants, PlacementIsDeterministic) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 20; ++trial) {
    const BlockGraph g = RandomGraph(rng, 6);
    const BlockGraph copy = g;
    ClusterState start(g.LeafBytesPerNode(6));
    start.Apply(Transfer{1, 4, 333});  // some traffic before this graph
    for (Policy p : {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality}) {
      EXPECT_EQ(Place(g, start, p), Place(copy, start, p)) << PolicyName(p);
      const std::vector<NodeRates> rates(6, NodeRates{1e9, 1e9, 1e12, 1e11, 1e9});
      EXPECT_EQ(Place(g, start, p, rates), Place(copy, start, p, rates)) << PolicyName(p);
    }
  }
}

}  // namespace
}  // namespace nums::optimizer
