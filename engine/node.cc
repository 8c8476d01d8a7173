#include "engine/node.h"

#include <mutex>

namespace nums::engine {

struct Node::PendingTask {
  std::shared_ptr<const TaskRecord> task;
  const KernelFn* fn = nullptr;
  std::vector<ObjectRef> pins;
  std::vector<Block> inputs;
  std::vector<Scalar> scalars;
  std::vector<RemoteKey> shared;  // remote inputs whose shared fetch this task holds
  std::atomic<int64_t> remaining{0};
  std::mutex error_mu;  // guards error (inputs fail from several threads)
  std::shared_ptr<const ErrorInfo> error;

  void SetError(std::shared_ptr<const ErrorInfo> e) {
    std::lock_guard lock(error_mu);
    if (!error) error = std::move(e);
  }
};

Node::Node(NodeId id, int64_t threads, int64_t memory_bytes,
           std::shared_ptr<const KernelRegistry> registry, ObjectSource* peers)
    : id_(id),
      memory_bytes_(memory_bytes),
      registry_(std::move(registry)),
      peers_(peers),
      store_(id),
      executor_(threads) {}

void Node::Submit(std::shared_ptr<const TaskRecord> task, std::vector<ObjectRef> pins) {
  for (const ObjectId& out : task->returns) store_.CreatePending(out);

  auto p = std::make_shared<PendingTask>();
  p->fn = registry_->Find(task->kernel, task->device);
  p->pins = std::move(pins);
  int64_t num_inputs = 0;
  for (const auto& arg : task->args) {
    if (std::holds_alternative<ObjectArg>(arg)) {
      ++num_inputs;
    } else {
      p->scalars.push_back(std::get<Scalar>(arg));
    }
  }
  p->inputs.resize(static_cast<size_t>(num_inputs));
  // One extra count so that inputs that are already present cannot start the task mid-loop.
  p->remaining.store(num_inputs + 1, std::memory_order_relaxed);
  p->task = std::move(task);

  auto schedule = [this](std::shared_ptr<PendingTask> pending) {
    executor_.Run([this, pending = std::move(pending)] { Execute(*pending); });
  };
  size_t slot = 0;
  for (const auto& arg : p->task->args) {
    const auto* obj = std::get_if<ObjectArg>(&arg);
    if (obj == nullptr) continue;
    ObjectCallback cb = [this, p, slot, schedule](const ObjectValue& v) {
      if (v.ok()) {
        p->inputs[slot] = v.block;
      } else if (v.error->IsMissingObject()) {
        auto missing = std::make_shared<ErrorInfo>(*v.error);
        missing->message = "an input of task '" + p->task->name + "' on node " +
                           std::to_string(id_) + " is gone: " + v.error->message;
        missing->task = ErrorInfo::kMissingInput;
        p->SetError(std::move(missing));
      } else {
        p->SetError(v.error);
      }
      if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) schedule(p);
    };
    if (obj->node == id_) {
      store_.Subscribe(obj->id, std::move(cb));
    } else {
      const RemoteKey key{obj->id, obj->node};
      if (FetchRemote(key, std::move(cb))) p->shared.push_back(key);
    }
    ++slot;
  }
  if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) schedule(std::move(p));
}

bool Node::FetchRemote(const RemoteKey& key, ObjectCallback cb) {
  std::unique_lock lock(remote_mu_);
  Remote& r = remote_[key];
  if (r.value && !r.value->ok()) {
    lock.unlock();
    peers_->Subscribe(key.holder, id_, key.id, std::move(cb));
    return false;
  }
  ++r.users;
  if (r.value) {
    const ObjectValue value = *r.value;
    lock.unlock();
    cb(value);
    return true;
  }
  r.waiting.push_back(std::move(cb));
  if (r.users > 1) return true;  // the first user's fetch is under way
  lock.unlock();
  auto deliver = [this, key](const ObjectValue& v) {
    std::vector<ObjectCallback> waiting;
    {
      std::lock_guard guard(remote_mu_);
      Remote& entry = remote_.at(key);  // held by its waiting users until they have run
      entry.value = v;
      waiting.swap(entry.waiting);
    }
    for (auto& w : waiting) w(v);
  };
  try {
    peers_->Subscribe(key.holder, id_, key.id, deliver);
  } catch (...) {  // the waiting tasks fail instead of waiting for ever
    deliver(ObjectValue{Block(), ErrorInfo::FromCurrentException("fetch", id_)});
  }
  return true;
}

void Node::ReleaseRemote(const RemoteKey& key) {
  std::lock_guard lock(remote_mu_);
  auto it = remote_.find(key);
  if (it != remote_.end() && --it->second.users == 0) remote_.erase(it);
}

int64_t Node::DropSession(uint64_t session) {
  {
    std::lock_guard lock(dropped_mu_);
    dropped_.insert(session);
    any_dropped_.store(true, std::memory_order_release);
  }
  // Pending outputs go too: a result sealed after its entry was freed is dropped.
  return store_.FreeSession(session);
}

bool Node::Dropped(uint64_t session) const {
  if (!any_dropped_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(dropped_mu_);
  return dropped_.count(session) != 0;
}

void Node::Execute(PendingTask& p) {
  const TaskRecord& t = *p.task;
  std::shared_ptr<const ErrorInfo> error = p.error;
  std::vector<Block> outputs;
  if (!error && !t.returns.empty() && Dropped(t.returns[0].hi)) {
    auto info = std::make_shared<ErrorInfo>();
    info->code = ErrorCode::kCluster;
    info->message = "dropped: the lease of the driver that made it ended";
    info->task = t.name;
    info->node = id_;
    error = std::move(info);
  }
  if (!error) {
    try {
      if (p.fn == nullptr) {
        throw ClusterError("no kernel '" + t.kernel + "' for device " +
                           std::string(DeviceName(t.device)) + " on node " + std::to_string(id_));
      }
      KernelContext ctx{p.inputs, p.scalars, static_cast<int64_t>(t.returns.size()), id_};
      outputs = (*p.fn)(ctx);
      if (outputs.size() != t.returns.size()) {
        throw RemoteTaskError("kernel '" + t.kernel + "' returned " +
                              std::to_string(outputs.size()) + " blocks, expected " +
                              std::to_string(t.returns.size()));
      }
    } catch (...) {
      error = ErrorInfo::FromCurrentException(t.name, id_);
    }
  }
  tasks_run_.fetch_add(1, std::memory_order_relaxed);
  // Inputs are released before outputs are sealed, so a waiter that sees the result also sees the
  // inputs' memory accounted as freed.
  p.inputs.clear();
  p.pins.clear();
  for (const RemoteKey& key : p.shared) ReleaseRemote(key);
  for (size_t i = 0; i < t.returns.size(); ++i) {
    if (error) {
      store_.Fail(t.returns[i], error);
    } else {
      store_.Seal(t.returns[i], std::move(outputs[i]));
    }
  }
}

}  // namespace nums::engine
