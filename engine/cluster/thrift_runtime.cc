#include "engine/cluster/thrift_runtime.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "engine/cluster/chunks.h"
#include "engine/cluster/lease_keeper.h"
#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/transport.h"
#include "engine/cluster/wire.h"

namespace nums::engine::cluster {
namespace {

using HeadConnection = Connection<wire::HeadClient>;
using NodeConnection = Connection<wire::NodeClient>;
using Clock = std::chrono::steady_clock;

// Longest single wait inside one call, so a call never nears the socket timeout.
constexpr int32_t kMaxCallWaitMs = 1000;
// Recoveries one Get tries for one object (a recomputation, or a fetch that failed because
// the holder was lost) before it gives up with NodeLostError.
constexpr int kMaxRecoveries = 6;
// How long the nodes keep this driver's objects without a renewal (renewed about every second;
// a killed driver's lease connection closes at once, which ends the lease within seconds).
constexpr auto kLeaseTtl = std::chrono::seconds(20);
// Tasks a batch holds before it sends them anyway.
constexpr size_t kMaxHeldTasks = 1024;
// How often, at most, work meant for a lost node makes the driver ask the head whether it is
// back; Nodes() always asks.
constexpr auto kReviveInterval = std::chrono::seconds(1);

// The connections to one node, each with the lock that serialises its calls: `conn` for every
// call, `second` (dialled when first needed) for the other half of a large Get's chunks.
struct Link {
  std::mutex mu;  // guards conn
  std::unique_ptr<NodeConnection> conn;
  std::mutex second_mu;  // guards second
  std::unique_ptr<NodeConnection> second;
};

std::vector<wire::ObjectIdW> WireIds(const std::vector<ObjectId>& ids) {
  std::vector<wire::ObjectIdW> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(ToWire(id));
  return out;
}

}  // namespace

// The driver's connections: the head, and one link per node for calls from driver threads.
struct ThriftRuntime::Links {
  std::string token;
  std::mutex head_mu;  // guards head
  std::unique_ptr<HeadConnection> head;
  std::vector<wire::NodeW> nodes;  // fixed at Connect
  std::vector<std::unique_ptr<Link>> links;

  template <typename Fn>
  decltype(auto) OnNode(NodeId node, const char* what, Fn&& fn) {
    Link& link = *links[static_cast<size_t>(node)];
    std::lock_guard lock(link.mu);
    return link.conn->Invoke(what, std::forward<Fn>(fn));
  }

  template <typename Fn>
  decltype(auto) OnSecond(NodeId node, const char* what, Fn&& fn) {
    Link& link = *links[static_cast<size_t>(node)];
    std::lock_guard lock(link.second_mu);
    if (!link.second) {
      const auto& n = nodes[static_cast<size_t>(node)];
      link.second = std::make_unique<NodeConnection>(n.host, n.port, token, true);
    }
    return link.second->Invoke(what, std::forward<Fn>(fn));
  }

  /// Replaces node `node`'s connection (its process restarted; the old one is dead).
  void Replace(NodeId node, std::unique_ptr<NodeConnection> conn) {
    Link& link = *links[static_cast<size_t>(node)];
    {
      std::lock_guard lock(link.mu);
      link.conn = std::move(conn);
    }
    std::lock_guard lock(link.second_mu);
    link.second.reset();
  }
};

// The background thread: sends the frees of dropped refs in batches, and holds each task's input
// refs until the task has finished, so no input is freed before its consumer has read it.
class ThriftRuntime::Background {
 public:
  /// `holder(id, node)` says where a released object lives now (-1: nowhere, its node was lost)
  /// and forgets a recorded move.
  Background(const Links& links, std::function<NodeId(const ObjectId&, NodeId)> holder)
      : holder_(std::move(holder)) {
    for (const auto& n : links.nodes) {
      conns_.push_back(std::make_unique<NodeConnection>(n.host, n.port, links.token, true));
    }
    thread_ = std::thread([this] { Loop(); });
  }
  ~Background() { Stop(); }

  /// Drops every pin, sends the frees queued so far and joins the thread.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      stop_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }

  void Release(const ObjectId& id, NodeId node) {
    {
      std::lock_guard lock(mu_);
      // The output a pinned task is watched by must outlive the task: freed earlier, it would
      // read as finished and release the task's inputs before the task has read them.
      if (watched_.count(id) != 0) {
        deferred_.emplace(id, node);
        return;
      }
    }
    Queue(id, node);
  }

  /// Drops the thread's connection to `node`, whose process restarted: the next call dials the
  /// new one instead of failing on the dead socket (and taking the node's tasks for finished).
  void Reconnect(NodeId node) {
    std::lock_guard lock(mu_);
    reconnect_.insert(node);
  }

