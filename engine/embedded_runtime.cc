#include "engine/embedded_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/gpu.h"

namespace nums::engine {
namespace {

// Collects the outcomes of several objects for Get and Wait.
struct Latch {
  std::mutex mu;  // guards values, done, finished
  std::condition_variable cv;
  std::vector<ObjectValue> values;
  std::vector<bool> done;
  int64_t finished = 0;
};

// With `blocks` false only the outcomes are kept: a waiter must not pin (or restore) what it
// waits for.
std::shared_ptr<Latch> Track(EmbeddedRuntime& rt, const std::vector<ObjectRef>& refs, bool blocks) {
  auto latch = std::make_shared<Latch>();
  latch->values.resize(refs.size());
  latch->done.resize(refs.size(), false);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
    rt.node(refs[i].node())
        .store()
        .Subscribe(
            refs[i].id(),
            [latch, i, blocks](const ObjectValue& v) {
              std::lock_guard lock(latch->mu);
              latch->values[i] = blocks ? v : ObjectValue{Block(), v.error};
              latch->done[i] = true;
              ++latch->finished;
              latch->cv.notify_all();
            },
            blocks);
  }
  return latch;
}

// Waits until `k` are finished; false on timeout.
bool WaitFor(Latch& latch, int64_t k, Runtime::Timeout timeout,
             std::unique_lock<std::mutex>& lock) {
  auto pred = [&] { return latch.finished >= k; };
  if (!timeout) {
    latch.cv.wait(lock, pred);
    return true;
  }
  return latch.cv.wait_for(lock, *timeout, pred);
}

}  // namespace

std::shared_ptr<EmbeddedRuntime> EmbeddedRuntime::Start(
    const EmbeddedOptions& options, std::shared_ptr<const KernelRegistry> registry) {
  if (options.nodes < 1) {
    throw ValueError("embedded cluster needs at least 1 node, got " +
                     std::to_string(options.nodes));
  }
  if (options.threads_per_node < 0 || options.memory_per_node < 0) {
    throw ValueError("embedded cluster: threads_per_node and memory_per_node must be >= 0");
  }
  if (!registry) throw ValueError("embedded cluster: null kernel registry");
  return std::shared_ptr<EmbeddedRuntime>(new EmbeddedRuntime(options, std::move(registry)));
}

EmbeddedRuntime::EmbeddedRuntime(const EmbeddedOptions& options,
                                 std::shared_ptr<const KernelRegistry> registry)
    : sink_(std::make_shared<DetachableReleaser>([this](const ObjectId& id, NodeId node) {
        if (node >= 0 && node < num_nodes()) this->node(node).store().Free(id);
      })),
      registry_(std::move(registry)) {
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t threads = options.threads_per_node > 0
                              ? options.threads_per_node
                              : std::max<int64_t>(1, cores / options.nodes);
  const int64_t memory = options.memory_per_node > 0
                             ? options.memory_per_node
                             : static_cast<int64_t>(static_cast<double>(PhysicalMemoryBytes()) *
                                                    EmbeddedOptions::kDefaultMemoryFraction) /
                                   options.nodes;
  // Several embedded clusters may live in one process at once: each has its own directories.
  static std::atomic<int64_t> clusters{0};
  const int64_t cluster = clusters.fetch_add(1);
  nodes_.reserve(static_cast<size_t>(options.nodes));
  for (int64_t i = 0; i < options.nodes; ++i) {
    NodeMemory m;
    m.capacity = memory;
    m.gpus = options.gpus_per_node;
    if (!options.spill_root.empty()) {
      m.spill_root = options.spill_root;
      m.spill_name = "embedded-" + std::to_string(getpid()) + "-" + std::to_string(cluster) + "-" +
                     std::to_string(i);
    }
    nodes_.push_back(std::make_unique<Node>(i, threads, std::move(m), registry_, this));
  }
  // Once for all the nodes: they have the same threads and GPUs. Nothing without a GPU.
  rates_ = MeasureNodeRates(*registry_, threads, nodes_.front()->gpus());
}

