// The daemons' Prometheus pages (`nums start --metrics-port`): a loopback cluster runs tasks, and
// every line of GET /metrics on the head and on each node goes through a strict parser of the
// text exposition format (0.0.4).

// Eigen (through nums.hpp) names parameters _res, which <resolv.h> (through httplib) defines.
#include "nums/nums.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/metrics.h"
#include "engine/cluster/rpc_stats.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "engine/cluster/transport.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using engine::Device;
using engine::ObjectRef;
using engine::TaskSpec;
using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;

// One sample line: `name{labels} value`.
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// A parsed page; Parse throws std::runtime_error, naming the line, at anything the format does
// not allow or that we never write (timestamps, other comments, samples outside their family).
struct MetricsPage {
  std::map<std::string, std::string> types;  // family -> counter | gauge | histogram
  std::map<std::string, std::string> help;
  std::vector<MetricSample> samples;

  // The value of the one sample of `name` whose labels include `labels`; none: nullopt.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels) const {
    std::optional<double> found;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        match = match && it != s.labels.end() && it->second == v;
      }
      if (!match) continue;
      if (found) throw std::runtime_error("two samples of " + name + " match");
      found = s.value;
    }
    return found;
  }
};

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");

double ParseValue(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  static const std::regex number(R"([-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?)");
  if (!std::regex_match(text, number)) throw std::runtime_error("bad value '" + text + "'");
  return std::stod(text);
}

// The family a sample name belongs to, given the family declared last.
bool InFamily(const std::string& sample, const std::string& family, const std::string& type) {
  if (sample == family) return type != "histogram";
  if (type != "histogram") return false;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (sample == family + suffix) return true;
  }
  return false;
}

MetricsPage ParseMetrics(const std::string& text) {
  MetricsPage page;
  std::string family;  // of the last # TYPE
  std::set<std::string> seen_series;
  std::set<std::string> closed;  // families whose samples have ended
  if (text.empty() || text.back() != '\n') throw std::runtime_error("the page must end in \\n");
  size_t begin = 0;
  int line_no = 0;
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_no;
    auto fail = [&](const std::string& why) {
      throw std::runtime_error("line " + std::to_string(line_no) + " '" + line + "': " + why);
    };
    if (line.empty()) fail("empty line");
    if (line[0] == '#') {
      std::smatch m;
      static const std::regex help_re(R"(# HELP ([^ ]+) (.+))");
      static const std::regex type_re(R"(# TYPE ([^ ]+) (counter|gauge|histogram))");
      if (std::regex_match(line, m, help_re)) {
        const std::string name = m[1];
        if (!std::regex_match(name, kMetricName)) fail("bad metric name");
        if (page.help.count(name)) fail("second HELP");
        if (page.types.count(name)) fail("HELP after TYPE");
        page.help[name] = m[2];
      } else if (std::regex_match(line, m, type_re)) {
        const std::string name = m[1];
        if (page.types.count(name)) fail("second TYPE");
        if (!page.help.count(name)) fail("TYPE without HELP");
        if (!family.empty()) closed.insert(family);
        page.types[name] = m[2];
        family = name;
      } else {
        fail("a comment that is not HELP or TYPE");
      }
      continue;
    }
    MetricSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kMetricName)) fail("bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) fail("label without =");
        const std::string key = line.substr(i, eq - i);
        if (!std::regex_match(key, kLabelName)) fail("bad label name '" + key + "'");
        if (eq + 1 >= line.size() || line[eq + 1] != '"') fail("label value not quoted");
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (++j >= line.size()) fail("escape at the end");
            if (line[j] == 'n') {
              value += '\n';
            } else if (line[j] == '\\' || line[j] == '"') {
              value += line[j];
            } else {
              fail("bad escape");
            }
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) fail("unterminated label value");
        if (!s.labels.emplace(key, value).second) fail("label " + key + " twice");
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) fail("unterminated labels");
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') fail("no space before the value");
    const std::string value = line.substr(i + 1);
    if (value.find(' ') != std::string::npos) fail("a timestamp or trailing text");
    try {
      s.value = ParseValue(value);
    } catch (const std::exception& e) {
      fail(e.what());
    }
    if (family.empty() || !InFamily(s.name, family, page.types[family])) {
      fail("sample outside the family declared last (" + family + ")");
    }
    if (closed.count(family)) fail("family resumed");
    const std::string& type = page.types[family];
    if (type == "counter" && !(s.value >= 0)) fail("negative counter");
    if (type == "histogram" && s.name == family + "_bucket" && !s.labels.count("le")) {
      fail("bucket without le");
    }
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "\x1f" + k + "=" + v;
    if (!seen_series.insert(key).second) fail("series twice");
    page.samples.push_back(std::move(s));
  }
  // Histograms: per series (labels but le), buckets ascending in le, counts non-decreasing,
  // +Inf last and equal to _count, and a _sum.
  for (const auto& [name, type] : page.types) {
    if (type != "histogram") continue;
    struct Series {
      std::vector<std::pair<double, double>> buckets;  // (le, count) in page order
      std::optional<double> sum, count;
    };
    std::map<std::map<std::string, std::string>, Series> series;
    for (const auto& s : page.samples) {
      auto labels = s.labels;
      if (s.name == name + "_bucket") {
        const double le = ParseValue(labels.at("le"));
        labels.erase("le");
        series[labels].buckets.emplace_back(le, s.value);
      } else if (s.name == name + "_sum") {
        series[labels].sum = s.value;
      } else if (s.name == name + "_count") {
        series[labels].count = s.value;
      }
    }
    for (const auto& [labels, h] : series) {
      const std::string what = "histogram " + name;
      if (h.buckets.empty() || !h.sum || !h.count) {
        throw std::runtime_error(what + ": buckets, _sum and _count are not all there");
      }
      for (size_t k = 1; k < h.buckets.size(); ++k) {
        if (!(h.buckets[k].first > h.buckets[k - 1].first)) {
          throw std::runtime_error(what + ": le not ascending");
        }
        if (h.buckets[k].second < h.buckets[k - 1].second) {
          throw std::runtime_error(what + ": bucket counts decrease");
        }
      }
      if (!std::isinf(h.buckets.back().first)) throw std::runtime_error(what + ": no +Inf last");
      if (h.buckets.back().second != *h.count) {
        throw std::runtime_error(what + ": +Inf bucket differs from _count");
      }
    }
  }
  return page;
}

