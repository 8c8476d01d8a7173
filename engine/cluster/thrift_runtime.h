#pragma once
// ThriftRuntime: the driver's Runtime for a cluster of node daemons. It asks the head for the
// nodes, then talks to each node directly: tasks go to the node that runs them, blocks are put
// and fetched in chunks, and the driver assigns every object id as the embedded runtime does.

#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/object_id.h"
#include "engine/runtime.h"

namespace nums::wire {
class NodeW;
}  // namespace nums::wire

namespace nums::engine::cluster {

class LeaseKeeper;

class ThriftRuntime final : public Runtime {
 public:
  /// A node that stops answering is marked lost; Get recomputes the objects it held (and anything
  /// that failed for want of them) from their lineage on the surviving nodes, making again the
  /// computed inputs that were freed meanwhile (freed again once used). Objects that were put are
  /// kept alive by the lineage of what was computed from them; those put on a lost node raise
  /// NodeLostError. Tasks and puts meant for a lost node go to a surviving one.
  ///
  /// A lost node that the head lists as live again (the same id: a node restarted on its old
  /// address) is used again once the driver notices: when it lists the nodes, and at most once a
  /// second when a task or put is meant for a lost node. What it held before still counts as lost.
  ///
  /// Connects to the head at `address` ("host:port") with the cluster token and lists the nodes.
  /// Throws ValueError for a bad address, AuthError for a refused token, ClusterError when the
  /// head cannot be reached or has no nodes.
  static std::shared_ptr<ThriftRuntime> Connect(const std::string& address,
                                                const std::string& token);
  /// Sends the frees still queued and ends the driver's lease: the nodes free what is left.
  ~ThriftRuntime() override;

  ObjectRef Put(Block block, NodeId node) override;
  std::vector<ObjectRef> Submit(TaskSpec spec) override;
  std::vector<Block> Get(const std::vector<ObjectRef>& refs, Timeout timeout = {}) override;
  using Runtime::Get;
  /// Objects whose node was lost count as finished (failed): Get recomputes or raises them.
  WaitResult Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout = {}) override;
  /// Objects on a lost node are gone already and are skipped.
  void Free(const std::vector<ObjectRef>& refs) override;
  /// The driver's view of the nodes; while the head cannot be reached, the last view it gave
  /// (the head only holds membership: work goes on without it).
  std::vector<NodeInfo> Nodes() override;
  NodeId Location(const ObjectRef& ref) override { return Holder(ref.id(), ref.node()); }
  /// Within a batch, tasks are held per node and sent in one Node.SubmitTasks per node: when the
  /// batch ends, when a task reads what a held task of another node makes, and every
  /// kMaxHeldTasks tasks.
  void BeginBatch() override;
  void EndBatch() override;

