#include "engine/cluster/thrift_runtime.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <thread>
#include <unordered_set>

#include "engine/cluster/chunks.h"
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
// Recomputations one Get tries for one object before it gives up with NodeLostError.
constexpr int kMaxRecoveries = 3;

// One connection to one node with the lock that serialises its calls.
struct Link {
  std::mutex mu;  // guards conn
  std::unique_ptr<NodeConnection> conn;
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
};

// The background thread: sends the frees of dropped refs in batches, and holds each task's input
// refs until the task has finished, so no input is freed before its consumer has read it.
class ThriftRuntime::Background {
 public:
  /// `holder(id, node)` says where an object lives now and forgets a recorded move.
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
    const NodeId holder = holder_(id, node);
    std::lock_guard lock(mu_);
    // The output a pinned task is watched by must outlive the task: freed earlier, it would
    // read as finished and release the task's inputs before the task has read them.
    if (watched_.count(id) != 0) {
      deferred_.insert(id);
      return;
    }
    frees_[holder].push_back(id);
    cv_.notify_all();
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

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      const bool stopping = stop_;
      if (stopping) {
        // Nothing will wait for the pinned tasks any more; their inputs go with the rest.
        std::vector<Pinned> dropped;
        dropped.swap(pinned_);
        lock.unlock();
        dropped.clear();
        lock.lock();
      }
      std::map<NodeId, std::vector<ObjectId>> frees;
      frees.swap(frees_);
      std::vector<Pinned> pinned;
      pinned.swap(pinned_);
      lock.unlock();
      SendFrees(frees);
      std::vector<Pinned> finished;
      std::vector<Pinned> still = Poll(std::move(pinned), finished);
      std::vector<std::pair<ObjectId, NodeId>> done;
      for (const auto& p : finished) done.emplace_back(p.output, holder_(p.output, p.node));
      finished.clear();  // their pins drop here, outside the lock, queueing their frees
      lock.lock();
      for (auto& p : still) pinned_.push_back(std::move(p));
      for (const auto& [output, holder] : done) {
        watched_.erase(output);
        if (deferred_.erase(output) != 0) frees_[holder].push_back(output);
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
        spdlog::warn("freeing {} objects on node {}: {}", ids.size(), node, e.what());
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
        spdlog::warn("polling {} tasks on node {}: {}", ids.size(), node, e.what());
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
  std::mutex mu_;  // guards frees_, pinned_, watched_, deferred_, stop_
  std::condition_variable cv_;
  std::map<NodeId, std::vector<ObjectId>> frees_;
  std::vector<Pinned> pinned_;
  std::unordered_set<ObjectId, ObjectIdHash> watched_;   // outputs of pinned tasks
  std::unordered_set<ObjectId, ObjectIdHash> deferred_;  // watched and released by the driver
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
  }
  // Fail now, not at the first task, when a node is unreachable or refuses the token.
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    l.OnNode(static_cast<NodeId>(i), "Node.Ping", [](wire::NodeClient& c) { c.Ping(); });
  }
  rt->background_ =
      std::make_unique<Background>(l, [rt = rt.get()](const ObjectId& id, NodeId node) {
        std::lock_guard lock(rt->moved_mu_);
        NodeId holder = node;
        if (auto it = rt->moved_.find(id); it != rt->moved_.end()) {
          holder = it->second;
          rt->moved_.erase(it);
        }
        return rt->lost_.count(holder) > 0 ? NodeId{-1} : holder;  // a lost node frees nothing
      });
  rt->sink_ = std::make_shared<DetachableReleaser>(
      [background = rt->background_.get()](const ObjectId& id, NodeId node) {
        background->Release(id, node);
      });
  return rt;
}

ThriftRuntime::~ThriftRuntime() {
  if (background_) background_->Stop();  // sends the queued frees, pinned inputs' included
  if (sink_) sink_->Detach();
}

int64_t ThriftRuntime::num_nodes() const { return static_cast<int64_t>(links_->links.size()); }

void ThriftRuntime::CheckNode(NodeId node, const std::string& what) const {
  if (node < 0 || node >= num_nodes()) {
    throw ClusterError(what + ": node " + std::to_string(node) +
                       " does not exist; the cluster has " + std::to_string(num_nodes()) +
                       " node(s)");
  }
}

