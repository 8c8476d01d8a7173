#pragma once
// Simulate: place a workload with each policy and report the loads, without executing anything.

#include <CLI/CLI.hpp>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "optimizer/device_model.h"
#include "optimizer/plan.h"
#include "optimizer/simulator/workloads.h"

namespace nums::optimizer::sim {

struct PolicyResult {
  Plan plan;
  double plan_seconds = 0;  ///< wall time of Place()
};

/// One plan per policy, in the order given; with `rates` (one per node, see Place) each step
/// also gets a device.
std::vector<PolicyResult> Simulate(const Workload& workload, std::span<const Policy> policies,
                                   std::span<const NodeRates> rates = {});

/// Example rates for a virtual cluster of `nodes`: the first `gpus` have an H100-like GPU
/// (50 Tflop/s, 3 TB/s, 25 GB/s over PCIe), every node a 64-core CPU (1.5 Tflop/s, 200 GB/s).
/// Throws ValueError unless 0 <= gpus <= nodes.
std::vector<NodeRates> ExampleRates(int64_t nodes, int64_t gpus);

/// Marks every op of `graph` but the leaves as having a GPU kernel, keeping its flops.
void AssumeGpuKernels(BlockGraph& graph);

/// Per policy, the steps on a GPU, of all and of the partial products.
std::string FormatDevices(const Workload& workload, const std::vector<PolicyResult>& results);

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
  int64_t gpus = 0;  ///< nodes with a GPU (ExampleRates); 0: no device dimension
};

/// Adds the simulate command's options to `app` (shared by `nums simulate` and nums_simulate).
void AddCommandOptions(CLI::App& app, CommandOptions& options);
/// Runs the simulations and prints one table per workload; returns the exit status (2 with a
/// message on `err` for a bad workload or policy name).
int RunCommand(const CommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace nums::optimizer::sim
