#include "engine/node.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "nums/errors.hpp"

namespace nums::engine {

struct Node::PendingTask {
  std::shared_ptr<const TaskRecord> task;
  const KernelFn* fn = nullptr;
  Device device = Device::kCpu;  // where fn runs: the task's device, or the CPU's fallback
  int64_t position = 0;          // submission order on this node
  std::vector<ObjectRef> pins;
  std::vector<Block> inputs;    // remote inputs as fetched; local ones are read at admission
  std::vector<ObjectId> local;  // per input slot: the local object, or nil for a remote one
  std::vector<Scalar> scalars;
  std::vector<RemoteKey> shared;  // remote inputs whose shared fetch this task holds
  // When it first waited for memory with nothing running (its deadline counts from there).
  std::optional<std::chrono::steady_clock::time_point> idle_since;
  bool waited = false;  // it was parked once: new tasks no longer go ahead of it
  std::atomic<int64_t> remaining{0};
  std::mutex error_mu;  // guards error (inputs fail from several threads)
  std::shared_ptr<const ErrorInfo> error;

  void SetError(std::shared_ptr<const ErrorInfo> e) {
    std::lock_guard lock(error_mu);
    if (!error) error = std::move(e);
  }
};

namespace {
std::string Bytes(int64_t n) { return std::to_string(n) + " bytes"; }

struct InputGone {};  // leaves Execute's try block; the error is set already

// A task smaller than this (its declared outputs and its inputs, all in this node's memory) runs
// on the thread that finds it ready, outside any task: handing it to a worker and waking the
// waiter costs more than the kernel.
constexpr int64_t kInlineBytes = 16 << 10;
// Whether this thread is running a task: tasks its results make ready go to the workers, so
// inline runs never nest.
thread_local bool in_task = false;

// The error of a task on node `on` one of whose inputs is gone (`why`), made by `lookup`'s
// store: a driver that kept the lineage makes the input again and reruns the task.
std::shared_ptr<const ErrorInfo> MissingInput(const std::string& task, NodeId on, NodeId lookup,
                                              const std::string& why) {
  auto missing = std::make_shared<ErrorInfo>();
  missing->code = ErrorCode::kCluster;
  missing->message =
      "an input of task '" + task + "' on node " + std::to_string(on) + " is gone: " + why;
  missing->task = ErrorInfo::kMissingInput;
  missing->node = lookup;
  return missing;
}
}  // namespace

Node::Node(NodeId id, int64_t threads, NodeMemory memory,
           std::shared_ptr<const KernelRegistry> registry, ObjectSource* peers)
    : id_(id),
      capacity_(memory.capacity > 0 ? memory.capacity : PhysicalMemoryBytes()),
      high_water_(static_cast<int64_t>(static_cast<double>(capacity_) *
                                       std::clamp(memory.high_water, 0.05, 1.0))),
      log_(std::move(memory.log)),
      pool_(std::make_shared<HostPool>("node " + std::to_string(id), capacity_)),
      memory_(pool_),
      registry_(std::move(registry)),
      peers_(peers),
      store_(id, pool_,
             memory.spill_root.empty()
                 ? nullptr
                 : std::make_unique<SpillDirectory>(memory.spill_root, memory.spill_name)),
      executor_(threads, &memory_) {
  pool_->SetReclaimer(high_water_, [this](int64_t need) { Reclaim(need); });
  const std::vector<GpuInfo>& found = DiscoverGpus();
  if (memory.gpus > static_cast<int64_t>(found.size())) {
    throw ClusterError("node " + std::to_string(id) + ": asked for " + std::to_string(memory.gpus) +
                       " GPU(s), this machine has " + std::to_string(found.size()) +
                       (found.empty() ? " (" + NoGpuReason() + ")" : std::string()));
  }
  const size_t use = memory.gpus < 0 ? found.size() : static_cast<size_t>(memory.gpus);
  for (size_t g = 0; g < use; ++g) {
    gpus_.push_back(found[g]);
    gpu_pools_.push_back(MakeGpuPool("node " + std::to_string(id) + " gpu " + std::to_string(g),
                                     found[g].ordinal, found[g].memory_bytes));
  }
  if (const char* on = std::getenv("NUMS_TIMELINE"); on != nullptr && std::strcmp(on, "1") == 0) {
    trace_.SetRecording(true);
  }
  retry_thread_ = std::thread([this] { IdleRetryLoop(); });
  if (store_.can_spill()) prefetch_thread_ = std::thread([this] { PrefetchLoop(); });
}

void Node::Prefetch(const std::vector<ObjectId>& inputs) {
  bool any = false;
  for (const ObjectId& id : inputs) {
    if (id.IsNil() || store_.SpilledBytes(id) == 0) continue;
    std::lock_guard lock(prefetch_mu_);
    prefetch_.push_back(id);
    any = true;
  }
  if (any) prefetch_cv_.notify_one();
}

void Node::PrefetchLoop() {
  std::unique_lock lock(prefetch_mu_);
  for (;;) {
    prefetch_cv_.wait(lock, [&] { return stop_prefetch_ || !prefetch_.empty(); });
    if (stop_prefetch_) return;
    const ObjectId id = prefetch_.front();
    prefetch_.pop_front();
    lock.unlock();
    // Only into memory that is free: a prefetch never spills. A task admitted meanwhile may
    // have read it back already, or a spill taken it again; both are harmless.
    const int64_t bytes = store_.SpilledBytes(id);
    if (bytes > 0 && Over(bytes) <= 0) {
      try {
        store_.TryGet(id);
      } catch (const Error&) {  // the task's own read reports the error
      }
    }
    lock.lock();
  }
}

Node::~Node() {
  Stop();
  WaitIdle();
  pool_->SetReclaimer(high_water_, nullptr);  // buffers (and so the pool) may outlive the node
}

void Node::Stop() {
  std::deque<std::shared_ptr<PendingTask>> parked;
  {
    std::lock_guard lock(admit_mu_);
    if (stopping_) return;
    stopping_ = true;
    parked.swap(parked_);
    any_parked_.store(false);
  }
  retry_cv_.notify_all();
  retry_thread_.join();
  {
    std::lock_guard lock(prefetch_mu_);
    stop_prefetch_ = true;
  }
  prefetch_cv_.notify_all();
  if (prefetch_thread_.joinable()) prefetch_thread_.join();
  // Their waiters (other nodes, a Get) hear of it instead of waiting for ever.
  auto info = std::make_shared<ErrorInfo>();
  info->code = ErrorCode::kCluster;
  info->message = "node " + std::to_string(id_) + " stopped before the task could run";
  info->node = id_;
  for (const auto& p : parked) {
    for (const ObjectId& out : p->task->returns) store_.Fail(out, info);
  }
}

void Node::IdleRetryLoop() {
  std::unique_lock lock(admit_mu_);
  while (!stopping_) {
    retry_cv_.wait_for(lock, std::chrono::milliseconds(50));
    if (stopping_) break;
    std::vector<RemoteKey> fetches;
    fetches.swap(fetch_retry_);
    const bool wake = !parked_.empty() && running_.load() == 0;
    lock.unlock();
    for (const RemoteKey& key : fetches) StartFetch(key);
    if (wake) WakeParked();
    lock.lock();
  }
  // Fetches still waiting for memory fail now, as parked tasks do.
  std::vector<RemoteKey> fetches;
  fetches.swap(fetch_retry_);
  fetch_retry_since_.clear();
  any_fetch_retry_.store(false);
  lock.unlock();
  for (const RemoteKey& key : fetches) StartFetch(key);
}

void Node::WakeParked() {
  std::deque<std::shared_ptr<PendingTask>> wake;
  {
    std::lock_guard lock(admit_mu_);
    wake.swap(parked_);
    any_parked_.store(false);
  }
  for (auto& w : wake) Dispatch(std::move(w));
}

void Node::Dispatch(std::shared_ptr<PendingTask> p) {
  if (p->task->io) {
    io_threads_.Run([this, p = std::move(p)]() mutable { Execute(std::move(p)); });
  } else {
    executor_.Run([this, p = std::move(p)]() mutable { Execute(std::move(p)); });
  }
}

ObjectStore::Remake Node::RemakeOf(const PendingTask& p) const {
  const TaskRecord& t = *p.task;
  if (!t.recomputable || t.returns.size() != 1 || t.outputs.size() != 1) return nullptr;
  // The registry is read-only once nodes run; holding it keeps `fn` valid.
  return [registry = registry_, fn = p.fn, scalars = p.scalars, out = t.outputs[0], node = id_,
          pool = pool_, memory = memory_, name = t.name]() {
    MemoryPool::Scope scope(memory);
    std::vector<Block> declared{Block::Allocate(out.dtype, out.shape, pool)};
    KernelContext ctx{{}, scalars, 1, node, pool.get(), {}};
    std::vector<Block> made;
    {
      DeclaredOutputs handout(declared);
      made = (*fn)(ctx);
    }
    if (made.size() != 1 || made[0].dtype() != out.dtype || made[0].shape() != out.shape) {
      throw RemoteTaskError("task '" + name + "' made a different block when run again");
    }
    return std::move(made[0]);
  };
}

void Node::LogFallback(const std::string& kernel, const std::string& why) {
  std::lock_guard lock(fallback_mu_);
  if (!fallbacks_.insert(kernel + why).second) return;
  const std::string line = "node " + std::to_string(id_) + ": the CUDA kernel '" + kernel + "' " +
                           why + "; such tasks run on the CPU, inputs copied to host memory";
  if (log_) log_(line);
  std::fprintf(stderr, "nums: %s\n", line.c_str());
}

void Node::Submit(std::shared_ptr<const TaskRecord> task, std::vector<ObjectRef> pins) {
  for (const ObjectId& out : task->returns) store_.CreatePending(out);

  std::shared_ptr<PendingTask> p = NewPending();
  p->device = task->device;
  p->fn = registry_->Find(task->kernel, task->device);
  if (p->fn == nullptr && task->device != Device::kCpu && !gpu_pools_.empty()) {
    // The documented fallback: an op with no CUDA kernel runs on the CPU, its inputs staged.
    p->fn = registry_->Find(task->kernel, Device::kCpu);
    p->device = Device::kCpu;
    if (p->fn != nullptr) LogFallback(task->kernel, "does not exist");
  }
  p->position = next_position_.fetch_add(1, std::memory_order_relaxed);
  tasks_submitted_.fetch_add(1, std::memory_order_relaxed);
  p->pins = std::move(pins);
  const auto num_inputs = std::count_if(task->args.begin(), task->args.end(), [](const auto& arg) {
    return std::holds_alternative<ObjectArg>(arg);
  });
  // Assigned over a recycled task's scalars: a vector of the same type keeps its room.
  size_t num_scalars = 0;
  for (const auto& arg : task->args) {
    const auto* scalar = std::get_if<Scalar>(&arg);
    if (scalar == nullptr) continue;
    if (num_scalars < p->scalars.size()) {
      p->scalars[num_scalars] = *scalar;
    } else {
      p->scalars.push_back(*scalar);
    }
    ++num_scalars;
  }
  p->scalars.resize(num_scalars);
  p->inputs.resize(static_cast<size_t>(num_inputs));
  p->local.resize(static_cast<size_t>(num_inputs));
  // One extra count so that inputs that are already present cannot start the task mid-loop.
  p->remaining.store(num_inputs + 1, std::memory_order_relaxed);
  p->task = std::move(task);

  auto schedule = [this](std::shared_ptr<PendingTask> pending) {
    if (store_.can_spill()) Prefetch(pending->local);
    Dispatch(std::move(pending));
  };
  // Bytes of the inputs present in memory here, while all of them are; -1 once one is not.
  int64_t present_bytes = 0;
  size_t slot = 0;
  for (const auto& arg : p->task->args) {
    const auto* obj = std::get_if<ObjectArg>(&arg);
    if (obj == nullptr) continue;
    const bool local = obj->node == id_;
    if (local) {
      p->local[slot] = obj->id;
      store_.AddUse(obj->id, p->position);
      // Present already: read at admission as the callback below would have it, so no callback.
      const int64_t bytes = store_.ResidentBytes(obj->id);
      if (bytes >= 0) {
        if (present_bytes >= 0) present_bytes += bytes;
        p->remaining.fetch_sub(1, std::memory_order_relaxed);
        ++slot;
        continue;
      }
    }
    present_bytes = -1;
    ObjectCallback cb = [this, p, slot, schedule, local](const ObjectValue& v) {
      if (v.ok()) {
        // A local input is read from the store when the task is admitted: a queued task must
        // not pin it, or nothing could be spilled while tasks wait.
        if (!local) p->inputs[slot] = v.block;
      } else if (v.error->IsMissingObject()) {
        p->SetError(MissingInput(p->task->name, id_, v.error->node, v.error->message));
      } else {
        p->SetError(v.error);
      }
      if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) schedule(p);
    };
    if (local) {
      store_.Subscribe(obj->id, std::move(cb), /*want_block=*/false);
    } else {
      const RemoteKey key{obj->id, obj->node};
      if (FetchRemote(key, std::move(cb))) p->shared.push_back(key);
    }
    ++slot;
  }
  if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const TaskRecord& t = *p->task;
  if (!in_task && present_bytes >= 0 && !t.io && p->device == Device::kCpu &&
      t.outputs.size() == t.returns.size() &&
      std::none_of(t.outputs.begin(), t.outputs.end(),
                   [](const OutputSpec& o) { return o.upper_bound; }) &&
      present_bytes + t.DeclaredBytes() <= kInlineBytes) {
    Execute(std::move(p));
  } else {
    schedule(std::move(p));
  }
}

