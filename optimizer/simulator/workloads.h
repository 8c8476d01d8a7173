#pragma once
// Workloads for the simulator: the block graphs that common array programs produce on a virtual
// cluster, with every input laid out block-cyclically as the array layer lays it out.

#include <cstdint>
#include <string>
#include <vector>

#include "nums/dtype.hpp"
#include "optimizer/block_graph.h"
#include "optimizer/cluster_state.h"

namespace nums::optimizer::sim {

struct WorkloadSpec {
  std::string name;             ///< one of WorkloadNames()
  int64_t nodes = 16;           ///< cluster size; NodeGrid::for_nodes(nodes) lays out blocks
  int64_t rows = 0;             ///< 0: the workload's default
  int64_t cols = 0;             ///< 0: the workload's default
  int64_t blocks_per_node = 4;  ///< tall-skinny: nodes x this row blocks; square: a s x s grid
                                ///< with s = round(sqrt(nodes x this))
  DType dtype = DType::kFloat64;
};

struct Workload {
  std::string description;  ///< what was built, with shapes and block counts
  BlockGraph graph;
  ClusterState initial;  ///< memory = the bytes of the input blocks on each node
};

/// "add", "sum0", "xtx", "matmul", "lr", "tsqr".
const std::vector<std::string>& WorkloadNames();
/// Builds the graph of `spec`. Throws ValueError for an unknown name or a non-positive size.
Workload BuildWorkload(const WorkloadSpec& spec);

}  // namespace nums::optimizer::sim