  /// Keeps `pins` until `output` (an output of a task on `node`) has finished.
  void Pin(NodeId node, const ObjectId& output, std::vector<ObjectRef> pins) {
    std::lock_guard lock(mu_);
    watched_.insert(output);
    pinned_.push_back({node, output, std::move(pins)});
    cv_.notify_all();
  }

 private:
  struct Pinned {
    NodeId node;
    ObjectId output;
    std::vector<ObjectRef> pins;
  };

  // Queues the free of a released object on the node that holds it now.
  void Queue(const ObjectId& id, NodeId node) {
    const NodeId holder = holder_(id, node);
    if (holder < 0) return;
    std::lock_guard lock(mu_);
    frees_[holder].push_back(id);
    cv_.notify_all();
  }

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      const bool stopping = stop_;
      if (stopping) {
        // Nothing will wait for the pinned tasks any more: their inputs go with the rest, and so
        // do the outputs released while they ran (a node drops a result freed before it is
        // made, and fails what waited for it).
        std::vector<Pinned> dropped;
        dropped.swap(pinned_);
        watched_.clear();
        std::vector<std::pair<ObjectId, NodeId>> deferred(deferred_.begin(), deferred_.end());
        deferred_.clear();
        lock.unlock();
        dropped.clear();
        for (const auto& [id, node] : deferred) Queue(id, node);
        lock.lock();
      }
      std::map<NodeId, std::vector<ObjectId>> frees;
      frees.swap(frees_);
      std::vector<Pinned> pinned;
      pinned.swap(pinned_);
      std::set<NodeId> reconnect;
      reconnect.swap(reconnect_);
      lock.unlock();
      for (NodeId node : reconnect) {
        if (node >= 0 && node < static_cast<NodeId>(conns_.size())) {
          conns_[static_cast<size_t>(node)]->Close();
        }
      }
      SendFrees(frees);
      std::vector<Pinned> finished;
      std::vector<Pinned> still = Poll(std::move(pinned), finished);
      std::vector<std::pair<ObjectId, NodeId>> done;
      for (const auto& p : finished) done.emplace_back(p.output, p.node);
      finished.clear();  // their pins drop here, outside the lock, queueing their frees
      lock.lock();
      for (auto& p : still) pinned_.push_back(std::move(p));
      std::vector<std::pair<ObjectId, NodeId>> released;
      for (const auto& [output, node] : done) {
        watched_.erase(output);
        if (auto it = deferred_.find(output); it != deferred_.end()) {
          released.emplace_back(output, it->second);
          deferred_.erase(it);
        }
      }
      if (!released.empty()) {
        lock.unlock();
        for (const auto& [output, node] : released) Queue(output, node);
        lock.lock();
      }
      if (stopping && frees_.empty()) return;
      if (frees_.empty()) {
        // Poll pinned tasks every few ms; sleep until a release comes when nothing is pinned.
        if (pinned_.empty()) {
          cv_.wait(lock, [&] { return stop_ || !frees_.empty() || !pinned_.empty(); });
        } else {
          cv_.wait_for(lock, std::chrono::milliseconds(5),
                       [&] { return stop_ || !frees_.empty(); });
        }
      }
    }
  }

  void SendFrees(const std::map<NodeId, std::vector<ObjectId>>& frees) {
    for (const auto& [node, ids] : frees) {
      if (node < 0 || node >= static_cast<NodeId>(conns_.size())) continue;
      try {
        conns_[static_cast<size_t>(node)]->Invoke(
            "Node.Free", [&](wire::NodeClient& c) { c.Free(WireIds(ids)); });
      } catch (const Error& e) {
        Log().warn("freeing {} objects on node {}: {}", ids.size(), node, e.what());
      }
    }
  }

  // Returns the entries whose task has not finished yet; moves the others to `finished`.
  std::vector<Pinned> Poll(std::vector<Pinned> pinned, std::vector<Pinned>& finished_out) {
    std::map<NodeId, std::vector<size_t>> by_node;
    for (size_t i = 0; i < pinned.size(); ++i) by_node[pinned[i].node].push_back(i);
    std::vector<bool> finished(pinned.size(), false);
    for (const auto& [node, idx] : by_node) {
      std::vector<ObjectId> ids;
      for (size_t i : idx) ids.push_back(pinned[i].output);
      std::vector<bool> done;
      try {
        conns_[static_cast<size_t>(node)]->Invoke(
            "Node.Await", [&](wire::NodeClient& c) { c.Await(done, WireIds(ids), 0, 0); });
      } catch (const Error& e) {
        Log().warn("polling {} tasks on node {}: {}", ids.size(), node, e.what());
        done.assign(ids.size(), true);  // an unreachable node's tasks need their inputs no more
      }
      for (size_t j = 0; j < idx.size() && j < done.size(); ++j) finished[idx[j]] = done[j];
    }
    std::vector<Pinned> still;
    for (size_t i = 0; i < pinned.size(); ++i) {
      (finished[i] ? finished_out : still).push_back(std::move(pinned[i]));
    }
    return still;
  }

  const std::function<NodeId(const ObjectId&, NodeId)> holder_;
  std::vector<std::unique_ptr<NodeConnection>> conns_;  // used by the thread only
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