std::shared_ptr<Node::PendingTask> Node::NewPending() {
  {
    std::lock_guard lock(spare_mu_);
    if (!spare_.empty()) {
      std::shared_ptr<PendingTask> p = std::move(spare_.back());
      spare_.pop_back();
      return p;
    }
  }
  return std::make_shared<PendingTask>();
}

void Node::Recycle(std::shared_ptr<PendingTask> p) {
  // A callback that ran may still be on its way out holding the task; and a task with large
  // scalars (index lists) would keep their memory: neither is kept.
  constexpr size_t kSpares = 64;
  constexpr size_t kScalarBytes = 4096;
  if (p.use_count() != 1) return;
  size_t scalar_bytes = 0;
  for (const Scalar& s : p->scalars) {
    std::visit(
        [&](const auto& v) {
          if constexpr (requires { v.capacity(); }) scalar_bytes += v.capacity() * sizeof(v[0]);
        },
        s);
  }
  if (scalar_bytes > kScalarBytes) return;
  p->task.reset();
  p->fn = nullptr;
  p->device = Device::kCpu;
  p->pins.clear();
  p->inputs.clear();
  p->local.clear();
  p->shared.clear();
  p->idle_since.reset();
  p->waited = false;
  p->error.reset();
  std::lock_guard lock(spare_mu_);
  if (spare_.size() < kSpares) spare_.push_back(std::move(p));
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
  StartFetch(key);
  return true;
}

