#include "engine/cluster/node_daemon.h"

#include <chrono>
#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "engine/cluster/chunks.h"
#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/timeline_rpc.h"
#include "engine/cluster/transport.h"
#include "engine/cluster/wire.h"
#include "engine/device_rates.h"

namespace nums::engine::cluster {
namespace {

using HeadConnection = Connection<wire::HeadClient>;
using NodeConnection = Connection<wire::NodeClient>;

// How long one Pull waits for a pending input before the fetch goes to the back of the queue.
constexpr int32_t kPullWaitMs = 100;

// A random nonzero number naming this process among the restarts of a node.
int64_t NewIncarnation() {
  std::random_device rd;
  for (;;) {
    const uint64_t x = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    if (x != 0) return static_cast<int64_t>(x);
  }
}

}  // namespace

// Pulls the inputs of local tasks from the nodes that hold them. A pending input does not hold
// a thread: its fetch waits briefly on the holder, then is queued again behind the others.
class NodeDaemon::PeerFetcher final : public ObjectSource {
 public:
  PeerFetcher(const NodeDaemonOptions& options, int64_t threads,
              std::shared_ptr<const TlsClient> tls)
      : options_(options),
        tls_(std::move(tls)),
        head_(options.head_host, options.head_port, options.token, /*peer_is_node=*/false,
              std::chrono::seconds(60), tls_) {
    for (int64_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkLoop(); });
  }
  ~PeerFetcher() override { Stop(); }

  void SetNode(Node* node) { node_ = node; }

  void Subscribe(NodeId holder, NodeId receiver, const ObjectId& id, ObjectCallback cb) override {
    {
      std::lock_guard lock(mu_);
      if (!stopped_) {
        jobs_.push_back({holder, id, std::move(cb)});
        cv_.notify_one();
        return;
      }
    }
    cb(ErrorValue(ErrorCode::kCluster, "node is shutting down", id, holder));
  }

