#pragma once
// FakeCluster: nodes for ClusterRuntime without sockets. Each node is a real engine::Node in this
// process; a test can kill one (every call to it then throws NodeLostError, and peers fetching
// from it get a node-lost error), restart it as a new incarnation with an empty store, take the
// head down, and make a node die whenever it is sent a task of a given kernel.

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/cluster/node_client.h"
#include "engine/node.h"

namespace nums::engine::cluster::testing {

class FakeCluster final : public ObjectSource {
 public:
  FakeCluster(int64_t nodes, std::shared_ptr<const KernelRegistry> registry);
  ~FakeCluster() override;

  std::unique_ptr<HeadClient> Head();
  NodeDialer Dialer();

  /// The node's process dies: its tasks are never answered for, its objects are gone.
  void Kill(NodeId node);
  /// A new process serves node `node` (killed first if alive): same id, new incarnation.
  void Restart(NodeId node);
  /// While down, Head.ListNodes throws ClusterError.
  void SetHeadDown(bool down);
  /// A node sent a task of `kernel` dies once it has the task (a kernel that crashes its node).
  void KillWhenRuns(const std::string& kernel);

  bool Alive(NodeId node) const;
  /// Whether the live process of `node` holds object `id`, ready.
  bool Holds(NodeId node, const ObjectId& id) const;
  /// Tasks run by the live process of `node`.
  int64_t TasksRun(NodeId node) const;

  void Subscribe(NodeId holder, NodeId receiver, const ObjectId& id, ObjectCallback cb) override;

 private:
  class Client;
  class FakeHead;
  struct Fetch {
    ObjectId id;
    std::atomic<bool> done{false};
    ObjectCallback cb;
  };
  struct Slot {
    std::unique_ptr<Node> node;
    bool alive = true;
    int64_t incarnation = 0;
    std::vector<std::shared_ptr<Fetch>> fetches;  // from this process, by peers
  };
  /// The live process of `node` if `*bound` (0: not connected yet, then bound) is its
  /// incarnation; throws NodeLostError otherwise.
  Node& Use(NodeId node, std::atomic<int64_t>& bound, const char* what);
  bool KillsOnRun(const std::string& kernel) const;

  const std::shared_ptr<const KernelRegistry> registry_;
  mutable std::mutex
      mu_;  // guards slots_, graveyard_, head_down_, kill_kernels_, next_incarnation_
  std::vector<Slot> slots_;
  // Dead processes, kept until the end: their tasks may still be running.
  std::vector<std::unique_ptr<Node>> graveyard_;
  bool head_down_ = false;
  std::set<std::string> kill_kernels_;
  int64_t next_incarnation_ = 1;
};

}  // namespace nums::engine::cluster::testing