// GET http://127.0.0.1:port/metrics, parsed; fails the test when it does not answer 200.
MetricsPage Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto res = client.Get("/metrics");
  if (!res) throw std::runtime_error("GET /metrics on port " + std::to_string(port) + " failed");
  if (res->status != 200) throw std::runtime_error("status " + std::to_string(res->status));
  if (res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) != 0) {
    throw std::runtime_error("content type " + res->get_header_value("Content-Type"));
  }
  return ParseMetrics(res->body);
}

// A port that was free a moment ago on loopback.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(LatencyHistogram, CountsEachObservationInItsBucket) {
  engine::LatencyHistogram h;
  h.Observe(std::chrono::microseconds(50));  // le 0.0001
  h.Observe(std::chrono::milliseconds(1));   // le 0.001: a bound is inclusive
  h.Observe(std::chrono::seconds(20));       // +Inf only
  const auto r = h.Read();
  EXPECT_EQ(r.count, 3);
  EXPECT_NEAR(r.sum_seconds, 20.00105, 1e-9);
  EXPECT_EQ(r.cumulative[0], 1);
  EXPECT_EQ(r.cumulative[2], 1);                                             // le 0.0005
  EXPECT_EQ(r.cumulative[3], 2);                                             // le 0.001
  EXPECT_EQ(r.cumulative[engine::LatencyHistogram::kBounds.size() - 1], 2);  // le 10
  EXPECT_EQ(r.cumulative.back(), 3);
  engine::cluster::MetricsText page;
  page.Family("h_seconds", "histogram", "A test.");
  page.Histogram("h_seconds", {{"x", "a\"b"}}, r);
  const MetricsPage parsed = ParseMetrics(page.str());
  EXPECT_EQ(parsed.Value("h_seconds_count", {{"x", "a\"b"}}), 3);
  EXPECT_EQ(parsed.Value("h_seconds_bucket", {{"le", "0.001"}}), 2);
}