  /// Fails every queued fetch and joins the workers.
  void Stop() {
    std::deque<Job> left;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      left.swap(jobs_);
      cv_.notify_all();
    }
    for (auto& w : workers_) w.join();
    for (auto& job : left) {
      Deliver(job, ErrorValue(ErrorCode::kCluster, "node is shutting down", job.id, job.holder));
    }
  }

  /// Registers this node with the head; returns its id.
  NodeId Register(const wire::NodeW& self) {
    std::lock_guard lock(head_mu_);
    return head_.Invoke("Head.RegisterNode",
                        [&](wire::HeadClient& c) { return c.RegisterNode(self); });
  }

  /// Has the head issue a certificate for this node's key (over TLS, with the token).
  std::string SignCertificate(const std::string& request, const std::vector<std::string>& names) {
    std::lock_guard lock(head_mu_);
    std::string cert;
    head_.Invoke("Head.SignCertificate",
                 [&](wire::HeadClient& c) { c.SignCertificate(cert, request, names); });
    return cert;
  }

  void Heartbeat(NodeId id, const wire::StatsW& stats) {
    std::lock_guard lock(head_mu_);
    head_.Invoke("Head.Heartbeat", [&](wire::HeadClient& c) { c.Heartbeat(id, stats); });
  }

 private:
  struct Job {
    NodeId holder;
    ObjectId id;
    ObjectCallback cb;
  };

  static ObjectValue ErrorValue(ErrorCode code, const std::string& message, const ObjectId& id,
                                NodeId holder) {
    auto info = std::make_shared<ErrorInfo>();
    info->code = code;
    info->message = "fetch of object " + id.ToString() + " from node " + std::to_string(holder) +
                    ": " + message;
    info->task = "Node.Pull";
    info->node = holder;
    return {Block(), std::move(info)};
  }

  // The address of node `id`, asking the head when it is not known yet.
  std::pair<std::string, int> AddressOf(NodeId id) {
    {
      std::lock_guard lock(peers_mu_);
      if (auto it = peers_.find(id); it != peers_.end()) return it->second;
    }
    std::vector<wire::NodeW> nodes;
    {
      std::lock_guard lock(head_mu_);
      head_.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(nodes); });
    }
    std::lock_guard lock(peers_mu_);
    for (const auto& n : nodes) peers_[n.id] = {n.host, n.port};
    if (auto it = peers_.find(id); it != peers_.end()) return it->second;
    throw ClusterError("node " + std::to_string(id) + " is not a member of the cluster");
  }

  // Hands a fetch's outcome to the node; nothing the callback throws ends the worker.
  static void Deliver(Job& job, const ObjectValue& value) {
    try {
      job.cb(value);
    } catch (const std::exception& e) {
      Log().error("delivering object {}: {}", job.id.ToString(), e.what());
    } catch (...) {
      Log().error("delivering object {}: an exception of unknown type", job.id.ToString());
    }
  }

  void WorkLoop() {
    // Each worker keeps its own connections to each peer (a connection carries one call at a
    // time): two, so that a large object comes two chunks at a time.
    std::unordered_map<NodeId, std::unique_ptr<NodeConnection>> conns, seconds;
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopped_ || !jobs_.empty(); });
        if (stopped_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      std::optional<ObjectValue> value;
      try {
        auto connect = [&](std::unique_ptr<NodeConnection>& conn) -> NodeConnection& {
          if (!conn) {
            auto [host, port] = AddressOf(job.holder);
            conn = std::make_unique<NodeConnection>(host, port, options_.token, true,
                                                    std::chrono::seconds(60), tls_);
          }
          return *conn;
        };
        const NodeId self = node_->id();
        auto reader = [&](std::unordered_map<NodeId, std::unique_ptr<NodeConnection>>& pool) {
          return [&](int64_t offset, int32_t wait_ms, wire::ChunkW& out) {
            connect(pool[job.holder]).Invoke("Node.Pull", [&](wire::NodeClient& c) {
              c.Pull(out, ToWire(job.id), offset, kChunkBytes, wait_ms, self);
            });
          };
        };
        auto fetch = [&] {
          const ChunkReader first = reader(conns), second = reader(seconds);
          return FetchChunked(job.id, kPullWaitMs, first, &second, node_->pool());
        };
        try {
          value = fetch();
        } catch (const NodeLostError&) {
          // The connections may predate a restart of the peer: their sockets are dead while a
          // new process serves the address. A second try, on fresh ones, tells them apart.
          conns.erase(job.holder);
          seconds.erase(job.holder);
          value = fetch();
        }
        if (value && value->ok()) node_->CountTransfer(value->block.nbytes(), 0);
      } catch (const Error& e) {
        value = ErrorValue(e.code(), e.what(), job.id, job.holder);
      } catch (const std::exception& e) {
        value = ErrorValue(ErrorCode::kCluster, e.what(), job.id, job.holder);
      } catch (...) {
        value = ErrorValue(ErrorCode::kCluster, "an exception of unknown type", job.id, job.holder);
      }
      if (value) {
        Deliver(job, *value);
        continue;
      }
      std::lock_guard lock(mu_);
      if (stopped_) {
        Deliver(job, ErrorValue(ErrorCode::kCluster, "node is shutting down", job.id, job.holder));
        return;
      }
      jobs_.push_back(std::move(job));
    }
  }

  const NodeDaemonOptions options_;
  const std::shared_ptr<const TlsClient> tls_;  // null without TLS
  Node* node_ = nullptr;

  std::mutex head_mu_;  // guards head_ (the heartbeat thread and workers share it)
  HeadConnection head_;

  std::mutex peers_mu_;  // guards peers_
  std::unordered_map<NodeId, std::pair<std::string, int>> peers_;

  std::mutex mu_;  // guards jobs_, stopped_
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopped_ = false;
  std::vector<std::thread> workers_;
};

