#pragma once
// Dashboard: the head's live web page (`nums start --head --dashboard-port P`), served with
// cpp-httplib on the head's bind address. The page itself (dashboard_page.html, built into the
// binary) polls a JSON API (docs/dashboard.md) made from the head's membership and its
// ClusterMonitor. Everything but the login page asks for a session cookie, got by logging in
// with the one-time code of the printed link or with the cluster token.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/cluster_monitor.h"
#include "engine/cluster/gen/nums_types.h"

namespace nums::engine::cluster {

struct DashboardOptions {
  std::string host = "127.0.0.1";
  int port = 0;  ///< 0 picks a free port
  std::string token;
  /// Where the current login link goes (mode 0600, replaced after each use of it); empty: to
  /// the log.
  std::string login_url_file;
  /// The jobs the head runs (JobTable::List), for GET /api/jobs; empty: none.
  std::function<std::vector<wire::JobW>()> jobs;
};

/// The page as served at GET / (HTML with its script and styles inline; nothing from outside).
extern const char* const kDashboardPage;

class Dashboard {
 public:
  /// Binds and starts serving on threads of its own; throws ClusterError when it cannot listen.
  /// `members` lists the head's nodes; it and `monitor` must outlive the dashboard.
  Dashboard(const DashboardOptions& options, std::function<std::vector<wire::NodeW>()> members,
            const ClusterMonitor& monitor);
  /// Stops serving and joins its threads.
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  int port() const { return port_; }
  /// http://HOST:PORT/login?code=CODE with the login code outstanding now.
  std::string login_url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace nums::engine::cluster
