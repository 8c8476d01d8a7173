#include "optimizer/cluster_state.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "nums/errors.hpp"

namespace nums::optimizer {
namespace {

int64_t Max(const std::vector<int64_t>& v) { return *std::max_element(v.begin(), v.end()); }
int64_t Sum(const std::vector<int64_t>& v) { return std::accumulate(v.begin(), v.end(), 0LL); }

}  // namespace

ClusterState::ClusterState(std::vector<int64_t> memory, std::vector<int64_t> spilled)
    : memory_(std::move(memory)),
      net_in_(memory_.size(), 0),
      net_out_(memory_.size(), 0),
      available_(memory_.size(), 1) {
  if (memory_.empty()) throw ValueError("ClusterState: need at least one node");
  if (!spilled.empty() && spilled.size() != memory_.size()) {
    throw ValueError("ClusterState: " + std::to_string(spilled.size()) + " spilled figures for " +
                     std::to_string(memory_.size()) + " nodes");
  }
  for (size_t i = 0; i < memory_.size(); ++i) {
    const int64_t s = spilled.empty() ? 0 : spilled[i];
    if (memory_[i] < 0 || s < 0) {
      throw ValueError("ClusterState: negative memory " + std::to_string(std::min(memory_[i], s)));
    }
    memory_[i] += s;
  }
  if (std::any_of(spilled.begin(), spilled.end(), [](int64_t s) { return s > 0; })) {
    spilled_ = std::move(spilled);
  }
  peak_memory_ = memory_;
}

ClusterState ClusterState::Empty(int64_t nodes) {
  if (nodes < 1)
    throw ValueError("ClusterState: need at least one node, got " + std::to_string(nodes));
  return ClusterState(std::vector<int64_t>(static_cast<size_t>(nodes), 0));
}

void ClusterState::MarkUnavailable(int64_t node) {
  CheckNode(node);
  available_[static_cast<size_t>(node)] = 0;
  if (std::find(available_.begin(), available_.end(), 1) == available_.end()) {
    throw ValueError("ClusterState: no node is available");
  }
}

void ClusterState::CheckNode(int64_t node) const {
  if (node < 0 || node >= num_nodes()) {
    throw ValueError("ClusterState: node " + std::to_string(node) + " out of range [0, " +
                     std::to_string(num_nodes()) + ")");
  }
}

void ClusterState::Apply(const Transfer& t) {
  CheckNode(t.from);
  CheckNode(t.to);
  if (t.from == t.to) return;
  net_out_[static_cast<size_t>(t.from)] += t.bytes;
  net_in_[static_cast<size_t>(t.to)] += t.bytes;
  Apply(Allocation{t.to, t.bytes});
}

void ClusterState::Apply(const Allocation& a) {
  CheckNode(a.node);
  const auto n = static_cast<size_t>(a.node);
  memory_[n] += a.bytes;
  peak_memory_[n] = std::max(peak_memory_[n], memory_[n]);
}

void ClusterState::Apply(const Release& r) {
  CheckNode(r.node);
  const auto n = static_cast<size_t>(r.node);
  if (memory_[n] < r.bytes) {
    throw ValueError("ClusterState: releasing " + std::to_string(r.bytes) + " bytes on node " +
                     std::to_string(r.node) + " which holds " + std::to_string(memory_[n]));
  }
  memory_[n] -= r.bytes;
}

int64_t ClusterState::MaxMemory() const { return Max(memory_); }
int64_t ClusterState::MaxPeakMemory() const { return Max(peak_memory_); }
int64_t ClusterState::MaxNetIn() const { return Max(net_in_); }
int64_t ClusterState::MaxNetOut() const { return Max(net_out_); }
int64_t ClusterState::TotalMemory() const { return Sum(memory_); }
int64_t ClusterState::TotalNetIn() const { return Sum(net_in_); }
int64_t ClusterState::TotalNetOut() const { return Sum(net_out_); }

std::string ClusterState::ToString() const {
  std::string s;
  for (int64_t i = 0; i < num_nodes(); ++i) {
    s += "node " + std::to_string(i) + ": memory " + FormatBytes(memory(i)) +
         (spilled(i) > 0 ? " (" + FormatBytes(spilled(i)) + " of it spilled)" : "") + " (peak " +
         FormatBytes(peak_memory(i)) + "), net_in " + FormatBytes(net_in(i)) + ", net_out " +
         FormatBytes(net_out(i)) + "\n";
  }
  s += "objective " + FormatBytes(Objective()) + " = max memory " + FormatBytes(MaxMemory()) +
       " + max net_in " + FormatBytes(MaxNetIn()) + " + max net_out " + FormatBytes(MaxNetOut()) +
       "\n";
  return s;
}

std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024.0 && unit < 5) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace nums::optimizer
