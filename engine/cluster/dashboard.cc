#include "engine/cluster/dashboard.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "engine/cluster/dashboard_api.h"
#include "engine/cluster/dashboard_auth.h"
#include "engine/cluster/log.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {
namespace {

// Several browsers polling every second or two, each with a few requests in flight.
constexpr int kThreads = 4;
constexpr int kErrorsDefault = 50;
constexpr int kErrorsMax = ClusterMonitor::kDefaultErrors;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The page may run no script and load nothing but from this server; no other site may frame it.
void Secure(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                 "connect-src 'self'; form-action 'self'; frame-ancestors 'none'");
}

std::string LoginPage(const std::string& note) {
  return R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nums dashboard: log in</title>
<style>body{font:15px system-ui,sans-serif;margin:15vh auto;max-width:28em;color:#222}
input{font:inherit;width:100%;box-sizing:border-box;padding:.4em;margin:.4em 0}
.note{color:#a00}</style></head>
<body><h1>nums dashboard</h1>
<p>Open the link <code>nums start --head</code> printed (a new one is in
<code>STATE_DIR/dashboard.url</code> after each use), or enter the cluster token.</p>
)" + (note.empty() ? std::string() : "<p class=\"note\" id=\"note\">" + note + "</p>\n") +
         R"(<form method="post" action="/login">
<input type="password" name="token" placeholder="cluster token" autocomplete="off" autofocus>
<input type="submit" value="Log in"></form></body></html>
)";
}

// `content` into `path` with mode 0600, replacing it in one step.
void WritePrivate(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw IOError("dashboard: cannot write " + tmp);
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, content.data(), content.size()) ==
                                                 static_cast<ssize_t>(content.size());
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw IOError("dashboard: cannot write " + path);
  }
}

