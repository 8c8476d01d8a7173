#include "optimizer/search.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::optimizer {

Plan Place(const BlockGraph& graph, const ClusterState& state, Policy policy,
           std::span<const NodeRates> rates) {
  return Search(graph, state, policy, rates).Run();
}

Plan PlaceOnCluster(const BlockGraph& graph, std::span<const int64_t> memory_used, Policy policy,
                    std::span<const bool> live, std::span<const int64_t> spilled,
                    std::span<const NodeRates> rates) {
  ClusterState state(std::vector<int64_t>(memory_used.begin(), memory_used.end()),
                     std::vector<int64_t>(spilled.begin(), spilled.end()));
  const size_t n = std::min(live.size(), memory_used.size());
  // With no node live, placement is moot: the runtime raises when the tasks are sent.
  if (std::find(live.begin(), live.begin() + static_cast<ptrdiff_t>(n), true) !=
      live.begin() + static_cast<ptrdiff_t>(n)) {
    for (size_t i = 0; i < n; ++i) {
      if (!live[i]) state.MarkUnavailable(static_cast<int64_t>(i));
    }
  }
  return Place(graph, state, policy, rates);
}

bool LoadsCannotMatter(const BlockGraph& graph, Policy policy) {
  for (const Op& op : graph.ops()) {
    if (op.node >= 0) continue;  // a leaf, a source or a pinned op: its node is given
    if (policy == Policy::kRoundRobin || op.kind == OpKind::kReduce) return false;
    for (OpId in : op.inputs) {
      if (in != op.inputs.front()) return false;
    }
  }
  return true;
}

Search::Search(const BlockGraph& graph, const ClusterState& state, Policy policy,
               std::span<const NodeRates> rates)
    : graph_(graph),
      state_(state),
      rates_(rates.begin(), rates.end()),
      policy_(MakePlacementPolicy(policy)),
      plan_{policy,
            {},
            std::vector<int64_t>(static_cast<size_t>(graph.size()), -1),
            std::vector<Device>(static_cast<size_t>(graph.size()), Device::kCpu),
            state},
      values_(static_cast<size_t>(graph.size())),
      listed_(static_cast<size_t>(state.num_nodes()), 0),
      partner_(static_cast<size_t>(graph.size()), kNoOp),
      at_home_(static_cast<size_t>(graph.size()), 0) {
  if (graph.min_nodes() > state.num_nodes()) {
    throw ValueError("Place: a leaf or a pinned op is on node " +
                     std::to_string(graph.min_nodes() - 1) + " but the cluster has " +
                     std::to_string(state.num_nodes()) + " nodes");
  }
  if (!rates_.empty() && static_cast<int64_t>(rates_.size()) != state.num_nodes()) {
    throw ValueError("Place: " + std::to_string(rates_.size()) + " node rates for " +
                     std::to_string(state.num_nodes()) + " nodes");
  }
  for (const NodeRates& r : rates_) CheckRates(r);
  // Homes and reduction trees follow from the graph alone, so each partial's first partner is
  // known before either is placed, and so is whether a partial shares its home with another.
  std::vector<int64_t> home(static_cast<size_t>(graph.size()));
  std::vector<int64_t> homes;
  std::vector<int64_t> per_home(static_cast<size_t>(state.num_nodes()), 0);
  for (OpId id = 0; id < graph.size(); ++id) {
    const Op& op = graph.op(id);
    home[static_cast<size_t>(id)] =
        op.node >= 0 ? op.node : home[static_cast<size_t>(op.inputs.front())];
    if (op.kind != OpKind::kReduce) continue;
    homes.clear();
    for (OpId in : op.inputs) homes.push_back(home[static_cast<size_t>(in)]);
    if (policy == Policy::kLshs) {
      for (int64_t h : homes) ++per_home[static_cast<size_t>(h)];
      for (OpId in : op.inputs) {
        const OpKind kind = graph.op(in).kind;
        at_home_[static_cast<size_t>(in)] =
            kind != OpKind::kLeaf && kind != OpKind::kReduce && graph.consumers(in) == 1 &&
            per_home[static_cast<size_t>(home[static_cast<size_t>(in)])] >= 2;
      }
      for (int64_t h : homes) per_home[static_cast<size_t>(h)] = 0;
    }
    for (const auto& [x, y] : PairTree(homes, state.num_nodes())) {
      if (y >= op.inputs.size()) break;  // pairs of inputs come first
      const OpId a = op.inputs[x], b = op.inputs[y];
      if (graph.consumers(a) == 1 && graph.consumers(b) == 1 && a != b) {
        partner_[static_cast<size_t>(a)] = b;
        partner_[static_cast<size_t>(b)] = a;
      }
    }
  }
  if (policy == Policy::kLshs) memory_floor_ = graph.MemoryFloor(state.num_nodes());
}

