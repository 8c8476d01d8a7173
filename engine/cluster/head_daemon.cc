#include "engine/cluster/head_daemon.h"

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/transport.h"

namespace nums::engine::cluster {

class HeadDaemon::Handler final : public wire::HeadIf {
 public:
  Handler(HeadDaemon* head, std::shared_ptr<ConnectionState> state)
      : head_(head), session_(head->options_.token, std::move(state)) {}

  void Authenticate(const std::string& token) override {
    Serve("Head.Authenticate", [&] { session_.Authenticate("Head.Authenticate", token); });
  }

  int64_t RegisterNode(const wire::NodeW& node) override {
    session_.Require("Head.RegisterNode");
    return Serve("Head.RegisterNode", [&] {
      const int64_t id = head_->Register(node);
      Log().info("Head.RegisterNode: node {} at {}:{} ({} cores, incarnation {:016x}) from {}", id,
                 node.host, node.port, node.cores, static_cast<uint64_t>(node.incarnation),
                 session_.peer());
      return id;
    });
  }

  void Heartbeat(int64_t node, const wire::StatsW& stats) override {
    session_.Require("Head.Heartbeat");
    Serve("Head.Heartbeat", [&] { head_->Heartbeat(node, stats); });
  }

  void ListNodes(std::vector<wire::NodeW>& out) override {
    session_.Require("Head.ListNodes");
    Serve("Head.ListNodes", [&] { out = head_->List(); });
  }

  void SignCertificate(std::string& out, const std::string& request,
                       const std::vector<std::string>& names) override {
    session_.Require("Head.SignCertificate");
    Serve("Head.SignCertificate", [&] {
      out = head_->Sign(request, names);
      Log().info("Head.SignCertificate: issued a certificate for {} names ({}...) to {}",
                 names.size(), names.empty() ? "" : names[0], session_.peer());
    });
  }

  void SubmitJob(wire::JobW& out, const wire::JobSpecW& spec) override {
    session_.Require("Head.SubmitJob");
    Serve("Head.SubmitJob", [&] {
      out = head_->Jobs().Submit(spec);
      Log().info("Head.SubmitJob: {} (pid {}) for {}", out.id, out.pid, session_.peer());
    });
  }

  void ListJobs(std::vector<wire::JobW>& out) override {
    session_.Require("Head.ListJobs");
    Serve("Head.ListJobs", [&] { out = head_->Jobs().List(); });
  }

  void GetJob(wire::JobW& out, const std::string& id) override {
    session_.Require("Head.GetJob");
    Serve("Head.GetJob", [&] { out = head_->Jobs().Get(id); });
  }

  void JobLogs(wire::JobLogW& out, const std::string& id, int64_t offset,
               int32_t max_bytes) override {
    session_.Require("Head.JobLogs");
    Serve("Head.JobLogs", [&] { out = head_->Jobs().Logs(id, offset, max_bytes); });
  }

  void StopJob(wire::JobW& out, const std::string& id) override {
    session_.Require("Head.StopJob");
    Serve("Head.StopJob", [&] {
      out = head_->Jobs().Stop(id);
      Log().info("Head.StopJob: {} for {}", id, session_.peer());
    });
  }

  void Shutdown() override {
    if (!session_.authenticated()) {
      WarnLimited("Head.Shutdown.refused",
                  "Head.Shutdown refused: " + session_.peer() + " has not authenticated");
      return;
    }
    Log().info("Head.Shutdown from {}", session_.peer());
    head_->RequestStop();
  }

 private:
  HeadDaemon* head_;
  Session session_;
};

class HeadDaemon::HandlerFactory final : public wire::HeadIfFactory {
 public:
  explicit HandlerFactory(HeadDaemon* head) : head_(head) {}
  wire::HeadIf* getHandler(const apache::thrift::TConnectionInfo& info) override {
    return new HeadDaemon::Handler(head_, StateOf(info));
  }
  void releaseHandler(wire::HeadIf* handler) override { delete handler; }