TEST(RpcLatencies, ThreadsRacingForSlotsCountEveryCallOnce) {
  engine::cluster::RpcLatencies table;
  const char* names[] = {"Test.A", "Test.B", "Test.C"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3000; ++i) table.Observe(names[i % 3], std::chrono::microseconds(5));
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::string, int64_t> counts;
  table.ForEach([&](const std::string& rpc, const engine::LatencyHistogram& h) {
    EXPECT_EQ(counts.count(rpc), 0u) << rpc << " has two slots";
    counts[rpc] += h.Read().count;
  });
  EXPECT_EQ(counts,
            (std::map<std::string, int64_t>{{"Test.A", 4000}, {"Test.B", 4000}, {"Test.C", 4000}}));
}

TEST(MetricsParser, RejectsWhatTheFormatDoesNotAllow) {
  const std::string good =
      "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n"
      "# HELP h Seconds.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 0.5\nh_count 2\n";
  EXPECT_NO_THROW(ParseMetrics(good));
  EXPECT_EQ(ParseMetrics(good).Value("a_total", {{"x", "1"}}), 3);
  const std::vector<std::string> bad = {
      "a 1\n",                                         // no TYPE
      "# TYPE a gauge\na 1\n",                         // no HELP
      "# HELP a x\n# TYPE a gauge\na{b=1} 1\n",        // unquoted label
      "# HELP a x\n# TYPE a gauge\na 1 1700000000\n",  // timestamp
      "# HELP a x\n# TYPE a gauge\na one\n",           // value
      "# HELP a x\n# TYPE a gauge\na 1\na 2\n",        // series twice
      "# HELP a x\n# TYPE a counter\na -1\n",          // negative counter
      "# HELP a x\n# TYPE a gauge\nb 1\n",             // other family
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
      "h_sum 1\nh_count 1\n",  // decreasing
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",  // count
      "# HELP a x\n# TYPE a gauge\na 1",                                                // no \n
  };
  for (const auto& page : bad) EXPECT_THROW(ParseMetrics(page), std::runtime_error) << page;
}

// A cluster of `nodes` whose head serves /metrics on `head_port` and node i on node_ports[i]
// (free ports, appended).
LocalClusterOptions WithMetricsPorts(int nodes, int head_port, std::vector<int>& node_ports) {
  LocalClusterOptions o;
  o.nodes = nodes;
  o.head_args = {"--metrics-port", std::to_string(head_port)};
  for (int i = 0; i < nodes; ++i) {
    node_ports.push_back(FreePort());
    o.node_args_each.push_back({"--metrics-port", std::to_string(node_ports.back())});
  }
  return o;
}

