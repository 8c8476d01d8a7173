#include "engine/cluster/cluster_monitor.h"

#include <algorithm>
#include <unordered_map>

namespace nums::engine::cluster {
namespace {

// Per second, from two readings of a counter; 0 when time did not advance.
double Rate(int64_t before, int64_t after, int64_t dt_ms) {
  if (dt_ms <= 0 || after < before) return 0;
  return static_cast<double>(after - before) * 1000.0 / static_cast<double>(dt_ms);
}

}  // namespace

ClusterMonitor::ClusterMonitor(int64_t history, int64_t errors)
    : history_(std::max<int64_t>(2, history)), max_errors_(std::max<int64_t>(1, errors)) {}

void ClusterMonitor::Record(int64_t node, const wire::StatsW& stats, int64_t unix_ms) {
  NodeSample s;
  s.unix_ms = unix_ms;
  s.memory_used = stats.memory_used;
  s.spilled_bytes = stats.spilled_bytes;
  s.memory_capacity = stats.memory_capacity;
  s.num_objects = stats.num_objects;
  s.tasks_queued = stats.tasks_queued;
  s.tasks_running = stats.tasks_running;
  s.tasks_run = stats.tasks_run;
  s.tasks_failed = stats.tasks_failed;
  s.net_in_bytes = stats.net_in_bytes;
  s.net_out_bytes = stats.net_out_bytes;

  std::lock_guard lock(mu_);
  PerNode& n = nodes_[node];
  if (!n.samples.empty()) {
    const NodeSample& prev = n.samples.back();
    const bool restarted = s.tasks_run < prev.tasks_run || s.net_in_bytes < prev.net_in_bytes ||
                           s.net_out_bytes < prev.net_out_bytes;
    if (restarted) {
      n.samples.clear();
      n.last_error_seq = 0;
    } else if (unix_ms <= prev.unix_ms) {
      return;  // a heartbeat that arrived late: the newer one is kept
    } else {
      const int64_t dt = unix_ms - prev.unix_ms;
      s.tasks_per_s = Rate(prev.tasks_run, s.tasks_run, dt);
      s.net_in_per_s = Rate(prev.net_in_bytes, s.net_in_bytes, dt);
      s.net_out_per_s = Rate(prev.net_out_bytes, s.net_out_bytes, dt);
    }
  }
  n.samples.push_back(s);
  while (static_cast<int64_t>(n.samples.size()) > history_) n.samples.pop_front();
  n.sessions = stats.sessions;
  for (const wire::TaskErrorW& e : stats.errors) {
    if (e.seq <= n.last_error_seq) continue;  // sent again after a reconnect
    n.last_error_seq = e.seq;
    errors_.push_back({node, e});
    while (static_cast<int64_t>(errors_.size()) > max_errors_) errors_.pop_front();
  }
}

void ClusterMonitor::Forget(int64_t node) {
  std::lock_guard lock(mu_);
  nodes_.erase(node);
}

bool ClusterMonitor::Latest(int64_t node, NodeSample* out) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || it->second.samples.empty()) return false;
  *out = it->second.samples.back();
  return true;
}

std::vector<NodeSample> ClusterMonitor::NodeHistory(int64_t node, int64_t since_ms) const {
  std::lock_guard lock(mu_);
  std::vector<NodeSample> out;
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return out;
  for (const NodeSample& s : it->second.samples) {
    if (s.unix_ms > since_ms) out.push_back(s);
  }
  return out;
}

std::vector<ClusterSample> ClusterMonitor::History(int64_t since_ms, int64_t now_ms,
                                                   int64_t step_ms, int64_t stale_ms) const {
  std::vector<ClusterSample> out;
  if (step_ms <= 0 || now_ms <= since_ms) return out;
  std::lock_guard lock(mu_);
  int64_t first = now_ms;
  for (const auto& [id, n] : nodes_) {
    if (!n.samples.empty()) first = std::min(first, n.samples.front().unix_ms);
  }
  // Grid times are multiples of step_ms from now_ms backwards, so that successive polls agree.
  int64_t t = now_ms - ((now_ms - std::max(since_ms + 1, first)) / step_ms) * step_ms;
  std::unordered_map<int64_t, size_t> cursor;  // per node: index of its latest sample <= t
  for (; t <= now_ms; t += step_ms) {
    ClusterSample c;
    c.unix_ms = t;
    bool any = false;
    for (const auto& [id, n] : nodes_) {
      size_t& i = cursor[id];
      while (i + 1 < n.samples.size() && n.samples[i + 1].unix_ms <= t) ++i;
      if (n.samples.empty() || n.samples[i].unix_ms > t) continue;
      const NodeSample& s = n.samples[i];
      if (t - s.unix_ms > stale_ms) continue;
      any = true;
      c.memory_used += s.memory_used;
      c.spilled_bytes += s.spilled_bytes;
      c.memory_capacity += s.memory_capacity;
      c.tasks_queued += s.tasks_queued;
      c.tasks_running += s.tasks_running;
      c.tasks_per_s += s.tasks_per_s;
      c.net_in_per_s += s.net_in_per_s;
      c.net_out_per_s += s.net_out_per_s;
    }
    if (any) out.push_back(c);
  }
  return out;
}

std::vector<NodeError> ClusterMonitor::Errors(int64_t limit) const {
  std::lock_guard lock(mu_);
  const int64_t n = std::min<int64_t>(limit, static_cast<int64_t>(errors_.size()));
  return std::vector<NodeError>(errors_.end() - std::max<int64_t>(0, n), errors_.end());
}

std::vector<SessionTotal> ClusterMonitor::Sessions() const {
  std::unordered_map<uint64_t, SessionTotal> by;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, n] : nodes_) {
      for (const wire::SessionUsageW& u : n.sessions) {
        SessionTotal& t = by[static_cast<uint64_t>(u.session)];
        t.session = static_cast<uint64_t>(u.session);
        t.nodes += 1;
        t.leased_nodes += u.leased ? 1 : 0;
        t.objects += u.objects;
        t.memory_bytes += u.memory_bytes;
        t.spilled_bytes += u.spilled_bytes;
      }
    }
  }
  std::vector<SessionTotal> out;
  for (auto& [session, t] : by) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const SessionTotal& a, const SessionTotal& b) {
    return a.memory_bytes + a.spilled_bytes != b.memory_bytes + b.spilled_bytes
               ? a.memory_bytes + a.spilled_bytes > b.memory_bytes + b.spilled_bytes
               : a.session < b.session;
  });
  return out;
}

}  // namespace nums::engine::cluster
