#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "engine/chrome_trace.h"
#include "engine/embedded_runtime.h"
#include "engine/timeline.h"
#include "tests/testing/testing.h"

namespace nums::engine {
namespace {

using nums::testing::MakeBlock;

TaskEvent Event(const std::string& name, int64_t start_ns, int64_t end_ns) {
  TaskEvent e;
  e.name = name;
  e.kernel = "k." + name;
  e.start_ns = start_ns;
  e.end_ns = end_ns;
  return e;
}

TEST(TaskTraceTest, OffByDefaultAndSetRecordingReturnsThePreviousState) {
  TaskTrace trace;
  EXPECT_FALSE(trace.recording());
  EXPECT_FALSE(trace.SetRecording(true));
  EXPECT_TRUE(trace.recording());
  EXPECT_TRUE(trace.SetRecording(false));
  EXPECT_FALSE(trace.recording());
  EXPECT_THROW(TaskTrace(0), ValueError);
}

TEST(TaskTraceTest, SinceReturnsEventsInOrderWithSequenceNumbers) {
  TaskTrace trace(8);
  for (int i = 0; i < 5; ++i) trace.Record(Event("t" + std::to_string(i), i, i + 1));
  TraceSnapshot all = trace.Since(0);
  ASSERT_EQ(all.events.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(all.events[static_cast<size_t>(i)].seq, i);
    EXPECT_EQ(all.events[static_cast<size_t>(i)].name, "t" + std::to_string(i));
  }
  EXPECT_EQ(all.next, 5);
  EXPECT_EQ(all.dropped, 0);
  TraceSnapshot tail = trace.Since(3);
  ASSERT_EQ(tail.events.size(), 2u);
  EXPECT_EQ(tail.events[0].seq, 3);
  TraceSnapshot none = trace.Since(std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(none.events.empty());
  EXPECT_EQ(none.next, 5);
}

TEST(TaskTraceTest, FullRingOverwritesTheOldestAndCountsThemDropped) {
  TaskTrace trace(4);
  for (int i = 0; i < 11; ++i) trace.Record(Event("t" + std::to_string(i), i, i));
  EXPECT_EQ(trace.total(), 11);
  TraceSnapshot s = trace.Since(0);
  ASSERT_EQ(s.events.size(), 4u);  // the cap holds
  EXPECT_EQ(s.dropped, 7);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(s.events[i].seq, static_cast<int64_t>(7 + i));
    EXPECT_EQ(s.events[i].name, "t" + std::to_string(7 + i));
  }
  // Asking from within the kept window drops nothing.
  EXPECT_EQ(trace.Since(8).dropped, 0);
  EXPECT_EQ(trace.Since(8).events.size(), 3u);
  EXPECT_EQ(trace.Since(5).dropped, 2);
}

TEST(TaskTraceTest, ThreadIdsDifferBetweenThreadsAndStayPerThread) {
  const int64_t here = TaskTrace::ThreadId();
  EXPECT_EQ(TaskTrace::ThreadId(), here);
  int64_t there = 0;
  std::thread([&] { there = TaskTrace::ThreadId(); }).join();
  EXPECT_NE(there, here);
  EXPECT_GT(there, 0);
}

TEST(ChromeTraceTest, WritesCompleteEventsAndNodeNames) {
  NodeTimeline a{0, "embedded", {}};
  TaskEvent e = Event("array.add \"x\"\n", 5'000'000'123, 5'000'002'623);
  e.node = 0;
  e.thread = 3;
  e.inputs = {ObjectId{1, 2}, ObjectId{1, 3}};
  e.input_bytes = 160;
  e.remote_bytes = 80;
  e.output_bytes = 80;
  a.trace.events.push_back(e);
  NodeTimeline b{1, "10.0.0.2:7701", {}};
  TaskEvent f = Event("engine.noop", 5'000'001'000, 5'000'000'000);  // a clock step
  f.node = 1;
  f.thread = 9;
  f.failed = true;
  b.trace.events.push_back(f);
  b.trace.dropped = 4;
  std::ostringstream out;
  WriteChromeTrace({a, b}, out);
  const auto json = nlohmann::json::parse(out.str());
  const auto& events = json.at("traceEvents");
  std::vector<nlohmann::json> tasks, names;
  for (const auto& ev : events) (ev.at("ph") == "X" ? tasks : names).push_back(ev);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].at("name"), "array.add \"x\"\n");
  EXPECT_DOUBLE_EQ(tasks[0].at("ts").get<double>(), 0.0);  // the earliest task is the origin
  EXPECT_DOUBLE_EQ(tasks[0].at("dur").get<double>(), 2.5);
  EXPECT_EQ(tasks[0].at("pid"), 0);
  EXPECT_EQ(tasks[0].at("tid"), 3);
  EXPECT_EQ(tasks[0].at("args").at("inputs").size(), 2u);
  EXPECT_EQ(tasks[0].at("args").at("inputs")[1], (ObjectId{1, 3}).ToString());
  EXPECT_EQ(tasks[0].at("args").at("input_bytes"), 160);
  EXPECT_EQ(tasks[0].at("args").at("remote_bytes"), 80);
  EXPECT_EQ(tasks[0].at("args").at("output_bytes"), 80);
  EXPECT_DOUBLE_EQ(tasks[1].at("ts").get<double>(), 0.877);
  EXPECT_DOUBLE_EQ(tasks[1].at("dur").get<double>(), 0.0);  // never negative
  EXPECT_EQ(tasks[1].at("args").at("failed"), true);
  EXPECT_EQ(json.at("otherData").at("dropped_events"), 4);
  EXPECT_EQ(json.at("otherData").at("origin_unix_ns"), 5'000'000'123);
  std::map<int64_t, std::string> process_names;
  for (const auto& m : names) {
    if (m.at("name") == "process_name") {
      process_names[m.at("pid").get<int64_t>()] = m.at("args").at("name").get<std::string>();
    }
  }
  EXPECT_EQ(process_names[0], "node 0 (embedded)");
  EXPECT_EQ(process_names[1], "node 1 (10.0.0.2:7701)");
}

TEST(ChromeTraceTest, EmptyTimelineIsValidJson) {
  std::ostringstream out;
  WriteChromeTrace({}, out);
  const auto json = nlohmann::json::parse(out.str());
  EXPECT_TRUE(json.at("traceEvents").empty());
  EXPECT_THROW(WriteChromeTraceFile({}, "/nonexistent-dir/trace.json"), IOError);
}

std::shared_ptr<KernelRegistry> Kernels() {
  auto r = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*r);
  r->Register("test.double", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    Block out = Block::Allocate(float64, in.shape());
    for (int64_t i = 0; i < out.size(); ++i) out.data<double>()[i] = 2 * in.data<double>()[i];
    return std::vector<Block>{out};
  });
  r->Register("test.fail", Device::kCpu, [](const KernelContext&) -> std::vector<Block> {
    throw ShapeError("shapes (2,) and (3,) do not match");
  });
  return r;
}