TEST(Metrics, HeadAndNodesServePagesThatParseAndCountTasks) {
  constexpr int kNodes = 2;
  const int head_port = FreePort();
  std::vector<int> node_ports;
  LocalCluster cluster(WithMetricsPorts(kNodes, head_port, node_ports));

  const MetricsPage head = Scrape(head_port);
  EXPECT_EQ(head.types.at("nums_nodes"), "gauge");
  EXPECT_EQ(head.Value("nums_nodes", {{"state", "live"}}), kNodes);
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_EQ(head.Value("nums_node_up", {{"node", std::to_string(i)}}), 1) << i;
  }
  EXPECT_EQ(head.types.at("nums_rpc_duration_seconds"), "histogram");
  EXPECT_TRUE(head.Value("nums_rpc_duration_seconds_count", {{"rpc", "Head.RegisterNode"}}));

  std::vector<MetricsPage> before;
  for (int port : node_ports) before.push_back(Scrape(port));
  EXPECT_EQ(before[0].types.at("nums_tasks_total"), "counter");
  EXPECT_EQ(before[0].types.at("nums_tasks"), "gauge");
  EXPECT_EQ(before[0].types.at("nums_node_memory_bytes"), "gauge");
  EXPECT_EQ(before[0].types.at("nums_transfer_bytes_total"), "counter");
  EXPECT_EQ(before[0].types.at("nums_task_duration_seconds"), "histogram");
  auto done = [](const MetricsPage& p, int node) {
    return p.Value("nums_tasks_total", {{"node", std::to_string(node)}, {"state", "done"}})
        .value_or(-1);
  };

  // Work on both nodes: a chain that moves a block from node 0 to node 1, and a task that fails.
  constexpr int kChain = 10;
  {
    auto rt =
        ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
    ObjectRef x = rt->Put(Ramp(4096, 1.0), 0);
    for (int i = 0; i < kChain; ++i) {
      x = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, i % kNodes, {x}, 1, "hop"})[0];
    }
    EXPECT_EQ(Values(rt->Get(x, 60s)), Values(Ramp(4096, 1.0)));
    ObjectRef bad = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 0, {}, 1, "bad"})[0];
    EXPECT_THROW(rt->Get(bad, 30s), RemoteTaskError);
  }

  std::vector<MetricsPage> after;
  // Counters are raised as outputs are sealed; a scrape right after Get sees them.
  for (int port : node_ports) after.push_back(Scrape(port));
  for (int i = 0; i < kNodes; ++i) {
    const std::string id = std::to_string(i);
    EXPECT_GE(done(after[i], i) - done(before[i], i), kChain / kNodes) << "node " << i;
    EXPECT_GE(after[i].Value("nums_task_duration_seconds_count", {{"node", id}}).value_or(0),
              kChain / kNodes)
        << "node " << i;
    EXPECT_EQ(after[i].Value("nums_tasks", {{"node", id}, {"state", "running"}}), 0);
    EXPECT_GT(
        after[i].Value("nums_node_memory_bytes", {{"node", id}, {"tier", "capacity"}}).value_or(0),
        0);
    EXPECT_GT(after[i]
                  .Value("nums_transfer_bytes_total", {{"node", id}, {"direction", "in"}})
                  .value_or(0),
              0)
        << "node " << i;
    EXPECT_TRUE(after[i].Value("nums_rpc_duration_seconds_count", {{"rpc", "Node.SubmitTasks"}}));
  }
  EXPECT_EQ(after[0].Value("nums_tasks_total", {{"node", "0"}, {"state", "failed"}}), 1);

  // Only GET /metrics is served.
  httplib::Client client("127.0.0.1", node_ports[0]);
  auto other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
}

// The calls a daemon served between two scrapes of its page, by RPC name, leaving out those that
// come on a timer whatever the driver does: the driver's lease renewals and the nodes'
// heartbeats.
std::map<std::string, int64_t> Served(const MetricsPage& before, const MetricsPage& after) {
  auto counts = [](const MetricsPage& page) {
    std::map<std::string, int64_t> out;
    for (const MetricSample& s : page.samples) {
      if (s.name != "nums_rpc_duration_seconds_count") continue;
      out[s.labels.at("rpc")] = static_cast<int64_t>(s.value);
    }
    return out;
  };
  const auto from = counts(before);
  std::map<std::string, int64_t> out;
  for (const auto& [rpc, n] : counts(after)) {
    if (rpc == "Node.KeepAlive" || rpc == "Head.Heartbeat") continue;
    auto it = from.find(rpc);
    const int64_t d = n - (it == from.end() ? 0 : it->second);
    if (d != 0) out[rpc] = d;
  }
  return out;
}

std::string Show(const std::map<std::string, int64_t>& calls) {
  std::string out = "{";
  for (const auto& [rpc, n] : calls) out += " " + rpc + ": " + std::to_string(n);
  return out + " }";
}

// A loopback cluster whose head and nodes serve metrics pages, with a driver on it.
struct MeteredCluster {
  explicit MeteredCluster(int nodes)
      : head_port(FreePort()),
        cluster(WithMetricsPorts(nodes, head_port, node_ports)),
        ctx(nums::init({.address = cluster.address(), .token_file = cluster.token_file()})) {}

  /// The calls the head ([0]) and node i ([1 + i]) served while `step` ran and 300 ms after (for
  /// anything the driver sends after it returns, a poll of the tasks say, to be served).
  std::vector<std::map<std::string, int64_t>> CallsDuring(const std::function<void()>& step) {
    auto scrape = [&] {
      std::vector<MetricsPage> pages{Scrape(head_port)};
      for (int port : node_ports) pages.push_back(Scrape(port));
      return pages;
    };
    const auto before = scrape();
    step();
    std::this_thread::sleep_for(300ms);
    const auto after = scrape();
    std::vector<std::map<std::string, int64_t>> calls;
    for (size_t i = 0; i < before.size(); ++i) calls.push_back(Served(before[i], after[i]));
    return calls;
  }

