// nums_simulate: places the block graphs of common workloads on a virtual cluster with each
// placement policy and prints the loads (nothing is executed).

#include <CLI/CLI.hpp>
#include <iostream>

#include "nums/errors.hpp"
#include "optimizer/simulator/simulate.h"

using nums::optimizer::Policy;
namespace sim = nums::optimizer::sim;

int main(int argc, char** argv) {
  CLI::App app{"Simulate block placement (LSHS and baselines) on a virtual cluster"};
  sim::WorkloadSpec spec;
  std::string workload = "all";
  std::string policy = "all";
  bool explain = false;
  app.add_option("--workload,-w", workload, "add, sum0, xtx, matmul, lr, tsqr or all");
  app.add_option("--nodes,-n", spec.nodes, "nodes of the virtual cluster")
      ->check(CLI::PositiveNumber);
  app.add_option("--rows", spec.rows, "rows of the input (0: the workload's default)");
  app.add_option("--cols", spec.cols, "columns of the input (0: the workload's default)");
  app.add_option("--blocks-per-node", spec.blocks_per_node, "blocks of each input per node")
      ->check(CLI::PositiveNumber);
  app.add_option("--policy,-p", policy, "lshs, round-robin, locality or all");
  app.add_flag("--explain", explain, "print every step of each plan (small graphs only)");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<Policy> policies;
    if (policy == "all") {
      policies = {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality};
    } else {
      policies = {nums::optimizer::ParsePolicy(policy)};
    }
    std::vector<std::string> names = sim::WorkloadNames();
    if (workload != "all") names = {workload};
    for (const std::string& name : names) {
      spec.name = name;
      const sim::Workload w = sim::BuildWorkload(spec);
      const auto results = sim::Simulate(w, policies);
      std::cout << "### " << name << ": " << w.description << "\n\n"
                << sim::FormatTable(results) << "\n";
      if (explain) {
        for (const auto& r : results) std::cout << Explain(r.plan, w.graph) << "\n";
      }
    }
  } catch (const nums::Error& e) {
    std::cerr << "nums_simulate: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
