// LoadView step by step: reports replace each other in the order their calls were sent, and the
// outputs a submit handed a node count until the next report.

#include "engine/cluster/load_view.h"

#include <gtest/gtest.h>

namespace nums::engine::cluster {
namespace {

using std::chrono::milliseconds;

TEST(LoadView, StartsAtZeroForEveryNode) {
  LoadView view(3);
  const auto loads = view.Loads();
  ASSERT_EQ(loads.size(), 3u);
  for (const NodeLoad& l : loads) {
    EXPECT_EQ(l.memory_used, 0);
    EXPECT_EQ(l.spilled_bytes, 0);
    EXPECT_TRUE(l.live);
  }
}

TEST(LoadView, ASubmitsOutputsCountUntilTheNextReport) {
  LoadView view(2);
  const auto t0 = LoadView::Clock::now();
  view.Report(1, {.memory_used = 100, .spilled_bytes = 7}, /*queued_bytes=*/50, t0);
  EXPECT_EQ(view.Loads()[1].memory_used, 150);
  EXPECT_EQ(view.Loads()[1].spilled_bytes, 7);
  EXPECT_EQ(view.Loads()[0].memory_used, 0);
  // A lease renewal sent later: the node's own figure, the outputs in it by now.
  view.Report(1, {.memory_used = 140}, 0, t0 + milliseconds(1));
  EXPECT_EQ(view.Loads()[1].memory_used, 140);
  EXPECT_EQ(view.Loads()[1].spilled_bytes, 0);
}

TEST(LoadView, AReplyToAnEarlierCallIsIgnored) {
  LoadView view(1);
  const auto t0 = LoadView::Clock::now();
  view.Report(0, {.memory_used = 300}, 20, t0 + milliseconds(5));
  // A renewal sent before that submit, answered after it (another connection).
  view.Report(0, {.memory_used = 10}, 0, t0);
  EXPECT_EQ(view.Loads()[0].memory_used, 320);
  view.Report(0, {.memory_used = 10}, 0, t0 + milliseconds(5));  // same instant: taken
  EXPECT_EQ(view.Loads()[0].memory_used, 10);
}

TEST(LoadView, UnknownNodesAreIgnored) {
  LoadView view(2);
  const auto t0 = LoadView::Clock::now();
  view.Report(-1, {.memory_used = 1}, 0, t0);
  view.Report(2, {.memory_used = 1}, 0, t0);
  for (const NodeLoad& l : view.Loads()) EXPECT_EQ(l.memory_used, 0);
}

TEST(LoadView, OutputBytesSumsTheDeclaredOutputs) {
  TaskRecord a;
  a.outputs = {{DType::kFloat64, {4, 4}}, {DType::kInt32, {10}}};
  a.scratch_bytes = 1000;  // scratch is gone once the task ends
  TaskRecord b;            // declares nothing
  EXPECT_EQ(OutputBytes({&a, &b}), 4 * 4 * 8 + 10 * 4);
  EXPECT_EQ(OutputBytes({}), 0);
}

}  // namespace
}  // namespace nums::engine::cluster
