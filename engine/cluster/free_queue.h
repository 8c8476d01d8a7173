#pragma once
// FreeQueue: the driver's background thread that sends the frees of dropped refs in batches, and
// holds each task's input refs until the task has finished, so that no input is freed before
// its consumer has read it. It asks a node whether such a task has finished (Node.Await) only
// when the answer would free something: while other refs hold every input and nothing waits
// for the task's output, the pins are kept without asking, so an operation on arrays the
// program still holds costs no call after its submit.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/cluster/node_client.h"

namespace nums::engine::cluster {

class FreeQueue {
 public:
  /// `clients` (one per node, used by the thread only); `holder(id, node)` says where a
  /// released object lives now (-1: nowhere, its node was lost) and forgets a recorded move.
  FreeQueue(std::vector<std::unique_ptr<NodeClient>> clients,
            std::function<NodeId(const ObjectId&, NodeId)> holder);
  ~FreeQueue() { Stop(); }
  FreeQueue(const FreeQueue&) = delete;
  FreeQueue& operator=(const FreeQueue&) = delete;

  /// Drops every pin, sends the frees queued so far and joins the thread.
  void Stop();
  /// Frees object `id`, made on `node`, wherever it lives now (once no pinned task is watched
  /// by it).
  void Release(const ObjectId& id, NodeId node);
  /// Node `node` runs a new process: the next call dials it instead of failing on the dead
  /// connection (and taking the node's tasks for finished).
  void Reconnect(NodeId node);
  /// Keeps `pins` until `output` (an output of a task on `node`) has finished.
  void Pin(NodeId node, const ObjectId& output, std::vector<ObjectRef> pins);

  /// Past this many pinned tasks every one is polled, held elsewhere or not, so that a program
  /// holding its inputs long does not keep an ever longer list: one poll per node then answers
  /// for thousands of tasks.
  static constexpr size_t kPollAllAbove = 4096;

 private:
  struct Pinned {
    NodeId node;
    ObjectId output;
    std::vector<ObjectRef> pins;
  };
  // Queues the free of a released object on the node that holds it now.
  void Queue(const ObjectId& id, NodeId node);
  void Loop();
  void SendFrees(const std::map<NodeId, std::vector<ObjectId>>& frees);
  // Takes from pinned_ the entries worth a poll (mu_ held): a pin that no ref outside the pins
  // holds, or an output whose release waits; all of them past kPollAllAbove.
  std::vector<Pinned> TakeDue();
  // Returns the entries whose task has not finished yet; moves the others to `finished`.
  std::vector<Pinned> Poll(std::vector<Pinned> pinned, std::vector<Pinned>& finished);

  const std::function<NodeId(const ObjectId&, NodeId)> holder_;
  const std::vector<std::unique_ptr<NodeClient>> clients_;  // used by the thread only
  std::mutex mu_;  // guards frees_, pinned_, watched_, deferred_, reconnect_, stop_
  std::condition_variable cv_;
  std::map<NodeId, std::vector<ObjectId>> frees_;
  std::vector<Pinned> pinned_;
  std::unordered_set<ObjectId, ObjectIdHash> watched_;  // outputs of pinned tasks
  // Watched and released by the driver: the object and the node it was made on.
  std::unordered_map<ObjectId, NodeId, ObjectIdHash> deferred_;
  std::set<NodeId> reconnect_;  // nodes whose connection the thread must drop
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace nums::engine::cluster
