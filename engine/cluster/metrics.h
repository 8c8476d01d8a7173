#pragma once
// Prometheus metrics of the daemons: MetricsText writes the text exposition format (version
// 0.0.4), MetricsServer serves it read-only at GET /metrics over HTTP (cpp-httplib). The pages
// themselves are made by HeadDaemon and NodeDaemon from the counters they keep.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/histogram.h"

namespace nums::engine::cluster {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// A page of metrics: each family once (`# HELP`, `# TYPE`), then its samples.
class MetricsText {
 public:
  /// Starts family `name` of `type` ("counter", "gauge" or "histogram").
  void Family(const std::string& name, const std::string& type, const std::string& help);
  /// One sample of the current family: `name` is the family's, or with a suffix (`_bucket`).
  void Sample(const std::string& name, const MetricLabels& labels, double value);
  /// The `_bucket`, `_sum` and `_count` samples of one histogram of the current family.
  void Histogram(const std::string& name, const MetricLabels& labels,
                 const LatencyHistogram::Snapshot& h);
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

/// Appends `nums_rpc_duration_seconds`: the RPC handlers of this process (ProcessRpcLatencies()).
void AppendRpcLatencies(MetricsText& page);

/// An HTTP server on its own threads that answers GET /metrics with `render()` and every other
/// request with 404. Nothing it serves changes the cluster, so it asks for no token.
class MetricsServer {
 public:
  /// Binds `host`:`port` (0: a free port) and starts serving; throws ClusterError when it cannot.
  MetricsServer(const std::string& host, int port, std::function<std::string()> render);
  /// Stops serving and joins its threads.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace nums::engine::cluster