// One connection's handler: its own authentication state, the daemon's node.
class NodeDaemon::Handler final : public wire::NodeIf {
 public:
  Handler(NodeDaemon* daemon, std::shared_ptr<ConnectionState> state)
      : daemon_(daemon), session_(daemon->options_.token, std::move(state)) {}
  ~Handler() override {
    // A driver killed with its lease connection open: the kernel closes it, and the lease ends
    // soon after unless the driver renews it on a new connection.
    if (lease_ != 0) {
      daemon_->leases_.Disconnected(lease_, std::chrono::steady_clock::now(), kLeaseGrace);
    }
  }

  void Authenticate(const std::string& token) override {
    Serve("Node.Authenticate", [&] { session_.Authenticate("Node.Authenticate", token); });
  }

  void SubmitTasks(wire::LoadW& out, const std::vector<wire::TaskW>& tasks) override {
    Checked("Node.SubmitTasks", [&] {
      Node& node = *daemon_->node_;
      std::vector<std::shared_ptr<const TaskRecord>> records;
      records.reserve(tasks.size());
      for (const auto& w : tasks) {
        auto t = FromWire(w);
        if (!t->returns.empty()) daemon_->CheckSession(t->returns[0].hi);
        if (t->node != node.id()) {
          throw ClusterError("task '" + t->name + "' is for node " + std::to_string(t->node) +
                             ", not node " + std::to_string(node.id()));
        }
        if (daemon_->registry_->Find(t->kernel, t->device) == nullptr) {
          throw ClusterError("submit: no kernel '" + t->kernel + "' for device " +
                             std::string(DeviceName(t->device)) + " on node " +
                             std::to_string(node.id()));
        }
        records.push_back(std::move(t));
      }
      for (auto& t : records) node.Submit(std::move(t), {});
      out = daemon_->CollectLoad();
    });
  }

  void PutChunk(const wire::ObjectIdW& id, const wire::BlockMetaW& meta, int64_t offset,
                const std::string& data) override {
    Checked("Node.PutChunk", [&] {
      daemon_->CheckSession(FromWire(id).hi);
      daemon_->incoming_.Add(daemon_->node_->store(), FromWire(id), meta, offset, data);
    });
  }

  void GetChunk(wire::ChunkW& out, const wire::ObjectIdW& id, int64_t offset, int64_t length,
                int32_t wait_ms) override {
    Checked("Node.GetChunk", [&] {
      ServeChunk(daemon_->node_->store(), FromWire(id), offset, ClampLength(length),
                 ClampWait(wait_ms), out);
    });
  }

  void Pull(wire::ChunkW& out, const wire::ObjectIdW& id, int64_t offset, int64_t length,
            int32_t wait_ms, int64_t receiver) override {
    Checked("Node.Pull", [&] {
      ServeChunk(daemon_->node_->store(), FromWire(id), offset, ClampLength(length),
                 ClampWait(wait_ms), out);
      daemon_->node_->CountTransfer(0, static_cast<int64_t>(out.data.size()));
    });
  }

  void Await(std::vector<bool>& out, const std::vector<wire::ObjectIdW>& ids, int32_t min_done,
             int32_t wait_ms, bool with_failed) override {
    Checked("Node.Await", [&] {
      ObjectStore& store = daemon_->node_->store();
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(ClampWait(wait_ms));
      for (;;) {
        out.assign(ids.size(), false);
        int64_t done = 0;
        std::optional<ObjectId> first_pending;
        for (size_t i = 0; i < ids.size(); ++i) {
          const ObjectId id = FromWire(ids[i]);
          out[i] = store.Finished(id);
          done += out[i] ? 1 : 0;
          if (!out[i] && !first_pending) first_pending = id;
        }
        const auto now = std::chrono::steady_clock::now();
        if (done >= min_done || !first_pending || now >= deadline) break;
        // Sleep until the first pending object finishes (or the deadline), then count again.
        wire::ChunkW ignored;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        ServeChunk(store, *first_pending, 0, 0, static_cast<int32_t>(left.count()) + 1, ignored);
      }
      if (!with_failed) return;
      // Read after `out`: one freed since it was counted reads as failed, which only makes the
      // caller look at it again.
      const size_t n = ids.size();
      out.resize(2 * n, false);
      for (size_t i = 0; i < n; ++i) out[n + i] = out[i] && !store.Ready(FromWire(ids[i]));
    });
  }