  int head_port;
  std::vector<int> node_ports;
  LocalCluster cluster;
  Context ctx;
};

// An elementwise operation over 64 blocks on 4 nodes (16 each), fused, is placed from the loads
// the driver already holds and sent as one SubmitTasks per node: no call to the head, no load
// query, no call per task, and nothing that polls the tasks afterwards (counted from the
// daemons' own pages, so every process's calls count).
TEST(Metrics, AnElementwiseOpSendsOneMessagePerNodeAndNothingElse) {
  constexpr int kNodes = 4;
  constexpr int64_t kBlocks = 64;
  constexpr int64_t kBlock = 16;
  MeteredCluster m(kNodes);
  Context& ctx = m.ctx;
  ASSERT_EQ(ctx.num_nodes(), kNodes);

  const int64_t n = kBlocks * kBlock;
  BlockArray x = arange(0, n, 1, float64, {kBlock});
  BlockArray y = full({n}, 0.5, float64, {kBlock});
  ASSERT_EQ(x.grid_shape(), (Shape{kBlocks}));
  x.get();  // both made and on their nodes before counting
  y.get();
  std::this_thread::sleep_for(300ms);  // and what their making freed, freed

  // One operation's calls: [0] the head's, [1 + i] node i's.
  auto count = [&](const std::function<BlockArray()>& op, BlockArray& out) {
    return m.CallsDuring([&] {
      out = op();
      out.impl();  // the fused tasks are submitted here
    });
  };
  const std::map<std::string, int64_t> one_submit{{"Node.SubmitTasks", 1}};
  auto expect_one_message_per_node = [&](const std::vector<std::map<std::string, int64_t>>& c) {
    EXPECT_EQ(c[0], (std::map<std::string, int64_t>{})) << "head: " << Show(c[0]);
    for (int i = 0; i < kNodes; ++i) {
      EXPECT_EQ(c[static_cast<size_t>(i + 1)], one_submit)
          << "node " << i << ": " << Show(c[static_cast<size_t>(i + 1)]);
    }
  };

  // Each result is kept until the end: a dropped one's frees would be counted with the next.
  BlockArray plus_one;
  BlockArray plus_y;
  {
    SCOPED_TRACE("x + 1");
    expect_one_message_per_node(count([&] { return x + 1; }, plus_one));
  }
  {
    SCOPED_TRACE("x + y");
    expect_one_message_per_node(count([&] { return x + y; }, plus_y));
  }
  std::vector<double> want_one;
  std::vector<double> want_y;
  for (int64_t i = 0; i < n; ++i) {
    want_one.push_back(static_cast<double>(i) + 1);
    want_y.push_back(static_cast<double>(i) + 0.5);
  }
  EXPECT_EQ(plus_one.get().to_vector<double>(), want_one);
  EXPECT_EQ(plus_y.get().to_vector<double>(), want_y);
}