void Node::StartFetch(const RemoteKey& key) {
  try {
    peers_->Subscribe(key.holder, id_, key.id,
                      [this, key](const ObjectValue& v) { DeliverRemote(key, v); });
  } catch (...) {  // the waiting tasks fail instead of waiting for ever
    DeliverRemote(key, ObjectValue{Block(), ErrorInfo::FromCurrentException("fetch", id_)});
  }
}

void Node::DeliverRemote(const RemoteKey& key, const ObjectValue& v) {
  if (!v.ok() && v.error->code == ErrorCode::kOutOfMemory) {
    // No room for the copy now: fetch it again once memory may have been freed, as a task
    // that does not fit waits, and fail it only when nothing ran for kIdleMemoryWait.
    std::lock_guard lock(admit_mu_);
    const auto now = std::chrono::steady_clock::now();
    auto it = fetch_retry_since_.try_emplace(key, now).first;
    if (running_.load() > 0) it->second = now;
    if (!stopping_ && now - it->second < kIdleMemoryWait) {
      fetch_retry_.push_back(key);
      any_fetch_retry_.store(true);
      return;
    }
    fetch_retry_since_.erase(it);
    any_fetch_retry_.store(!fetch_retry_since_.empty());
  } else if (any_fetch_retry_.load()) {
    std::lock_guard lock(admit_mu_);
    fetch_retry_since_.erase(key);
    any_fetch_retry_.store(!fetch_retry_since_.empty());
  }
  std::vector<ObjectCallback> waiting;
  {
    std::lock_guard guard(remote_mu_);
    Remote& entry = remote_.at(key);  // held by its waiting users until they have run
    entry.value = v;
    waiting.swap(entry.waiting);
  }
  for (auto& w : waiting) w(v);
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

int64_t Node::Over(int64_t need) const {
  return pool_->bytes_allocated() + store_.foreign_bytes() + reserved_.load() + need - high_water_;
}

bool Node::MakeRoom(int64_t need) {
  if (Over(need) <= 0) return true;
  pool_->Trim();
  const int64_t over = Over(need);
  if (over <= 0) return true;
  try {
    const int64_t freed = store_.Spill(over);
    spill_error_.clear();
    if (log_) {
      log_("node " + std::to_string(id_) + ": spilled " + Bytes(freed) + " to make room for " +
           Bytes(need) + " (" + Bytes(pool_->bytes_allocated()) + " of " + Bytes(capacity_) +
           " held)");
    }
  } catch (const Error& e) {
    spill_error_ = e.what();
    if (log_) log_("node " + std::to_string(id_) + ": " + spill_error_);
  }
  pool_->Trim();  // the victims' buffers may have gone to the cache
  return Over(need) <= 0;
}

void Node::Reclaim(int64_t need) {
  {
    std::lock_guard lock(admit_mu_);
    MakeRoom(need);
  }
  const int64_t held = pool_->bytes_allocated() + store_.foreign_bytes();
  if (held + need > capacity_) {
    std::string why;
    {
      std::lock_guard lock(admit_mu_);
      why = spill_error_.empty() ? "" : "; spilling failed: " + spill_error_;
    }
    throw OutOfMemoryError("node " + std::to_string(id_) + " cannot allocate " + Bytes(need) +
                           ": " + Bytes(held) + " of its " + Bytes(capacity_) +
                           " are in use and cannot be spilled" + why);
  }
}

bool Node::Admit(const std::shared_ptr<PendingTask>& p, int64_t need) {
  const TaskRecord& t = *p->task;
  if (need == 0) {  // needs no memory: runs whatever the node holds
    running_.fetch_add(1);
    return true;
  }
  if (need > high_water_) {
    throw OutOfMemoryError("task '" + t.name + "' needs " + Bytes(need) + " on node " +
                           std::to_string(id_) + ", more than its " + Bytes(high_water_) +
                           " for objects (" + Bytes(capacity_) + " capacity)");
  }
  std::lock_guard lock(admit_mu_);
  // Tasks that already wait for memory go first: a new one may not take the room they wait for.
  const bool behind = !p->waited && !parked_.empty();
  if (!behind && MakeRoom(need)) {
    reserved_.fetch_add(need);
    running_.fetch_add(1);
    return true;
  }
  if (stopping_) throw ClusterError("node " + std::to_string(id_) + " is stopping");
  p->waited = true;
  // Paired with Finished: either it sees any_parked_, or this sees its running_ decrement.
  any_parked_.store(true);
  if (running_.load() > 0) {
    p->idle_since.reset();  // the idle wait counts only while nothing runs
    parked_.push_back(p);
    return false;
  }
  // Nothing runs here that could free memory, but the driver may still free objects.
  const auto now = std::chrono::steady_clock::now();
  if (!p->idle_since) p->idle_since = now;
  if (now - *p->idle_since < kIdleMemoryWait) {
    parked_.push_back(p);
    return false;
  }
  any_parked_.store(!parked_.empty());
  throw OutOfMemoryError(
      "node " + std::to_string(id_) + " cannot find " + Bytes(need) + " for task '" + t.name +
      "': " + Bytes(pool_->bytes_allocated()) + " of its " + Bytes(capacity_) +
      " are in use, nothing ran that could free memory for " +
      std::to_string(kIdleMemoryWait.count()) + " ms, and nothing more can be spilled" +
      (spill_error_.empty() ? std::string() : " (" + spill_error_ + ")"));
}

void Node::Finished(int64_t reserved) {
  if (reserved != 0) reserved_.fetch_sub(reserved);
  running_.fetch_sub(1);
  if (any_parked_.load()) WakeParked();
}

void Node::RecordTask(const PendingTask& p, std::chrono::steady_clock::time_point started,
                      const std::vector<Block>& outputs, bool failed) {
  const TaskRecord& t = *p.task;
  TaskEvent e;
  e.name = t.name;
  e.kernel = t.kernel;
  e.node = id_;
  e.thread = TaskTrace::ThreadId();
  // The steady clock timed the task; the system clock places it, so other processes line up.
  e.end_ns = TaskTrace::NowNs();
  e.start_ns = e.end_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  for (const auto& arg : t.args) {
    if (const auto* obj = std::get_if<ObjectArg>(&arg)) e.inputs.push_back(obj->id);
  }
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const int64_t bytes = p.inputs[i].buffer() ? p.inputs[i].nbytes() : 0;
    e.input_bytes += bytes;
    if (p.local[i].IsNil()) e.remote_bytes += bytes;
  }
  if (!failed) {
    for (const Block& o : outputs) e.output_bytes += o.buffer() ? o.nbytes() : 0;
  }
  e.failed = failed;
  trace_.Record(std::move(e));
}

