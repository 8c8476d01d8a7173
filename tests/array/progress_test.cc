#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nums/nums.hpp"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using Mode = ProgressOptions::Mode;

// The lines drawn, split at the carriage returns that start each redraw.
std::vector<std::string> Frames(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == '\r') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

TEST(ProgressBarTest, RendersBarPercentCountsAndTime) {
  EXPECT_EQ(ProgressBar::render("fit", 3, 10, 1.25, 10), "fit [###.......]  30% 3/10 1.2s");
  EXPECT_EQ(ProgressBar::render("fit", 0, 10, 0, 4), "fit [....]   0% 0/10 0.0s");
  EXPECT_EQ(ProgressBar::render("get", 10, 10, 2, 4), "get [####] 100% 10/10 2.0s");
  // More than the total (a fit past its estimate) shows a full bar with the true count.
  EXPECT_EQ(ProgressBar::render("x", 12, 10, 0, 4), "x [####] 100% 12/10 0.0s");
  // Unknown total: only the count.
  EXPECT_EQ(ProgressBar::render("read", 7, 0, 3.04, 4), "read 7 3.0s");
  // A total too large for a naive percent product still renders.
  EXPECT_EQ(ProgressBar::render("b", int64_t{1} << 40, int64_t{1} << 41, 0, 2),
            "b [#.]  50% 1099511627776/2199023255552 0.0s");
}

TEST(ProgressBarTest, AutoModeFollowsTheTerminalAndNumsProgress) {
  EXPECT_TRUE(ProgressBar::auto_enabled(true, nullptr));
  EXPECT_FALSE(ProgressBar::auto_enabled(false, nullptr));
  EXPECT_FALSE(ProgressBar::auto_enabled(true, "0"));
  EXPECT_FALSE(ProgressBar::auto_enabled(true, "off"));
  EXPECT_FALSE(ProgressBar::auto_enabled(true, "false"));
  EXPECT_TRUE(ProgressBar::auto_enabled(true, "1"));
  EXPECT_FALSE(ProgressBar::auto_enabled(false, "1"));      // not on a file or a pipe
  EXPECT_TRUE(ProgressBar::auto_enabled(false, "always"));  // unless asked for
  // ctest's stderr is a pipe or a file: a kAuto bar stays silent here.
  std::ostringstream out;
  ProgressBar bar("auto", 5, {.mode = Mode::kAuto, .out = &out});
  EXPECT_EQ(bar.enabled(), ProgressBar::stderr_is_tty() &&
                               ProgressBar::auto_enabled(true, std::getenv("NUMS_PROGRESS")));
  if (!ProgressBar::stderr_is_tty()) {
    bar.advance(5);
    bar.finish();
    EXPECT_EQ(out.str(), "");
  }
}

TEST(ProgressBarTest, DrawsOnAFakeTerminalAndEndsTheLine) {
  std::ostringstream out;
  {
    ProgressBar bar("fit", 4, {.mode = Mode::kOn, .out = &out, .min_interval_s = 0, .width = 4});
    for (int i = 0; i < 4; ++i) bar.advance();
    EXPECT_EQ(bar.done(), 4);
  }  // the destructor finishes
  const std::string text = out.str();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const auto frames = Frames(text.substr(0, text.size() - 1));
  ASSERT_EQ(frames.size(), 5u);  // four updates and the final draw
  EXPECT_EQ(frames[0].substr(0, 21), "fit [#...]  25% 1/4 0");
  EXPECT_EQ(frames.back().substr(0, 21), "fit [####] 100% 4/4 0");
}

TEST(ProgressBarTest, RedrawsAtMostOncePerInterval) {
  std::ostringstream out;
  ProgressBar bar("n", 100000, {.mode = Mode::kOn, .out = &out, .min_interval_s = 3600});
  for (int i = 0; i < 100000; ++i) bar.advance();
  bar.finish();
  bar.advance();  // after finish: nothing more
  // The first update and the final draw only.
  EXPECT_EQ(Frames(out.str()).size(), 2u);
  EXPECT_NE(out.str().find("100000/100000"), std::string::npos);
}

