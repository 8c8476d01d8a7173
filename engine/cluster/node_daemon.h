#pragma once
// NodeDaemon: one engine::Node (the store, executor and scheduling code of the embedded runtime)
// served over Thrift. It registers with the head, sends heartbeats, and pulls remote task inputs
// straight from the node that holds them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/cluster/chunks.h"
#include "engine/cluster/metrics.h"
#include "engine/cluster/transport.h"
#include "engine/kernel_registry.h"
#include "engine/lease_table.h"
#include "engine/node.h"

namespace nums::engine::cluster {

struct NodeDaemonOptions {
  std::string head_host = "127.0.0.1";
  int head_port = 0;
  std::string token;
  std::string bind_host = "127.0.0.1";
  /// The host peers and drivers dial; empty: bind_host (127.0.0.1 when binding 0.0.0.0).
  std::string advertise_host;
  int port = 0;  ///< 0 picks a free port
  int64_t cores = 1;
  int64_t memory_bytes = 0;  ///< capacity; 0: the machine's physical memory
  /// GPUs it uses, the first of the machine's: -1 all; more than there are is a ClusterError.
  int64_t gpus = -1;
  /// Parent of the node's spill directory (its own is node-PORT under it); empty: no spilling.
  std::string spill_dir;
  int64_t fetch_threads = 8;  ///< threads pulling task inputs from peers
  ServerLimits limits;        ///< of the connections it serves
  /// Port of the Prometheus page (GET /metrics on bind_host); -1: none, 0: a free port.
  int metrics_port = -1;
  /// TLS (when tls.enabled): the CA the head and peers are checked against, and the node's
  /// certificate and key. Without tls.cert_file the node makes a key (kept in memory only) and
  /// the head issues its certificate (Head.SignCertificate), naming the host it registers,
  /// bind_host (every interface address when it binds 0.0.0.0) and tls_names.
  TlsOptions tls;
  std::vector<std::string> tls_names;
};

class NodeDaemon {
 public:
  /// Binds, registers with the head and starts serving. Throws ClusterError or AuthError when the
  /// head cannot be reached or refuses the token.
  static std::unique_ptr<NodeDaemon> Start(const NodeDaemonOptions& options,
                                           std::shared_ptr<const KernelRegistry> registry);
  /// Stops serving, fails pending fetches and waits for running tasks.
  ~NodeDaemon();

  /// Waits up to `timeout` for a Shutdown call or RequestStop(); true once one came.
  bool WaitForStop(std::chrono::milliseconds timeout);
  void RequestStop();
  NodeId id() const { return node_->id(); }
  int port() const { return port_; }
  /// The metrics page's port; -1 when it serves none.
  int metrics_port() const { return metrics_ ? metrics_->port() : -1; }
  /// The node's Prometheus page: memory by tier, objects, tasks, transfers, task durations and
  /// RPC latencies.
  std::string RenderMetrics();

 private:
  class Handler;
  class HandlerFactory;
  class PeerFetcher;
  explicit NodeDaemon(const NodeDaemonOptions& options);
  void HeartbeatLoop();
  /// Ends the leases that ran out: frees their sessions' objects, drops their tasks.
  void LeaseLoop();
  /// The node's counters now, with its task errors numbered above `errors_after` and the
  /// memory of each driver session (Node.Stats and the heartbeats).
  wire::StatsW CollectStats(int64_t errors_after);
  /// What the driver's placement weighs of this node, sent back with SubmitTasks and KeepAlive.
  wire::LoadW CollectLoad();
  /// Throws ClusterError when driver session `session` has ended here.
  void CheckSession(uint64_t session) const;

  /// How long a driver's lease outlives the close of the connection that renewed it.
  static constexpr std::chrono::milliseconds kLeaseGrace{3000};
  static constexpr std::chrono::milliseconds kLeaseCheck{250};

  const NodeDaemonOptions options_;
  std::shared_ptr<const KernelRegistry> registry_;
  std::unique_ptr<PeerFetcher> fetcher_;
  std::unique_ptr<Node> node_;
  IncomingObjects incoming_;
  std::atomic<bool> ready_{false};  // node_ is set; handlers refuse calls before
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<MetricsServer> metrics_;  // after node_ is set; stopped first
  std::thread heartbeat_thread_;
  std::thread lease_thread_;
  LeaseTable leases_;
  wire::NodeW self_;  // what this node registers as, its id included once it has one
  int port_ = 0;

  std::mutex stop_mu_;  // guards stop_
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace nums::engine::cluster