void Node::Execute(std::shared_ptr<PendingTask> pending) {
  const bool outer = !in_task;
  in_task = true;
  struct Leave {
    bool outer;
    ~Leave() {
      if (outer) in_task = false;
    }
  } leave{outer};
  const auto started = std::chrono::steady_clock::now();
  PendingTask& p = *pending;
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
  bool admitted = false;
  bool pinned = false;
  int64_t reserved = 0;
  if (!error) {
    try {
      if (t.device != Device::kCpu && gpu_pools_.empty()) {
        throw ClusterError("task '" + t.name + "' asks for a GPU, and node " + std::to_string(id_) +
                           " has none (" +
                           (DiscoverGpus().empty() ? NoGpuReason() : "started with --gpus 0") +
                           ")");
      }
      if (p.fn == nullptr) {
        throw ClusterError("no kernel '" + t.kernel + "' for device " +
                           std::string(DeviceName(t.device)) + " on node " + std::to_string(id_));
      }
      bool on_gpu = p.device != Device::kCpu;
      const KernelFn* fn = p.fn;
      // Pinned first, so that making room for this task cannot spill its own inputs.
      const int64_t restore = store_.Pin(p.local);
      pinned = true;
      // Outputs on a GPU take its memory, not the host's: its pool refuses what does not fit.
      reserved = (on_gpu ? 0 : t.DeclaredBytes()) + restore;
      if (!Admit(pending, reserved)) {  // parked: runs again when memory frees
        store_.Unpin(p.local, /*position=*/-1);
        return;
      }
      admitted = true;
      // Each reserved piece is handed back just before it is allocated, so that the pool's
      // reclaimer does not count it twice.
      auto take = [&](int64_t bytes) {
        bytes = std::min(bytes, reserved);
        reserved_.fetch_sub(bytes);
        reserved -= bytes;
      };
      for (size_t i = 0; i < p.local.size(); ++i) {
        if (p.local[i].IsNil()) continue;
        take(store_.SpilledBytes(p.local[i]));
        std::optional<Block> in = store_.TryGet(p.local[i]);
        if (!in) {
          // Freed while the task waited: a driver with the lineage makes it again and reruns this.
          error = MissingInput(t.name, id_, id_, "object " + p.local[i].ToString() + " was freed");
          break;
        }
        p.inputs[i] = std::move(*in);
      }
      if (error) throw InputGone{};
      if (on_gpu && !registry_->Accepts(t.kernel, p.device, p.inputs, p.scalars)) {
        // A case the GPU kernel does not cover (a dtype, an op): its CPU twin runs the task.
        if (const KernelFn* cpu = registry_->Find(t.kernel, Device::kCpu)) {
          fn = cpu;
          on_gpu = false;
          LogFallback(t.kernel, "does not take these inputs");
        }
      }
      // GPU 0 for now: a node's tasks share its first GPU.
      const std::shared_ptr<MemoryPool>& run_pool = on_gpu ? gpu_pools_[0] : memory_;
      MemoryPool::Scope scope(run_pool);
      std::vector<Block> declared;
      for (const OutputSpec& out : t.outputs) {
        if (out.upper_bound) continue;
        take(out.nbytes());
        declared.push_back(Block::Allocate(out.dtype, out.shape, run_pool));
      }
      // An input on the other side of the host-GPU boundary is copied across for this task.
      for (Block& in : p.inputs) {
        if ((in.device() != Device::kCpu) == on_gpu &&
            (!on_gpu || in.buffer()->pool()->ordinal() == run_pool->ordinal())) {
          continue;
        }
        in = on_gpu ? ToDevice(in, run_pool) : ToHost(in, memory_);
        staged_.fetch_add(in.nbytes(), std::memory_order_relaxed);
      }
      KernelContext ctx{p.inputs, p.scalars,      static_cast<int64_t>(t.returns.size()),
                        id_,      run_pool.get(), store_.spill_path()};
      if (on_gpu) ctx.gpu = ServicesOf(run_pool->ordinal());
      {
        DeclaredOutputs handout(declared);
        outputs = (*fn)(ctx);
      }
      // A declared output the kernel did not take was reserved and allocated for nothing.
      if (!declared.empty()) {
        unclaimed_outputs_.fetch_add(static_cast<int64_t>(declared.size()));
        if (log_) log_("task '" + t.name + "' did not make the outputs it declared");
      }
      if (t.outputs.empty()) {  // counted when it made new bytes, not a view of an input
        const bool fresh = std::any_of(outputs.begin(), outputs.end(), [&](const Block& o) {
          return o.buffer() && std::none_of(p.inputs.begin(), p.inputs.end(), [&](const Block& in) {
                   return in.buffer() == o.buffer();
                 });
        });
        if (fresh) undeclared_tasks_.fetch_add(1);
      }
      if (outputs.size() != t.returns.size()) {
        throw RemoteTaskError("kernel '" + t.kernel + "' returned " +
                              std::to_string(outputs.size()) + " blocks, expected " +
                              std::to_string(t.returns.size()));
      }
    } catch (const InputGone&) {
      // `error` says which input.
    } catch (...) {
      error = ErrorInfo::FromCurrentException(t.name, id_);
      // Only errors raised here: an input's error passed on downstream would bury its origin.
      recent_errors_.Add(*error);
    }
  }
  tasks_run_.fetch_add(1, std::memory_order_relaxed);
  if (error) tasks_failed_.fetch_add(1, std::memory_order_relaxed);
  task_seconds_.Observe(std::chrono::steady_clock::now() - started);
  // Before the outputs are sealed: whoever sees a result finds its task in the timeline.
  if (trace_.recording()) RecordTask(p, started, outputs, error != nullptr);
  // Inputs are released before outputs are sealed, so a waiter that sees the result also sees the
  // inputs' memory accounted as freed.
  if (pinned) {
    store_.Unpin(p.local, p.position);
  } else {
    store_.RemoveUses(p.local, p.position);
  }
  p.inputs.clear();
  p.pins.clear();
  for (const RemoteKey& key : p.shared) ReleaseRemote(key);
  for (size_t i = 0; i < t.returns.size(); ++i) {
    if (error) {
      store_.Fail(t.returns[i], error);
    } else {
      store_.Seal(t.returns[i], std::move(outputs[i]), false, RemakeOf(p));
    }
  }
  if (admitted) Finished(reserved);
  Recycle(std::move(pending));
}

}  // namespace nums::engine