ObjectRef ThriftRuntime::Put(Block block, NodeId node) {
  CheckNode(node, "put");
  const ObjectId id = ids_.Next();
  const wire::ObjectIdW wid = ToWire(id);
  const wire::BlockMetaW meta = MetaOf(block);
  const auto* bytes = static_cast<const char*>(block.raw());
  int64_t offset = 0;
  std::string chunk;
  do {
    const int64_t n = std::min(kChunkBytes, block.nbytes() - offset);
    chunk.assign(bytes + offset, static_cast<size_t>(n));
    links_->OnNode(node, "Node.PutChunk",
                   [&](wire::NodeClient& c) { c.PutChunk(wid, meta, offset, chunk); });
    offset += n;
  } while (offset < block.nbytes());
  return ObjectRef(id, node, nullptr, sink_);
}

std::vector<ObjectRef> ThriftRuntime::Submit(TaskSpec spec) {
  const std::string& label = spec.name.empty() ? spec.kernel : spec.name;
  CheckNode(spec.node, "submit '" + label + "'");
  std::vector<ObjectRef> pins;
  auto record = MakeTaskRecord(std::move(spec), ids_, pins, [this](const ObjectRef& ref) {
    return Holder(ref.id(), ref.node());
  });

  const std::vector<wire::TaskW> batch{ToWire(*record)};
  links_->OnNode(record->node, "Node.SubmitTasks",
                 [&](wire::NodeClient& c) { c.SubmitTasks(batch); });
  if (!pins.empty() && !record->returns.empty()) {
    background_->Pin(record->node, record->returns[0], std::move(pins));
  }
  std::shared_ptr<const TaskRecord> lineage = record;
  std::vector<ObjectRef> refs;
  for (const ObjectId& id : record->returns) refs.emplace_back(id, record->node, lineage, sink_);
  return refs;
}

std::vector<Block> ThriftRuntime::Get(const std::vector<ObjectRef>& refs, Timeout timeout) {
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
  }
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  std::vector<Block> blocks;
  blocks.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    const ObjectRef& ref = refs[i];
    CheckNode(ref.node(), "get");
    const wire::ObjectIdW wid = ToWire(ref.id());
    for (int recoveries = 0;;) {
      const NodeId holder = Holder(ref.id(), ref.node());
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const auto wait = static_cast<int32_t>(std::clamp<int64_t>(left.count(), 0, kMaxCallWaitMs));
      std::optional<ObjectValue> value;
      try {
        value =
            FetchChunked(ref.id(), wait, [&](int64_t offset, int32_t wait_ms, wire::ChunkW& out) {
              links_->OnNode(holder, "Node.GetChunk", [&](wire::NodeClient& c) {
                c.GetChunk(out, wid, offset, kChunkBytes, wait_ms);
              });
            });
      } catch (const NodeLostError& e) {
        if (recoveries++ >= kMaxRecoveries) throw;
        MarkLost(holder);
        Recompute(ref.id(), ref.node(), ref.lineage(), e.what());
        continue;
      }
      if (value && !value->ok() && value->error->code == ErrorCode::kNodeLost &&
          recoveries++ < kMaxRecoveries) {
        // Failed for want of an input on a node that was lost: run it again once that is back.
        MarkLost(value->error->node);
        Recompute(ref.id(), ref.node(), ref.lineage(), value->error->ToString());
        continue;
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
  if (k < 0 || k > static_cast<int64_t>(refs.size())) {
    throw ValueError("wait: k=" + std::to_string(k) + " must be between 0 and the " +
                     std::to_string(refs.size()) + " refs given");
  }
  std::map<NodeId, std::vector<size_t>> by_node;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
    CheckNode(refs[i].node(), "wait");
    by_node[Holder(refs[i].id(), refs[i].node())].push_back(i);
  }
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  std::vector<bool> done(refs.size(), false);
  int64_t finished = 0;
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
      links_->OnNode(node, "Node.Await",
                     [&](wire::NodeClient& c) { c.Await(now, ids, need, wait); });
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
  std::map<NodeId, std::vector<wire::ObjectIdW>> by_node;
  for (const auto& r : refs) {
    if (!r) continue;
    CheckNode(r.node(), "free");
    by_node[Holder(r.id(), r.node())].push_back(ToWire(r.id()));
  }
  for (const auto& [node, ids] : by_node) {
    links_->OnNode(node, "Node.Free", [&](wire::NodeClient& c) { c.Free(ids); });
  }
}

