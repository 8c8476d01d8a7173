// The dashboard's pure parts, step by step: ClusterMonitor (rates, restarts, the history grid,
// errors, sessions), DashboardAuth (one-time codes, the token, cookies) and the JSON API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "engine/cluster/cluster_monitor.h"
#include "engine/cluster/dashboard_api.h"
#include "engine/cluster/dashboard_auth.h"
#include "engine/recent_errors.h"

namespace nums::engine::cluster {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

wire::StatsW Stats(int64_t memory, int64_t tasks_run, int64_t net_in, int64_t net_out) {
  wire::StatsW s;
  s.memory_used = memory;
  s.memory_capacity = 1000;
  s.tasks_run = tasks_run;
  s.net_in_bytes = net_in;
  s.net_out_bytes = net_out;
  return s;
}

wire::TaskErrorW Error(int64_t seq, const std::string& task, const std::string& message) {
  wire::TaskErrorW e;
  e.seq = seq;
  e.unix_ms = 1000 * seq;
  e.error.code = static_cast<int8_t>(ErrorCode::kShape);
  e.error.task = task;
  e.error.message = message;
  e.error.node = 1;
  return e;
}

TEST(ClusterMonitorTest, RatesComeFromConsecutiveSamples) {
  ClusterMonitor m;
  NodeSample s;
  EXPECT_FALSE(m.Latest(0, &s));
  m.Record(0, Stats(100, 10, 0, 0), 10'000);
  ASSERT_TRUE(m.Latest(0, &s));
  EXPECT_EQ(s.tasks_per_s, 0);  // no earlier sample to compare with
  m.Record(0, Stats(300, 30, 4000, 1000), 12'000);
  ASSERT_TRUE(m.Latest(0, &s));
  EXPECT_EQ(s.memory_used, 300);
  EXPECT_DOUBLE_EQ(s.tasks_per_s, 10.0);  // 20 tasks in 2 s
  EXPECT_DOUBLE_EQ(s.net_in_per_s, 2000.0);
  EXPECT_DOUBLE_EQ(s.net_out_per_s, 500.0);
  // A heartbeat older than the newest sample is dropped.
  m.Record(0, Stats(5, 31, 4000, 1000), 11'000);
  ASSERT_TRUE(m.Latest(0, &s));
  EXPECT_EQ(s.memory_used, 300);
  EXPECT_EQ(m.NodeHistory(0, 0).size(), 2u);
  EXPECT_EQ(m.NodeHistory(0, 10'000).size(), 1u);
}

TEST(ClusterMonitorTest, ARestartedNodeStartsItsHistoryAgain) {
  ClusterMonitor m;
  m.Record(3, Stats(100, 50, 10, 10), 1000);
  m.Record(3, Stats(100, 60, 10, 10), 2000);
  m.Record(3, Stats(0, 2, 0, 0), 3000);  // counters went down: a new process
  NodeSample s;
  ASSERT_TRUE(m.Latest(3, &s));
  EXPECT_EQ(s.tasks_run, 2);
  EXPECT_EQ(s.tasks_per_s, 0);  // not (2 - 60) / 1 s
  EXPECT_EQ(m.NodeHistory(3, 0).size(), 1u);
}

TEST(ClusterMonitorTest, HistoryIsBoundedPerNode) {
  ClusterMonitor m(/*history=*/5, /*errors=*/3);
  for (int64_t i = 1; i <= 12; ++i) m.Record(0, Stats(i, i, 0, 0), i * 1000);
  const auto h = m.NodeHistory(0, 0);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.front().unix_ms, 8000);
  EXPECT_EQ(h.back().unix_ms, 12'000);
}

TEST(ClusterMonitorTest, ClusterHistorySumsEachNodesLatestSampleOnAGrid) {
  ClusterMonitor m;
  m.Record(0, Stats(10, 0, 0, 0), 1000);
  m.Record(0, Stats(20, 10, 0, 0), 2000);  // 10 tasks/s
  m.Record(1, Stats(100, 0, 0, 0), 2500);
  m.Record(0, Stats(30, 30, 0, 0), 3000);  // 20 tasks/s
  m.Record(1, Stats(200, 5, 0, 0), 3500);  // 5 tasks/s
  // Grid 1000 apart ending at 4000, samples older than 1500 ms left out.
  const auto h = m.History(0, 4000, 1000, 1500);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].unix_ms, 1000);
  EXPECT_EQ(h[0].memory_used, 10);
  EXPECT_EQ(h[1].unix_ms, 2000);
  EXPECT_EQ(h[1].memory_used, 20);  // node 1 has no sample yet
  EXPECT_DOUBLE_EQ(h[1].tasks_per_s, 10);
  EXPECT_EQ(h[2].memory_used, 30 + 100);
  EXPECT_DOUBLE_EQ(h[2].tasks_per_s, 20);
  EXPECT_EQ(h[3].memory_used, 30 + 200);
  EXPECT_DOUBLE_EQ(h[3].tasks_per_s, 25);
  EXPECT_EQ(h[3].memory_capacity, 2000);
  // Stale samples: from 5000 on, node 0 (3000) and node 1 (3500) are both too old.
  const auto later = m.History(3500, 6000, 1000, 1000);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].unix_ms, 4000);
  // Nothing after `since`, and nothing for a bad step.
  EXPECT_TRUE(m.History(4000, 4000, 1000, 1500).empty());
  EXPECT_TRUE(m.History(0, 4000, 0, 1500).empty());
}

TEST(ClusterMonitorTest, ErrorsAreKeptOnceAndBounded) {
  ClusterMonitor m(/*history=*/10, /*errors=*/3);
  wire::StatsW s = Stats(0, 1, 0, 0);
  s.errors = {Error(1, "a", "first"), Error(2, "b", "second")};
  m.Record(0, s, 1000);
  s.tasks_run = 2;
  s.errors = {Error(2, "b", "second"), Error(3, "c", "third")};  // sent again after a reconnect
  m.Record(0, s, 2000);
  auto e = m.Errors(10);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].error.error.task, "a");
  EXPECT_EQ(e[2].error.error.task, "c");
  EXPECT_EQ(e[2].node, 0);
  s.tasks_run = 3;
  s.errors = {Error(4, "d", "fourth")};
  m.Record(0, s, 3000);
  e = m.Errors(10);
  ASSERT_EQ(e.size(), 3u);  // bounded: the oldest went
  EXPECT_EQ(e[0].error.error.task, "b");
  ASSERT_EQ(m.Errors(1).size(), 1u);
  EXPECT_EQ(m.Errors(1)[0].error.error.task, "d");
  EXPECT_TRUE(m.Errors(0).empty());
}