 private:
  struct Links;
  class Background;
  /// What the driver knows of one node.
  struct NodeState {
    bool lost = false;
    int64_t incarnation = 0;  ///< of the process the driver last connected to
    int64_t epoch = 0;        ///< restarts noticed so far
    uint64_t first_id = 0;    ///< objects made there with a smaller id counter died in a restart
  };
  /// Where a recomputed object went, and that node's epoch then.
  struct Moved {
    NodeId node;
    int64_t epoch;
  };
  ThriftRuntime() = default;
  int64_t num_nodes() const;
  void CheckNode(NodeId node, const std::string& what) const;
  /// Runs `fn` on node `node`'s connection; a NodeLostError marks the node lost on its way out.
  template <typename Fn>
  decltype(auto) OnNode(NodeId node, const char* what, Fn&& fn);
  /// Where object `id`, made on `node`, is now: `node` unless it was recomputed elsewhere.
  NodeId Holder(const ObjectId& id, NodeId node) const;
  /// Whether object `id`, made on `node`, no longer exists: its holder is lost, or restarted
  /// since the object was made there.
  bool Gone(const ObjectId& id, NodeId node) const;
  bool GoneLocked(const ObjectId& id, NodeId node) const;
  bool IsLost(NodeId node) const;
  void MarkLost(NodeId node);
  /// Where work meant for `node` goes: `node` unless it is lost, else a survivor (in turn).
  /// First takes back the lost nodes the head lists as live, asking at most once a second.
  /// Throws NodeLostError, naming `why`, when every node is lost.
  NodeId Target(NodeId node, const std::string& why);
  /// Returns `attempt(target, tries)` run on Target(node); when that target is lost meanwhile
  /// (NodeLostError), tries the next one, up to once per node.
  template <typename Fn>
  auto OnTarget(NodeId node, const std::string& what, Fn&& attempt);
  /// Asks the head which nodes are live and takes back the lost ones among them (and notices
  /// restarts, see Revive); without `force`, only when a node is lost and the last look is a
  /// second old.
  void ReviveLostNodes(bool force);
  /// Marks lost the nodes that restarted (a new incarnation in `listed`), then dials each lost
  /// node that `listed` shows live and, when it answers, uses it again. Objects made on an
  /// earlier process of a node stay gone.
  void Revive(const std::vector<wire::NodeW>& listed);
  /// The head's list of nodes, after Revive has seen it.
  std::vector<wire::NodeW> ListAndRevive();
  /// Submits again the task that made `id` (on its holder, or on a survivor when the holder is
  /// lost), first making again its inputs that are lost, freed already, or failed for want of
  /// either (recursively). An input made again that no ref holds is freed once the task has run.
  /// Throws NodeLostError for an object that was put, not computed.
  void Recompute(const ObjectId& id, NodeId node, const std::shared_ptr<const TaskRecord>& task,
                 const std::string& why);
  /// Whether `id` on node `holder` must be made again: `holder` is lost, or the object is not
  /// there (freed), or it failed because a node or an input it needed was gone.
  bool MustRemake(const ObjectId& id, NodeId holder);
  /// A ref of this runtime to `id`, recorded (weakly) in held_ until its last copy drops.
  ObjectRef MakeRef(const ObjectId& id, NodeId node, std::shared_ptr<const TaskRecord> lineage);
  /// Whether an object input of `task` is gone.
  bool InputGone(const TaskRecord& task) const;
  /// Sends `record` to its node (another when that one is lost) and pins its inputs.
  void Send(TaskRecord& record, std::vector<ObjectRef> pins, const std::string& what);
  /// Sends the tasks the batch holds for the nodes in `only` (all when null), one message per
  /// node; returns the first error after trying every task. One send at a time.
  std::exception_ptr SendHeld(const std::set<NodeId>* only);
  /// Raises `error`, or keeps it for EndBatch while a batch is open.
  void Report(std::exception_ptr error);

  ObjectIdGenerator ids_;
  mutable std::mutex state_mu_;  // guards moved_, nodes_, last_revive_, head_down_, held_
  std::unordered_map<ObjectId, Moved, ObjectIdHash> moved_;
  std::unordered_map<ObjectId, ObjectRef::Weak, ObjectIdHash> held_;  // the driver's refs
  std::vector<NodeState> nodes_;
  std::chrono::steady_clock::time_point last_revive_{};
  bool head_down_ = false;  // the last Nodes() could not reach the head
  struct HeldTask {
    std::shared_ptr<TaskRecord> record;
    std::vector<ObjectRef> pins;
  };
  std::mutex send_mu_;   // one SendHeld at a time
  std::mutex batch_mu_;  // guards the batch state below
  int batch_depth_ = 0;
  std::map<NodeId, std::vector<HeldTask>> held_tasks_;
  // Outputs of tasks held or being sent, and those of them whose last ref dropped meanwhile.
  std::unordered_map<ObjectId, NodeId, ObjectIdHash> held_outputs_;
  std::unordered_map<ObjectId, NodeId, ObjectIdHash> released_held_;
  size_t num_held_ = 0;
  std::exception_ptr batch_error_;   // the first send error of the open batch
  std::atomic<uint64_t> spread_{0};  // turns of Target among the survivors
  std::unique_ptr<Links> links_;
  std::unique_ptr<Background> background_;
  std::unique_ptr<LeaseKeeper> lease_;
  std::shared_ptr<DetachableReleaser> sink_;
};

}  // namespace nums::engine::cluster
