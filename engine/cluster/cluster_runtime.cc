#include "engine/cluster/cluster_runtime.h"

#include <algorithm>
#include <map>
#include <thread>

#include "engine/cluster/free_queue.h"
#include "engine/cluster/lease_keeper.h"
#include "engine/cluster/load_view.h"
#include "engine/cluster/log.h"
#include "engine/cluster/node_table.h"
#include "engine/cluster/recovery.h"
#include "engine/cluster/task_batcher.h"

namespace nums::engine::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// Longest single wait inside one call, so a call never nears the socket timeout.
constexpr int32_t kMaxCallWaitMs = 1000;
// Recoveries one Get tries for one object (a recomputation, or a fetch that failed because
// the holder was lost) before it gives up with NodeLostError.
constexpr int kMaxRecoveries = 6;
// How long the nodes keep this driver's objects without a renewal (renewed about every second;
// a killed driver's lease connection closes at once, which ends the lease within seconds).
constexpr auto kLeaseTtl = std::chrono::seconds(20);

}  // namespace

std::shared_ptr<ClusterRuntime> ClusterRuntime::Start(std::unique_ptr<HeadClient> head,
                                                      NodeDialer dial, const std::string& name) {
  return std::shared_ptr<ClusterRuntime>(
      new ClusterRuntime(std::move(head), std::move(dial), name));
}

ClusterRuntime::ClusterRuntime(std::unique_ptr<HeadClient> head, NodeDialer dial,
                               const std::string& name) {
  std::vector<Member> listed = head->ListNodes();
  std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (listed.empty()) throw ClusterError("the cluster at " + name + " has no nodes");
  for (size_t i = 0; i < listed.size(); ++i) {
    if (listed[i].id != static_cast<int64_t>(i)) {
      throw ClusterError("the cluster at " + name + " lists node ids out of order");
    }
  }
  nodes_ = std::make_unique<NodeTable>(std::move(head), dial, listed, ids_);
  // Fail now, not at the first task, when a node is unreachable or refuses the token.
  for (NodeId n = 0; n < nodes_->size(); ++n) {
    nodes_->Call(n, [](NodeClient& c) { c.Ping(); });
  }
  // The driver's lease: while it is renewed the nodes keep this session's objects; a killed
  // driver's are freed within seconds.
  // Its renewals (about once a second) bring back each node's load, as do the answers to the
  // driver's submits: placement reads that view and asks no node for it.
  loads_ = std::make_unique<LoadView>(nodes_->size());
  lease_ = std::make_unique<LeaseKeeper>(listed, dial, ids_.session(), kLeaseTtl,
                                         [loads = loads_.get()](int64_t node, const NodeLoad& load,
                                                                LoadView::Clock::time_point asked) {
                                           loads->Report(node, load, 0, asked);
                                         });
  std::vector<std::unique_ptr<NodeClient>> background;
  for (const Member& m : listed) background.push_back(dial(m, std::chrono::seconds(60)));
  frees_ = std::make_unique<FreeQueue>(
      std::move(background),
      [nodes = nodes_.get()](const ObjectId& id, NodeId node) { return nodes->Release(id, node); });
  nodes_->OnBack([this](NodeId node) {
    frees_->Reconnect(node);
    lease_->Reconnect(node);
  });
  batcher_ = std::make_unique<TaskBatcher>(*nodes_, *frees_, *loads_);
  recovery_ = std::make_unique<Recovery>(
      *nodes_, *frees_,
      [this](const ObjectArg& in, NodeId holder) { return HoldInput(in, holder); });
  sink_ = std::make_shared<DetachableReleaser>(
      [this](const ObjectId& id, NodeId node) { Released(id, node); });
}

ClusterRuntime::~ClusterRuntime() {
  batcher_->FlushQuietly();
  frees_->Stop();  // sends the queued frees, pinned inputs' included
  sink_->Detach();
  lease_.reset();  // the nodes free what is left once the lease ends
}