TEST(ClusterMonitorTest, SessionsAreSummedOverNodes) {
  ClusterMonitor m;
  auto usage = [](int64_t session, int64_t objects, int64_t memory, bool leased) {
    wire::SessionUsageW u;
    u.session = session;
    u.objects = objects;
    u.memory_bytes = memory;
    u.spilled_bytes = 1;
    u.leased = leased;
    return u;
  };
  wire::StatsW a = Stats(0, 0, 0, 0), b = Stats(0, 0, 0, 0);
  a.sessions = {usage(7, 2, 100, true), usage(9, 1, 5, true)};
  b.sessions = {usage(7, 3, 300, false)};
  m.Record(0, a, 1000);
  m.Record(1, b, 1000);
  const auto s = m.Sessions();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].session, 7u);  // the largest first
  EXPECT_EQ(s[0].nodes, 2);
  EXPECT_EQ(s[0].leased_nodes, 1);
  EXPECT_EQ(s[0].objects, 5);
  EXPECT_EQ(s[0].memory_bytes, 400);
  EXPECT_EQ(s[0].spilled_bytes, 2);
  EXPECT_EQ(s[1].session, 9u);
  // The node's next stats replace what it said of its sessions.
  a.sessions.clear();
  m.Record(0, a, 2000);
  ASSERT_EQ(m.Sessions().size(), 1u);
  EXPECT_EQ(m.Sessions()[0].memory_bytes, 300);
  m.Forget(1);
  EXPECT_TRUE(m.Sessions().empty());
}