  void Free(const std::vector<wire::ObjectIdW>& ids) override {
    Checked("Node.Free", [&] {
      for (const auto& id : ids) daemon_->node_->store().Free(FromWire(id));
    });
  }

  void Stats(wire::StatsW& out) override {
    Checked("Node.Stats", [&] { out = daemon_->CollectStats(/*errors_after=*/0); });
  }

  void Ping() override {
    Serve("Node.Ping", [&] { session_.Require("Node.Ping"); });
  }

  void Timeline(wire::TimelineW& out, int64_t since, int8_t recording) override {
    Checked("Node.Timeline",
            [&] { ServeTimeline(daemon_->node_->trace(), since, recording, out); });
  }

  void KeepAlive(wire::LoadW& out, int64_t session, int32_t lease_ms) override {
    Checked("Node.KeepAlive", [&] {
      const auto id = static_cast<uint64_t>(session);
      const auto ttl = std::chrono::milliseconds(std::clamp<int32_t>(lease_ms, 100, 3'600'000));
      if (!daemon_->leases_.Renew(id, std::chrono::steady_clock::now(), ttl)) {
        daemon_->CheckSession(id);
      }
      lease_ = id;
      out = daemon_->CollectLoad();
    });
  }

  void Shutdown() override {
    if (!session_.authenticated()) {
      WarnLimited("Node.Shutdown.refused",
                  "Node.Shutdown refused: " + session_.peer() + " has not authenticated");
      return;
    }
    Log().info("Node.Shutdown from {}", session_.peer());
    daemon_->RequestStop();
  }

