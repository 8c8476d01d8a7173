#pragma once
// EmbeddedRuntime: N virtual nodes in this process, each with its own store and executor, sharing
// the node code the daemons use, without sockets.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/node.h"
#include "engine/runtime.h"

namespace nums::engine {

struct EmbeddedOptions {
  int64_t nodes = 1;
  int64_t threads_per_node = 0;  ///< 0: the machine's cores divided among the nodes (at least 1)
  /// Each node's capacity; 0: the process's budget (kDefaultMemoryFraction of physical memory)
  /// divided among the nodes.
  int64_t memory_per_node = 0;
  /// Where the nodes spill (each in a directory of its own under it); empty: no spilling.
  std::string spill_root{};
  /// GPUs each node uses, the first of the process's (nodes share them): -1 all, 0 none.
  int64_t gpus_per_node = -1;
  static constexpr double kDefaultMemoryFraction = 0.8;
};

class EmbeddedRuntime final : public Runtime, public ObjectSource {
 public:
  /// Throws ValueError for a non-positive node count or a negative thread count.
  static std::shared_ptr<EmbeddedRuntime> Start(const EmbeddedOptions& options,
                                                std::shared_ptr<const KernelRegistry> registry);
  ~EmbeddedRuntime() override;

  ObjectRef Put(Block block, NodeId node) override;
  std::vector<ObjectRef> Submit(TaskSpec spec) override;
  std::vector<Block> Get(const std::vector<ObjectRef>& refs, Timeout timeout = {}) override;
  using Runtime::Get;
  WaitResult Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout = {}) override;
  /// Waits on the objects' stores directly: no task runs.
  void Await(const std::vector<ObjectRef>& refs) override;
  void Free(const std::vector<ObjectRef>& refs) override;
  std::vector<NodeInfo> Nodes() override;
  std::vector<NodeTimeline> Timeline(const std::vector<int64_t>& since,
                                     std::optional<bool> record) override;

  /// Blocks until no node has a task queued or running.
  void WaitIdle();
  Node& node(NodeId id) { return *nodes_.at(static_cast<size_t>(id)); }
  int64_t num_nodes() const { return static_cast<int64_t>(nodes_.size()); }

  void Subscribe(NodeId holder, NodeId receiver, const ObjectId& id, ObjectCallback cb) override;

 private:
  EmbeddedRuntime(const EmbeddedOptions& options, std::shared_ptr<const KernelRegistry> registry);
  /// The node `id`; ClusterError naming `what` (and the task `label`) when there is none.
  Node& CheckedNode(NodeId id, std::string_view what, std::string_view label = {});
  ObjectRef MakeRef(const ObjectId& id, NodeId node);

  std::shared_ptr<DetachableReleaser> sink_;  // where refs send their release

  std::shared_ptr<const KernelRegistry> registry_;
  ObjectIdGenerator ids_;
  std::vector<std::unique_ptr<Node>> nodes_;
  DeviceRates rates_;  // what every node reports: they have equal threads and share the GPUs
};

}  // namespace nums::engine