class EmbeddedTimelineTest : public ::testing::TestWithParam<int64_t> {};

// Every task run while recording is on is in the timeline exactly once, on the node that ran
// it, with its inputs' bytes (remote ones counted apart) and its outputs' bytes.
TEST_P(EmbeddedTimelineTest, RecordsEachTaskOnceWithItsBytes) {
  const int64_t nodes = GetParam();
  auto rt = EmbeddedRuntime::Start({.nodes = nodes, .threads_per_node = 2}, Kernels());
  // Tasks before recording starts are not in it.
  rt->Get(rt->Submit({.kernel = "test.double", .node = 0, .args = {rt->Put(MakeBlock({3}), 0)}}));
  const auto marks =
      rt->Timeline(std::vector<int64_t>(static_cast<size_t>(nodes), INT64_MAX), true);
  ASSERT_EQ(marks.size(), static_cast<size_t>(nodes));
  std::vector<int64_t> since, before;
  for (const auto& m : marks) {
    EXPECT_FALSE(m.trace.recording);
    EXPECT_TRUE(m.trace.events.empty());
    since.push_back(m.trace.next);
    before.push_back(rt->node(m.node).tasks_run());
  }
  // A chain that hops between nodes: each hop pulls its input (5 doubles = 40 bytes) across.
  ObjectRef x = rt->Put(MakeBlock({5}), 0);
  std::vector<ObjectRef> keep;
  for (int64_t i = 0; i < 7; ++i) {
    x = rt->Submit({.kernel = "test.double", .node = i % nodes, .args = {x}, .name = "double"})[0];
    keep.push_back(x);
  }
  auto failed = rt->Submit({.kernel = "test.fail", .node = nodes - 1, .args = {x}});
  EXPECT_EQ(rt->Get(x).data<double>()[4], 4.0 * 128);
  EXPECT_THROW(rt->Get(failed[0]), ShapeError);
  rt->WaitIdle();

  const auto got = rt->Timeline(since, false);
  int64_t events = 0, remote = 0;
  for (const auto& n : got) {
    EXPECT_TRUE(n.trace.recording);
    EXPECT_EQ(static_cast<int64_t>(n.trace.events.size()),
              rt->node(n.node).tasks_run() - before[static_cast<size_t>(n.node)]);
    std::set<int64_t> seqs;
    for (const TaskEvent& e : n.trace.events) {
      EXPECT_TRUE(seqs.insert(e.seq).second);
      EXPECT_EQ(e.node, n.node);
      EXPECT_LE(e.start_ns, e.end_ns);
      EXPECT_GT(e.thread, 0);
      ASSERT_EQ(e.inputs.size(), 1u);
      EXPECT_EQ(e.input_bytes, 40);
      remote += e.remote_bytes;
      if (e.kernel == "test.fail") {
        EXPECT_TRUE(e.failed);
        EXPECT_EQ(e.output_bytes, 0);
        EXPECT_EQ(e.name, "test.fail");
      } else {
        EXPECT_FALSE(e.failed);
        EXPECT_EQ(e.name, "double");
        EXPECT_EQ(e.output_bytes, 40);
      }
    }
    events += static_cast<int64_t>(n.trace.events.size());
  }
  EXPECT_EQ(events, 8);
  // Hops from node i % nodes to (i + 1) % nodes: every one is remote unless there is one node.
  EXPECT_EQ(remote, nodes == 1 ? 0 : 40 * 7);
  // Recording is off again: nothing more is recorded.
  rt->Get(rt->Submit({.kernel = "test.double", .node = 0, .args = {x}}));
  rt->WaitIdle();
  for (const auto& n : rt->Timeline(since, std::nullopt)) {
    EXPECT_FALSE(n.trace.recording);
    events -= static_cast<int64_t>(n.trace.events.size());
  }
  EXPECT_EQ(events, 0);
}

INSTANTIATE_TEST_SUITE_P(Nodes, EmbeddedTimelineTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace nums::engine
