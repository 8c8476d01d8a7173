#include "engine/cluster/node_table.h"

#include <algorithm>

#include "engine/cluster/log.h"

namespace nums::engine::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// How often, at most, work meant for a lost node makes the driver ask the head whether it is
// back; List() always asks.
constexpr auto kReviveInterval = std::chrono::seconds(1);

}  // namespace

NodeTable::NodeTable(std::unique_ptr<HeadClient> head, const NodeDialer& dial,
                     std::vector<Member> nodes, ObjectIdGenerator& ids)
    : head_(std::move(head)), ids_(ids), listed_(std::move(nodes)) {
  for (const Member& m : listed_) {
    clients_.push_back(dial(m, std::chrono::seconds(60)));
    nodes_.push_back({.incarnation = m.incarnation});
  }
}

void NodeTable::Check(NodeId node, const std::string& what) const {
  if (node < 0 || node >= size()) {
    throw ClusterError(what + ": node " + std::to_string(node) +
                       " does not exist; the cluster has " + std::to_string(size()) + " node(s)");
  }
}

NodeId NodeTable::Holder(const ObjectId& id, NodeId node) const {
  return Placement(id, node).first;
}

std::pair<NodeId, int64_t> NodeTable::Placement(const ObjectId& id, NodeId node) const {
  std::lock_guard lock(mu_);
  auto it = moved_.find(id);
  if (it == moved_.end()) return {node, -1};
  return {it->second.node, it->second.epoch};
}

bool NodeTable::Gone(const ObjectId& id, NodeId node) const {
  std::lock_guard lock(mu_);
  return GoneLocked(id, node);
}

bool NodeTable::GoneLocked(const ObjectId& id, NodeId node) const {
  if (auto it = moved_.find(id); it != moved_.end()) {
    const NodeState& s = nodes_[static_cast<size_t>(it->second.node)];
    return s.lost || s.epoch != it->second.epoch;
  }
  const NodeState& s = nodes_[static_cast<size_t>(node)];
  return s.lost || id.lo < s.first_id;
}

NodeId NodeTable::Release(const ObjectId& id, NodeId node) {
  std::lock_guard lock(mu_);
  const bool gone = GoneLocked(id, node);  // a lost node frees nothing
  NodeId holder = node;
  if (auto it = moved_.find(id); it != moved_.end()) {
    holder = it->second.node;
    moved_.erase(it);
  }
  return gone ? NodeId{-1} : holder;
}

void NodeTable::Moved(const std::vector<ObjectId>& outputs, NodeId node) {
  std::lock_guard lock(mu_);
  const int64_t epoch = nodes_[static_cast<size_t>(node)].epoch;
  for (const ObjectId& out : outputs) moved_[out] = {node, epoch};
}

bool NodeTable::IsLost(NodeId node) const {
  std::lock_guard lock(mu_);
  return nodes_[static_cast<size_t>(node)].lost;
}

int64_t NodeTable::Epoch(NodeId node) const {
  std::lock_guard lock(mu_);
  return nodes_[static_cast<size_t>(node)].epoch;
}

void NodeTable::MarkLost(NodeId node) {
  if (node < 0 || node >= size()) return;
  std::lock_guard lock(mu_);
  NodeState& s = nodes_[static_cast<size_t>(node)];
  if (!s.lost) Log().warn("node {} lost; recomputing what it held", node);
  s.lost = true;
}

NodeId NodeTable::Target(NodeId node, const std::string& why) {
  if (!IsLost(node)) return node;
  ReviveLostNodes(/*force=*/false);
  if (!IsLost(node)) return node;
  std::vector<NodeId> live;
  for (int pass = 0; pass < 2 && live.empty(); ++pass) {
    if (pass == 1) ReviveLostNodes(/*force=*/true);
    std::lock_guard lock(mu_);
    for (NodeId n = 0; n < size(); ++n) {
      if (!nodes_[static_cast<size_t>(n)].lost) live.push_back(n);
    }
  }
  if (live.empty()) throw NodeLostError("every node of the cluster was lost (" + why + ")");
  // Spread the work of a lost node over the survivors.
  return live[spread_.fetch_add(1, std::memory_order_relaxed) % live.size()];
}

void NodeTable::ReviveLostNodes(bool force) {
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    if (!force) {
      if (std::none_of(nodes_.begin(), nodes_.end(), [](const auto& s) { return s.lost; })) return;
      if (now - last_revive_ < kReviveInterval) return;
    }
    last_revive_ = now;
  }
  try {
    ListAndRevive();
  } catch (const Error& e) {
    Log().warn("asking the head for rejoined nodes: {}", e.what());
  }
}

std::vector<Member> NodeTable::List() {
  try {
    std::vector<Member> listed = ListAndRevive();
    std::lock_guard lock(mu_);
    if (head_down_) Log().info("the head answers again");
    head_down_ = false;
    return listed;
  } catch (const AuthError&) {
    throw;
  } catch (const ClusterError& e) {
    // The head holds membership only: the nodes go on serving, and so does this driver, with
    // the view the head gave last.
    std::lock_guard lock(mu_);
    if (!head_down_) Log().warn("{}; going on with the nodes known so far", e.what());
    head_down_ = true;
    return listed_;
  }
}

std::vector<Member> NodeTable::ListAndRevive() {
  std::vector<Member> listed = head_->ListNodes();
  {
    std::lock_guard lock(mu_);
    last_revive_ = Clock::now();
    listed_ = listed;
  }
  Revive(listed);
  return listed;
}

void NodeTable::Revive(const std::vector<Member>& listed) {
  for (const Member& n : listed) {
    if (n.id < 0 || n.id >= size()) continue;
    {
      std::lock_guard lock(mu_);
      NodeState& s = nodes_[static_cast<size_t>(n.id)];
      if (n.incarnation != s.incarnation && !s.lost) {
        // Restarted before any call of ours failed: what it held is gone all the same.
        Log().warn("node {} restarted; recomputing what it held", n.id);
        s.lost = true;
      }
      if (!s.lost || !n.live) continue;
    }
    // The old connection is dead, or would reach the new process unnoticed: dial afresh.
    NodeClient& client = *clients_[static_cast<size_t>(n.id)];
    client.Reconnect();
    try {
      client.Ping();
    } catch (const Error& e) {
      Log().debug("node {} listed live but not reachable yet: {}", n.id, e.what());
      continue;
    }
    if (on_back_) on_back_(n.id);
    bool restarted = false;
    {
      std::lock_guard lock(mu_);
      NodeState& s = nodes_[static_cast<size_t>(n.id)];
      if (n.incarnation != s.incarnation) {
        // A new process: objects made on the old one (all ids handed out so far) are gone.
        restarted = true;
        s.incarnation = n.incarnation;
        ++s.epoch;
        s.first_id = ids_.Next().lo;
      }
      s.lost = false;
    }
    Log().info("node {} at {}:{} is back{}", n.id, n.host, n.port,
               restarted ? " (restarted: what it held stays lost)" : "");
  }
}

}  // namespace nums::engine::cluster
