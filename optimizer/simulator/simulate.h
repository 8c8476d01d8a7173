#pragma once
// Simulate: place a workload with each policy and report the loads, without executing anything.

#include <CLI/CLI.hpp>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "optimizer/plan.h"
#include "optimizer/simulator/workloads.h"

namespace nums::optimizer::sim {

struct PolicyResult {
  Plan plan;
  double plan_seconds = 0;  ///< wall time of Place()
};

/// One plan per policy, in the order given.
std::vector<PolicyResult> Simulate(const Workload& workload, std::span<const Policy> policies);

/// A Markdown table: per policy the block ops, max and mean (over nodes) of peak memory, net_in
/// and net_out, the objective with peak memory, the planning time; then LSHS's ratios to
/// round-robin when both ran, and the memory floor of the workload's graph
/// (BlockGraph::MemoryFloor) with each policy's max memory against it.
std::string FormatTable(const Workload& workload, const std::vector<PolicyResult>& results);

/// What the simulate command takes: one workload or "all", one policy or "all".
struct CommandOptions {
  WorkloadSpec spec;
  std::string workload = "all";
  std::string policy = "all";
  bool explain = false;
};

/// Adds the simulate command's options to `app` (shared by `nums simulate` and nums_simulate).
void AddCommandOptions(CLI::App& app, CommandOptions& options);
/// Runs the simulations and prints one table per workload; returns the exit status (2 with a
/// message on `err` for a bad workload or policy name).
int RunCommand(const CommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace nums::optimizer::sim
