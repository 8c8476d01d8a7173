#include "optimizer/search.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::optimizer {

Plan Place(const BlockGraph& graph, const ClusterState& state, Policy policy) {
  return Search(graph, state, policy).Run();
}

Plan PlaceOnCluster(const BlockGraph& graph, std::span<const int64_t> memory_used, Policy policy) {
  return Place(graph, ClusterState(std::vector<int64_t>(memory_used.begin(), memory_used.end())),
               policy);
}

Search::Search(const BlockGraph& graph, const ClusterState& state, Policy policy)
    : graph_(graph),
      state_(state),
      policy_(MakePlacementPolicy(policy)),
      plan_{policy, {}, std::vector<int64_t>(static_cast<size_t>(graph.size()), -1), state},
      values_(static_cast<size_t>(graph.size())),
      mask_(static_cast<size_t>(state.num_nodes()), 0) {
  if (graph.min_nodes() > state.num_nodes()) {
    throw ValueError("Place: a leaf lives on node " + std::to_string(graph.min_nodes() - 1) +
                     " but the cluster has " + std::to_string(state.num_nodes()) + " nodes");
  }
}

Plan Search::Run() && {
  for (OpId id = 0; id < graph_.size(); ++id) {
    const Op& op = graph_.op(id);
    switch (op.kind) {
      case OpKind::kLeaf:
        values_[static_cast<size_t>(id)] = Value{op.node, op.bytes, graph_.consumers(id), true, {}};
        break;
      case OpKind::kUnary:
        PlaceStep(id, {op.inputs[0], kNoValue}, id, op.bytes, graph_.consumers(id), op.is_output,
                  false);
        break;
      case OpKind::kBinary:
      case OpKind::kProduct:
        PlaceStep(id, {op.inputs[0], op.inputs[1]}, id, op.bytes, graph_.consumers(id),
                  op.is_output, false);
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
  for (OpId in : reduce.inputs) add(in);
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
    PlaceStep(op, {a, b}, out, reduce.bytes, last ? graph_.consumers(op) : 1,
              last ? reduce.is_output : false, true);
    add(out);
  }
}

bool Search::Holds(const Value& value, int64_t node) const {
  return value.node == node ||
         std::find(value.copies.begin(), value.copies.end(), node) != value.copies.end();
}

void Search::PlaceStep(OpId op, std::array<ValueId, 2> inputs, ValueId output, int64_t bytes,
                       int64_t remaining, bool keep, bool any_node) {
  const int n_in = inputs[1] == kNoValue ? 1 : 2;
  StepRequest req;
  req.num_inputs = n_in;
  req.same_input = inputs[0] == inputs[1];
  req.out_bytes = bytes;
  for (int k = 0; k < n_in; ++k) {
    const Value& v = values_[static_cast<size_t>(inputs[static_cast<size_t>(k)])];
    req.sources[static_cast<size_t>(k)] = v.node;
    req.input_bytes[static_cast<size_t>(k)] = v.bytes;
  }
  // Candidates in order of preference (see StepRequest). mask_ marks, per node, which inputs it
  // holds (bits 0 and 1) and whether it is listed (bit 2): O(holders) to fill and to clear.
  auto holders = [&](ValueId id, auto&& f) {
    const Value& v = values_[static_cast<size_t>(id)];
    f(v.node);
    for (int64_t c : v.copies) f(c);
  };
  for (int k = 0; k < n_in; ++k) {
    holders(inputs[static_cast<size_t>(k)],
            [&](int64_t node) { mask_[static_cast<size_t>(node)] |= uint8_t(1u << k); });
  }
  candidates_.clear();
  auto offer = [&](int64_t node) {
    uint8_t& m = mask_[static_cast<size_t>(node)];
    if (m & 4u) return;
    m |= 4u;
    candidates_.push_back(Candidate{node, {(m & 1u) != 0, (m & 2u) != 0}});
  };
  const size_t larger = (n_in == 2 && req.input_bytes[1] > req.input_bytes[0]) ? 1 : 0;
  holders(inputs[larger], offer);
  if (n_in == 2) holders(inputs[1 - larger], offer);
  if (any_node) {
    for (int64_t node = 0; node < state_.num_nodes(); ++node) offer(node);
  }
  for (const Candidate& c : candidates_) mask_[static_cast<size_t>(c.node)] = 0;
  req.candidates = candidates_;

  const int64_t node = policy_->Choose(req, state_);
  if (node < 0 || node >= state_.num_nodes()) {
    throw ValueError("Place: policy chose node " + std::to_string(node) + " of " +
                     std::to_string(state_.num_nodes()));
  }
  PlanStep step;
  step.op = op;
  step.node = node;
  step.output = output;
  step.bytes = bytes;
  for (int k = 0; k < n_in; ++k) {
    const auto kk = static_cast<size_t>(k);
    Value& v = values_[static_cast<size_t>(inputs[kk])];
    step.inputs[kk] = inputs[kk];
    step.input_bytes[kk] = v.bytes;
    step.sources[kk] = node;
    if (!Holds(v, node)) {
      step.sources[kk] = v.node;
      state_.Apply(Transfer{v.node, node, v.bytes});
      v.copies.push_back(node);
    }
  }
  state_.Apply(Allocation{node, bytes});
  plan_.steps.push_back(step);
  values_[static_cast<size_t>(output)] = Value{node, bytes, remaining, keep, {}};
  for (int k = 0; k < n_in; ++k) Consume(inputs[static_cast<size_t>(k)]);
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