Plan Search::Run() && {
  for (OpId id = 0; id < graph_.size(); ++id) {
    const Op& op = graph_.op(id);
    switch (op.kind) {
      case OpKind::kLeaf:
        values_[static_cast<size_t>(id)] =
            Value{op.node, op.bytes, graph_.consumers(id), true, {}, op.node, op.device};
        break;
      case OpKind::kUnary:
      case OpKind::kBinary:
      case OpKind::kProduct:
      case OpKind::kGather:
      case OpKind::kSource: {
        const OpId partner = partner_[static_cast<size_t>(id)];
        PlaceStep(
            id, op.inputs, id, op.bytes, graph_.consumers(id), op.is_output, false,
            partner != kNoOp && partner < id ? &values_[static_cast<size_t>(partner)] : nullptr);
        break;
      }
      case OpKind::kReduce:
        PlaceReduce(id);
        break;
    }
    plan_.node_of_op[static_cast<size_t>(id)] = values_[static_cast<size_t>(id)].node;
    plan_.device_of_op[static_cast<size_t>(id)] = values_[static_cast<size_t>(id)].device;
  }
  plan_.state = std::move(state_);
  return std::move(plan_);
}

// The partials of a reduction form a pool. A step combines two partials of one home when there
// are such (where they usually are: free of network), otherwise the two oldest, so that the tree
// is balanced: with one partial per node on k nodes it has depth ceil(log2 k) and moves each
// partial once. Homes, not placements: the same graph gives the same tree whatever the loads.
std::vector<std::pair<size_t, size_t>> Search::PairTree(std::span<const int64_t> homes,
                                                        int64_t num_nodes) {
  std::vector<int64_t> home(homes.begin(), homes.end());  // per entry: inputs, then step results
  std::vector<bool> alive(home.size(), true);
  std::vector<std::deque<size_t>> by_home(static_cast<size_t>(num_nodes));
  std::vector<int64_t> crowded;  // homes that had >= 2 partials when pushed
  auto add = [&](size_t e) {
    auto& q = by_home[static_cast<size_t>(home[e])];
    q.push_back(e);
    if (q.size() == 2) crowded.push_back(home[e]);
  };
  auto take = [&](size_t e) {
    alive[e] = false;
    auto& q = by_home[static_cast<size_t>(home[e])];
    q.erase(std::find(q.begin(), q.end(), e));
  };
  for (size_t e = 0; e < home.size(); ++e) add(e);
  std::vector<std::pair<size_t, size_t>> pairs;
  size_t oldest = 0;
  for (size_t left = home.size(); left > 1; --left) {
    while (!crowded.empty() && by_home[static_cast<size_t>(crowded.back())].size() < 2) {
      crowded.pop_back();
    }
    size_t first, second;
    if (!crowded.empty()) {
      const auto& q = by_home[static_cast<size_t>(crowded.back())];
      first = q[0];
      second = q[1];
    } else {
      while (!alive[oldest]) ++oldest;
      first = oldest;
      second = oldest + 1;
      while (!alive[second]) ++second;
    }
    take(first);
    take(second);
    pairs.emplace_back(first, second);
    home.push_back(home[first]);
    alive.push_back(true);
    add(home.size() - 1);
  }
  return pairs;
}