 private:
  static int64_t ClampLength(int64_t length) { return std::clamp<int64_t>(length, 0, kChunkBytes); }
  static int32_t ClampWait(int32_t ms) { return std::clamp<int32_t>(ms, 0, 10'000); }

  template <typename Fn>
  void Checked(const char* rpc, Fn&& fn) {
    Serve(rpc, [&] {
      session_.Require(rpc);
      if (!daemon_->ready_.load(std::memory_order_acquire))
        throw ClusterError(std::string(rpc) + ": node is not registered yet");
      fn();
    });
  }

  NodeDaemon* daemon_;
  Session session_;
  uint64_t lease_ = 0;  // the driver session this connection renews, if any
};

class NodeDaemon::HandlerFactory final : public wire::NodeIfFactory {
 public:
  explicit HandlerFactory(NodeDaemon* daemon) : daemon_(daemon) {}
  wire::NodeIf* getHandler(const apache::thrift::TConnectionInfo& info) override {
    return new NodeDaemon::Handler(daemon_, StateOf(info));
  }
  void releaseHandler(wire::NodeIf* handler) override { delete handler; }

 private:
  NodeDaemon* daemon_;
};

NodeDaemon::NodeDaemon(const NodeDaemonOptions& options) : options_(options) {}

std::unique_ptr<NodeDaemon> NodeDaemon::Start(const NodeDaemonOptions& options,
                                              std::shared_ptr<const KernelRegistry> registry) {
  std::unique_ptr<NodeDaemon> d(new NodeDaemon(options));
  d->registry_ = std::move(registry);
  const std::string advertised = !options.advertise_host.empty()  ? options.advertise_host
                                 : options.bind_host == "0.0.0.0" ? "127.0.0.1"
                                                                  : options.bind_host;
  std::shared_ptr<const TlsClient> tls_client;
  if (options.tls.enabled) tls_client = TlsClient::FromCaFile(options.tls.ca_file);
  d->fetcher_ = std::make_unique<PeerFetcher>(
      d->options_, std::max<int64_t>(1, options.fetch_threads), tls_client);

  std::shared_ptr<const TlsServer> tls_server;
  if (options.tls.enabled && !options.tls.cert_file.empty()) {
    tls_server = TlsServer::FromFiles(options.tls.cert_file, options.tls.key_file);
  } else if (options.tls.enabled) {
    // The key never leaves this process; the head sees only the signing request.
    const KeyAndRequest key = NewKeyAndRequest("nums node");
    const std::vector<std::string> names =
        CertificateNames(options.bind_host, advertised, options.tls_names);
    tls_server =
        TlsServer::FromPem({d->fetcher_->SignCertificate(key.request_pem, names), key.key_pem});
  }

  d->server_ = std::make_unique<RunningServer>(
      std::make_shared<wire::NodeProcessorFactory>(std::make_shared<HandlerFactory>(d.get())),
      options.bind_host, options.port, "node", options.limits, std::move(tls_server));
  d->port_ = d->server_->port();

  wire::NodeW self;
  self.host = advertised;
  self.port = d->port_;
  self.cores = options.cores;
  self.memory_bytes = options.memory_bytes;
  // The GPUs the node will use, known before it registers (Node checks the same count).
  const std::vector<GpuInfo>& found = DiscoverGpus();
  if (options.gpus > static_cast<int64_t>(found.size())) {
    throw ClusterError("--gpus " + std::to_string(options.gpus) + ": this machine has " +
                       std::to_string(found.size()) + " GPU(s)" +
                       (found.empty() ? " (" + NoGpuReason() + ")" : std::string()));
  }
  const size_t used = options.gpus < 0 ? found.size() : static_cast<size_t>(options.gpus);
  self.gpus = static_cast<int64_t>(used);
  self.__isset.gpu_devices = true;
  for (size_t g = 0; g < used; ++g) {
    wire::GpuW w;
    w.name = found[g].name;
    w.memory_bytes = found[g].memory_bytes;
    self.gpu_devices.push_back(std::move(w));
  }
  {
    // Before registering, so that drivers see the node with its rates; only with a GPU.
    std::vector<GpuInfo> gpus(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(used));
    const auto start = std::chrono::steady_clock::now();
    const DeviceRates r = MeasureNodeRates(*d->registry_, options.cores, gpus);
    if (!gpus.empty()) {
      Log().info(
          "device rates: cpu {:.3g} flop/s {:.3g} B/s, gpu {:.3g} flop/s {:.3g} B/s, link {:.3g} "
          "B/s, measured in {} ms",
          r.cpu_flops, r.cpu_bytes_per_s, r.gpu_flops, r.gpu_bytes_per_s, r.link_bytes_per_s,
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                start)
              .count());
    }
    self.__isset.rates = true;
    self.rates.cpu_flops = r.cpu_flops;
    self.rates.cpu_bytes_per_s = r.cpu_bytes_per_s;
    self.rates.gpu_flops = r.gpu_flops;
    self.rates.gpu_bytes_per_s = r.gpu_bytes_per_s;
    self.rates.link_bytes_per_s = r.link_bytes_per_s;
  }
  self.live = true;
  self.incarnation = NewIncarnation();
  self.id = -1;  // none yet: the head assigns one
  const NodeId id = d->fetcher_->Register(self);
  self.id = id;
  d->self_ = self;
  NodeMemory memory;
  memory.capacity = options.memory_bytes;
  memory.spill_root = options.spill_dir;
  memory.spill_name = "node-" + std::to_string(d->port_);
  memory.gpus = static_cast<int64_t>(used);
  memory.log = [](const std::string& line) { Log().debug("{}", line); };
  auto node =
      std::make_unique<Node>(id, options.cores, std::move(memory), d->registry_, d->fetcher_.get());
  d->fetcher_->SetNode(node.get());
  d->node_ = std::move(node);
  d->ready_.store(true, std::memory_order_release);
  if (options.metrics_port >= 0) {
    d->metrics_ =
        std::make_unique<MetricsServer>(options.bind_host, options.metrics_port,
                                        [daemon = d.get()] { return daemon->RenderMetrics(); });
  }
  d->heartbeat_thread_ = std::thread([daemon = d.get()] { daemon->HeartbeatLoop(); });
  d->lease_thread_ = std::thread([daemon = d.get()] { daemon->LeaseLoop(); });
  Log().info("node {} serving on {}:{}{} ({} cores), head {}:{}", id, self.host, d->port_,
             options.tls.enabled ? " over TLS" : "", options.cores, options.head_host,
             options.head_port);
  return d;
}

NodeDaemon::~NodeDaemon() {
  RequestStop();
  metrics_.reset();
  server_.reset();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  if (lease_thread_.joinable()) lease_thread_.join();
  if (fetcher_) fetcher_->Stop();
  node_.reset();
}

void NodeDaemon::RequestStop() {
  std::lock_guard lock(stop_mu_);
  stop_ = true;
  stop_cv_.notify_all();
}

bool NodeDaemon::WaitForStop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(stop_mu_);
  return stop_cv_.wait_for(lock, timeout, [&] { return stop_; });
}

