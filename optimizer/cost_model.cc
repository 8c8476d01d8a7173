#include "optimizer/cost_model.h"

#include <algorithm>
#include <vector>

#include "nums/errors.hpp"

namespace nums::optimizer {

void CostModel::Top3::Offer(int64_t n, int64_t v) {
  for (size_t i = 0; i < 3; ++i) {
    if (node[i] < 0 || v > value[i]) {
      for (size_t j = 2; j > i; --j) {
        value[j] = value[j - 1];
        node[j] = node[j - 1];
      }
      value[i] = v;
      node[i] = n;
      return;
    }
  }
}

int64_t CostModel::Top3::MaxExcluding(int64_t a, int64_t b) const {
  for (size_t i = 0; i < 3; ++i) {
    if (node[i] >= 0 && node[i] != a && node[i] != b) return value[i];
  }
  return 0;  // every node is touched; loads are never negative
}

CostModel::CostModel(const ClusterState& state) : state_(state) {
  for (int64_t n = 0; n < state.num_nodes(); ++n) {
    memory_.Offer(n, state.memory(n));
    net_in_.Offer(n, state.net_in(n));
    net_out_.Offer(n, state.net_out(n));
  }
}

int64_t CostModel::Evaluate(int64_t node, std::span<const Transfer> incoming,
                            int64_t out_bytes) const {
  int64_t in_bytes = 0;
  std::array<int64_t, 2> sender{-1, -1};
  std::array<int64_t, 2> sent{0, 0};
  bool many_senders = false;
  for (const Transfer& t : incoming) {
    if (t.to != node || t.from == node) {
      throw ValueError(
          "CostModel::Evaluate: a transfer must come from another node into the step's");
    }
    in_bytes += t.bytes;
    size_t slot = 0;
    while (slot < 2 && sender[slot] >= 0 && sender[slot] != t.from) ++slot;
    if (slot == 2) {
      many_senders = true;
      continue;
    }
    sender[slot] = t.from;
    sent[slot] += t.bytes;
  }
  const int64_t max_memory =
      std::max(state_.memory(node) + in_bytes + out_bytes, memory_.MaxExcluding(node, -1));
  const int64_t max_net_in =
      std::max(state_.net_in(node) + in_bytes, net_in_.MaxExcluding(node, -1));
  int64_t max_net_out = 0;
  if (many_senders) {
    std::vector<int64_t> out(static_cast<size_t>(state_.num_nodes()));
    for (int64_t n = 0; n < state_.num_nodes(); ++n)
      out[static_cast<size_t>(n)] = state_.net_out(n);
    for (const Transfer& t : incoming) out[static_cast<size_t>(t.from)] += t.bytes;
    max_net_out = *std::max_element(out.begin(), out.end());
  } else {
    max_net_out = net_out_.MaxExcluding(sender[0], sender[1]);
    for (size_t i = 0; i < 2; ++i) {
      if (sender[i] >= 0) max_net_out = std::max(max_net_out, state_.net_out(sender[i]) + sent[i]);
    }
  }
  return max_memory + max_net_in + max_net_out;
}

}  // namespace nums::optimizer