std::shared_ptr<ThriftRuntime> ThriftRuntime::Connect(const std::string& address,
                                                      const std::string& token) {
  auto [host, port] = SplitAddress(address);
  std::shared_ptr<ThriftRuntime> rt(new ThriftRuntime());
  rt->links_ = std::make_unique<Links>();
  Links& l = *rt->links_;
  l.token = token;
  l.head = std::make_unique<HeadConnection>(host, port, token, /*peer_is_node=*/false);
  l.head->Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(l.nodes); });
  std::sort(l.nodes.begin(), l.nodes.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  if (l.nodes.empty()) throw ClusterError("the cluster at " + address + " has no nodes");
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    if (l.nodes[i].id != static_cast<int64_t>(i)) {
      throw ClusterError("the cluster at " + address + " lists node ids out of order");
    }
    auto link = std::make_unique<Link>();
    link->conn = std::make_unique<NodeConnection>(l.nodes[i].host, l.nodes[i].port, token, true);
    l.links.push_back(std::move(link));
    rt->nodes_.push_back({.incarnation = l.nodes[i].incarnation});
  }
  // Fail now, not at the first task, when a node is unreachable or refuses the token.
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    l.OnNode(static_cast<NodeId>(i), "Node.Ping", [](wire::NodeClient& c) { c.Ping(); });
  }
  // The driver's lease: while it is renewed the nodes keep this session's objects; a killed
  // driver's are freed within seconds.
  std::vector<LeaseKeeper::Peer> peers;
  for (const auto& n : l.nodes) peers.push_back({n.host, n.port});
  rt->lease_ = std::make_unique<LeaseKeeper>(std::move(peers), token, rt->ids_.session(), kLeaseTtl);
  rt->background_ =
      std::make_unique<Background>(l, [rt = rt.get()](const ObjectId& id, NodeId node) {
        std::lock_guard lock(rt->state_mu_);
        const bool gone = rt->GoneLocked(id, node);  // a lost node frees nothing
        NodeId holder = node;
        if (auto it = rt->moved_.find(id); it != rt->moved_.end()) {
          holder = it->second.node;
          rt->moved_.erase(it);
        }
        return gone ? NodeId{-1} : holder;
      });
  rt->sink_ = std::make_shared<DetachableReleaser>(
      [rt = rt.get(), background = rt->background_.get()](const ObjectId& id, NodeId node) {
        {
          std::lock_guard lock(rt->state_mu_);
          // A later ref to the same id (one made for a recovery) keeps the entry.
          auto it = rt->held_.find(id);
          if (it != rt->held_.end() && it->second.expired()) rt->held_.erase(it);
        }
        {
          std::lock_guard lock(rt->batch_mu_);
          if (rt->held_outputs_.count(id) != 0) {  // its task is not on its node yet
            rt->released_held_.emplace(id, node);
            return;
          }
        }
        background->Release(id, node);
      });
  return rt;
}

ThriftRuntime::~ThriftRuntime() {
  try {
    if (auto error = SendHeld(nullptr)) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    Log().warn("sending the tasks a batch held: {}", e.what());
  }
  if (background_) background_->Stop();  // sends the queued frees, pinned inputs' included
  if (sink_) sink_->Detach();
  lease_.reset();  // the nodes free what is left once the lease ends
}

int64_t ThriftRuntime::num_nodes() const { return static_cast<int64_t>(links_->links.size()); }

void ThriftRuntime::CheckNode(NodeId node, const std::string& what) const {
  if (node < 0 || node >= num_nodes()) {
    throw ClusterError(what + ": node " + std::to_string(node) +
                       " does not exist; the cluster has " + std::to_string(num_nodes()) +
                       " node(s)");
  }
}

template <typename Fn>
decltype(auto) ThriftRuntime::OnNode(NodeId node, const char* what, Fn&& fn) {
  try {
    return links_->OnNode(node, what, std::forward<Fn>(fn));
  } catch (const NodeLostError&) {
    // Marked at once: a later call would reconnect quietly, perhaps to a restarted process
    // that lacks the objects the driver thinks are there.
    MarkLost(node);
    throw;
  }
}

