#pragma once
// Search: walks a BlockGraph in order, places every block operation (and every pairwise step of
// a reduction) with a PlacementPolicy, and keeps the cluster state and where each value lives.

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "optimizer/block_graph.h"
#include "optimizer/cluster_state.h"
#include "optimizer/device_model.h"
#include "optimizer/placement_policy.h"
#include "optimizer/plan.h"

namespace nums::optimizer {

/// Places `graph` on the cluster described by `state` (whose memory already counts the leaves).
/// `rates` (empty: none, every step on the CPU) gives each node's measured rates, one per node:
/// each step then also gets a device on its node (see Search). Deterministic: the same graph,
/// state, policy and rates give the same plan. Throws ValueError when a leaf lives on a node the
/// state does not have, or for rates of another length than the nodes or with a negative
/// figure. O(ops x nodes) at worst.
Plan Place(const BlockGraph& graph, const ClusterState& state, Policy policy,
           std::span<const NodeRates> rates = {});

/// The array layer's entry point: places the block graph of one array operation on a cluster
/// whose nodes hold `memory_used` bytes now (engine NodeInfo::memory_used, which counts the
/// leaves already). Net loads start at zero, so each operation's traffic is balanced on its own.
/// Nodes whose `live` entry is false (a lost node) are never chosen; empty `live`: all are.
/// `spilled` (empty: none) gives the bytes each node holds on its spill disk (NodeInfo::
/// spilled_bytes), counted with its memory (see ClusterState). `rates` (empty: none, all CPU)
/// gives each node's measured rates, for the device of each step (see Place).
/// Throws ValueError for no nodes, a negative figure, a leaf on a node past the list, or no
/// live node.
Plan PlaceOnCluster(const BlockGraph& graph, std::span<const int64_t> memory_used,
                    Policy policy = Policy::kLshs, std::span<const bool> live = {},
                    std::span<const int64_t> spilled = {}, std::span<const NodeRates> rates = {});

/// Whether `policy` places every op of `graph` the same whatever the loads: every op is pinned
/// (or a source), or else no reduction, and each op reads a single value (perhaps twice), so its
/// one candidate is where that value is (round-robin ignores candidates: never). The array layer
/// then need not ask for the loads.
bool LoadsCannotMatter(const BlockGraph& graph, Policy policy);

/// The walk behind Place. Each op is placed when its turn comes in the graph's order (its inputs
/// are placed by then), a source or a pinned op on its node whatever the policy, a gather as one
/// step with all its inputs; a reduction as pairwise steps:
/// first two partials with the same home (Value::home: usually on one node, no transfer),
/// otherwise the two oldest, each step on a node the policy picks among all nodes. The tree
/// depends on the graph only, so a partial's first partner is known before it is placed: the
/// policy is told, per candidate, whether the node lacks the partner placed already (the result
/// would travel to be combined); LSHS also gets the graph's memory floor. Under LSHS, a partial
/// that shares its home with another partial of its reduction runs on its home whenever that
/// node holds one of its inputs: the tree combines such partials first, so on their home they
/// meet with no transfer, where a greedy that sees only the step at hand (and maxima only, blind
/// to traffic below them) would put one elsewhere and pay to bring it back. Memory: a step
/// allocates its output where it runs and a copy of each input it fetches; when a value's last
/// consumer is placed its copies are released, and so is the value itself unless it is a leaf
/// or an output.
///
/// Devices, when the nodes' rates are given: candidates are (node, device) pairs, compared node
/// first by the policy exactly as without rates (so the nodes, the transfers and the loads are
/// the same), then the device on the chosen node by ChooseDevice. Its StepWork: the op's flops
/// and gpu_kernel (a reduction's for each pairwise step), bytes = the distinct inputs' + the
/// output's, and each input in the memory of the device that made it when it is on the node
/// already (leaves: the graph's device) or in host memory when fetched from another node. The
/// result lives on the chosen device. Not modelled: GPU memory as a load of its own (a node's
/// memory counts host and GPU bytes alike) or its capacity; a copy made for one GPU step being
/// reused by the next (each step pays the link for every input on the other device); the
/// device's queue (steps placed earlier on a GPU do not delay a later one); the network cost of
/// sending a GPU result to another node beyond that of a host one.
class Search {
 public:
  Search(const BlockGraph& graph, const ClusterState& state, Policy policy,
         std::span<const NodeRates> rates = {});
  Plan Run() &&;

 private:
  static constexpr OpId kNoOp = -1;

  struct Value {
    int64_t node = -1;
    int64_t bytes = 0;
    int64_t remaining = 0;        // consumers not placed yet
    bool keep = false;            // leaves and outputs are never released
    std::vector<int64_t> copies;  // other nodes holding a copy, in the order they got it
    // The node of the leaf it comes from through first inputs. Reductions pair partials by it,
    // so a tree's shape (and a float sum's bits) never depends on where steps were placed.
    int64_t home = -1;
    Device device = Device::kCpu;  // on `node`; copies elsewhere are in host memory
  };

  /// The pairwise steps of a reduction of partials with homes `homes`: each pair names two
  /// entries, the inputs first and then each step's result in order (its home the first's).
  static std::vector<std::pair<size_t, size_t>> PairTree(std::span<const int64_t> homes,
                                                         int64_t num_nodes);
  void PlaceReduce(OpId op);
  /// Places one step reading `inputs` and writing `output`; `any_node` offers every node, not
  /// only those holding an input. `partner` (null: none) is the value, placed already, that the
  /// output is combined with next in the reduction that alone reads it.
  void PlaceStep(OpId op, std::span<const ValueId> inputs, ValueId output, int64_t bytes,
                 int64_t remaining, bool keep, bool any_node, const Value* partner = nullptr);
  /// The node the policy picks for a step of an op that is not pinned (see PlaceStep); `home`
  /// is the step's home.
  int64_t ChooseNode(OpId op, std::span<const ValueId> inputs, ValueId output, int64_t bytes,
                     bool any_node, const Value* partner, int64_t home);
  /// The device of a step of `op` reading `inputs` on `node`: kCpu without rates.
  Device StepDevice(OpId op, std::span<const ValueId> inputs, int64_t node, int64_t bytes) const;
  void Consume(ValueId v);
  void Drop(Value& value, bool keep);
  bool Holds(const Value& value, int64_t node) const;

  const BlockGraph& graph_;
  ClusterState state_;
  std::vector<NodeRates> rates_;  // per node, or empty: no device dimension
  std::unique_ptr<PlacementPolicy> policy_;
  Plan plan_;
  std::vector<Value> values_;          // indexed by ValueId
  std::vector<Candidate> candidates_;  // scratch, reused by every step
  std::vector<Transfer> incoming_;     // scratch: what each candidate lacks
  std::vector<uint8_t> listed_;        // scratch: per node, offered already
  std::vector<OpId> partner_;          // per op: its first partner in its reduction, or kNoOp
  // Per op, LSHS only: a partial read by a reduction alone, with another partial of the same
  // home there: it runs on its home whenever that node holds one of its inputs.
  std::vector<uint8_t> at_home_;
  int64_t memory_floor_ = 0;  // BlockGraph::MemoryFloor under LSHS, 0 otherwise
};

}  // namespace nums::optimizer