EmbeddedRuntime::~EmbeddedRuntime() {
  sink_->Detach();
  // Tasks waiting for memory fail first: none may run once a node they feed is gone.
  for (auto& n : nodes_) n->Stop();
  WaitIdle();
  nodes_.clear();
}

void EmbeddedRuntime::WaitIdle() {
  // A task finishing on one node can queue work on another; repeat until a full pass finds all
  // nodes idle with no task run in between.
  for (;;) {
    int64_t before = 0, after = 0;
    for (auto& n : nodes_) before += n->tasks_run();
    for (auto& n : nodes_) n->WaitIdle();
    for (auto& n : nodes_) after += n->tasks_run();
    if (before == after) return;
  }
}

Node& EmbeddedRuntime::CheckedNode(NodeId id, std::string_view what, std::string_view label) {
  if (id < 0 || id >= num_nodes()) {
    std::string op(what);
    if (!label.empty()) op += " '" + std::string(label) + "'";
    throw ClusterError(op + ": node " + std::to_string(id) + " does not exist; the cluster has " +
                       std::to_string(num_nodes()) + " node(s)");
  }
  return *nodes_[static_cast<size_t>(id)];
}

ObjectRef EmbeddedRuntime::Put(Block block, NodeId node) {
  Node& n = CheckedNode(node, "put");
  const ObjectId id = ids_.Next();
  n.store().Seal(id, std::move(block), /*create_if_missing=*/true);
  return MakeRef(id, node);
}

std::vector<ObjectRef> EmbeddedRuntime::Submit(TaskSpec spec) {
  Node& n = CheckedNode(spec.node, "submit", spec.name.empty() ? spec.kernel : spec.name);
  if (registry_->Find(spec.kernel, spec.device) == nullptr) {
    throw ClusterError("submit: no kernel '" + spec.kernel + "' for device " +
                       std::string(DeviceName(spec.device)));
  }
  std::vector<ObjectRef> pins;
  auto record =
      MakeTaskRecord(std::move(spec), ids_, pins, [](const ObjectRef& ref) { return ref.node(); });

  // No lineage: an embedded node cannot be lost, so nothing is ever recomputed, and the record
  // goes once its task has run.
  std::vector<ObjectRef> refs;
  refs.reserve(record->returns.size());
  for (const ObjectId& id : record->returns) {
    refs.emplace_back(id, record->node, nullptr, sink_, record->device, record->device_pinned);
  }
  n.Submit(std::move(record), std::move(pins));
  return refs;
}

std::vector<Block> EmbeddedRuntime::Get(const std::vector<ObjectRef>& refs, Timeout timeout) {
  auto latch = Track(*this, refs, /*blocks=*/true);
  std::unique_lock lock(latch->mu);
  if (!WaitFor(*latch, static_cast<int64_t>(refs.size()), timeout, lock)) {
    throw TimeoutError("get: " + std::to_string(refs.size() - latch->finished) + " of " +
                       std::to_string(refs.size()) + " objects not ready after " +
                       std::to_string(timeout->count()) + " ms");
  }
  std::vector<Block> blocks;
  blocks.reserve(refs.size());
  for (auto& v : latch->values) {
    if (!v.ok()) v.error->Throw();
    // The driver reads host memory: a block on a GPU comes back through the host.
    blocks.push_back(v.block.device() == Device::kCpu ? std::move(v.block) : ToHost(v.block));
  }
  return blocks;
}

WaitResult EmbeddedRuntime::Wait(const std::vector<ObjectRef>& refs, int64_t k, Timeout timeout) {
  if (k < 0 || k > static_cast<int64_t>(refs.size())) {
    throw ValueError("wait: k=" + std::to_string(k) + " must be between 0 and the " +
                     std::to_string(refs.size()) + " refs given");
  }
  auto latch = Track(*this, refs, /*blocks=*/false);
  std::unique_lock lock(latch->mu);
  WaitFor(*latch, k, timeout, lock);
  WaitResult result;
  for (size_t i = 0; i < refs.size(); ++i) {
    (latch->done[i] ? result.ready : result.not_ready).push_back(refs[i]);
  }
  return result;
}

