#include "tests/cluster_unit/fake_cluster.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <thread>

namespace nums::engine::cluster::testing {
namespace {

ObjectValue LostValue(const ObjectId& id, NodeId holder) {
  auto info = std::make_shared<ErrorInfo>();
  info->code = ErrorCode::kNodeLost;
  info->message = "fetch of object " + id.ToString() + " from node " + std::to_string(holder) +
                  ": the node is lost";
  info->task = "Node.Pull";
  info->node = holder;
  return {Block(), std::move(info)};
}

// The object's value once it is finished, or nullopt after `wait_ms`.
std::optional<ObjectValue> WaitFor(ObjectStore& store, const ObjectId& id, int32_t wait_ms) {
  struct Outcome {
    std::mutex mu;  // guards value
    std::condition_variable cv;
    std::optional<ObjectValue> value;
  };
  auto outcome = std::make_shared<Outcome>();
  store.Subscribe(id, [outcome](const ObjectValue& v) {
    std::lock_guard lock(outcome->mu);
    outcome->value = v;
    outcome->cv.notify_all();
  });
  std::unique_lock lock(outcome->mu);
  outcome->cv.wait_for(lock, std::chrono::milliseconds(wait_ms),
                       [&] { return outcome->value.has_value(); });
  return outcome->value;
}

}  // namespace

class FakeCluster::Client final : public NodeClient {
 public:
  Client(FakeCluster* cluster, NodeId node) : cluster_(cluster), node_(node) {}

  NodeLoad SubmitTasks(const std::vector<const TaskRecord*>& tasks) override {
    Node& node = Use("Node.SubmitTasks");
    bool dies = false;
    std::vector<std::shared_ptr<const TaskRecord>> records;
    for (const TaskRecord* t : tasks) {
      if (cluster_->registry_->Find(t->kernel, t->device) == nullptr) {
        throw ClusterError("submit: no kernel '" + t->kernel + "' on node " +
                           std::to_string(node_));
      }
      // What the wire carries: no lineage.
      auto copy = std::make_shared<TaskRecord>(*t);
      copy->sources.clear();
      for (auto& arg : copy->args) {
        if (auto* in = std::get_if<ObjectArg>(&arg)) in->producer = nullptr;
      }
      records.push_back(std::move(copy));
      dies = dies || cluster_->KillsOnRun(t->kernel);
    }
    for (auto& r : records) node.Submit(std::move(r), {});
    if (dies) cluster_->Kill(node_);
    return LoadOf(node);
  }

  void Put(const ObjectId& id, const Block& block) override {
    Node& node = Use("Node.PutChunk");
    Block copy = Block::Allocate(block.dtype(), block.shape());
    if (block.nbytes() > 0)
      std::memcpy(copy.raw(), block.raw(), static_cast<size_t>(block.nbytes()));
    node.store().Seal(id, std::move(copy), /*create_if_missing=*/true);
  }

  std::optional<ObjectValue> Get(const ObjectId& id, int32_t wait_ms) override {
    Node& node = Use("Node.GetChunk");
    auto value = WaitFor(node.store(), id, wait_ms);
    Use("Node.GetChunk");  // a node that died meanwhile never answered
    return value;
  }

  std::shared_ptr<const ErrorInfo> Probe(const ObjectId& id) override {
    Node& node = Use("Node.GetChunk");
    if (!node.store().Finished(id) || node.store().TryGet(id)) return nullptr;
    auto value = WaitFor(node.store(), id, 0);
    return value ? value->error : nullptr;
  }

  std::vector<bool> Await(const std::vector<ObjectId>& ids, int64_t min_done, int32_t wait_ms,
                          std::vector<bool>* failed) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
      Node& node = Use("Node.Await");
      std::vector<bool> out;
      int64_t done = 0;
      for (const ObjectId& id : ids) {
        out.push_back(node.store().Finished(id));
        done += out.back() ? 1 : 0;
      }
      if (done >= min_done || std::chrono::steady_clock::now() >= deadline) {
        if (failed != nullptr) {
          failed->clear();
          for (size_t i = 0; i < ids.size(); ++i) {
            failed->push_back(out[i] && !node.store().Ready(ids[i]));
          }
        }
        return out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void Free(const std::vector<ObjectId>& ids) override {
    Node& node = Use("Node.Free");
    for (const ObjectId& id : ids) node.store().Free(id);
  }

  NodeStats Stats() override {
    Node& node = Use("Node.Stats");
    return {.memory_used = node.store().bytes_in_use(),
            .num_objects = node.store().num_objects(),
            .tasks_run = node.tasks_run(),
            .net_in_bytes = node.net_in_bytes(),
            .net_out_bytes = node.net_out_bytes()};
  }

  void Ping() override { Use("Node.Ping"); }
  NodeLoad KeepAlive(uint64_t, std::chrono::milliseconds) override {
    return LoadOf(Use("Node.KeepAlive"));
  }
  void Reconnect() override { bound_ = 0; }

 private:
  Node& Use(const char* what) { return cluster_->Use(node_, bound_, what); }
  static NodeLoad LoadOf(Node& node) {
    const StoreStats st = node.store().stats();
    return {.memory_used = st.resident_bytes, .spilled_bytes = st.spilled_bytes};
  }

  FakeCluster* const cluster_;
  const NodeId node_;
  std::atomic<int64_t> bound_{0};  // the incarnation this client is connected to; 0: none
};

class FakeCluster::FakeHead final : public HeadClient {
 public:
  explicit FakeHead(FakeCluster* cluster) : cluster_(cluster) {}
  std::vector<Member> ListNodes() override {
    std::lock_guard lock(cluster_->mu_);
    if (cluster_->head_down_) throw ClusterError("Head.ListNodes to the fake head failed");
    std::vector<Member> out;
    for (size_t i = 0; i < cluster_->slots_.size(); ++i) {
      const Slot& s = cluster_->slots_[i];
      out.push_back({.id = static_cast<NodeId>(i),
                     .host = "fake",
                     .port = static_cast<int>(i),
                     .cores = 1,
                     .memory_bytes = 1 << 30,
                     .gpu_devices = {},
                     .rates = {},
                     .live = s.alive,
                     .incarnation = s.incarnation});
    }
    return out;
  }