std::string NodeDaemon::RenderMetrics() {
  Node& node = *node_;
  const StoreStats st = node.store().stats();
  const std::string id = std::to_string(node.id());
  auto d = [](int64_t v) { return static_cast<double>(v); };
  MetricsText page;
  page.Family("nums_node_memory_bytes", "gauge",
              "Bytes of objects by tier: in memory (ram), written out or dropped to be remade "
              "(spilled), and the node's capacity.");
  page.Sample("nums_node_memory_bytes", {{"node", id}, {"tier", "ram"}}, d(st.resident_bytes));
  page.Sample("nums_node_memory_bytes", {{"node", id}, {"tier", "spilled"}}, d(st.spilled_bytes));
  page.Sample("nums_node_memory_bytes", {{"node", id}, {"tier", "gpu"}}, d(st.device_bytes));
  page.Sample("nums_node_memory_bytes", {{"node", id}, {"tier", "capacity"}},
              d(node.memory_bytes()));
  page.Family("nums_objects", "gauge", "Objects the node's store holds.");
  page.Sample("nums_objects", {{"node", id}}, d(st.objects));
  page.Family("nums_tasks_total", "counter", "Tasks the node has run, by outcome.");
  const int64_t run = node.tasks_run(), failed = node.tasks_failed();
  page.Sample("nums_tasks_total", {{"node", id}, {"state", "done"}}, d(run - failed));
  page.Sample("nums_tasks_total", {{"node", id}, {"state", "failed"}}, d(failed));
  page.Family("nums_tasks", "gauge",
              "Tasks on the node now: queued (waiting for inputs, memory or a thread) or running.");
  page.Sample("nums_tasks", {{"node", id}, {"state", "queued"}}, d(node.tasks_queued()));
  page.Sample("nums_tasks", {{"node", id}, {"state", "running"}}, d(node.tasks_running()));
  page.Family("nums_transfer_bytes_total", "counter",
              "Object bytes pulled from peers (in) and served to peers (out).");
  page.Sample("nums_transfer_bytes_total", {{"node", id}, {"direction", "in"}},
              d(node.net_in_bytes()));
  page.Sample("nums_transfer_bytes_total", {{"node", id}, {"direction", "out"}},
              d(node.net_out_bytes()));
  page.Family("nums_spill_bytes_total", "counter",
              "Bytes written to the spill directory (write) and read back from it (read).");
  page.Sample("nums_spill_bytes_total", {{"node", id}, {"direction", "write"}},
              d(st.spill_bytes_total));
  page.Sample("nums_spill_bytes_total", {{"node", id}, {"direction", "read"}},
              d(st.restore_bytes_total));
  page.Family("nums_task_duration_seconds", "histogram",
              "Time from the start of a task's execution to its sealed outputs.");
  page.Histogram("nums_task_duration_seconds", {{"node", id}}, node.task_seconds().Read());
  AppendRpcLatencies(page);
  return page.str();
}

wire::LoadW NodeDaemon::CollectLoad() {
  const StoreStats st = node_->store().stats();
  wire::LoadW out;
  out.memory_used = st.resident_bytes;
  out.spilled_bytes = st.spilled_bytes;
  return out;
}

