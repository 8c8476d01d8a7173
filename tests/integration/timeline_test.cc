// The task timeline (Context::timeline, `nums timeline`) and `nums microbenchmark`: a logistic
// regression fit runs on an embedded cluster and on a loopback cluster of node processes, its
// trace is parsed back, and every task the nodes counted must be in it exactly once.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Tasks run per node, once the counters stop moving (a result the driver got may have siblings
// still finishing).
std::map<int64_t, int64_t> SettledTaskCounts(const Context& ctx) {
  std::map<int64_t, int64_t> last;
  for (int i = 0; i < 100; ++i) {
    std::map<int64_t, int64_t> now;
    for (const auto& n : ctx.nodes()) now[n.id] = n.tasks_run;
    if (now == last) return now;
    last = std::move(now);
    std::this_thread::sleep_for(50ms);
  }
  return last;
}

json ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

struct TraceCheck {
  std::map<int64_t, int64_t> tasks;  // per pid
  int64_t remote_bytes = 0;
  std::set<std::string> names;
};

// Checks the schema of every event and that no (node, seq) appears twice.
TraceCheck CheckTrace(const json& trace, int64_t nodes) {
  TraceCheck out;
  std::set<int64_t> named;
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const json& e : trace.at("traceEvents")) {
    for (const char* key : {"name", "ph", "pid", "tid"}) EXPECT_TRUE(e.contains(key)) << e;
    const int64_t pid = e.at("pid").get<int64_t>();
    EXPECT_GE(pid, 0);
    EXPECT_LT(pid, nodes);
    if (e.at("ph") == "M") {
      if (e.at("name") == "process_name") named.insert(pid);
      continue;
    }
    EXPECT_EQ(e.at("ph"), "X") << e;
    EXPECT_TRUE(e.at("name").is_string() && !e.at("name").get<std::string>().empty()) << e;
    EXPECT_TRUE(e.at("ts").is_number()) << e;
    EXPECT_TRUE(e.at("dur").is_number()) << e;
    EXPECT_GE(e.at("ts").get<double>(), 0.0) << e;
    EXPECT_GE(e.at("dur").get<double>(), 0.0) << e;
    EXPECT_GT(e.at("tid").get<int64_t>(), 0) << e;
    const json& args = e.at("args");
    for (const char* key : {"kernel", "inputs", "input_bytes", "remote_bytes", "output_bytes"}) {
      EXPECT_TRUE(args.contains(key)) << e;
    }
    EXPECT_GE(args.at("input_bytes").get<int64_t>(), args.at("remote_bytes").get<int64_t>());
    EXPECT_GE(args.at("output_bytes").get<int64_t>(), 0);
    EXPECT_TRUE(seen.insert({pid, args.at("seq").get<int64_t>()}).second) << "twice: " << e;
    out.remote_bytes += args.at("remote_bytes").get<int64_t>();
    out.names.insert(e.at("name").get<std::string>());
    ++out.tasks[pid];
  }
  EXPECT_EQ(static_cast<int64_t>(named.size()), nodes);
  return out;
}

// A short Newton fit on blobs and its score: data generation, fused GLM steps, tree sums.
double FitLogisticRegression(const Context& ctx) {
  (void)ctx;
  const auto data = models::make_blobs(4000, 6, 7, {.block_rows = 700});
  models::LogisticRegression lr({.solver = "newton", .max_iter = 4});
  lr.fit(data.X, data.y);
  return lr.score(data.X, data.y);
}

// Runs the fit in a recording region and checks the trace against the nodes' task counters.
void CheckRegion(const Context& ctx, const std::filesystem::path& path) {
  const int64_t nodes = ctx.num_nodes();
  const auto before = SettledTaskCounts(ctx);
  auto recording = ctx.start_timeline();
  const double score = FitLogisticRegression(ctx);
  EXPECT_GT(score, 0.5);
  const auto after = SettledTaskCounts(ctx);
  const TimelineSummary summary = recording.save(path.string());
  EXPECT_THROW(recording.save(path.string()), ValueError);
  const TraceCheck check = CheckTrace(ReadJson(path), nodes);
  int64_t ran = 0;
  for (const auto& [node, count] : after) {
    const int64_t delta = count - before.at(node);
    EXPECT_EQ(check.tasks.count(node) ? check.tasks.at(node) : 0, delta) << "node " << node;
    ran += delta;
  }
  EXPECT_GT(ran, 10);
  EXPECT_EQ(summary.events, ran);
  EXPECT_EQ(summary.dropped, 0);
  EXPECT_EQ(summary.nodes, nodes);
  if (nodes > 1) {
    EXPECT_GT(check.remote_bytes, 0);
  }
  // Recording is off again: later work leaves the kept events as they were.
  FitLogisticRegression(ctx);
  SettledTaskCounts(ctx);
  const auto path_all = path.parent_path() / "all.json";
  EXPECT_EQ(ctx.timeline(path_all.string()).events, ran);
}

class EmbeddedTimelineTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(EmbeddedTimelineTest, LogisticRegressionTraceHasEveryTaskOnce) {
  const auto dir = MakeTempDir();
  Context ctx = init({.nodes = GetParam(), .threads_per_node = 1});
  CheckRegion(ctx, dir / "trace.json");
  std::filesystem::remove_all(dir);
}

TEST_P(EmbeddedTimelineTest, InitOptionRecordsFromTheStart) {
  const auto dir = MakeTempDir();
  Context ctx = init({.nodes = GetParam(), .threads_per_node = 1, .timeline = true});
  FitLogisticRegression(ctx);
  int64_t ran = 0;
  for (const auto& [node, count] : SettledTaskCounts(ctx)) ran += count;
  const auto summary = ctx.timeline((dir / "trace.json").string());
  EXPECT_EQ(summary.events, ran);
  const TraceCheck check = CheckTrace(ReadJson(dir / "trace.json"), GetParam());
  EXPECT_EQ(check.names.count("glm.newton_terms"), 1u);  // the fit's step, named by its kernel
  EXPECT_THROW(ctx.timeline((dir / "missing" / "trace.json").string()), IOError);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Nodes, EmbeddedTimelineTest, ::testing::Values(1, 3));

TEST(ClusterTimelineTest, LogisticRegressionOnTwoNodesAndTheCommand) {
  LocalCluster cluster(2, 1);
  const auto dir = MakeTempDir();
  {
    Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
    CheckRegion(ctx, dir / "trace.json");
    const int64_t region = CheckTrace(ReadJson(dir / "trace.json"), 2).tasks.size();
    EXPECT_EQ(region, 2);  // both nodes ran tasks
  }
  // `nums timeline` writes what the nodes keep: the region's tasks, nothing since.
  std::string output;
  const auto cli = dir / "cli.json";
  ASSERT_EQ(RunNumsTool({"timeline", "--address", cluster.address(), "--token-file",
                         cluster.token_file(), "--output", cli.string()},
                        &output),
            0)
      << output;
  const json expected = ReadJson(dir / "trace.json");
  const json got = ReadJson(cli);
  const auto tasks = [](const json& t) {
    int64_t n = 0;
    for (const json& e : t.at("traceEvents")) n += e.at("ph") == "X" ? 1 : 0;
    return n;
  };
  EXPECT_EQ(tasks(got), tasks(expected));
  EXPECT_NE(output.find("wrote " + std::to_string(tasks(expected)) + " tasks of 2 nodes"),
            std::string::npos)
      << output;
  // With --duration it records only while it waits: nothing runs, so no task.
  ASSERT_EQ(RunNumsTool({"timeline", "--address", cluster.address(), "--token-file",
                         cluster.token_file(), "--output", cli.string(), "--duration", "0.2"},
                        &output),
            0)
      << output;
  EXPECT_EQ(tasks(ReadJson(cli)), 0);
  EXPECT_NE(RunNumsTool({"timeline", "--address", cluster.address(), "--token-file",
                         cluster.token_file(), "--output", (dir / "no" / "x.json").string()},
                        &output),
            0);
  EXPECT_NE(output.find("cannot open"), std::string::npos) << output;
  std::filesystem::remove_all(dir);
}

TEST(MicrobenchmarkTest, TwoNodeLoopbackClusterGivesPositiveFigures) {
  LocalCluster cluster(2, 1);
  std::string output;
  ASSERT_EQ(RunNumsTool({"microbenchmark", "--address", cluster.address(), "--token-file",
                         cluster.token_file(), "--round-trips", "50", "--batch", "500", "--bytes",
                         "8MiB", "--repeats", "2"},
                        &output),
            0)
      << output;
  std::map<std::string, std::pair<double, std::string>> rows;
  const std::regex row(R"(^(\S.*\S)\s+([0-9.eE+-]+)\s+(ms|tasks/s|GB/s)$)");
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows[m[1]] = {std::stod(m[2]), m[3]};
  }
  for (const char* metric :
       {"task round trip p50", "task round trip p99", "tasks per second", "transfer driver to node",
        "transfer node to node", "transfer node to driver"}) {
    ASSERT_TRUE(rows.count(metric)) << metric << " missing from:\n" << output;
    const double v = rows[metric].first;
    EXPECT_TRUE(std::isfinite(v) && v > 0) << metric << " = " << v;
  }
  EXPECT_LE(rows["task round trip p50"].first, rows["task round trip p99"].first);
  // Below 1 s per trivial task and above 1 MB/s per move, or something is broken.
  EXPECT_LT(rows["task round trip p99"].first, 1000.0);
  EXPECT_GT(rows["transfer node to node"].first, 1e-3);
  // Bad arguments fail with a message, not a crash.
  EXPECT_NE(RunNumsTool({"microbenchmark", "--address", cluster.address(), "--token-file",
                         cluster.token_file(), "--bytes", "4"},
                        &output),
            0);
  EXPECT_NE(output.find("at least 8 bytes"), std::string::npos) << output;
}

}  // namespace
}  // namespace nums::testing
