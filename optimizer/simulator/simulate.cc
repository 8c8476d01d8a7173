#include "optimizer/simulator/simulate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "nums/errors.hpp"
#include "optimizer/search.h"

namespace nums::optimizer::sim {
namespace {

struct Loads {
  int64_t max = 0;
  double mean = 0;
};

template <typename F>
Loads Summarise(const ClusterState& s, F load) {
  Loads l;
  for (int64_t n = 0; n < s.num_nodes(); ++n) {
    l.max = std::max(l.max, load(n));
    l.mean += static_cast<double>(load(n));
  }
  l.mean /= static_cast<double>(s.num_nodes());
  return l;
}

std::string Bytes(double bytes) { return FormatBytes(static_cast<int64_t>(bytes + 0.5)); }

std::string Ratio(int64_t a, int64_t b) {
  if (b == 0) return a == 0 ? "1 (both 0)" : "inf";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", static_cast<double>(a) / static_cast<double>(b));
  return buf;
}

}  // namespace

std::vector<PolicyResult> Simulate(const Workload& workload, std::span<const Policy> policies,
                                   std::span<const NodeRates> rates) {
  std::vector<PolicyResult> results;
  for (Policy p : policies) {
    const auto start = std::chrono::steady_clock::now();
    Plan plan = Place(workload.graph, workload.initial, p, rates);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    results.push_back({std::move(plan), took.count()});
  }
  return results;
}

std::vector<NodeRates> ExampleRates(int64_t nodes, int64_t gpus) {
  if (nodes < 1 || gpus < 0 || gpus > nodes) {
    throw ValueError("ExampleRates: " + std::to_string(gpus) + " GPUs for " +
                     std::to_string(nodes) + " nodes (at most one per node)");
  }
  NodeRates cpu;
  cpu.cpu_flops = 1.5e12;
  cpu.cpu_bytes_per_s = 2e11;
  NodeRates gpu = cpu;
  gpu.gpu_flops = 5e13;
  gpu.gpu_bytes_per_s = 3e12;
  gpu.link_bytes_per_s = 2.5e10;
  std::vector<NodeRates> rates(static_cast<size_t>(nodes), cpu);
  std::fill(rates.begin(), rates.begin() + gpus, gpu);
  return rates;
}

void AssumeGpuKernels(BlockGraph& graph) {
  for (OpId id = 0; id < graph.size(); ++id) {
    if (graph.op(id).kind != OpKind::kLeaf) graph.SetWork(id, graph.op(id).flops, true);
  }
}

std::string FormatDevices(const Workload& workload, const std::vector<PolicyResult>& results) {
  std::string s = "Steps on a GPU:";
  for (const PolicyResult& r : results) {
    int64_t gpu = 0, products = 0, gpu_products = 0;
    for (const PlanStep& step : r.plan.steps) {
      const bool on_gpu = step.device == Device::kGpu;
      const bool product = workload.graph.op(step.op).kind == OpKind::kProduct;
      gpu += on_gpu;
      products += product;
      gpu_products += on_gpu && product;
    }
    s += std::string(&r == &results.front() ? " " : "; ") + std::string(PolicyName(r.plan.policy)) +
         " " + std::to_string(gpu) + " of " + std::to_string(r.plan.steps.size()) + " (products " +
         std::to_string(gpu_products) + " of " + std::to_string(products) + ")";
  }
  return s + "\n";
}

std::string FormatTable(const Workload& workload, const std::vector<PolicyResult>& results) {
  std::string s =
      "| policy | block ops | memory max | memory mean | net_in max | net_in mean | "
      "net_out max | net_out mean | objective | plan time (ms) |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n";
  const PolicyResult* lshs = nullptr;
  const PolicyResult* rr = nullptr;
  for (const PolicyResult& r : results) {
    const ClusterState& st = r.plan.state;
    const Loads mem = Summarise(st, [&](int64_t n) { return st.peak_memory(n); });
    const Loads in = Summarise(st, [&](int64_t n) { return st.net_in(n); });
    const Loads out = Summarise(st, [&](int64_t n) { return st.net_out(n); });
    char ms[32];
    std::snprintf(ms, sizeof(ms), "%.2f", r.plan_seconds * 1e3);
    s += "| " + std::string(PolicyName(r.plan.policy)) + " | " +
         std::to_string(r.plan.steps.size()) + " | " + Bytes(static_cast<double>(mem.max)) + " | " +
         Bytes(mem.mean) + " | " + Bytes(static_cast<double>(in.max)) + " | " + Bytes(in.mean) +
         " | " + Bytes(static_cast<double>(out.max)) + " | " + Bytes(out.mean) + " | " +
         Bytes(static_cast<double>(mem.max + in.max + out.max)) + " | " + ms + " |\n";
    if (r.plan.policy == Policy::kLshs) lshs = &r;
    if (r.plan.policy == Policy::kRoundRobin) rr = &r;
  }
  if (lshs && rr) {
    const ClusterState& a = lshs->plan.state;
    const ClusterState& b = rr->plan.state;
    s += "\nLSHS / round-robin: max memory " + Ratio(a.MaxPeakMemory(), b.MaxPeakMemory()) +
         ", max net_in " + Ratio(a.MaxNetIn(), b.MaxNetIn()) + ", max net_out " +
         Ratio(a.MaxNetOut(), b.MaxNetOut()) + "\n";
  }
  const int64_t floor = workload.graph.MemoryFloor(workload.initial.num_nodes());
  s += "\nMemory floor (no placement goes below it): " + Bytes(static_cast<double>(floor)) +
       "; max memory / floor:";
  for (const PolicyResult& r : results) {
    s += std::string(&r == &results.front() ? " " : ", ") + std::string(PolicyName(r.plan.policy)) +
         " " + Ratio(r.plan.state.MaxPeakMemory(), floor);
  }
  return s + "\n";
}

void AddCommandOptions(CLI::App& app, CommandOptions& o) {
  app.add_option("--workload,-w", o.workload, "add, sum0, xtx, matmul, lr, lr-fused, tsqr or all");
  app.add_option("--nodes,-n", o.spec.nodes, "nodes of the virtual cluster")
      ->check(CLI::PositiveNumber);
  app.add_option("--rows", o.spec.rows, "rows of the input (0: the workload's default)");
  app.add_option("--cols", o.spec.cols, "columns of the input (0: the workload's default)");
  app.add_option("--blocks-per-node", o.spec.blocks_per_node, "blocks of each input per node")
      ->check(CLI::PositiveNumber);
  app.add_option("--policy,-p", o.policy, "lshs, round-robin, locality or all");
  app.add_flag("--explain", o.explain, "print every step of each plan (small graphs only)");
  app.add_option("--gpus", o.gpus,
                 "nodes with a GPU (the first ones; example rates, every op with a GPU kernel): "
                 "each step also gets a device")
      ->check(CLI::NonNegativeNumber);
}

int RunCommand(const CommandOptions& o, std::ostream& out, std::ostream& err) {
  try {
    std::vector<Policy> policies;
    if (o.policy == "all") {
      policies = {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality};
    } else {
      policies = {ParsePolicy(o.policy)};
    }
    std::vector<std::string> names = WorkloadNames();
    if (o.workload != "all") names = {o.workload};
    WorkloadSpec spec = o.spec;
    const std::vector<NodeRates> rates =
        o.gpus > 0 ? ExampleRates(spec.nodes, o.gpus) : std::vector<NodeRates>{};
    for (const std::string& name : names) {
      spec.name = name;
      Workload w = BuildWorkload(spec);
      if (o.gpus > 0) AssumeGpuKernels(w.graph);
      const auto results = Simulate(w, policies, rates);
      out << "### " << name << ": " << w.description << "\n\n" << FormatTable(w, results);
      if (o.gpus > 0) out << "\n" << FormatDevices(w, results);
      out << "\n";
      if (o.explain) {
        for (const auto& r : results) out << Explain(r.plan, w.graph) << "\n";
      }
    }
  } catch (const nums::Error& e) {
    err << "simulate: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace nums::optimizer::sim