void Search::PlaceReduce(OpId op) {
  const Op& reduce = graph_.op(op);
  std::vector<ValueId> entries(reduce.inputs.begin(), reduce.inputs.end());
  std::vector<int64_t> homes;
  for (ValueId in : entries) homes.push_back(values_[static_cast<size_t>(in)].home);
  const auto pairs = PairTree(homes, state_.num_nodes());
  for (size_t k = 0; k < pairs.size(); ++k) {
    const bool last = k + 1 == pairs.size();
    const ValueId out = last ? op : static_cast<ValueId>(values_.size());
    if (!last) values_.emplace_back();
    const std::array<ValueId, 2> pair{entries[pairs[k].first], entries[pairs[k].second]};
    PlaceStep(op, pair, out, reduce.bytes, last ? graph_.consumers(op) : 1,
              last ? reduce.is_output : false, true);
    entries.push_back(out);
  }
}

bool Search::Holds(const Value& value, int64_t node) const {
  return value.node == node ||
         std::find(value.copies.begin(), value.copies.end(), node) != value.copies.end();
}

int64_t Search::ChooseNode(OpId op, std::span<const ValueId> inputs, ValueId output, int64_t bytes,
                           bool any_node, const Value* partner, int64_t home) {
  const auto value = [&](ValueId id) -> Value& { return values_[static_cast<size_t>(id)]; };
  // Candidates in order of preference (see StepRequest): holders of the inputs by decreasing
  // size (stable, so the left one first on a tie), then every node when any node may run it.
  std::vector<size_t> order(inputs.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return value(inputs[a]).bytes > value(inputs[b]).bytes;
  });
  std::vector<int64_t> nodes;
  auto offer = [&](int64_t node) {
    if (listed_[static_cast<size_t>(node)] || !state_.available(node)) return;
    listed_[static_cast<size_t>(node)] = 1;
    nodes.push_back(node);
  };
  for (size_t k : order) {
    const Value& v = value(inputs[k]);
    offer(v.node);
    for (int64_t c : v.copies) offer(c);
  }
  // A step whose inputs all sit on unavailable nodes may go anywhere (they are remade or moved).
  if (any_node || nodes.empty()) {
    for (int64_t node = 0; node < state_.num_nodes(); ++node) offer(node);
  }
  for (int64_t node : nodes) listed_[static_cast<size_t>(node)] = 0;
  // A partial sharing its home with another partial of its reduction runs there when it can
  // (see at_home_).
  if (output == op && at_home_[static_cast<size_t>(op)] &&
      std::find(nodes.begin(), nodes.end(), home) != nodes.end()) {
    nodes.assign(1, home);
  }
  // What each candidate lacks: every distinct input it does not hold, from the input's node.
  auto lacks = [&](size_t k, int64_t node) {
    for (size_t j = 0; j < k; ++j) {
      if (inputs[j] == inputs[k]) return false;  // the same value moves once
    }
    return !Holds(value(inputs[k]), node);
  };
  incoming_.clear();
  candidates_.clear();
  std::vector<size_t> first;
  for (int64_t node : nodes) {
    first.push_back(incoming_.size());
    int64_t moved = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (!lacks(k, node)) continue;
      const Value& v = value(inputs[k]);
      incoming_.push_back(Transfer{v.node, node, v.bytes});
      moved += v.bytes;
    }
    const bool alone = partner != nullptr && !Holds(*partner, node);
    candidates_.push_back(Candidate{node, {}, moved, alone ? bytes : 0});
  }
  first.push_back(incoming_.size());
  for (size_t i = 0; i < candidates_.size(); ++i) {
    candidates_[i].incoming =
        std::span<const Transfer>(incoming_.data() + first[i], first[i + 1] - first[i]);
  }
  const int64_t node = policy_->Choose(StepRequest{candidates_, bytes, memory_floor_}, state_);
  if (node < 0 || node >= state_.num_nodes()) {
    throw ValueError("Place: policy chose node " + std::to_string(node) + " of " +
                     std::to_string(state_.num_nodes()));
  }
  return node;
}