// Creation and random arrays over 64 blocks on 4 nodes: each block made by a task on its home
// node, placed by one plan and sent as one SubmitTasks per node, and nothing else.
TEST(Metrics, CreationAndRandomSendOneMessagePerNodeAndNothingElse) {
  constexpr int kNodes = 4;
  constexpr int64_t kBlocks = 64;
  constexpr int64_t kBlock = 16;
  MeteredCluster m(kNodes);
  ASSERT_EQ(m.ctx.num_nodes(), kNodes);
  const int64_t n = kBlocks * kBlock;
  random::Generator gen(m.ctx, 5);
  const std::vector<std::pair<const char*, std::function<BlockArray()>>> makers{
      {"zeros", [&] { return zeros({n}, float64, {kBlock}); }},
      {"full", [&] { return full({n}, 2.0, float64, {kBlock}); }},
      {"arange", [&] { return arange(0, n, 1, float64, {kBlock}); }},
      {"random", [&] { return gen.random({n}, float64, {kBlock}); }},
  };
  std::vector<BlockArray> made;  // kept: a dropped one's frees would count with the next
  for (const auto& [name, make] : makers) {
    SCOPED_TRACE(name);
    const auto calls = m.CallsDuring([&] { made.push_back(make()); });
    ASSERT_EQ(made.back().grid_shape(), (Shape{kBlocks}));
    EXPECT_EQ(calls[0], (std::map<std::string, int64_t>{})) << "head: " << Show(calls[0]);
    for (int i = 0; i < kNodes; ++i) {
      EXPECT_EQ(calls[static_cast<size_t>(i + 1)],
                (std::map<std::string, int64_t>{{"Node.SubmitTasks", 1}}))
          << "node " << i << ": " << Show(calls[static_cast<size_t>(i + 1)]);
    }
  }
  EXPECT_EQ(made[0].sum().get().at<double>({}), 0.0);
  EXPECT_EQ(made[1].sum().get().at<double>({}), 2.0 * static_cast<double>(n));
  EXPECT_EQ(made[2].sum().get().at<double>({}),
            static_cast<double>(n) * static_cast<double>(n - 1) / 2);
  // The same stream per block as one generator of the same seed on one node gives.
  random::Generator again(m.ctx, 5);
  EXPECT_EQ(made[3].get().to_vector<double>(),
            again.random({n}, float64, {n}).get().to_vector<double>());
}

// TSQR, inv and the tiled Cholesky on 4 nodes: one call is one plan (the tree, what is derived
// from its factors, the solves), submitted in waves, so each node gets one SubmitTasks per stage
// of the algorithm that it has tasks in, however many blocks and tree levels there are. A node
// must hold a task before a peer pulls its output: a node whose R goes up the tree and whose Q
// blocks come down from it needs two (up and down), the root's node one.
TEST(Metrics, FactorizationsSendOneMessagePerNodePerStage) {
  constexpr int kNodes = 4;
  constexpr int64_t kRowBlocks = 64;
  constexpr int64_t kRows = 16;
  constexpr int64_t kCols = 4;
  MeteredCluster m(kNodes);
  ASSERT_EQ(m.ctx.num_nodes(), kNodes);
  random::Generator gen(m.ctx, 7);
  const int64_t rows = kRowBlocks * kRows;
  BlockArray tall = gen.random({rows, kCols}, float64, {kRows, kCols});
  // Square and well conditioned: row blocks for inv, 16 x 16 tiles for Cholesky.
  constexpr int64_t kN = 64;
  BlockArray x = gen.random({kN, kN}, float64, {kN, kN});
  BlockArray square = gen.random({kN, kN}, float64, {16, kN}) +
                      eye(kN, kN, 0, float64, {16, kN}) * static_cast<double>(kN);
  BlockArray spd =
      (matmul(x.T(), x) + eye(kN, kN, 0, float64) * static_cast<double>(kN)).rechunk({16, 16});
  nums::wait({tall, square, spd});
  std::this_thread::sleep_for(300ms);

  auto submits = [](const std::map<std::string, int64_t>& c) {
    auto it = c.find("Node.SubmitTasks");
    return it == c.end() ? int64_t{0} : it->second;
  };
  // At most `stages` SubmitTasks to each node, `root_stages` to node 0 (the trees' root).
  auto expect_at_most = [&](const char* what, int64_t stages, int64_t root_stages,
                            const std::function<void()>& op) {
    SCOPED_TRACE(what);
    const auto calls = m.CallsDuring(op);
    int64_t total = 0;
    for (int i = 0; i < kNodes; ++i) {
      const auto& c = calls[static_cast<size_t>(i + 1)];
      total += submits(c);
      EXPECT_LE(submits(c), i == 0 ? root_stages : stages) << "node " << i << ": " << Show(c);
    }
    EXPECT_GT(total, 0);
    EXPECT_EQ(submits(calls[0]), 0) << "head: " << Show(calls[0]);
  };
  linalg::QrResult r_only, reduced, indirect;
  linalg::SvdResult usv;
  BlockArray inverse, lower;
  expect_at_most("qr r", 1, 1, [&] { r_only = linalg::qr(tall, "r"); });
  expect_at_most("qr reduced", 2, 1, [&] { reduced = linalg::qr(tall); });
  expect_at_most("qr indirect", 2, 1, [&] { indirect = linalg::qr(tall, "indirect"); });
  expect_at_most("svd", 2, 1, [&] { usv = linalg::svd(tall); });
  // Then inv(A)'s column blocks re-blocked as A's: one more.
  expect_at_most("inv", 3, 2, [&] { inverse = linalg::inv(square); });
  // 4 x 4 tiles: each column's factor feeds the next column's on other nodes.
  expect_at_most("cholesky", 2, 2, [&] { lower = linalg::cholesky(spd); });

  const NDArray a = tall.get();
  const NDArray q = reduced.q.get();
  const NDArray r = reduced.r.get();
  for (int64_t i = 0; i < rows; i += 97) {
    for (int64_t j = 0; j < kCols; ++j) {
      double v = 0;
      for (int64_t k = 0; k < kCols; ++k) v += q.at<double>({i, k}) * r.at<double>({k, j});
      EXPECT_NEAR(v, a.at<double>({i, j}), 1e-12);
    }
  }
  EXPECT_NEAR(std::abs(r_only.r.get().at<double>({0, 0})), std::abs(r.at<double>({0, 0})), 1e-12);
  EXPECT_NEAR(matmul(square, inverse).get().at<double>({3, 3}), 1.0, 1e-12);
  EXPECT_NEAR(matmul(square, inverse).get().at<double>({3, 5}), 0.0, 1e-12);
  const NDArray llt = matmul(lower, lower.T()).get();
  const NDArray want = spd.get();
  for (int64_t i = 0; i < kN; i += 7) {
    for (int64_t j = 0; j < kN; j += 5)
      EXPECT_NEAR(llt.at<double>({i, j}), want.at<double>({i, j}), 1e-9);
  }
  EXPECT_EQ(usv.s.shape(), (Shape{kCols}));
  EXPECT_EQ(indirect.q.shape(), (Shape{rows, kCols}));
}

