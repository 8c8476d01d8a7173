#include "engine/cluster/metrics.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "engine/cluster/log.h"
#include "engine/cluster/rpc_stats.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {
namespace {

// A label value with `\`, `"` and newlines escaped as the format asks.
std::string Escape(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A sample value: integers exactly, others with enough digits to read back; +Inf, -Inf, NaN.
std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.15g", v);
  }
  return buf;
}

// "0.001" rather than "0.0010000000000000000208" for a bucket bound.
std::string Bound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void MetricsText::Family(const std::string& name, const std::string& type,
                         const std::string& help) {
  text_ += "# HELP " + name + " " + help + "\n";
  text_ += "# TYPE " + name + " " + type + "\n";
}

void MetricsText::Sample(const std::string& name, const MetricLabels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      text_ += labels[i].first + "=\"" + Escape(labels[i].second) + '"';
    }
    text_ += '}';
  }
  text_ += ' ' + Number(value) + '\n';
}

void MetricsText::Histogram(const std::string& name, const MetricLabels& labels,
                            const LatencyHistogram::Snapshot& h) {
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    MetricLabels with = labels;
    with.emplace_back("le", i < LatencyHistogram::kBounds.size()
                                ? Bound(LatencyHistogram::kBounds[i])
                                : std::string("+Inf"));
    Sample(name + "_bucket", with, static_cast<double>(h.cumulative[i]));
  }
  Sample(name + "_sum", labels, h.sum_seconds);
  Sample(name + "_count", labels, static_cast<double>(h.count));
}

void AppendRpcLatencies(MetricsText& page) {
  page.Family("nums_rpc_duration_seconds", "histogram",
              "Time the RPC handlers of this daemon took, by handler.");
  ProcessRpcLatencies().ForEach([&](const std::string& rpc, const LatencyHistogram& h) {
    page.Histogram("nums_rpc_duration_seconds", {{"rpc", rpc}}, h.Read());
  });
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::atomic<bool> done{false};  // listen_after_bind returned
  std::thread thread;
};

MetricsServer::MetricsServer(const std::string& host, int port, std::function<std::string()> render)
    : impl_(std::make_unique<Impl>()) {
  // Scrapes are rare and short: two threads, not httplib's default of one per core.
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  impl_->server.Get(
      "/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
        try {
          res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
        } catch (const std::exception& e) {
          Log().error("GET /metrics: {}", e.what());
          res.status = 500;
          res.set_content(std::string("metrics failed: ") + e.what() + "\n", "text/plain");
        }
      });
  port_ = port == 0 ? impl_->server.bind_to_any_port(host) : port;
  if (port_ < 0 || (port != 0 && !impl_->server.bind_to_port(host, port))) {
    throw ClusterError("metrics: cannot listen on " + host + ":" + std::to_string(port));
  }
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->server.listen_after_bind();
    impl->done.store(true);
  });
  Log().info("metrics at http://{}:{}/metrics", host, port_);
}

MetricsServer::~MetricsServer() {
  // httplib's stop() does nothing before the listening loop has started: wait for it first.
  while (!impl_->done.load() && !impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace nums::engine::cluster