template <typename Fn>
auto ThriftRuntime::OnTarget(NodeId node, const std::string& what, Fn&& attempt) {
  for (int tries = 0;; ++tries) {
    const NodeId target = Target(node, what);
    try {
      return attempt(target, tries);
    } catch (const NodeLostError& e) {
      if (tries >= num_nodes()) throw;
      Log().warn("{} on node {}: {}; trying again", what, target, e.what());
      ReviveLostNodes(/*force=*/true);
      node = target;
    }
  }
}

ObjectRef ThriftRuntime::Put(Block block, NodeId node) {
  CheckNode(node, "put");
  const wire::BlockMetaW meta = MetaOf(block);
  const auto* bytes = static_cast<const char*>(block.raw());
  const int64_t total = block.nbytes();
  const int64_t chunks = std::max<int64_t>(1, (total + kChunkBytes - 1) / kChunkBytes);
  return OnTarget(node, "put", [&](NodeId target, int) {
    // The id comes after the target: a node that rejoined just now outlives only later ids.
    const ObjectId id = ids_.Next();
    const wire::ObjectIdW wid = ToWire(id);
    // Chunks first, first + step, ...: a large object goes two chunks at a time, one on each
    // of the node's connections; the node assembles them in any order.
    auto put = [&](int64_t first, int64_t step, bool second, const std::atomic<bool>& stop) {
      std::string chunk;
      for (int64_t k = first; k < chunks && !stop; k += step) {
        const int64_t offset = k * kChunkBytes;
        chunk.assign(bytes + offset, static_cast<size_t>(std::min(kChunkBytes, total - offset)));
        auto call = [&](wire::NodeClient& c) { c.PutChunk(wid, meta, offset, chunk); };
        if (second) {
          links_->OnSecond(target, "Node.PutChunk", call);
        } else {
          OnNode(target, "Node.PutChunk", call);
        }
      }
    };
    if (chunks > 2) {
      InTwoHalves([&](int half, const std::atomic<bool>& stop) { put(half, 2, half == 1, stop); });
    } else {
      put(0, 1, false, std::atomic<bool>{false});
    }
    return MakeRef(id, target, nullptr);
  });
}

std::vector<ObjectRef> ThriftRuntime::Submit(TaskSpec spec) {
  const std::string label = spec.name.empty() ? spec.kernel : spec.name;
  CheckNode(spec.node, "submit '" + label + "'");
  const std::string what = "submit '" + label + "'";
  spec.node = Target(spec.node, what);
  std::vector<ObjectRef> pins;
  auto record = MakeTaskRecord(std::move(spec), ids_, pins, [&](const ObjectRef& ref) {
    if (Gone(ref.id(), ref.node()) && ref.lineage()) {
      // Recomputed now rather than after this task has failed for want of it.
      try {
        Recompute(ref.id(), ref.node(), ref.lineage(), "its node was lost");
      } catch (const NodeLostError& e) {
        Log().warn("{}: input {}: {}", what, ref.id().ToString(), e.what());
      }
    }
    return Holder(ref.id(), ref.node());
  });
  for (const ObjectRef& in : pins) {
    if (!in.lineage()) record->sources.push_back(in);
  }
  bool hold = false, full = false;
  std::set<NodeId> producers;  // nodes holding back a task whose output this one reads
  {
    std::lock_guard lock(batch_mu_);
    hold = batch_depth_ > 0;
    for (const auto& arg : record->args) {
      const auto* in = std::get_if<ObjectArg>(&arg);
      if (in == nullptr) continue;
      auto it = held_outputs_.find(in->id);
      if (it != held_outputs_.end() && it->second != record->node) producers.insert(it->second);
    }
  }
  // A node must have a task before a peer asks it for the task's output.
  if (!producers.empty()) Report(SendHeld(&producers));
  if (hold) {
    std::lock_guard lock(batch_mu_);
    for (const ObjectId& out : record->returns) held_outputs_[out] = record->node;
    held_tasks_[record->node].push_back({record, std::move(pins)});
    full = ++num_held_ >= kMaxHeldTasks;
  } else {
    Send(*record, std::move(pins), what);
  }
  if (full) Report(SendHeld(nullptr));
  std::shared_ptr<const TaskRecord> lineage = record;
  std::vector<ObjectRef> refs;
  for (const ObjectId& id : record->returns) refs.push_back(MakeRef(id, record->node, lineage));
  return refs;
}

void ThriftRuntime::Send(TaskRecord& record, std::vector<ObjectRef> pins, const std::string& what) {
  OnTarget(record.node, what, [&](NodeId target, int tries) {
    record.node = target;
    // New ids on a retry: a node that rejoined just now outlives only ids handed out after it did.
    if (tries > 0) {
      for (ObjectId& out : record.returns) out = ids_.Next();
    }
    const std::vector<wire::TaskW> batch{ToWire(record)};
    OnNode(target, "Node.SubmitTasks", [&](wire::NodeClient& c) { c.SubmitTasks(batch); });
  });
  if (!pins.empty() && !record.returns.empty()) {
    background_->Pin(record.node, record.returns[0], std::move(pins));
  }
}