void ClusterRuntime::Released(const ObjectId& id, NodeId node) {
  {
    std::lock_guard lock(refs_mu_);
    // A later ref to the same id (one made for a recovery) keeps the entry.
    auto it = held_.find(id);
    if (it != held_.end() && it->second.expired()) held_.erase(it);
  }
  if (batcher_->DeferRelease(id, node)) return;  // its task is not on its node yet
  frees_->Release(id, node);
}

NodeId ClusterRuntime::Location(const ObjectRef& ref) {
  return nodes_->Holder(ref.id(), ref.node());
}

ObjectRef ClusterRuntime::MakeRef(const ObjectId& id, NodeId node,
                                  std::shared_ptr<const TaskRecord> lineage) {
  ObjectRef ref(id, node, std::move(lineage), sink_);
  std::lock_guard lock(refs_mu_);
  held_[id] = ref.weak();
  return ref;
}

ObjectRef ClusterRuntime::HoldInput(const ObjectArg& input, NodeId holder) {
  // A ref of the driver's if one lives (a user's, or another task's pins, which may drop
  // first), else a new one that frees the input once the task has run.
  ObjectRef live;
  {
    std::lock_guard lock(refs_mu_);
    if (auto it = held_.find(input.id); it != held_.end()) live = it->second.Lock();
  }
  return live ? live : MakeRef(input.id, holder, input.producer);
}

template <typename Fn>
auto ClusterRuntime::OnTarget(NodeId node, const std::string& what, Fn&& attempt) {
  for (int64_t tries = 0;; ++tries) {
    const NodeId target = nodes_->Target(node, what);
    try {
      return attempt(target);
    } catch (const NodeLostError& e) {
      if (tries >= nodes_->size()) throw;
      Log().warn("{} on node {}: {}; trying again", what, target, e.what());
      nodes_->ReviveLostNodes(/*force=*/true);
      node = target;
    }
  }
}

ObjectRef ClusterRuntime::Put(Block block, NodeId node) {
  nodes_->Check(node, "put");
  return OnTarget(node, "put", [&](NodeId target) {
    // The id comes after the target: a node that rejoined just now outlives only later ids.
    const ObjectId id = ids_.Next();
    nodes_->Call(target, [&](NodeClient& c) { c.Put(id, block); });
    return MakeRef(id, target, nullptr);
  });
}

std::vector<ObjectRef> ClusterRuntime::Submit(TaskSpec spec) {
  const std::string label = spec.name.empty() ? spec.kernel : spec.name;
  const std::string what = "submit '" + label + "'";
  nodes_->Check(spec.node, what);
  spec.node = nodes_->Target(spec.node, what);
  std::vector<ObjectRef> pins;
  auto record = MakeTaskRecord(std::move(spec), ids_, pins, [&](const ObjectRef& ref) {
    if (nodes_->Gone(ref.id(), ref.node()) && ref.lineage()) {
      // Recomputed now rather than after this task has failed for want of it.
      try {
        recovery_->Recompute(ref.id(), ref.node(), ref.lineage(), "its node was lost");
      } catch (const NodeLostError& e) {
        Log().warn("{}: input {}: {}", what, ref.id().ToString(), e.what());
      }
    }
    return nodes_->Holder(ref.id(), ref.node());
  });
  for (const ObjectRef& in : pins) {
    if (!in.lineage()) record->sources.push_back(in);
  }
  if (!batcher_->Hold(record, pins)) Send(record, std::move(pins), what);
  std::shared_ptr<const TaskRecord> lineage = record;
  std::vector<ObjectRef> refs;
  for (const ObjectId& id : record->returns) refs.push_back(MakeRef(id, record->node, lineage));
  return refs;
}