// wait() of arrays over 64 blocks on 4 nodes (16 each) asks each node once: one Node.Await that
// returns when all of that node's blocks are done. No task per block (SubmitTasks), no fetch of
// results (GetChunk), nothing to the head; nums::wait of several arrays asks no more.
TEST(Metrics, WaitSendsOneAwaitPerNodeAndNothingElse) {
  constexpr int kNodes = 4;
  constexpr int64_t kBlocks = 64;
  constexpr int64_t kBlock = 16;
  MeteredCluster m(kNodes);
  ASSERT_EQ(m.ctx.num_nodes(), kNodes);

  const int64_t n = kBlocks * kBlock;
  BlockArray x = arange(0, n, 1, float64, {kBlock});
  ASSERT_EQ(x.grid_shape(), (Shape{kBlocks}));
  x.get();
  BlockArray plus_one = x + 1;
  BlockArray twice = x * 2;
  plus_one.impl();  // submitted before counting
  twice.impl();
  std::this_thread::sleep_for(300ms);

  // The calls of one wait: [0] the head's, [1 + i] node i's.
  auto count = [&](const std::function<void()>& wait) { return m.CallsDuring(wait); };
  auto expect_one_await_per_node = [&](const std::vector<std::map<std::string, int64_t>>& c) {
    EXPECT_EQ(c[0], (std::map<std::string, int64_t>{})) << "head: " << Show(c[0]);
    for (int i = 0; i < kNodes; ++i) {
      EXPECT_EQ(c[static_cast<size_t>(i + 1)], (std::map<std::string, int64_t>{{"Node.Await", 1}}))
          << "node " << i << ": " << Show(c[static_cast<size_t>(i + 1)]);
    }
  };
  {
    SCOPED_TRACE("plus_one.wait()");
    expect_one_await_per_node(count([&] { plus_one.wait(); }));
  }
  {
    SCOPED_TRACE("wait({x, plus_one, twice})");
    expect_one_await_per_node(count([&] { nums::wait({x, plus_one, twice}); }));
  }
  std::vector<double> want;
  for (int64_t i = 0; i < n; ++i) want.push_back(static_cast<double>(i) + 1);
  EXPECT_EQ(plus_one.get().to_vector<double>(), want);
}

}  // namespace
}  // namespace nums::testing
