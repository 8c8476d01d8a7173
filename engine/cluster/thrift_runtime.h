#pragma once
// ThriftRuntime: the driver's Runtime for a cluster of node daemons. It asks the head for the
// nodes, then talks to each node directly: tasks go to the node that runs them, blocks are put
// and fetched in chunks, and the driver assigns every object id as the embedded runtime does.

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/object_id.h"
#include "engine/runtime.h"

namespace nums::engine::cluster {

class ThriftRuntime final : public Runtime {
 public:
  /// A node that stops answering is marked lost; Get recomputes the objects it held (and anything
  /// that failed for want of them) from their lineage on the surviving nodes, as long as the
  /// inputs of the tasks involved are still held somewhere. Objects that were put on a lost node
  /// raise NodeLostError.
  ///
  /// Connects to the head at `address` ("host:port") with the cluster token and lists the nodes.
  /// Throws ValueError for a bad address, AuthError for a refused token, ClusterError when the
  /// head cannot be reached or has no nodes.
  static std::shared_ptr<ThriftRuntime> Connect(const std::string& address,
                                                const std::string& token);
  /// Sends the frees still queued; objects the driver still holds stay on the nodes.
  ~ThriftRuntime() override;

  ObjectRef Put(Block block, NodeId node) override;
  std::vector<ObjectRef> Submit(TaskSpec spec) override;
  std::vector<Block> Get(const std::vector<ObjectRef>& refs, Timeout timeout = {}) override;
  using Runtime::Get;
  WaitResult Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout = {}) override;
  void Free(const std::vector<ObjectRef>& refs) override;
  std::vector<NodeInfo> Nodes() override;

 private:
  struct Links;
  class Background;
  ThriftRuntime() = default;
  int64_t num_nodes() const;
  void CheckNode(NodeId node, const std::string& what) const;
  /// Where object `id`, made on `node`, is now: `node` unless it was recomputed elsewhere.
  NodeId Holder(const ObjectId& id, NodeId node) const;
  bool IsLost(NodeId node) const;
  void MarkLost(NodeId node);
  /// Submits again the task that made `id` (on its holder, or on a survivor when the holder is
  /// lost), first recomputing its inputs that are lost or failed for want of a lost node.
  /// Throws NodeLostError for an object that was put, not computed.
  void Recompute(const ObjectId& id, NodeId node, const std::shared_ptr<const TaskRecord>& task,
                 const std::string& why);
  /// Whether `id` on live node `holder` failed because a node it needed was lost.
  bool FailedForLostNode(const ObjectId& id, NodeId holder);

  ObjectIdGenerator ids_;
  mutable std::mutex moved_mu_;  // guards moved_, lost_
  std::unordered_map<ObjectId, NodeId, ObjectIdHash> moved_;
  std::set<NodeId> lost_;
  std::unique_ptr<Links> links_;
  std::unique_ptr<Background> background_;
  std::shared_ptr<DetachableReleaser> sink_;
};

}  // namespace nums::engine::cluster