wire::StatsW NodeDaemon::CollectStats(int64_t errors_after) {
  Node& node = *node_;
  const StoreStats st = node.store().stats();
  wire::StatsW out;
  out.memory_used = st.resident_bytes;
  out.num_objects = st.objects;
  out.memory_capacity = node.memory_bytes();
  out.spilled_bytes = st.spilled_bytes;
  out.spill_bytes_total = st.spill_bytes_total;
  out.restore_bytes_total = st.restore_bytes_total;
  out.gpu_memory_used = st.device_bytes;
  out.tasks_run = node.tasks_run();
  out.net_in_bytes = node.net_in_bytes();
  out.net_out_bytes = node.net_out_bytes();
  out.tasks_queued = node.tasks_queued();
  out.tasks_running = node.tasks_running();
  out.tasks_failed = node.tasks_failed();
  for (const RecentError& e : node.recent_errors().Since(errors_after)) {
    wire::TaskErrorW w;
    w.seq = e.seq;
    w.unix_ms = e.unix_ms;
    w.error = ToWire(e.error);
    out.errors.push_back(std::move(w));
  }
  // Sessions that hold objects here, and those with a live lease that hold none yet.
  std::unordered_map<uint64_t, wire::SessionUsageW> sessions;
  for (const SessionUsage& u : node.store().UsageBySession()) {
    wire::SessionUsageW& w = sessions[u.session];
    w.session = static_cast<int64_t>(u.session);
    w.objects = u.objects;
    w.memory_bytes = u.resident_bytes;
    w.spilled_bytes = u.spilled_bytes;
  }
  for (uint64_t session : leases_.Live()) {
    wire::SessionUsageW& w = sessions[session];
    w.session = static_cast<int64_t>(session);
    w.leased = true;
  }
  for (auto& [session, w] : sessions) out.sessions.push_back(std::move(w));
  return out;
}

void NodeDaemon::CheckSession(uint64_t session) const {
  if (leases_.Expired(session)) {
    throw ClusterError("driver session " + ObjectId{session, 0}.ToString().substr(0, 16) +
                       " has ended on node " + std::to_string(node_->id()) +
                       ": its lease ran out and its objects were freed");
  }
}

void NodeDaemon::LeaseLoop() {
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, kLeaseCheck, [&] { return stop_; })) {
    lock.unlock();
    for (uint64_t session : leases_.Expire(std::chrono::steady_clock::now())) {
      const int64_t freed = node_->DropSession(session) + incoming_.DropSession(session);
      Log().info("driver session {:016x}: lease ended, {} objects freed", session, freed);
    }
    lock.lock();
  }
}

void NodeDaemon::HeartbeatLoop() {
  // The head holds membership only: while it is down this node serves on, and once a head
  // answers again on its address (perhaps a new process) the node registers again under its id.
  bool head_lost = false;
  int64_t errors_sent = 0;  // the seq of the last task error the head has
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) {
    lock.unlock();
    try {
      if (head_lost) {
        const NodeId id = fetcher_->Register(self_);
        if (id != node_->id()) {
          Log().error("the head gave node {} the id {} on registering again", node_->id(), id);
        }
        Log().info("registered again with the head {}:{}", options_.head_host, options_.head_port);
        head_lost = false;
        errors_sent = 0;  // perhaps a new head process: it has none of them
      }
      const wire::StatsW stats = CollectStats(errors_sent);
      fetcher_->Heartbeat(node_->id(), stats);
      if (!stats.errors.empty()) errors_sent = stats.errors.back().seq;
    } catch (const std::exception& e) {
      if (!head_lost) Log().warn("Head.Heartbeat failed: {}; serving on", e.what());
      head_lost = true;
    } catch (...) {
      if (!head_lost) Log().warn("Head.Heartbeat failed: an exception of unknown type");
      head_lost = true;
    }
    lock.lock();
  }
}

}  // namespace nums::engine::cluster
