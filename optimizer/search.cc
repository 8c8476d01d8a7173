#include "optimizer/search.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::optimizer {

Plan Place(const BlockGraph& graph, const ClusterState& state, Policy policy) {
  return Search(graph, state, policy).Run();
}

Plan PlaceOnCluster(const BlockGraph& graph, std::span<const int64_t> memory_used, Policy policy,
                    std::span<const bool> live, std::span<const int64_t> spilled) {
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
  return Place(graph, state, policy);
}

bool LoadsCannotMatter(const BlockGraph& graph, Policy policy) {
  if (policy == Policy::kRoundRobin) return false;
  for (const Op& op : graph.ops()) {
    if (op.kind == OpKind::kReduce) return false;
    for (OpId in : op.inputs) {
      if (in != op.inputs.front()) return false;
    }
  }
  return true;
}

Search::Search(const BlockGraph& graph, const ClusterState& state, Policy policy)
    : graph_(graph),
      state_(state),
      policy_(MakePlacementPolicy(policy)),
      plan_{policy, {}, std::vector<int64_t>(static_cast<size_t>(graph.size()), -1), state},
      values_(static_cast<size_t>(graph.size())),
      listed_(static_cast<size_t>(state.num_nodes()), 0),
      feeds_(static_cast<size_t>(graph.size()), kNoOp) {
  if (graph.min_nodes() > state.num_nodes()) {
    throw ValueError("Place: a leaf lives on node " + std::to_string(graph.min_nodes() - 1) +
                     " but the cluster has " + std::to_string(state.num_nodes()) + " nodes");
  }
  for (OpId id = 0; id < graph.size(); ++id) {
    const Op& op = graph.op(id);
    if (op.kind != OpKind::kReduce) continue;
    for (OpId in : op.inputs) {
      if (graph.consumers(in) == 1) feeds_[static_cast<size_t>(in)] = id;
    }
  }
  if (policy == Policy::kLshs) memory_floor_ = graph.MemoryFloor(state.num_nodes());
}

Plan Search::Run() && {
  for (OpId id = 0; id < graph_.size(); ++id) {
    const Op& op = graph_.op(id);
    switch (op.kind) {
      case OpKind::kLeaf:
        values_[static_cast<size_t>(id)] = Value{op.node, op.bytes, graph_.consumers(id), true, {}};
        if (feeds_[static_cast<size_t>(id)] != kNoOp) {
          ++partials_[PartialKey(feeds_[static_cast<size_t>(id)], op.node)];
        }
        break;
      case OpKind::kUnary:
      case OpKind::kBinary:
      case OpKind::kProduct:
      case OpKind::kGather:
        PlaceStep(id, op.inputs, id, op.bytes, graph_.consumers(id), op.is_output, false,
                  feeds_[static_cast<size_t>(id)]);
        break;
      case OpKind::kReduce:
        PlaceReduce(id);
        break;
    }
    plan_.node_of_op[static_cast<size_t>(id)] = values_[static_cast<size_t>(id)].node;
  }
  plan_.state = std::move(state_);
  return std::move(plan_);
}

// The partials of a reduction form a pool. A step combines two partials on one node when there
// are such (free of network), otherwise the two oldest, so that the tree is balanced: with one
// partial per node on k nodes it has depth ceil(log2 k) and moves each partial once.
void Search::PlaceReduce(OpId op) {
  const Op& reduce = graph_.op(op);
  struct Entry {
    ValueId value;
    bool alive;
  };
  std::vector<Entry> entries;
  entries.reserve(2 * reduce.inputs.size());
  std::vector<std::deque<size_t>> on_node(static_cast<size_t>(state_.num_nodes()));
  std::vector<int64_t> crowded;  // nodes that had >= 2 partials when pushed
  size_t oldest = 0;
  auto add = [&](ValueId v) {
    const auto node = static_cast<size_t>(values_[static_cast<size_t>(v)].node);
    entries.push_back({v, true});
    on_node[node].push_back(entries.size() - 1);
    if (on_node[node].size() == 2) crowded.push_back(static_cast<int64_t>(node));
  };
  auto take = [&](size_t e) {
    entries[e].alive = false;
    auto& q = on_node[static_cast<size_t>(values_[static_cast<size_t>(entries[e].value)].node)];
    q.erase(std::find(q.begin(), q.end(), e));
    return entries[e].value;
  };
  for (OpId in : reduce.inputs) {
    add(in);
    partials_.erase(PartialKey(op, values_[static_cast<size_t>(in)].node));
  }
  for (size_t alive = reduce.inputs.size(); alive > 1; --alive) {
    while (!crowded.empty() && on_node[static_cast<size_t>(crowded.back())].size() < 2) {
      crowded.pop_back();
    }
    size_t first, second;
    if (!crowded.empty()) {
      const auto& q = on_node[static_cast<size_t>(crowded.back())];
      first = q[0];
      second = q[1];
    } else {
      while (!entries[oldest].alive) ++oldest;
      first = oldest;
      second = oldest + 1;
      while (!entries[second].alive) ++second;
    }
    const ValueId a = take(first);
    const ValueId b = take(second);
    const bool last = alive == 2;
    const ValueId out = last ? op : static_cast<ValueId>(values_.size());
    if (!last) values_.emplace_back();
    const std::array<ValueId, 2> pair{a, b};
    PlaceStep(op, pair, out, reduce.bytes, last ? graph_.consumers(op) : 1,
              last ? reduce.is_output : false, true);
    add(out);
  }
}

bool Search::Holds(const Value& value, int64_t node) const {
  return value.node == node ||
         std::find(value.copies.begin(), value.copies.end(), node) != value.copies.end();
}

void Search::PlaceStep(OpId op, std::span<const ValueId> inputs, ValueId output, int64_t bytes,
                       int64_t remaining, bool keep, bool any_node, OpId feeds) {
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
    // The result travels on to its reduction unless the node holds a partial to combine it with.
    const bool alone = feeds != kNoOp && !partials_.contains(PartialKey(feeds, node));
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
  PlanStep step;
  step.op = op;
  step.node = node;
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
  if (feeds != kNoOp) ++partials_[PartialKey(feeds, node)];
  plan_.steps.push_back(std::move(step));
  values_[static_cast<size_t>(output)] = Value{node, bytes, remaining, keep, {}};
  for (ValueId in : inputs) Consume(in);
  // A result nobody reads and nobody keeps is dropped at once.
  if (remaining == 0 && !keep) Drop(values_[static_cast<size_t>(output)], false);
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