 private:
  HeadDaemon* head_;
};

std::unique_ptr<HeadDaemon> HeadDaemon::Start(const HeadDaemonOptions& options) {
  std::unique_ptr<HeadDaemon> h(new HeadDaemon(options));
  std::shared_ptr<const TlsServer> tls_server;
  if (options.tls.enabled) {
    tls_server = TlsServer::FromFiles(options.tls.cert_file, options.tls.key_file);
    h->tls_client_ = TlsClient::FromCaFile(options.tls.ca_file);
    if (!options.tls_ca_key_file.empty()) {
      h->ca_.cert_pem = ReadPemFile(options.tls.ca_file, "TLS CA file", /*secret=*/false);
      h->ca_.key_pem = ReadPemFile(options.tls_ca_key_file, "TLS CA key", /*secret=*/true);
    }
  }
  h->server_ = std::make_unique<RunningServer>(
      std::make_shared<wire::HeadProcessorFactory>(std::make_shared<HandlerFactory>(h.get())),
      options.bind_host, options.port, "head", options.limits, std::move(tls_server));
  h->port_ = h->server_->port();
  Log().info("head serving on {}:{}{}", options.bind_host, h->port_,
             options.tls.enabled ? " over TLS" : "");
  if (options.metrics_port >= 0) {
    h->metrics_ =
        std::make_unique<MetricsServer>(options.bind_host, options.metrics_port,
                                        [head = h.get()] { return head->RenderMetrics(); });
  }
  if (!options.jobs_dir.empty()) {
    std::string host = options.advertise_host.empty() ? options.bind_host : options.advertise_host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    h->jobs_ = std::make_unique<JobTable>(
        JobTableOptions{.dir = options.jobs_dir,
                        .head_address = host + ":" + std::to_string(h->port_),
                        .token_file = options.token_file,
                        .tls_ca = options.tls.enabled ? options.tls.ca_file : ""});
  }
  if (options.dashboard_port >= 0) {
    h->dashboard_ = std::make_unique<Dashboard>(
        DashboardOptions{.host = options.bind_host,
                         .port = options.dashboard_port,
                         .token = options.token,
                         .login_url_file = options.dashboard_login_file,
                         .jobs =
                             [head = h.get()] {
                               return head->jobs_ ? head->jobs_->List() : std::vector<wire::JobW>{};
                             }},
        [head = h.get()] { return head->List(); }, h->monitor_);
  }
  return h;
}

HeadDaemon::~HeadDaemon() {
  RequestStop();
  StopJobs();
  dashboard_.reset();
  metrics_.reset();
  server_.reset();
}

void HeadDaemon::RequestStop() {
  std::lock_guard lock(stop_mu_);
  stop_ = true;
  stop_cv_.notify_all();
}

bool HeadDaemon::WaitForStop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(stop_mu_);
  return stop_cv_.wait_for(lock, timeout, [&] { return stop_; });
}

void HeadDaemon::StopNodes() {
  for (const auto& n : List()) {
    try {
      Connection<wire::NodeClient> conn(n.host, n.port, options_.token, true,
                                        std::chrono::seconds(5), tls_client_);
      conn.Invoke("Node.Shutdown", [](wire::NodeClient& c) { c.Shutdown(); });
      Log().info("asked node {} at {}:{} to stop", n.id, n.host, n.port);
    } catch (const std::exception& e) {
      Log().warn("stopping node {}: {}", n.id, e.what());
    }
  }
}

void HeadDaemon::StopJobs() {
  if (jobs_) jobs_->Close();
}

JobTable& HeadDaemon::Jobs() {
  if (!jobs_) throw ClusterError("this head runs no jobs (it was started with --no-jobs)");
  return *jobs_;
}

std::string HeadDaemon::Sign(const std::string& request,
                             const std::vector<std::string>& names) const {
  if (!tls_client_) {
    throw ClusterError("this head does not serve TLS, so it issues no certificates");
  }
  if (ca_.key_pem.empty()) {
    throw ClusterError(
        "this head holds no CA key, so it issues no certificates: give the node --tls-cert and "
        "--tls-key");
  }
  return IssueCertificate(ca_, request, names);
}

