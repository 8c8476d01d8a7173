#include "engine/cluster/dashboard_api.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace nums::engine::cluster {
namespace {

using nlohmann::json;

// Grid of the cluster history, and how old a node's sample may be to count in it.
constexpr int64_t kStepMs = 1000;
constexpr int64_t kStaleMs = 5000;

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

json SampleJson(const NodeSample& s, int64_t now_ms) {
  return {{"age_ms", now_ms - s.unix_ms},     {"memory_used", s.memory_used},
          {"spilled_bytes", s.spilled_bytes}, {"memory_capacity", s.memory_capacity},
          {"objects", s.num_objects},         {"tasks_queued", s.tasks_queued},
          {"tasks_running", s.tasks_running}, {"tasks_done", s.tasks_run - s.tasks_failed},
          {"tasks_failed", s.tasks_failed},   {"tasks_per_s", s.tasks_per_s},
          {"net_in_per_s", s.net_in_per_s},   {"net_out_per_s", s.net_out_per_s}};
}

// A message may hold any bytes a kernel put in it: invalid UTF-8 is replaced, never thrown on.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

const char* ErrorCodeName(int code) {
  static const char* const kNames[] = {"Error",           "ShapeError",    "DTypeError",
                                       "IndexError",      "ValueError",    "IOError",
                                       "ClusterError",    "NodeLostError", "AuthError",
                                       "RemoteTaskError", "TimeoutError",  "OutOfMemoryError"};
  constexpr int n = static_cast<int>(sizeof kNames / sizeof kNames[0]);
  return code >= 0 && code < n ? kNames[code] : "Error";
}

std::string NodesJson(const std::vector<wire::NodeW>& members, const ClusterMonitor& monitor,
                      int64_t now_ms) {
  json nodes = json::array();
  for (const wire::NodeW& m : members) {
    json n = {{"id", m.id},     {"address", m.host + ":" + std::to_string(m.port)},
              {"live", m.live}, {"cores", m.cores},
              {"gpus", m.gpus}, {"incarnation", Hex(static_cast<uint64_t>(m.incarnation))}};
    NodeSample s;
    n["stats"] = monitor.Latest(m.id, &s) ? SampleJson(s, now_ms) : json(nullptr);
    nodes.push_back(std::move(n));
  }
  return Dump({{"now_ms", now_ms}, {"nodes", std::move(nodes)}});
}

std::string ClusterJson(const std::vector<wire::NodeW>& members, const ClusterMonitor& monitor,
                        int64_t now_ms, int64_t started_ms) {
  int64_t live = 0, cores = 0, gpus = 0, used = 0, spilled = 0, capacity = 0, objects = 0;
  int64_t queued = 0, running = 0, done = 0, failed = 0;
  double in = 0, out = 0, tasks_per_s = 0;
  for (const wire::NodeW& m : members) {
    if (!m.live) continue;  // a lost node's last stats say nothing of now
    ++live;
    cores += m.cores;
    gpus += m.gpus;
    NodeSample s;
    if (!monitor.Latest(m.id, &s)) continue;
    used += s.memory_used;
    spilled += s.spilled_bytes;
    capacity += s.memory_capacity;
    objects += s.num_objects;
    queued += s.tasks_queued;
    running += s.tasks_running;
    done += s.tasks_run - s.tasks_failed;
    failed += s.tasks_failed;
    in += s.net_in_per_s;
    out += s.net_out_per_s;
    tasks_per_s += s.tasks_per_s;
  }
  json drivers = json::array();
  for (const SessionTotal& t : monitor.Sessions()) {
    drivers.push_back({{"session", Hex(t.session)},
                       {"nodes", t.nodes},
                       {"leased_nodes", t.leased_nodes},
                       {"objects", t.objects},
                       {"memory_bytes", t.memory_bytes},
                       {"spilled_bytes", t.spilled_bytes}});
  }
  return Dump(
      {{"now_ms", now_ms},
       {"uptime_s", (now_ms - started_ms) / 1000},
       {"nodes", {{"total", static_cast<int64_t>(members.size())}, {"live", live}}},
       {"cores", cores},
       {"gpus", gpus},
       {"memory", {{"used", used}, {"spilled", spilled}, {"capacity", capacity}}},
       {"objects", objects},
       {"tasks", {{"queued", queued}, {"running", running}, {"done", done}, {"failed", failed}}},
       {"tasks_per_s", tasks_per_s},
       {"net", {{"in_per_s", in}, {"out_per_s", out}}},
       {"drivers", std::move(drivers)}});
}

std::string HistoryJson(const std::vector<wire::NodeW>& members, const ClusterMonitor& monitor,
                        int64_t since_ms, int64_t now_ms) {
  json cluster = json::array();
  for (const ClusterSample& c : monitor.History(since_ms, now_ms, kStepMs, kStaleMs)) {
    cluster.push_back({{"t", c.unix_ms},
                       {"memory_used", c.memory_used},
                       {"spilled_bytes", c.spilled_bytes},
                       {"memory_capacity", c.memory_capacity},
                       {"tasks_queued", c.tasks_queued},
                       {"tasks_running", c.tasks_running},
                       {"tasks_per_s", c.tasks_per_s},
                       {"net_in_per_s", c.net_in_per_s},
                       {"net_out_per_s", c.net_out_per_s}});
  }
  json nodes = json::object();
  for (const wire::NodeW& m : members) {
    json series = json::array();
    for (const NodeSample& s : monitor.NodeHistory(m.id, since_ms)) {
      series.push_back({{"t", s.unix_ms},
                        {"memory_used", s.memory_used},
                        {"spilled_bytes", s.spilled_bytes},
                        {"tasks_per_s", s.tasks_per_s}});
    }
    nodes[std::to_string(m.id)] = std::move(series);
  }
  return Dump({{"now_ms", now_ms},
               {"step_ms", kStepMs},
               {"cluster", std::move(cluster)},
               {"nodes", std::move(nodes)}});
}

std::string JobsJson(const std::vector<wire::JobW>& jobs, int64_t now_ms) {
  json out = json::array();
  for (const wire::JobW& j : jobs) {
    out.push_back({{"id", j.id},
                   {"state", j.state},
                   {"argv", j.argv},
                   {"working_dir", j.working_dir},
                   {"pid", j.pid},
                   {"start_ms", j.start_ms},
                   {"end_ms", j.end_ms},
                   {"exit_code", j.exit_code},
                   {"signal", j.signal},
                   {"message", j.message},
                   {"log_bytes", j.log_bytes}});
  }
  return Dump({{"now_ms", now_ms}, {"jobs", std::move(out)}});
}

std::string ErrorsJson(const ClusterMonitor& monitor, int64_t limit) {
  json errors = json::array();
  for (const NodeError& e : monitor.Errors(limit)) {
    errors.push_back({{"node", e.node},
                      {"seq", e.error.seq},
                      {"time_ms", e.error.unix_ms},
                      {"type", ErrorCodeName(e.error.error.code)},
                      {"task", e.error.error.task},
                      {"message", e.error.error.message}});
  }
  return Dump({{"errors", std::move(errors)}});
}

}  // namespace nums::engine::cluster