 private:
  FakeCluster* const cluster_;
};

FakeCluster::FakeCluster(int64_t nodes, std::shared_ptr<const KernelRegistry> registry)
    : registry_(std::move(registry)) {
  for (NodeId i = 0; i < nodes; ++i) {
    Slot s;
    s.node =
        std::make_unique<Node>(i, 1, NodeMemory{.capacity = int64_t{1} << 30}, registry_, this);
    s.incarnation = next_incarnation_++;
    slots_.push_back(std::move(s));
  }
}

FakeCluster::~FakeCluster() {
  // Fetches still waiting fail first, so that every task can finish before its node goes.
  for (NodeId i = 0; i < static_cast<NodeId>(slots_.size()); ++i) Kill(i);
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& n : graveyard_) n->WaitIdle();
  }
  graveyard_.clear();
}

std::unique_ptr<HeadClient> FakeCluster::Head() { return std::make_unique<FakeHead>(this); }

NodeDialer FakeCluster::Dialer() {
  return [this](const Member& m, std::chrono::milliseconds) -> std::unique_ptr<NodeClient> {
    return std::make_unique<Client>(this, m.id);
  };
}

Node& FakeCluster::Use(NodeId node, std::atomic<int64_t>& bound, const char* what) {
  std::lock_guard lock(mu_);
  Slot& s = slots_.at(static_cast<size_t>(node));
  int64_t expected = 0;
  bound.compare_exchange_strong(expected, s.incarnation);
  if (!s.alive || bound.load() != s.incarnation) {
    throw NodeLostError(std::string(what) + " to fake node " + std::to_string(node) + " failed: " +
                        (s.alive ? "connection to an earlier process" : "node is down"));
  }
  return *s.node;
}

void FakeCluster::Kill(NodeId node) {
  std::vector<std::shared_ptr<Fetch>> fetches;
  {
    std::lock_guard lock(mu_);
    Slot& s = slots_.at(static_cast<size_t>(node));
    if (!s.alive) return;
    s.alive = false;
    graveyard_.push_back(std::move(s.node));
    fetches.swap(s.fetches);
  }
  for (auto& f : fetches) {
    if (!f->done.exchange(true)) f->cb(LostValue(f->id, node));
  }
}

void FakeCluster::Restart(NodeId node) {
  Kill(node);
  std::lock_guard lock(mu_);
  Slot& s = slots_.at(static_cast<size_t>(node));
  s.node =
      std::make_unique<Node>(node, 1, NodeMemory{.capacity = int64_t{1} << 30}, registry_, this);
  s.incarnation = next_incarnation_++;
  s.alive = true;
}

void FakeCluster::SetHeadDown(bool down) {
  std::lock_guard lock(mu_);
  head_down_ = down;
}

void FakeCluster::KillWhenRuns(const std::string& kernel) {
  std::lock_guard lock(mu_);
  kill_kernels_.insert(kernel);
}

bool FakeCluster::KillsOnRun(const std::string& kernel) const {
  std::lock_guard lock(mu_);
  return kill_kernels_.count(kernel) != 0;
}

bool FakeCluster::Alive(NodeId node) const {
  std::lock_guard lock(mu_);
  return slots_.at(static_cast<size_t>(node)).alive;
}

bool FakeCluster::Holds(NodeId node, const ObjectId& id) const {
  std::lock_guard lock(mu_);
  const Slot& s = slots_.at(static_cast<size_t>(node));
  return s.alive && s.node->store().TryGet(id).has_value();
}

int64_t FakeCluster::TasksRun(NodeId node) const {
  std::lock_guard lock(mu_);
  const Slot& s = slots_.at(static_cast<size_t>(node));
  return s.alive ? s.node->tasks_run() : 0;
}

void FakeCluster::Subscribe(NodeId holder, NodeId, const ObjectId& id, ObjectCallback cb) {
  auto fetch = std::make_shared<Fetch>();
  fetch->id = id;
  fetch->cb = std::move(cb);
  Node* from = nullptr;
  {
    std::lock_guard lock(mu_);
    Slot& s = slots_.at(static_cast<size_t>(holder));
    if (s.alive) {
      from = s.node.get();
      std::erase_if(s.fetches, [](const auto& f) { return f->done.load(); });
      s.fetches.push_back(fetch);
    }
  }
  if (from == nullptr) {
    fetch->done = true;
    fetch->cb(LostValue(id, holder));
    return;
  }
  from->store().Subscribe(id, [fetch](const ObjectValue& v) {
    if (!fetch->done.exchange(true)) fetch->cb(v);
  });
}

}  // namespace nums::engine::cluster::testing
