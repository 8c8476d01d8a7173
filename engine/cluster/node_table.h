#pragma once
// NodeTable: the driver's view of the nodes. Which are lost, which process of each it talks to,
// where recomputed objects went; it sends work meant for a lost node to a survivor and takes
// back the nodes that the head lists as live again, restarted ones included.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cluster/node_client.h"
#include "engine/object_id.h"

namespace nums::engine::cluster {

class NodeTable {
 public:
  /// `nodes` as the head listed them at first (ids 0..n-1, in order); `ids` hands out the
  /// driver's object ids (a restart makes every id handed out so far stale on that node).
  NodeTable(std::unique_ptr<HeadClient> head, const NodeDialer& dial, std::vector<Member> nodes,
            ObjectIdGenerator& ids);

  int64_t size() const { return static_cast<int64_t>(clients_.size()); }
  /// Throws ClusterError, naming `what`, for a node that does not exist.
  void Check(NodeId node, const std::string& what) const;
  /// Calls `on_back(node)` for each node taken back, whose other connections must be dialled
  /// afresh. Set once, before the table is shared.
  void OnBack(std::function<void(NodeId)> on_back) { on_back_ = std::move(on_back); }

  /// Returns `fn(client)` on node `node`'s client (for driver threads); a NodeLostError marks the
  /// node lost on its way out.
  template <typename Fn>
  decltype(auto) Call(NodeId node, Fn&& fn) {
    try {
      return fn(*clients_[static_cast<size_t>(node)]);
    } catch (const NodeLostError&) {
      // Marked at once: a later call would reconnect quietly, perhaps to a restarted process
      // that lacks the objects the driver thinks are there.
      MarkLost(node);
      throw;
    }
  }

  /// Where object `id`, made on `node`, is now: `node` unless it was recomputed elsewhere.
  NodeId Holder(const ObjectId& id, NodeId node) const;
  /// Where `id` is now and the epoch (restarts noticed) of that node when it went there; -1 for
  /// the node it was first made on.
  std::pair<NodeId, int64_t> Placement(const ObjectId& id, NodeId node) const;
  /// Whether object `id`, made on `node`, no longer exists: its holder is lost, or restarted
  /// since the object was made there.
  bool Gone(const ObjectId& id, NodeId node) const;
  /// For a released object: where to free it (-1 when it is gone); forgets its move.
  NodeId Release(const ObjectId& id, NodeId node);
  /// Records that `outputs` are made again on `node`.
  void Moved(const std::vector<ObjectId>& outputs, NodeId node);
  bool IsLost(NodeId node) const;
  void MarkLost(NodeId node);
  /// Restarts of `node` noticed so far.
  int64_t Epoch(NodeId node) const;

  /// Where work meant for `node` goes: `node` unless it is lost, else a survivor (in turn).
  /// First takes back the lost nodes the head lists as live, asking at most once a second.
  /// Throws NodeLostError, naming `why`, when every node is lost.
  NodeId Target(NodeId node, const std::string& why);
  /// Asks the head which nodes are live and takes back the lost ones among them; without
  /// `force`, only when a node is lost and the last look is a second old. Logs a head that
  /// does not answer.
  void ReviveLostNodes(bool force);
  /// The head's list of nodes, after taking back the lost ones it shows live. While the head
  /// cannot be reached, the list it gave last. Throws AuthError for a refused token.
  std::vector<Member> List();

 private:
  /// What the driver knows of one node.
  struct NodeState {
    bool lost = false;
    int64_t incarnation = 0;  ///< of the process the driver last connected to
    int64_t epoch = 0;        ///< restarts noticed so far
    uint64_t first_id = 0;    ///< objects made there with a smaller id counter died in a restart
  };
  /// Where a recomputed object went, and that node's epoch then.
  struct Move {
    NodeId node;
    int64_t epoch;
  };
  bool GoneLocked(const ObjectId& id, NodeId node) const;
  std::vector<Member> ListAndRevive();
  /// Marks lost the nodes that restarted (a new incarnation in `listed`), then pings each lost
  /// node that `listed` shows live and, when it answers, uses it again. Objects made on an
  /// earlier process of a node stay gone.
  void Revive(const std::vector<Member>& listed);

  const std::unique_ptr<HeadClient> head_;
  ObjectIdGenerator& ids_;
  std::vector<std::unique_ptr<NodeClient>> clients_;  // fixed at construction
  std::function<void(NodeId)> on_back_;
  mutable std::mutex mu_;  // guards nodes_, listed_, moved_, last_revive_, head_down_
  std::vector<NodeState> nodes_;
  std::vector<Member> listed_;  // the head's last answer
  std::unordered_map<ObjectId, Move, ObjectIdHash> moved_;
  std::chrono::steady_clock::time_point last_revive_{};
  bool head_down_ = false;           // the last List() could not reach the head
  std::atomic<uint64_t> spread_{0};  // turns of Target among the survivors
};

}  // namespace nums::engine::cluster