void ThriftRuntime::BeginBatch() {
  std::lock_guard lock(batch_mu_);
  ++batch_depth_;
}

void ThriftRuntime::EndBatch() {
  std::exception_ptr error;
  {
    std::lock_guard lock(batch_mu_);
    if (batch_depth_ == 0) throw ValueError("EndBatch without BeginBatch");
    if (--batch_depth_ > 0) return;
  }
  error = SendHeld(nullptr);
  {
    std::lock_guard lock(batch_mu_);
    if (!error) error = batch_error_;
    batch_error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

void ThriftRuntime::Report(std::exception_ptr error) {
  if (!error) return;
  {
    std::lock_guard lock(batch_mu_);
    if (batch_depth_ > 0) {
      if (!batch_error_) batch_error_ = error;
      return;
    }
  }
  std::rethrow_exception(error);
}

// The refs of held tasks are out already, so a node lost while sending is not retried here:
// Get finds their outputs gone and recomputes them from the lineage, like any lost object.
std::exception_ptr ThriftRuntime::SendHeld(const std::set<NodeId>* only) {
  std::lock_guard sending(send_mu_);
  std::map<NodeId, std::vector<HeldTask>> held;
  {
    std::lock_guard lock(batch_mu_);
    if (only == nullptr) {
      held.swap(held_tasks_);
    } else {
      for (NodeId node : *only) {
        if (auto it = held_tasks_.find(node); it != held_tasks_.end()) {
          held.insert(held_tasks_.extract(it));
        }
      }
    }
    for (const auto& [node, tasks] : held) num_held_ -= tasks.size();
  }
  std::exception_ptr first;
  auto submit = [&](NodeId node, std::span<HeldTask> tasks) {
    std::vector<wire::TaskW> batch;
    batch.reserve(tasks.size());
    for (const HeldTask& t : tasks) batch.push_back(ToWire(*t.record));
    OnNode(node, "Node.SubmitTasks", [&](wire::NodeClient& c) { c.SubmitTasks(batch); });
    for (HeldTask& t : tasks) {
      if (!t.pins.empty() && !t.record->returns.empty()) {
        background_->Pin(node, t.record->returns[0], std::move(t.pins));
      }
    }
  };
  for (auto& [node, tasks] : held) {
    try {
      submit(node, tasks);
    } catch (const NodeLostError& e) {
      Log().warn("sending {} tasks to node {}: {}", tasks.size(), node, e.what());
    } catch (...) {
      // The node refused the batch for one bad task (an unknown kernel): the others still go.
      for (HeldTask& t : tasks) {
        try {
          submit(node, std::span<HeldTask>(&t, 1));
        } catch (...) {
          if (!first) first = std::current_exception();
        }
      }
    }
  }
  // Refs to these outputs dropped while they were held are released now that the node knows
  // them (freed earlier, the result would have been kept when it came).
  std::vector<std::pair<ObjectId, NodeId>> released;
  {
    std::lock_guard lock(batch_mu_);
    for (const auto& [node, tasks] : held) {
      for (const HeldTask& t : tasks) {
        for (const ObjectId& out : t.record->returns) {
          held_outputs_.erase(out);
          if (auto it = released_held_.find(out); it != released_held_.end()) {
            released.emplace_back(*it);
            released_held_.erase(it);
          }
        }
      }
    }
  }
  for (const auto& [id, node] : released) background_->Release(id, node);
  return first;
}

std::vector<Block> ThriftRuntime::Get(const std::vector<ObjectRef>& refs, Timeout timeout) {
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
  }
  Report(SendHeld(nullptr));
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  std::vector<Block> blocks;
  blocks.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    const ObjectRef& ref = refs[i];
    CheckNode(ref.node(), "get");
    const wire::ObjectIdW wid = ToWire(ref.id());
    std::string why = "its node was lost";
    for (int recoveries = 0;;) {
      if (Gone(ref.id(), ref.node())) {
        ReviveLostNodes(/*force=*/false);  // a node that was only unreachable still has it
        if (Gone(ref.id(), ref.node())) {
          if (recoveries++ >= kMaxRecoveries) {
            throw NodeLostError("get: object " + ref.id().ToString() + " was lost again after " +
                                std::to_string(kMaxRecoveries) + " recoveries (" + why + ")");
          }
          Recompute(ref.id(), ref.node(), ref.lineage(), why);
          continue;
        }
      }
      const NodeId holder = Holder(ref.id(), ref.node());
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const auto wait = static_cast<int32_t>(std::clamp<int64_t>(left.count(), 0, kMaxCallWaitMs));
      std::optional<ObjectValue> value;
      // A large object comes two chunks at a time, one on each of the holder's connections.
      const ChunkReader first = [&](int64_t offset, int32_t wait_ms, wire::ChunkW& out) {
        OnNode(holder, "Node.GetChunk",
               [&](wire::NodeClient& c) { c.GetChunk(out, wid, offset, kChunkBytes, wait_ms); });
      };
      const ChunkReader second = [&](int64_t offset, int32_t wait_ms, wire::ChunkW& out) {
        links_->OnSecond(holder, "Node.GetChunk", [&](wire::NodeClient& c) {
          c.GetChunk(out, wid, offset, kChunkBytes, wait_ms);
        });
      };
      try {
        value = FetchChunked(ref.id(), wait, first, &second);
      } catch (const NodeLostError& e) {
        if (recoveries++ >= kMaxRecoveries) throw;
        why = e.what();
        // A node that restarted is taken back at once: the object is recomputed there.
        ReviveLostNodes(/*force=*/true);
        continue;
      }
      if (value && !value->ok() && recoveries < kMaxRecoveries) {
        const ErrorCode code = value->error->code;
        if (code == ErrorCode::kNodeLost) MarkLost(value->error->node);
        // Also notices a node that restarted unseen, whose objects read as missing (kCluster).
        if (code == ErrorCode::kNodeLost || code == ErrorCode::kCluster) {
          ReviveLostNodes(/*force=*/true);
        }
        // Failed for want of an input on a node that was lost (or that restarted since the
        // input was made there): run it again once that is back.
        if (code == ErrorCode::kNodeLost ||
            (ref.lineage() && (value->error->IsMissingInput() ||
                               (code == ErrorCode::kCluster && InputGone(*ref.lineage()))))) {
          ++recoveries;
          Recompute(ref.id(), ref.node(), ref.lineage(), value->error->ToString());
          continue;
        }
      }
      if (value) {
        if (!value->ok()) value->error->Throw();
        blocks.push_back(std::move(value->block));
        break;
      }
      if (Clock::now() >= deadline) {
        throw TimeoutError("get: " + std::to_string(refs.size() - i) + " of " +
                           std::to_string(refs.size()) + " objects not ready after " +
                           std::to_string(timeout->count()) + " ms");
      }
    }
  }
  return blocks;
}