TEST(ProgressBarTest, ShorterLineClearsTheLongerOne) {
  std::ostringstream out;
  ProgressBar bar("c", 0, {.mode = Mode::kOn, .out = &out, .min_interval_s = 0});
  bar.set(123456);
  bar.set(7);
  const auto frames = Frames(out.str());
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].size(), frames[0].size());
  EXPECT_EQ(frames[1].substr(0, 4), "c 7 ");
}

TEST(ProgressBarTest, OffDrawsNothingAndBadArgumentsThrow) {
  std::ostringstream out;
  {
    ProgressBar bar("off", 3, {.mode = Mode::kOff, .out = &out, .min_interval_s = 0});
    EXPECT_FALSE(bar.enabled());
    bar.advance(3);
    EXPECT_EQ(bar.done(), 3);
  }
  EXPECT_EQ(out.str(), "");
  EXPECT_THROW(ProgressBar("neg", -1), ValueError);
  EXPECT_THROW(ProgressBar("w", 1, {.width = 0}), ValueError);
}

TEST(ProgressBarTest, ThreadsAdvanceOneCount) {
  std::ostringstream out;
  ProgressBar bar("t", 4000, {.mode = Mode::kOn, .out = &out, .min_interval_s = 0});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) bar.advance();
    });
  }
  for (auto& t : threads) t.join();
  bar.finish();
  EXPECT_EQ(bar.done(), 4000);
  EXPECT_NE(Frames(out.str()).back().find("4000/4000"), std::string::npos);
}

// Sets NUMS_PROGRESS for one scope.
class ScopedProgressEnv {
 public:
  explicit ScopedProgressEnv(const char* value) {
    if (const char* old = std::getenv("NUMS_PROGRESS")) old_ = old;
    setenv("NUMS_PROGRESS", value, 1);
  }
  ~ScopedProgressEnv() {
    if (old_.empty()) {
      unsetenv("NUMS_PROGRESS");
    } else {
      setenv("NUMS_PROGRESS", old_.c_str(), 1);
    }
  }

 private:
  std::string old_;
};

class ProgressUseTest : public testing::OnNodes {};

// A fit shows its iterations; with NUMS_PROGRESS=0 it shows nothing, and verbose fits print
// their own lines instead.
TEST_P(ProgressUseTest, FitShowsItsIterations) {
  const auto data = models::make_blobs(600, 3, 5, {.block_rows = 130});
  for (const char* env : {"always", "0"}) {
    ScopedProgressEnv scoped(env);
    ::testing::internal::CaptureStderr();
    models::LogisticRegression lr({.solver = "newton", .max_iter = 6});
    lr.fit(data.X, data.y);
    const std::string err = ::testing::internal::GetCapturedStderr();
    if (std::string(env) == "0") {
      EXPECT_EQ(err, "");
      continue;
    }
    const auto frames = Frames(err);
    ASSERT_FALSE(frames.empty()) << err;
    const std::string want = "LogisticRegression newton [";
    EXPECT_EQ(frames.back().substr(0, want.size()), want) << err;
    EXPECT_NE(frames.back().find(" " + std::to_string(lr.n_iter()) + "/6 "), std::string::npos)
        << err;
    EXPECT_EQ(err.back(), '\n');
  }
}

// A get() of 256 MiB or more on a terminal comes in groups of blocks with a bar; the values
// are the same as without one.
TEST_P(ProgressUseTest, LargeGetShowsBytesAndKeepsValues) {
  const BlockArray x = arange(int64_t{1} << 25).reshape({4096, 8192}).astype(float64);
  ScopedProgressEnv scoped("always");
  ::testing::internal::CaptureStderr();
  const NDArray got = x.rechunk({1000, 3000}).get();
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(got.shape(), (Shape{4096, 8192}));
  const double* v = got.data<double>();
  for (int64_t i : {int64_t{0}, int64_t{8191}, int64_t{8192}, (int64_t{1} << 25) - 1}) {
    EXPECT_EQ(v[i], static_cast<double>(i));
  }
  const auto frames = Frames(err);
  ASSERT_FALSE(frames.empty()) << err;
  EXPECT_NE(frames.back().find("100% 268435456/268435456"), std::string::npos) << err;
  // A small get draws nothing.
  ::testing::internal::CaptureStderr();
  x(slice(0, 2)).get();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

INSTANTIATE_TEST_SUITE_P(Nodes, ProgressUseTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace nums
