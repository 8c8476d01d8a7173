#pragma once
// `nums microbenchmark`: what a running cluster's engine does per task and per byte, measured
// from this driver: task round trip, tasks per second, and object transfer rates.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/runtime.h"

namespace nums::tools {

struct MicrobenchmarkOptions {
  int64_t round_trips = 200;     ///< trivial tasks submitted and awaited one at a time
  int64_t batch_tasks = 5000;    ///< trivial tasks submitted at once
  std::string bytes = "64MiB";   ///< size of the block moved
  int64_t transfer_repeats = 3;  ///< moves of that block per direction (the median counts)
};

/// One line of the table.
struct Measurement {
  std::string metric;
  double value = 0;
  std::string unit;
};

/// Adds the subcommand's own options (the caller adds --address and --token-file).
CLI::App* AddMicrobenchmarkCommand(CLI::App& app, MicrobenchmarkOptions& options);

/// Measures on `rt`: p50/p99 of a trivial task's round trip (submit, then get its result),
/// tasks per second over a batch of trivial tasks spread over the nodes, and the rates at which
/// a block of `block_bytes` moves driver to node, node to node (a task on node 1 that reads a
/// block of node 0; left out with one node) and node to driver. Throws ValueError for counts
/// below 1 or fewer than 8 bytes.
std::vector<Measurement> RunMicrobenchmark(engine::Runtime& rt, const MicrobenchmarkOptions& o,
                                           int64_t block_bytes);

/// Connects to the head at `address` with the token in `token_file`, measures, and prints the
/// table to `out`; returns the exit status.
int RunMicrobenchmarkCommand(const MicrobenchmarkOptions& options, int64_t block_bytes,
                             const std::string& address, const std::string& token_file,
                             std::ostream& out);

}  // namespace nums::tools
