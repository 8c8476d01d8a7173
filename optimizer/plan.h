#pragma once
// Plan: where each block operation runs, in an order in which it can run.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "optimizer/block_graph.h"
#include "optimizer/cluster_state.h"
#include "optimizer/device_model.h"

namespace nums::optimizer {

/// How block operations are placed; tests and the simulator force one.
enum class Policy : uint8_t {
  kLshs,        ///< least simulated objective f = max(memory) + max(net_in) + max(net_out)
  kRoundRobin,  ///< step i on node i mod nodes, whatever the inputs
  kLocality,    ///< where the larger input is
};

/// "lshs", "round-robin", "locality".
std::string_view PolicyName(Policy policy);
/// The policy named `name` (as PolicyName spells it); ValueError otherwise.
Policy ParsePolicy(std::string_view name);

/// A value a step reads or writes: [0, graph size) are the ops' results (leaves included); ids
/// from graph size on are the partial results inside reductions.
using ValueId = int64_t;
inline constexpr ValueId kNoValue = -1;

/// One block task: `op` (or one pairwise step of reduction `op`) on `node`, on its `device`.
struct PlanStep {
  OpId op = 0;
  int64_t node = 0;
  Device device = Device::kCpu;  ///< always kCpu when the plan was made without node rates
  std::vector<ValueId> inputs;   ///< one (unary), two, or a gather's n, in the op's order
  /// The node each input is fetched from; `node` itself when it is there already (or when an
  /// earlier input of the step is the same value, which moves once).
  std::vector<int64_t> sources;
  std::vector<int64_t> input_bytes;
  ValueId output = kNoValue;  ///< `op` for an op's last step, a fresh partial id otherwise
  int64_t bytes = 0;          ///< of the output

  int num_inputs() const { return static_cast<int>(inputs.size()); }
  /// Bytes this step pulls over the network.
  int64_t MovedBytes() const;
  friend bool operator==(const PlanStep&, const PlanStep&) = default;
};

struct Plan {
  Policy policy = Policy::kLshs;
  std::vector<PlanStep> steps;       ///< in execution order: inputs are produced earlier
  std::vector<int64_t> node_of_op;   ///< where each op's result lives (leaves: their node)
  std::vector<Device> device_of_op;  ///< on which device there (leaves: the graph's)
  ClusterState state;                ///< after every step, intermediates and copies released
  int64_t MovedBytes() const;
  friend bool operator==(const Plan&, const Plan&) = default;
};

/// The plan as text: one line per step (op, node, inputs and what moved; the device too when a
/// step runs on a GPU), then the loads.
std::string Explain(const Plan& plan, const BlockGraph& graph);

}  // namespace nums::optimizer