WaitResult ThriftRuntime::Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout) {
  Report(SendHeld(nullptr));
  if (k < 0 || k > static_cast<int64_t>(refs.size())) {
    throw ValueError("wait: k=" + std::to_string(k) + " must be between 0 and the " +
                     std::to_string(refs.size()) + " refs given");
  }
  std::vector<bool> done(refs.size(), false);
  int64_t finished = 0;
  std::map<NodeId, std::vector<size_t>> by_node;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
    CheckNode(refs[i].node(), "wait");
    if (Gone(refs[i].id(), refs[i].node())) {
      done[i] = true;  // failed with its node: Get recomputes or raises it
      ++finished;
      continue;
    }
    by_node[Holder(refs[i].id(), refs[i].node())].push_back(i);
  }
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  for (;;) {
    for (const auto& [node, idx] : by_node) {
      if (finished >= k) break;
      std::vector<wire::ObjectIdW> ids;
      std::vector<size_t> open;
      for (size_t i : idx) {
        if (!done[i]) {
          ids.push_back(ToWire(refs[i].id()));
          open.push_back(i);
        }
      }
      if (ids.empty()) continue;
      // One node: wait there for all that is missing. Several: look briefly at each in turn.
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const int32_t wait = static_cast<int32_t>(
          std::clamp<int64_t>(left.count(), 0, by_node.size() == 1 ? kMaxCallWaitMs : 10));
      const auto need = static_cast<int32_t>(std::min<int64_t>(k - finished, ids.size()));
      std::vector<bool> now;
      try {
        OnNode(node, "Node.Await", [&](wire::NodeClient& c) { c.Await(now, ids, need, wait); });
      } catch (const NodeLostError& e) {
        Log().warn("wait: {}", e.what());
        now.assign(ids.size(), true);  // lost with their node, as above
      }
      for (size_t j = 0; j < open.size() && j < now.size(); ++j) {
        if (now[j]) {
          done[open[j]] = true;
          ++finished;
        }
      }
    }
    if (finished >= k || Clock::now() >= deadline) break;
  }
  WaitResult result;
  for (size_t i = 0; i < refs.size(); ++i) {
    (done[i] ? result.ready : result.not_ready).push_back(refs[i]);
  }
  return result;
}