NodeId ThriftRuntime::Holder(const ObjectId& id, NodeId node) const {
  std::lock_guard lock(moved_mu_);
  auto it = moved_.find(id);
  return it == moved_.end() ? node : it->second;
}

bool ThriftRuntime::IsLost(NodeId node) const {
  std::lock_guard lock(moved_mu_);
  return lost_.count(node) > 0;
}

void ThriftRuntime::MarkLost(NodeId node) {
  if (node < 0 || node >= num_nodes()) return;
  std::lock_guard lock(moved_mu_);
  if (lost_.insert(node).second) spdlog::warn("node {} lost; recomputing what it held", node);
}

bool ThriftRuntime::FailedForLostNode(const ObjectId& id, NodeId holder) {
  wire::ChunkW probe;
  links_->OnNode(holder, "Node.GetChunk",
                 [&](wire::NodeClient& c) { c.GetChunk(probe, ToWire(id), 0, 0, 0); });
  return probe.state == wire::ObjectState::FAILED &&
         probe.error.code == static_cast<int8_t>(ErrorCode::kNodeLost);
}

void ThriftRuntime::Recompute(const ObjectId& id, NodeId node,
                              const std::shared_ptr<const TaskRecord>& task,
                              const std::string& why) {
  if (!task) {
    throw NodeLostError("object " + id.ToString() + " was put on node " + std::to_string(node) +
                        ", which was lost (" + why + "); only computed objects are recomputed");
  }
  NodeId target = Holder(id, node);
  if (IsLost(target)) {
    std::vector<NodeId> live;
    for (NodeId n = 0; n < num_nodes(); ++n) {
      if (!IsLost(n)) live.push_back(n);
    }
    if (live.empty()) throw NodeLostError("every node of the cluster was lost (" + why + ")");
    target = live[id.lo % live.size()];
  }
  TaskRecord again = *task;
  again.node = target;
  for (auto& arg : again.args) {
    auto* in = std::get_if<ObjectArg>(&arg);
    if (in == nullptr) continue;
    NodeId holder = Holder(in->id, in->node);
    if (IsLost(holder) || FailedForLostNode(in->id, holder)) {
      Recompute(in->id, in->node, in->producer, why);
      holder = Holder(in->id, in->node);
    }
    in->node = holder;
  }
  spdlog::info("recomputing task '{}' on node {} ({})", again.name, target, why);
  // Outputs that failed on the target stay failed unless they go before the task runs again.
  const std::vector<wire::TaskW> batch{ToWire(again)};
  std::vector<wire::ObjectIdW> outputs = batch[0].returns;
  links_->OnNode(target, "Node.Free", [&](wire::NodeClient& c) { c.Free(outputs); });
  links_->OnNode(target, "Node.SubmitTasks", [&](wire::NodeClient& c) { c.SubmitTasks(batch); });
  std::lock_guard lock(moved_mu_);
  for (const ObjectId& out : again.returns) moved_[out] = target;
}

std::vector<NodeInfo> ThriftRuntime::Nodes() {
  std::vector<wire::NodeW> listed;
  {
    std::lock_guard lock(links_->head_mu);
    links_->head->Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(listed); });
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
    info.live = n.live;
    try {
      wire::StatsW s;
      links_->OnNode(n.id, "Node.Stats", [&](wire::NodeClient& c) { c.Stats(s); });
      info.memory_used = s.memory_used;
      info.num_objects = s.num_objects;
      info.tasks_run = s.tasks_run;
      info.net_in_bytes = s.net_in_bytes;
      info.net_out_bytes = s.net_out_bytes;
    } catch (const NodeLostError& e) {
      spdlog::warn("Node.Stats: {}", e.what());
      info.live = false;
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace nums::engine::cluster