int64_t HeadDaemon::Register(wire::NodeW node) {
  std::lock_guard lock(members_mu_);
  node.live = true;
  for (auto& m : members_) {
    if (m.node.host == node.host && m.node.port == node.port) {
      // The same address again: a node that restarted (a new incarnation) or re-registered
      // after a head reconnect. It keeps its id; what it says of itself now replaces the old.
      node.id = m.node.id;
      m.node = node;
      m.last_heartbeat = std::chrono::steady_clock::now();
      return node.id;
    }
  }
  // A node registering again after this head restarted asks for the id it had: drivers still
  // know it by that id. Ids skipped meanwhile stay free for their own nodes.
  if (node.id >= 0 && node.id < kMaxNodes) {
    const auto slot = static_cast<size_t>(node.id);
    if (slot >= members_.size()) {
      for (size_t i = members_.size(); i < slot; ++i) {
        wire::NodeW free;
        free.id = static_cast<int64_t>(i);
        free.live = false;
        members_.push_back({free, {}});
      }
      members_.push_back({node, std::chrono::steady_clock::now()});
      return node.id;
    }
    if (members_[slot].node.host.empty()) {
      members_[slot] = {node, std::chrono::steady_clock::now()};
      return node.id;
    }
  }
  node.id = static_cast<int64_t>(members_.size());
  members_.push_back({node, std::chrono::steady_clock::now()});
  return node.id;
}

void HeadDaemon::Heartbeat(int64_t id, const wire::StatsW& stats) {
  {
    std::lock_guard lock(members_mu_);
    if (id < 0 || id >= static_cast<int64_t>(members_.size())) {
      throw ClusterError("heartbeat from unknown node " + std::to_string(id));
    }
    members_[static_cast<size_t>(id)].last_heartbeat = std::chrono::steady_clock::now();
  }
  // A node older than the stats in heartbeats sends none: the field is then unset.
  if (dashboard_ && stats.__isset.memory_capacity) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    monitor_.Record(id, stats, now_ms);
  }
}

std::vector<wire::NodeW> HeadDaemon::List() {
  std::lock_guard lock(members_mu_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<wire::NodeW> out;
  for (const auto& m : members_) {
    if (m.node.host.empty()) continue;  // an id kept for a node not back since a restart
    out.push_back(m.node);
    out.back().live = now - m.last_heartbeat < options_.heartbeat_timeout;
  }
  return out;
}

std::string HeadDaemon::RenderMetrics() {
  struct Row {
    wire::NodeW node;
    double heartbeat_age;
  };
  std::vector<Row> rows;
  {
    std::lock_guard lock(members_mu_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& m : members_) {
      if (m.node.host.empty()) continue;  // an id kept for a node not back since a restart
      Row row{m.node, std::chrono::duration<double>(now - m.last_heartbeat).count()};
      row.node.live = now - m.last_heartbeat < options_.heartbeat_timeout;
      rows.push_back(std::move(row));
    }
  }
  MetricsText page;
  int64_t live = 0;
  for (const Row& r : rows) live += r.node.live ? 1 : 0;
  page.Family("nums_nodes", "gauge", "Nodes registered with the head, live or lost.");
  page.Sample("nums_nodes", {{"state", "live"}}, static_cast<double>(live));
  page.Sample("nums_nodes", {{"state", "lost"}}, static_cast<double>(rows.size()) - live);
  auto label = [](const wire::NodeW& n) -> MetricLabels {
    return {{"node", std::to_string(n.id)}, {"address", n.host + ":" + std::to_string(n.port)}};
  };
  page.Family("nums_node_up", "gauge", "1 while the node's heartbeats reach the head, else 0.");
  for (const Row& r : rows) page.Sample("nums_node_up", label(r.node), r.node.live ? 1 : 0);
  page.Family("nums_node_heartbeat_age_seconds", "gauge",
              "Seconds since the node's last heartbeat reached the head.");
  for (const Row& r : rows) {
    page.Sample("nums_node_heartbeat_age_seconds", label(r.node), r.heartbeat_age);
  }
  page.Family("nums_node_cores", "gauge", "Worker threads of the node, as it registered.");
  for (const Row& r : rows) {
    page.Sample("nums_node_cores", label(r.node), static_cast<double>(r.node.cores));
  }
  page.Family("nums_node_memory_bytes", "gauge",
              "Memory of the node: the capacity it registered with (0: the machine's memory). "
              "Its use is on the node's own page.");
  for (const Row& r : rows) {
    MetricLabels l = label(r.node);
    l.emplace_back("tier", "capacity");
    page.Sample("nums_node_memory_bytes", l, static_cast<double>(r.node.memory_bytes));
  }
  AppendRpcLatencies(page);
  return page.str();
}

}  // namespace nums::engine::cluster