TEST(RecentErrorsTest, KeepsTheNewestAndNumbersThemInOrder) {
  RecentErrors r(/*capacity=*/2);
  ErrorInfo e;
  e.task = "t1";
  r.Add(e);
  e.task = "t2";
  e.message = std::string(RecentErrors::kMaxMessage * 2, 'x');
  r.Add(e);
  e.task = "t3";
  e.message = "short";
  r.Add(e);
  EXPECT_EQ(r.total(), 3);
  auto all = r.Since(0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].seq, 2);
  EXPECT_EQ(all[0].error.task, "t2");
  EXPECT_EQ(all[0].error.message.size(), RecentErrors::kMaxMessage);
  EXPECT_EQ(all[0].error.message.substr(RecentErrors::kMaxMessage - 3), "...");
  EXPECT_GT(all[0].unix_ms, 0);
  EXPECT_EQ(all[1].seq, 3);
  ASSERT_EQ(r.Since(2).size(), 1u);
  EXPECT_EQ(r.Since(2)[0].error.task, "t3");
  EXPECT_TRUE(r.Since(3).empty());
}

TEST(DashboardAuthTest, ALoginCodeWorksOnceAndMakesTheNext) {
  DashboardAuth auth("the-token");
  const auto t0 = DashboardAuth::Clock::time_point{} + 1h;
  const std::string code = auth.code();
  EXPECT_EQ(code.size(), 64u);
  EXPECT_FALSE(auth.LoginWithCode("", t0));
  EXPECT_FALSE(auth.LoginWithCode(code + "0", t0));
  EXPECT_EQ(auth.code(), code);  // a wrong code spends nothing
  auto session = auth.LoginWithCode(code, t0);
  ASSERT_TRUE(session);
  EXPECT_NE(auth.code(), code);
  EXPECT_FALSE(auth.LoginWithCode(code, t0));  // spent
  EXPECT_TRUE(auth.Allowed("nums_dashboard=" + *session, t0));
  EXPECT_TRUE(auth.Allowed("a=1; nums_dashboard=" + *session + "; b=2", t0 + 1s));
  EXPECT_FALSE(auth.Allowed("nums_dashboard=" + *session, t0 + DashboardAuth::kSessionTtl));
  EXPECT_FALSE(auth.Allowed("", t0));
  EXPECT_FALSE(auth.Allowed("nums_dashboard=", t0));
  EXPECT_FALSE(auth.Allowed("nums_dashboard=" + code, t0));
  EXPECT_FALSE(auth.Allowed("xnums_dashboard=" + *session, t0));
}

TEST(DashboardAuthTest, TheTokenLogsInAndLogoutEndsTheSession) {
  DashboardAuth auth("the-token");
  const auto t0 = DashboardAuth::Clock::time_point{} + 1h;
  EXPECT_FALSE(auth.LoginWithToken("", t0));
  EXPECT_FALSE(auth.LoginWithToken("the-toke", t0));
  EXPECT_FALSE(auth.LoginWithToken("the-token ", t0));
  auto a = auth.LoginWithToken("the-token", t0);
  auto b = auth.LoginWithToken("the-token", t0);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  auth.Logout("nums_dashboard=" + *a);
  EXPECT_FALSE(auth.Allowed("nums_dashboard=" + *a, t0));
  EXPECT_TRUE(auth.Allowed("nums_dashboard=" + *b, t0));
}

TEST(DashboardAuthTest, SessionsAreBounded) {
  DashboardAuth auth("tok");
  auto t = DashboardAuth::Clock::time_point{} + 1h;
  auto first = auth.LoginWithToken("tok", t);
  for (int64_t i = 0; i < DashboardAuth::kMaxSessions; ++i) {
    t += 1ms;
    ASSERT_TRUE(auth.LoginWithToken("tok", t));
  }
  EXPECT_FALSE(auth.Allowed("nums_dashboard=" + *first, t));  // the oldest went
}

TEST(DashboardAuthTest, CookieValueParsesTheHeader) {
  EXPECT_EQ(DashboardAuth::CookieValue("a=1; b=2", "b"), "2");
  EXPECT_EQ(DashboardAuth::CookieValue("a=1;b=2 ", "b"), "2");
  EXPECT_EQ(DashboardAuth::CookieValue("ab=1; b=2", "a"), "");
  EXPECT_EQ(DashboardAuth::CookieValue("", "a"), "");
  EXPECT_EQ(DashboardAuth::CookieValue("a", "a"), "");
  EXPECT_EQ(DashboardAuth::CookieValue("a=x=y", "a"), "x=y");
}