void ThriftRuntime::Free(const std::vector<ObjectRef>& refs) {
  Report(SendHeld(nullptr));
  std::map<NodeId, std::vector<wire::ObjectIdW>> by_node;
  for (const auto& r : refs) {
    if (!r) continue;
    CheckNode(r.node(), "free");
    if (Gone(r.id(), r.node())) continue;
    by_node[Holder(r.id(), r.node())].push_back(ToWire(r.id()));
  }
  for (const auto& [node, ids] : by_node) {
    try {
      OnNode(node, "Node.Free", [&](wire::NodeClient& c) { c.Free(ids); });
    } catch (const NodeLostError& e) {
      Log().warn("free: {}", e.what());  // gone with their node
    }
  }
}

NodeId ThriftRuntime::Holder(const ObjectId& id, NodeId node) const {
  std::lock_guard lock(state_mu_);
  auto it = moved_.find(id);
  return it == moved_.end() ? node : it->second.node;
}

bool ThriftRuntime::Gone(const ObjectId& id, NodeId node) const {
  std::lock_guard lock(state_mu_);
  return GoneLocked(id, node);
}

bool ThriftRuntime::GoneLocked(const ObjectId& id, NodeId node) const {
  if (auto it = moved_.find(id); it != moved_.end()) {
    const NodeState& s = nodes_[static_cast<size_t>(it->second.node)];
    return s.lost || s.epoch != it->second.epoch;
  }
  const NodeState& s = nodes_[static_cast<size_t>(node)];
  return s.lost || id.lo < s.first_id;
}

bool ThriftRuntime::InputGone(const TaskRecord& task) const {
  for (const auto& arg : task.args) {
    const auto* in = std::get_if<ObjectArg>(&arg);
    if (in != nullptr && Gone(in->id, in->node)) return true;
  }
  return false;
}

bool ThriftRuntime::IsLost(NodeId node) const {
  std::lock_guard lock(state_mu_);
  return nodes_[static_cast<size_t>(node)].lost;
}

void ThriftRuntime::MarkLost(NodeId node) {
  if (node < 0 || node >= num_nodes()) return;
  std::lock_guard lock(state_mu_);
  NodeState& s = nodes_[static_cast<size_t>(node)];
  if (!s.lost) Log().warn("node {} lost; recomputing what it held", node);
  s.lost = true;
}

NodeId ThriftRuntime::Target(NodeId node, const std::string& why) {
  if (!IsLost(node)) return node;
  ReviveLostNodes(/*force=*/false);
  if (!IsLost(node)) return node;
  std::vector<NodeId> live;
  for (int pass = 0; pass < 2 && live.empty(); ++pass) {
    if (pass == 1) ReviveLostNodes(/*force=*/true);
    std::lock_guard lock(state_mu_);
    for (NodeId n = 0; n < num_nodes(); ++n) {
      if (!nodes_[static_cast<size_t>(n)].lost) live.push_back(n);
    }
  }
  if (live.empty()) throw NodeLostError("every node of the cluster was lost (" + why + ")");
  // Spread the work of a lost node over the survivors.
  return live[spread_.fetch_add(1, std::memory_order_relaxed) % live.size()];
}

void ThriftRuntime::ReviveLostNodes(bool force) {
  {
    std::lock_guard lock(state_mu_);
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

std::vector<wire::NodeW> ThriftRuntime::ListAndRevive() {
  std::vector<wire::NodeW> listed;
  {
    std::lock_guard lock(links_->head_mu);
    links_->head->Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(listed); });
  }
  {
    std::lock_guard lock(state_mu_);
    last_revive_ = Clock::now();
  }
  Revive(listed);
  return listed;
}

