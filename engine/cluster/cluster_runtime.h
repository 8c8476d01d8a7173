#pragma once
// ClusterRuntime: the driver's Runtime for a cluster of nodes it reaches through NodeClients
// (ThriftRuntime over Thrift; an in-process fake in tests). Tasks go to the node that runs them,
// the driver assigns every object id as the embedded runtime does, and it keeps each object's
// lineage so that what a lost node held is made again on the survivors.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cluster/node_client.h"
#include "engine/object_id.h"
#include "engine/runtime.h"

namespace nums::engine::cluster {

class FreeQueue;
class LeaseKeeper;
class LoadView;
class NodeTable;
class Recovery;
class TaskBatcher;

class ClusterRuntime : public Runtime {
 public:
  /// A node that stops answering is marked lost; Get recomputes the objects it held (and anything
  /// that failed for want of them) from their lineage on the surviving nodes, making again the
  /// computed inputs that were freed meanwhile (freed again once used). Objects that were put are
  /// kept alive by the lineage of what was computed from them; those put on a lost node raise
  /// NodeLostError. Tasks and puts meant for a lost node go to a surviving one. A task is not
  /// run again once Recovery::kMaxLosses nodes were lost while it was there: Get (or Submit) raises
  /// NodeLostError naming it and those nodes (it may be what kills them).
  ///
  /// A lost node that the head lists as live again (the same id: a node restarted on its old
  /// address) is used again once the driver notices: when it lists the nodes, and at most once a
  /// second when a task or put is meant for a lost node. What it held before still counts as lost.
  ///
  /// Lists the nodes with `head` and pings each through a client from `dial`. `name` names the
  /// cluster in errors. Throws ClusterError when the head cannot be reached, has no nodes or
  /// lists them out of order, NodeLostError for a node that does not answer, AuthError for a
  /// refused token.
  static std::shared_ptr<ClusterRuntime> Start(std::unique_ptr<HeadClient> head, NodeDialer dial,
                                               const std::string& name);
  /// Sends the frees still queued and ends the driver's lease: the nodes free what is left.
  ~ClusterRuntime() override;

  ObjectRef Put(Block block, NodeId node) override;
  std::vector<ObjectRef> Submit(TaskSpec spec) override;
  std::vector<Block> Get(const std::vector<ObjectRef>& refs, Timeout timeout = {}) override;
  using Runtime::Get;
  /// Objects whose node was lost count as finished (failed): Get recomputes or raises them.
  WaitResult Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout = {}) override;
  /// Asks every holder at once, one Node.Await per node that each waits until all of that
  /// node's objects are finished: no task runs and no bytes move when all are ready. Those
  /// that failed, that a node does not hold, or whose node was lost go the way of
  /// Runtime::Await (a no-op task each, then Get): a task's error is raised as Get raises it,
  /// and what a lost node held is recomputed from lineage.
  void Await(const std::vector<ObjectRef>& refs) override;
  /// Objects on a lost node are gone already and are skipped.
  void Free(const std::vector<ObjectRef>& refs) override;
  /// The driver's view of the nodes; while the head cannot be reached, the last view it gave
  /// (the head only holds membership: work goes on without it).
  std::vector<NodeInfo> Nodes() override;
  /// From what the nodes sent back with their last answers to a submit or a lease renewal
  /// (LoadView, which says how stale it may be); a node is live unless the driver marked it
  /// lost. Makes no call.
  std::vector<NodeLoad> Loads() override;
  NodeId Location(const ObjectRef& ref) override;
  /// Asks each node that is not lost, one after another.
  std::vector<NodeTimeline> Timeline(const std::vector<int64_t>& since,
                                     std::optional<bool> record) override;
  /// Within a batch, tasks are held per node and sent in one SubmitTasks per node: when the
  /// batch ends, when a task reads what a held task of another node makes, and every
  /// TaskBatcher::kMaxHeldTasks tasks.
  void BeginBatch() override;
  void EndBatch() override;

 protected:
  ClusterRuntime(std::unique_ptr<HeadClient> head, NodeDialer dial, const std::string& name);

 private:
  /// Returns `attempt(target)` run on the target of `node`; when that target is lost
  /// meanwhile (NodeLostError), tries the next one, up to once per node.
  template <typename Fn>
  auto OnTarget(NodeId node, const std::string& what, Fn&& attempt);
  /// Sends `record` to its node (another when that one is lost, which counts against the task)
  /// and pins its inputs.
  void Send(const std::shared_ptr<TaskRecord>& record, std::vector<ObjectRef> pins,
            const std::string& what);
  /// A ref of this runtime to `id`, recorded (weakly) in held_ until its last copy drops.
  ObjectRef MakeRef(const ObjectId& id, NodeId node, std::shared_ptr<const TaskRecord> lineage);
  /// A live ref of the driver's to `input`, else a new one on `holder`.
  ObjectRef HoldInput(const ObjectArg& input, NodeId holder);
  /// The last ref to `id` dropped: free it once its task is on its node.
  void Released(const ObjectId& id, NodeId node);
  /// Get's first pass over several nodes: each node's objects fetched by a thread of its own, so
  /// that a many-block get reads from every node at once. An entry is left empty where the
  /// object was not ready by `deadline` (at most one call's wait), failed, or its node did not
  /// answer: the one-at-a-time pass then waits, recomputes or raises as for any object.
  std::vector<std::optional<Block>> FetchFromEveryNode(
      const std::vector<ObjectRef>& refs, std::chrono::steady_clock::time_point deadline);

  /// Await's first pass: per ref, whether its holder reports it ready, asking every node at
  /// once (a thread per node beyond the first), each in calls of at most one call's wait until
  /// all of its objects are finished. False where the object failed, its node does not hold it
  /// or cannot tell, or the node did not answer (marked lost by the call).
  std::vector<char> ReadyOnEveryNode(const std::vector<ObjectRef>& refs);

  ObjectIdGenerator ids_;
  std::unique_ptr<NodeTable> nodes_;
  std::unique_ptr<LoadView> loads_;  // outlives lease_, which reports into it
  std::unique_ptr<FreeQueue> frees_;
  std::unique_ptr<TaskBatcher> batcher_;
  std::unique_ptr<Recovery> recovery_;
  std::unique_ptr<LeaseKeeper> lease_;
  std::mutex refs_mu_;                                                // guards held_
  std::unordered_map<ObjectId, ObjectRef::Weak, ObjectIdHash> held_;  // the driver's refs
  std::shared_ptr<DetachableReleaser> sink_;
};

}  // namespace nums::engine::cluster