void ClusterRuntime::Send(const std::shared_ptr<TaskRecord>& record, std::vector<ObjectRef> pins,
                          const std::string& what) {
  for (int64_t tries = 0;; ++tries) {
    const NodeId target = nodes_->Target(record->node, what);
    record->node = target;
    try {
      const std::vector<const TaskRecord*> batch{record.get()};
      const auto asked = LoadView::Clock::now();
      const NodeLoad load =
          nodes_->Call(target, [&](NodeClient& c) { return c.SubmitTasks(batch); });
      loads_->Report(target, load, OutputBytes(batch), asked);
      break;
    } catch (const NodeLostError& e) {
      // It may have died running the task.
      recovery_->CountLoss(record, target, -1);
      if (tries >= nodes_->size()) throw;
      Log().warn("{} on node {}: {}; trying again", what, target, e.what());
      nodes_->ReviveLostNodes(/*force=*/true);
      // New ids: a node that rejoined just now outlives only ids handed out after it did.
      for (ObjectId& out : record->returns) out = ids_.Next();
    }
  }
  if (!pins.empty() && !record->returns.empty()) {
    frees_->Pin(record->node, record->returns[0], std::move(pins));
  }
}

void ClusterRuntime::BeginBatch() { batcher_->Begin(); }

void ClusterRuntime::EndBatch() { batcher_->End(); }

std::vector<std::optional<Block>> ClusterRuntime::FetchFromEveryNode(
    const std::vector<ObjectRef>& refs, Clock::time_point deadline) {
  std::vector<std::optional<Block>> fetched(refs.size());
  std::map<NodeId, std::vector<size_t>> by_node;
  for (size_t i = 0; i < refs.size(); ++i) {
    const ObjectRef& ref = refs[i];
    if (ref.node() < 0 || ref.node() >= nodes_->size() || nodes_->Gone(ref.id(), ref.node())) {
      continue;
    }
    by_node[nodes_->Holder(ref.id(), ref.node())].push_back(i);
  }
  if (by_node.size() < 2) return fetched;
  auto fetch = [&](NodeId node, const std::vector<size_t>& indices) {
    for (size_t i : indices) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const auto wait = static_cast<int32_t>(std::clamp<int64_t>(left.count(), 0, kMaxCallWaitMs));
      try {
        auto value = nodes_->Call(node, [&](NodeClient& c) { return c.Get(refs[i].id(), wait); });
        // Not ready in time, or failed: the one-at-a-time path waits, recovers or raises.
        if (!value || !value->ok()) return;
        fetched[i] = std::move(value->block);
      } catch (const std::exception&) {
        return;  // the same: a lost node is marked lost by Call and recovered there
      }
    }
  };
  std::vector<std::thread> threads;
  auto it = by_node.begin();
  for (++it; it != by_node.end(); ++it) {
    threads.emplace_back(fetch, it->first, std::cref(it->second));
  }
  fetch(by_node.begin()->first, by_node.begin()->second);
  for (auto& t : threads) t.join();
  return fetched;
}

