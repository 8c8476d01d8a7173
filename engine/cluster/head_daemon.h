#pragma once
// HeadDaemon: cluster membership and heartbeats. Nodes register (ids 0, 1, 2, ... in order) and
// send heartbeats; drivers list the nodes. No object data passes through it.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/cluster_monitor.h"
#include "engine/cluster/dashboard.h"
#include "engine/cluster/job_table.h"
#include "engine/cluster/metrics.h"
#include "engine/cluster/transport.h"

namespace nums::engine::cluster {

struct HeadDaemonOptions {
  std::string bind_host = "127.0.0.1";
  int port = 0;  ///< 0 picks a free port
  std::string token;
  /// A node whose last heartbeat is older than this is listed as not live.
  std::chrono::milliseconds heartbeat_timeout{5000};
  ServerLimits limits;  ///< of the connections it serves
  /// Port of the Prometheus page (GET /metrics on bind_host); -1: none, 0: a free port.
  int metrics_port = -1;
  /// TLS (when tls.enabled): the head's certificate and key, and the CA it checks nodes against
  /// when it asks them to stop.
  TlsOptions tls;
  /// The cluster CA's private key: with it the head issues node certificates (SignCertificate);
  /// empty: it refuses, and nodes bring their own.
  std::string tls_ca_key_file;
  /// Port of the web dashboard (on bind_host); -1: none, 0: a free port. With it the head keeps
  /// the stats that heartbeats carry (ClusterMonitor).
  int dashboard_port = -1;
  /// Where the dashboard's one-time login link goes (DashboardOptions::login_url_file).
  std::string dashboard_login_file;
  /// Where the head keeps the jobs it runs (JobTable); empty: it runs none.
  std::string jobs_dir;
  /// What jobs are told: the head's address is advertise_host:port (default bind_host, and
  /// 127.0.0.1 for 0.0.0.0); the token is in token_file.
  std::string advertise_host;
  std::string token_file;
};

class HeadDaemon {
 public:
  /// Binds and starts serving; throws ClusterError when it cannot listen.
  static std::unique_ptr<HeadDaemon> Start(const HeadDaemonOptions& options);
  ~HeadDaemon();

  /// Waits up to `timeout` for a Shutdown call or RequestStop(); true once one came.
  bool WaitForStop(std::chrono::milliseconds timeout);
  void RequestStop();
  /// Asks every registered node to stop (best effort, bounded by socket timeouts).
  void StopNodes();
  /// Stops the running jobs and waits for them (JobTable::Close); the head takes no more.
  void StopJobs();
  int port() const { return port_; }
  /// The metrics page's port; -1 when it serves none.
  int metrics_port() const { return metrics_ ? metrics_->port() : -1; }
  /// The head's Prometheus page: the members as they registered and whether they are live, and
  /// the head's RPC latencies. Node stats are on each node's own page.
  std::string RenderMetrics();
  /// The dashboard's port; -1 when it serves none.
  int dashboard_port() const { return dashboard_ ? dashboard_->port() : -1; }
  /// The dashboard's login link with the code outstanding now; "" when it serves none.
  std::string dashboard_login_url() const { return dashboard_ ? dashboard_->login_url() : ""; }

 private:
  class Handler;
  class HandlerFactory;
  explicit HeadDaemon(const HeadDaemonOptions& options) : options_(options) {}
  int64_t Register(wire::NodeW node);
  void Heartbeat(int64_t id, const wire::StatsW& stats);
  std::vector<wire::NodeW> List();
  /// A certificate from the cluster CA for a node's signing request; throws ClusterError when
  /// this head issues none.
  std::string Sign(const std::string& request, const std::vector<std::string>& names) const;
  /// The job table; ClusterError when this head runs no jobs.
  JobTable& Jobs();

  const HeadDaemonOptions options_;
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<MetricsServer> metrics_;
  ClusterMonitor monitor_;                // fed by heartbeats while the dashboard serves
  std::unique_ptr<Dashboard> dashboard_;  // stopped before the members it lists go
  std::unique_ptr<JobTable> jobs_;        // null when the head runs no jobs
  int port_ = 0;
  std::shared_ptr<const TlsClient> tls_client_;  // null without TLS
  CertifiedKey ca_;                              // set at start: empty key without the CA key

  /// Ids a node may ask for when it registers again (after this head restarted).
  static constexpr int64_t kMaxNodes = 1 << 16;
  struct Member {
    wire::NodeW node;
    std::chrono::steady_clock::time_point last_heartbeat;
  };
  std::mutex members_mu_;  // guards members_
  std::vector<Member> members_;

  std::mutex stop_mu_;  // guards stop_
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace nums::engine::cluster