TEST(DashboardApiTest, NodesAndClusterTotalsCountLiveNodes) {
  ClusterMonitor m;
  wire::NodeW n0, n1, n2;
  n0.id = 0, n0.host = "127.0.0.1", n0.port = 5000, n0.cores = 4, n0.gpus = 1, n0.live = true;
  n1.id = 1, n1.host = "10.0.0.2", n1.port = 6000, n1.cores = 8, n1.live = true;
  n2.id = 2, n2.host = "10.0.0.3", n2.port = 7000, n2.cores = 2, n2.live = false;
  wire::StatsW s0 = Stats(100, 10, 0, 0), s2 = Stats(5000, 1, 0, 0);
  s0.tasks_failed = 3;
  s0.tasks_queued = 4;
  s0.num_objects = 6;
  m.Record(0, s0, 1000);
  s0.tasks_run = 30;
  m.Record(0, s0, 3000);
  m.Record(2, s2, 3000);
  const json nodes = json::parse(NodesJson({n0, n1, n2}, m, 4000));
  ASSERT_EQ(nodes["nodes"].size(), 3u);
  EXPECT_EQ(nodes["nodes"][0]["address"], "127.0.0.1:5000");
  EXPECT_EQ(nodes["nodes"][0]["gpus"], 1);
  EXPECT_EQ(nodes["nodes"][0]["stats"]["tasks_done"], 27);
  EXPECT_EQ(nodes["nodes"][0]["stats"]["tasks_failed"], 3);
  EXPECT_EQ(nodes["nodes"][0]["stats"]["age_ms"], 1000);
  EXPECT_DOUBLE_EQ(nodes["nodes"][0]["stats"]["tasks_per_s"].get<double>(), 10.0);
  EXPECT_TRUE(nodes["nodes"][1]["stats"].is_null());
  EXPECT_FALSE(nodes["nodes"][2]["live"].get<bool>());

  const json c = json::parse(ClusterJson({n0, n1, n2}, m, 4000, 1000));
  EXPECT_EQ(c["nodes"]["total"], 3);
  EXPECT_EQ(c["nodes"]["live"], 2);
  EXPECT_EQ(c["cores"], 12);  // node 2 is lost
  EXPECT_EQ(c["gpus"], 1);
  EXPECT_EQ(c["memory"]["used"], 100);
  EXPECT_EQ(c["memory"]["capacity"], 1000);
  EXPECT_EQ(c["tasks"]["done"], 27);
  EXPECT_EQ(c["tasks"]["queued"], 4);
  EXPECT_EQ(c["objects"], 6);
  EXPECT_EQ(c["uptime_s"], 3);
}

TEST(DashboardApiTest, HistoryAndErrors) {
  ClusterMonitor m;
  wire::NodeW n0;
  n0.id = 0;
  n0.live = true;
  wire::StatsW s = Stats(10, 0, 0, 0);
  s.errors = {Error(1, "matmul", std::string("bad \xff bytes"))};
  m.Record(0, s, 1000);
  m.Record(0, Stats(20, 4, 0, 0), 2000);
  const json h = json::parse(HistoryJson({n0}, m, 0, 2500));
  EXPECT_EQ(h["step_ms"], 1000);
  ASSERT_EQ(h["cluster"].size(), 2u);
  EXPECT_EQ(h["cluster"][1]["memory_used"], 20);
  ASSERT_EQ(h["nodes"]["0"].size(), 2u);
  EXPECT_DOUBLE_EQ(h["nodes"]["0"][1]["tasks_per_s"].get<double>(), 4.0);
  EXPECT_EQ(json::parse(HistoryJson({n0}, m, 1500, 2500))["nodes"]["0"].size(), 1u);

  const json e = json::parse(ErrorsJson(m, 10));  // invalid UTF-8 replaced, not thrown on
  ASSERT_EQ(e["errors"].size(), 1u);
  EXPECT_EQ(e["errors"][0]["task"], "matmul");
  EXPECT_EQ(e["errors"][0]["type"], "ShapeError");
  EXPECT_EQ(e["errors"][0]["node"], 0);
  EXPECT_EQ(e["errors"][0]["message"].get<std::string>().substr(0, 4), "bad ");
  EXPECT_STREQ(ErrorCodeName(static_cast<int>(ErrorCode::kOutOfMemory)), "OutOfMemoryError");
  EXPECT_STREQ(ErrorCodeName(99), "Error");
}

}  // namespace
}  // namespace nums::engine::cluster