void Search::PlaceStep(OpId op, std::span<const ValueId> inputs, ValueId output, int64_t bytes,
                       int64_t remaining, bool keep, bool any_node, const Value* partner) {
  const auto value = [&](ValueId id) -> Value& { return values_[static_cast<size_t>(id)]; };
  // What a node lacks of input k: the input, unless it holds it or an earlier input is the same
  // value (which moves once).
  auto lacks = [&](size_t k, int64_t node) {
    for (size_t j = 0; j < k; ++j) {
      if (inputs[j] == inputs[k]) return false;
    }
    return !Holds(value(inputs[k]), node);
  };
  // A pinned op (or a source) runs on its node, whatever the policy.
  const int64_t pinned = graph_.op(op).kind == OpKind::kReduce ? -1 : graph_.op(op).node;
  const int64_t home = pinned >= 0 ? pinned : value(inputs.front()).home;
  const int64_t node =
      pinned >= 0 ? pinned : ChooseNode(op, inputs, output, bytes, any_node, partner, home);
  // The device after the node, from where the inputs are before any moves (a fetched input
  // arrives in host memory).
  const Device device = StepDevice(op, inputs, node, bytes);
  PlanStep step;
  step.op = op;
  step.node = node;
  step.device = device;
  step.output = output;
  step.bytes = bytes;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Value& v = value(inputs[k]);
    step.inputs.push_back(inputs[k]);
    step.input_bytes.push_back(v.bytes);
    step.sources.push_back(node);
    if (lacks(k, node)) {
      step.sources.back() = v.node;
      state_.Apply(Transfer{v.node, node, v.bytes});
      v.copies.push_back(node);
    }
  }
  state_.Apply(Allocation{node, bytes});
  plan_.steps.push_back(std::move(step));
  values_[static_cast<size_t>(output)] = Value{node, bytes, remaining, keep, {}, home, device};
  for (ValueId in : inputs) Consume(in);
  // A result nobody reads and nobody keeps is dropped at once.
  if (remaining == 0 && !keep) Drop(values_[static_cast<size_t>(output)], false);
}

Device Search::StepDevice(OpId op, std::span<const ValueId> inputs, int64_t node,
                          int64_t bytes) const {
  if (rates_.empty()) return Device::kCpu;
  const Op& o = graph_.op(op);
  StepWork work{o.flops, bytes, 0, 0, o.gpu_kernel};
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (std::find(inputs.begin(), inputs.begin() + static_cast<ptrdiff_t>(k), inputs[k]) !=
        inputs.begin() + static_cast<ptrdiff_t>(k)) {
      continue;  // read twice, streamed and copied once
    }
    const Value& v = values_[static_cast<size_t>(inputs[k])];
    work.bytes += v.bytes;
    const bool on_gpu = v.node == node && v.device == Device::kGpu;
    (on_gpu ? work.gpu_input_bytes : work.host_input_bytes) += v.bytes;
  }
  return ChooseDevice(rates_[static_cast<size_t>(node)], work);
}

void Search::Consume(ValueId id) {
  Value& v = values_[static_cast<size_t>(id)];
  if (--v.remaining == 0) Drop(v, v.keep);
}

void Search::Drop(Value& value, bool keep) {
  for (int64_t c : value.copies) state_.Apply(Release{c, value.bytes});
  value.copies.clear();
  if (!keep) state_.Apply(Release{value.node, value.bytes});
}

}  // namespace nums::optimizer