int64_t ParamInt(const httplib::Request& req, const char* name, int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  try {
    return std::stoll(req.get_param_value(name));
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

struct Dashboard::Impl {
  Impl(const DashboardOptions& o, std::function<std::vector<wire::NodeW>()> m,
       const ClusterMonitor& mon)
      : options(o), members(std::move(m)), monitor(mon), auth(o.token) {}

  std::string Url(const std::string& code) const {
    const std::string host = options.host == "0.0.0.0" ? "127.0.0.1" : options.host;
    return "http://" + host + ":" + std::to_string(port) + "/login?code=" + code;
  }

  // Makes the next login link known: the file, or the log when there is no file.
  void Publish() {
    const std::string url = Url(auth.code());
    if (options.login_url_file.empty()) {
      Log().info("dashboard login (once): {}", url);
      return;
    }
    try {
      WritePrivate(options.login_url_file, url + "\n");
    } catch (const std::exception& e) {
      Log().error("{}", e.what());
    }
  }

  void LoggedIn(const std::string& session, httplib::Response& res) {
    res.set_header("Set-Cookie",
                   std::string(DashboardAuth::kCookie) + "=" + session +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(std::chrono::seconds(DashboardAuth::kSessionTtl).count()));
    res.set_redirect("/", 303);
  }

  void Refused(const char* how, const httplib::Request& req, httplib::Response& res) {
    WarnLimited("dashboard.login",
                std::string("dashboard: login with a wrong ") + how + " from " + req.remote_addr);
    res.status = 403;
    res.set_content(LoginPage(std::string("That ") + how + " is not valid (a link works once)."),
                    "text/html; charset=utf-8");
  }

  // Serves a JSON endpoint to a logged-in browser; 401 to anyone else.
  void Api(const httplib::Request& req, httplib::Response& res,
           const std::function<std::string()>& render) {
    Secure(res);
    if (!auth.Allowed(req.get_header_value("Cookie"), DashboardAuth::Clock::now())) {
      res.status = 401;
      res.set_content(R"({"error":"not logged in: open the login link or log in at /"})",
                      "application/json");
      return;
    }
    try {
      res.set_content(render(), "application/json");
    } catch (const std::exception& e) {
      Log().error("dashboard {}: {}", req.path, e.what());
      res.status = 500;
      res.set_content(R"({"error":"internal error"})", "application/json");
    }
  }

  void Routes() {
    server.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
      Secure(res);
      if (auth.Allowed(req.get_header_value("Cookie"), DashboardAuth::Clock::now())) {
        res.set_content(kDashboardPage, "text/html; charset=utf-8");
      } else {
        res.set_content(LoginPage(""), "text/html; charset=utf-8");
      }
    });
    server.Get("/login", [this](const httplib::Request& req, httplib::Response& res) {
      Secure(res);
      auto session = auth.LoginWithCode(req.get_param_value("code"), DashboardAuth::Clock::now());
      if (!session) return Refused("login link", req, res);
      Publish();
      LoggedIn(*session, res);
    });
    server.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
      Secure(res);
      auto session = auth.LoginWithToken(req.get_param_value("token"), DashboardAuth::Clock::now());
      if (!session) return Refused("token", req, res);
      LoggedIn(*session, res);
    });
    server.Post("/logout", [this](const httplib::Request& req, httplib::Response& res) {
      Secure(res);
      auth.Logout(req.get_header_value("Cookie"));
      res.set_header("Set-Cookie", std::string(DashboardAuth::kCookie) + "=; Path=/; Max-Age=0");
      res.set_redirect("/", 303);
    });
    server.Get("/api/nodes", [this](const httplib::Request& req, httplib::Response& res) {
      Api(req, res, [&] { return NodesJson(members(), monitor, UnixMs()); });
    });
    server.Get("/api/cluster", [this](const httplib::Request& req, httplib::Response& res) {
      Api(req, res, [&] { return ClusterJson(members(), monitor, UnixMs(), started_ms); });
    });
    server.Get("/api/history", [this](const httplib::Request& req, httplib::Response& res) {
      Api(req, res,
          [&] { return HistoryJson(members(), monitor, ParamInt(req, "since", 0), UnixMs()); });
    });
    server.Get("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      Api(req, res, [&] {
        return JobsJson(options.jobs ? options.jobs() : std::vector<wire::JobW>{}, UnixMs());
      });
    });
    server.Get("/api/errors", [this](const httplib::Request& req, httplib::Response& res) {
      Api(req, res, [&] {
        const int64_t limit =
            std::clamp<int64_t>(ParamInt(req, "limit", kErrorsDefault), 0, kErrorsMax);
        return ErrorsJson(monitor, limit);
      });
    });
  }

  const DashboardOptions options;
  const std::function<std::vector<wire::NodeW>()> members;
  const ClusterMonitor& monitor;
  DashboardAuth auth;
  const int64_t started_ms = UnixMs();
  int port = 0;
  int listen_fd = -1;  // the listening socket, seen by the socket-options hook
  httplib::Server server;
  std::atomic<bool> done{false};  // listen_after_bind returned
  std::thread thread;
};

Dashboard::Dashboard(const DashboardOptions& options,
                     std::function<std::vector<wire::NodeW>()> members,
                     const ClusterMonitor& monitor)
    : impl_(std::make_unique<Impl>(options, std::move(members), monitor)) {
  Impl& d = *impl_;
  d.server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  d.server.set_payload_max_length(4096);  // a login form; the API takes no bodies
  d.server.set_keep_alive_max_count(100);
  d.server.set_socket_options([&d](socket_t sock) {
    httplib::default_socket_options(sock);
    d.listen_fd = sock;
  });
  d.Routes();
  const int bound = options.port == 0 ? d.server.bind_to_any_port(options.host) : options.port;
  if (bound < 0 || (options.port != 0 && !d.server.bind_to_port(options.host, options.port))) {
    throw ClusterError("dashboard: cannot listen on " + options.host + ":" +
                       std::to_string(options.port));
  }
  // httplib 0.11 listens with a backlog of 5: connections from a few polling browsers beyond
  // that would be refused. Listening again on the same socket only raises the backlog.
  if (d.listen_fd >= 0) ::listen(d.listen_fd, SOMAXCONN);
  port_ = d.port = bound;
  d.thread = std::thread([impl = impl_.get()] {
    impl->server.listen_after_bind();
    impl->done.store(true);
  });
  Log().info("dashboard at http://{}:{}/", options.host, port_);
  d.Publish();
}

Dashboard::~Dashboard() {
  // httplib's stop() does nothing before the listening loop has started: wait for it first.
  while (!impl_->done.load() && !impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string Dashboard::login_url() const { return impl_->Url(impl_->auth.code()); }

}  // namespace nums::engine::cluster