void ThriftRuntime::Revive(const std::vector<wire::NodeW>& listed) {
  for (const auto& n : listed) {
    if (n.id < 0 || n.id >= num_nodes()) continue;
    {
      std::lock_guard lock(state_mu_);
      NodeState& s = nodes_[static_cast<size_t>(n.id)];
      if (n.incarnation != s.incarnation && !s.lost) {
        // Restarted before any call of ours failed: what it held is gone all the same.
        Log().warn("node {} restarted; recomputing what it held", n.id);
        s.lost = true;
      }
      if (!s.lost || !n.live) continue;
    }
    // The old connection is dead, or would reach the new process unnoticed: dial afresh.
    auto conn = std::make_unique<NodeConnection>(n.host, n.port, links_->token, true);
    try {
      conn->Invoke("Node.Ping", [](wire::NodeClient& c) { c.Ping(); });
    } catch (const Error& e) {
      Log().debug("node {} listed live but not reachable yet: {}", n.id, e.what());
      continue;
    }
    links_->Replace(n.id, std::move(conn));
    background_->Reconnect(n.id);
    lease_->Reconnect(n.id);
    bool restarted = false;
    {
      std::lock_guard lock(state_mu_);
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

bool ThriftRuntime::MustRemake(const ObjectId& id, NodeId holder) {
  wire::ChunkW probe;
  try {
    OnNode(holder, "Node.GetChunk",
           [&](wire::NodeClient& c) { c.GetChunk(probe, ToWire(id), 0, 0, 0); });
  } catch (const NodeLostError&) {
    return true;  // the holder itself is lost now, and the object with it
  }
  if (probe.state != wire::ObjectState::FAILED) return false;
  const auto error = FromWire(probe.error);
  return error->code == ErrorCode::kNodeLost || error->IsMissingObject() || error->IsMissingInput();
}

ObjectRef ThriftRuntime::MakeRef(const ObjectId& id, NodeId node,
                                 std::shared_ptr<const TaskRecord> lineage) {
  ObjectRef ref(id, node, std::move(lineage), sink_);
  std::lock_guard lock(state_mu_);
  held_[id] = ref.weak();
  return ref;
}

void ThriftRuntime::Recompute(const ObjectId& id, NodeId node,
                              const std::shared_ptr<const TaskRecord>& task,
                              const std::string& why) {
  if (!task) {
    throw NodeLostError("object " + id.ToString() + ", put on node " + std::to_string(node) +
                        ", is gone (" + why + "); only computed objects are made again");
  }
  const NodeId target = Target(Holder(id, node), why);
  TaskRecord again = *task;
  again.node = target;
  // Every input is held until this task has run: a ref of the driver's if one lives (a user's,
  // or another task's pins, which may drop first), else a new one that frees the input then.
  std::vector<ObjectRef> temps;
  for (auto& arg : again.args) {
    auto* in = std::get_if<ObjectArg>(&arg);
    if (in == nullptr) continue;
    NodeId holder = Holder(in->id, in->node);
    if (Gone(in->id, in->node) || MustRemake(in->id, holder)) {
      Recompute(in->id, in->node, in->producer, why);
      holder = Holder(in->id, in->node);
    }
    ObjectRef live;
    {
      std::lock_guard lock(state_mu_);
      if (auto it = held_.find(in->id); it != held_.end()) live = it->second.Lock();
    }
    temps.push_back(live ? std::move(live) : MakeRef(in->id, holder, in->producer));
    in->node = holder;
  }
  Log().info("recomputing task '{}' on node {} ({})", again.name, target, why);
  // Outputs that failed on the target stay failed unless they go before the task runs again.
  const std::vector<wire::TaskW> batch{ToWire(again)};
  std::vector<wire::ObjectIdW> outputs = batch[0].returns;
  OnNode(target, "Node.Free", [&](wire::NodeClient& c) { c.Free(outputs); });
  OnNode(target, "Node.SubmitTasks", [&](wire::NodeClient& c) { c.SubmitTasks(batch); });
  {
    std::lock_guard lock(state_mu_);
    const int64_t epoch = nodes_[static_cast<size_t>(target)].epoch;
    for (const ObjectId& out : again.returns) moved_[out] = {target, epoch};
  }
  if (!temps.empty() && !again.returns.empty()) {
    background_->Pin(target, again.returns[0], std::move(temps));
  }
}

std::vector<NodeInfo> ThriftRuntime::Nodes() {
  std::vector<wire::NodeW> listed;
  try {
    listed = ListAndRevive();
    std::lock_guard lock(state_mu_);
    if (head_down_) Log().info("the head answers again");
    head_down_ = false;
  } catch (const AuthError&) {
    throw;
  } catch (const ClusterError& e) {
    // The head holds membership only: the nodes go on serving, and so does this driver, with
    // the view the head gave last.
    std::lock_guard lock(state_mu_);
    if (!head_down_) Log().warn("{}; going on with the nodes known so far", e.what());
    head_down_ = true;
    listed = links_->nodes;
  }
  std::vector<NodeInfo> out;
  for (const auto& n : listed) {
    if (n.id < 0 || n.id >= num_nodes()) continue;  // joined after this driver connected
    NodeInfo info;
    info.id = n.id;
    info.address = n.host + ":" + std::to_string(n.port);
    info.cores = n.cores;
    info.memory_bytes = n.memory_bytes;
    info.gpus = n.gpus;
    info.live = n.live && !IsLost(n.id);
    if (!IsLost(n.id)) {
      try {
        wire::StatsW s;
        OnNode(n.id, "Node.Stats", [&](wire::NodeClient& c) { c.Stats(s); });
        info.memory_used = s.memory_used;
        info.num_objects = s.num_objects;
        info.tasks_run = s.tasks_run;
        info.net_in_bytes = s.net_in_bytes;
        info.net_out_bytes = s.net_out_bytes;
      } catch (const NodeLostError& e) {
        Log().warn("Node.Stats: {}", e.what());
        info.live = false;
      }
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace nums::engine::cluster