void EmbeddedRuntime::Await(const std::vector<ObjectRef>& refs) {
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i]) throw ValueError("null ObjectRef at position " + std::to_string(i));
    CheckedNode(refs[i].node(), "await");
  }
  // No timeout: every callback has run before this returns, so their state lives on this stack
  // and each callback (a pointer and a position) fits in std::function without a heap block.
  struct State {
    std::mutex mu;  // guards remaining, failed_at and error; held while notifying
    std::condition_variable cv;
    size_t remaining = 0;
    size_t failed_at = 0;  // the first failed ref's position, when `error` is set
    std::shared_ptr<const ErrorInfo> error;
  } state;
  state.remaining = refs.size();
  size_t subscribed = 0;
  try {
    for (; subscribed < refs.size(); ++subscribed) {
      const size_t i = subscribed;
      node(refs[i].node())
          .store()
          .Subscribe(
              refs[i].id(),
              [s = &state, i](const ObjectValue& v) {
                std::lock_guard lock(s->mu);
                if (!v.ok() && (!s->error || i < s->failed_at)) {
                  s->error = v.error;
                  s->failed_at = i;
                }
                if (--s->remaining == 0) s->cv.notify_all();
              },
              /*want_block=*/false);
    }
  } catch (...) {  // the callbacks already subscribed still point here: let them run first
    std::unique_lock lock(state.mu);
    state.remaining -= refs.size() - subscribed;
    state.cv.wait(lock, [&] { return state.remaining == 0; });
    throw;
  }
  std::unique_lock lock(state.mu);
  state.cv.wait(lock, [&] { return state.remaining == 0; });
  if (state.error) state.error->Throw();
}

void EmbeddedRuntime::Free(const std::vector<ObjectRef>& refs) {
  for (const auto& r : refs) {
    if (r) CheckedNode(r.node(), "free").store().Free(r.id());
  }
}

ObjectRef EmbeddedRuntime::MakeRef(const ObjectId& id, NodeId node) {
  return ObjectRef(id, node, nullptr, sink_);
}

void EmbeddedRuntime::Subscribe(NodeId holder, NodeId receiver, const ObjectId& id,
                                ObjectCallback cb) {
  Node* from = nodes_.at(static_cast<size_t>(holder)).get();
  Node* to = nodes_.at(static_cast<size_t>(receiver)).get();
  from->store().Subscribe(id, [from, to, cb = std::move(cb)](const ObjectValue& v) {
    // In-process the block is shared, not copied; the bytes still count as moved between nodes.
    if (v.ok()) {
      from->CountTransfer(0, v.block.nbytes());
      to->CountTransfer(v.block.nbytes(), 0);
    }
    cb(v);
  });
}

std::vector<NodeInfo> EmbeddedRuntime::Nodes() {
  std::vector<NodeInfo> out;
  for (auto& n : nodes_) {
    NodeInfo info;
    info.id = n->id();
    info.address = "embedded:" + std::to_string(n->id());
    info.cores = n->executor().threads();
    info.memory_bytes = n->memory_bytes();
    info.gpus = static_cast<int64_t>(n->gpus().size());
    info.gpu_devices = n->gpus();
    info.rates = rates_;
    const StoreStats st = n->store().stats();
    info.memory_used = st.resident_bytes;
    info.num_objects = st.objects;
    info.spilled_bytes = st.spilled_bytes;
    info.spill_bytes_total = st.spill_bytes_total;
    info.restore_bytes_total = st.restore_bytes_total;
    info.gpu_memory_used = st.device_bytes;
    info.tasks_run = n->tasks_run();
    info.net_in_bytes = n->net_in_bytes();
    info.net_out_bytes = n->net_out_bytes();
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace nums::engine

namespace nums::engine {

std::vector<NodeTimeline> EmbeddedRuntime::Timeline(const std::vector<int64_t>& since,
                                                    std::optional<bool> record) {
  std::vector<NodeTimeline> out;
  for (const auto& node : nodes_) {
    const auto i = static_cast<size_t>(node->id());
    NodeTimeline t{node->id(), "embedded", node->trace().Since(i < since.size() ? since[i] : 0)};
    if (record) node->trace().SetRecording(*record);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace nums::engine