std::vector<Block> ClusterRuntime::Get(const std::vector<ObjectRef>& refs, Timeout timeout) {
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
  }
  batcher_->Flush();
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  std::vector<std::optional<Block>> fetched = FetchFromEveryNode(refs, deadline);
  std::vector<Block> blocks;
  blocks.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    const ObjectRef& ref = refs[i];
    nodes_->Check(ref.node(), "get");
    if (fetched[i]) {
      blocks.push_back(std::move(*fetched[i]));
      continue;
    }
    std::string why = "its node was lost";
    for (int recoveries = 0;;) {
      if (nodes_->Gone(ref.id(), ref.node())) {
        nodes_->ReviveLostNodes(/*force=*/false);  // a node that was only unreachable still has it
        if (nodes_->Gone(ref.id(), ref.node())) {
          if (recoveries++ >= kMaxRecoveries) {
            throw NodeLostError("get: object " + ref.id().ToString() + " was lost again after " +
                                std::to_string(kMaxRecoveries) + " recoveries (" + why + ")");
          }
          recovery_->Recompute(ref.id(), ref.node(), ref.lineage(), why);
          continue;
        }
      }
      const NodeId holder = nodes_->Holder(ref.id(), ref.node());
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const auto wait = static_cast<int32_t>(std::clamp<int64_t>(left.count(), 0, kMaxCallWaitMs));
      std::optional<ObjectValue> value;
      try {
        value = nodes_->Call(holder, [&](NodeClient& c) { return c.Get(ref.id(), wait); });
      } catch (const NodeLostError& e) {
        if (recoveries++ >= kMaxRecoveries) throw;
        why = e.what();
        // A node that restarted is taken back at once: the object is recomputed there.
        nodes_->ReviveLostNodes(/*force=*/true);
        continue;
      }
      if (value && !value->ok() && recoveries < kMaxRecoveries) {
        const ErrorCode code = value->error->code;
        if (code == ErrorCode::kNodeLost) nodes_->MarkLost(value->error->node);
        // Also notices a node that restarted unseen, whose objects read as missing (kCluster).
        if (code == ErrorCode::kNodeLost || code == ErrorCode::kCluster) {
          nodes_->ReviveLostNodes(/*force=*/true);
        }
        // Failed for want of an input on a node that was lost (or that restarted since the
        // input was made there): run it again once that is back.
        if (code == ErrorCode::kNodeLost ||
            (ref.lineage() &&
             (value->error->IsMissingInput() ||
              (code == ErrorCode::kCluster && recovery_->InputGone(*ref.lineage()))))) {
          ++recoveries;
          recovery_->Recompute(ref.id(), ref.node(), ref.lineage(), value->error->ToString());
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

WaitResult ClusterRuntime::Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout) {
  batcher_->Flush();
  if (k < 0 || k > static_cast<int64_t>(refs.size())) {
    throw ValueError("wait: k=" + std::to_string(k) + " must be between 0 and the " +
                     std::to_string(refs.size()) + " refs given");
  }
  std::vector<bool> done(refs.size(), false);
  int64_t finished = 0;
  std::map<NodeId, std::vector<size_t>> by_node;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
    nodes_->Check(refs[i].node(), "wait");
    if (nodes_->Gone(refs[i].id(), refs[i].node())) {
      done[i] = true;  // failed with its node: Get recomputes or raises it
      ++finished;
      continue;
    }
    by_node[nodes_->Holder(refs[i].id(), refs[i].node())].push_back(i);
  }
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  for (;;) {
    for (const auto& [node, idx] : by_node) {
      if (finished >= k) break;
      std::vector<ObjectId> ids;
      std::vector<size_t> open;
      for (size_t i : idx) {
        if (!done[i]) {
          ids.push_back(refs[i].id());
          open.push_back(i);
        }
      }
      if (ids.empty()) continue;
      // One node: wait there for all that is missing. Several: look briefly at each in turn.
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const int32_t wait = static_cast<int32_t>(
          std::clamp<int64_t>(left.count(), 0, by_node.size() == 1 ? kMaxCallWaitMs : 10));
      const int64_t need = std::min<int64_t>(k - finished, static_cast<int64_t>(ids.size()));
      std::vector<bool> now;
      try {
        now = nodes_->Call(node, [&](NodeClient& c) { return c.Await(ids, need, wait, nullptr); });
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

std::vector<char> ClusterRuntime::ReadyOnEveryNode(const std::vector<ObjectRef>& refs) {
  std::vector<char> ready(refs.size(), 0);  // not vector<bool>: each thread writes its own
  std::map<NodeId, std::vector<size_t>> by_node;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (nodes_->Gone(refs[i].id(), refs[i].node())) continue;
    by_node[nodes_->Holder(refs[i].id(), refs[i].node())].push_back(i);
  }
  if (by_node.empty()) return ready;
  auto await = [&](NodeId node, std::vector<size_t> open) {
    while (!open.empty()) {
      std::vector<ObjectId> ids;
      ids.reserve(open.size());
      for (size_t i : open) ids.push_back(refs[i].id());
      std::vector<bool> failed;
      std::vector<bool> done;
      try {
        done = nodes_->Call(node, [&](NodeClient& c) {
          return c.Await(ids, static_cast<int64_t>(ids.size()), kMaxCallWaitMs, &failed);
        });
      } catch (const std::exception&) {
        return;  // the second pass raises it, or recovers what a lost node held
      }
      if (failed.size() != ids.size()) return;  // a node that cannot tell: the second pass asks
      std::vector<size_t> pending;
      for (size_t j = 0; j < open.size(); ++j) {
        if (!done[j]) {
          pending.push_back(open[j]);
        } else if (!failed[j]) {
          ready[open[j]] = 1;
        }
      }
      open.swap(pending);
    }
  };
  std::vector<std::thread> threads;
  auto it = by_node.begin();
  for (++it; it != by_node.end(); ++it) threads.emplace_back(await, it->first, it->second);
  await(by_node.begin()->first, by_node.begin()->second);
  for (auto& t : threads) t.join();
  return ready;
}

void ClusterRuntime::Await(const std::vector<ObjectRef>& refs) {
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
    nodes_->Check(refs[i].node(), "await");
  }
  batcher_->Flush();
  const std::vector<char> ready = ReadyOnEveryNode(refs);
  std::vector<ObjectRef> rest;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!ready[i]) rest.push_back(refs[i]);
  }
  // In the order given, so that the first failed object's error is the one raised.
  if (!rest.empty()) Runtime::Await(rest);
}

void ClusterRuntime::Free(const std::vector<ObjectRef>& refs) {
  batcher_->Flush();
  std::map<NodeId, std::vector<ObjectId>> by_node;
  for (const auto& r : refs) {
    if (!r) continue;
    nodes_->Check(r.node(), "free");
    if (nodes_->Gone(r.id(), r.node())) continue;
    by_node[nodes_->Holder(r.id(), r.node())].push_back(r.id());
  }
  for (const auto& [node, ids] : by_node) {
    try {
      nodes_->Call(node, [&](NodeClient& c) { c.Free(ids); });
    } catch (const NodeLostError& e) {
      Log().warn("free: {}", e.what());  // gone with their node
    }
  }
}

std::vector<NodeTimeline> ClusterRuntime::Timeline(const std::vector<int64_t>& since,
                                                   std::optional<bool> record) {
  std::vector<NodeTimeline> out;
  for (const Member& n : nodes_->List()) {
    if (n.id < 0 || n.id >= nodes_->size() || nodes_->IsLost(n.id)) continue;
    const auto i = static_cast<size_t>(n.id);
    const int64_t from = i < since.size() ? since[i] : 0;
    try {
      out.push_back({n.id, n.host + ":" + std::to_string(n.port),
                     nodes_->Call(n.id, [&](NodeClient& c) { return c.Timeline(from, record); })});
    } catch (const NodeLostError& e) {
      Log().warn("Node.Timeline: {}", e.what());
    }
  }
  return out;
}

std::vector<NodeLoad> ClusterRuntime::Loads() {
  std::vector<NodeLoad> out = loads_->Loads();
  for (size_t i = 0; i < out.size(); ++i) out[i].live = !nodes_->IsLost(static_cast<NodeId>(i));
  return out;
}

std::vector<NodeInfo> ClusterRuntime::Nodes() {
  std::vector<NodeInfo> out;
  for (const Member& n : nodes_->List()) {
    if (n.id < 0 || n.id >= nodes_->size()) continue;  // joined after this driver connected
    NodeInfo info;
    info.id = n.id;
    info.address = n.host + ":" + std::to_string(n.port);
    info.cores = n.cores;
    info.memory_bytes = n.memory_bytes;
    info.gpus = n.gpus;
    info.gpu_devices = n.gpu_devices;
    info.rates = n.rates;
    info.live = n.live && !nodes_->IsLost(n.id);
    if (!nodes_->IsLost(n.id)) {
      try {
        const NodeStats s = nodes_->Call(n.id, [](NodeClient& c) { return c.Stats(); });
        info.memory_used = s.memory_used;
        info.num_objects = s.num_objects;
        info.tasks_run = s.tasks_run;
        info.net_in_bytes = s.net_in_bytes;
        info.net_out_bytes = s.net_out_bytes;
        info.spilled_bytes = s.spilled_bytes;
        info.spill_bytes_total = s.spill_bytes_total;
        info.restore_bytes_total = s.restore_bytes_total;
        info.gpu_memory_used = s.gpu_memory_used;
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
