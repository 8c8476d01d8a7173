#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/executor.h"

namespace nums::engine {
namespace {

using namespace std::chrono_literals;

// Runs `tasks` tasks that each wait, up to 20 s, until all of them have started: they can only
// finish quickly if the executor runs all of them at once. Returns how many saw all the others.
int64_t RunUntilAllStarted(Executor& executor, int64_t tasks) {
  std::mutex mu;  // guards started and together
  std::condition_variable cv;
  int64_t started = 0, together = 0;
  for (int64_t i = 0; i < tasks; ++i) {
    executor.Run([&] {
      std::unique_lock lock(mu);
      ++started;
      cv.notify_all();
      if (cv.wait_for(lock, 20s, [&] { return started == tasks; })) ++together;
    });
  }
  executor.WaitIdle();
  return together;
}

TEST(ExecutorTest, RunsAsManyTasksAtOnceAsItHasThreads) {
  // More threads than the machine has cores: TBB's default worker limit (cores - 1) would run
  // fewer at once and no task would see all the others start.
  const int64_t threads = std::max<int64_t>(2, std::thread::hardware_concurrency() + 1);
  Executor executor(threads);
  EXPECT_EQ(RunUntilAllStarted(executor, threads), threads);
}

TEST(ExecutorTest, SeveralExecutorsGetAllTheirThreads) {
  const int64_t threads = std::max<int64_t>(2, std::thread::hardware_concurrency());
  Executor a(threads), b(threads);
  int64_t together_a = 0;
  std::thread other([&] { together_a = RunUntilAllStarted(a, threads); });
  EXPECT_EQ(RunUntilAllStarted(b, threads), threads);
  other.join();
  EXPECT_EQ(together_a, threads);
}

TEST(ExecutorTest, IsDestroyedSafelyAsItsLastTaskFinishes) {
  // The destructor waits for the last task, which must not touch the executor once the count
  // that lets the destructor go on reaches zero (run under ThreadSanitizer in scripts/).
  std::atomic<int64_t> ran{0};
  for (int i = 0; i < 2000; ++i) {
    auto executor = std::make_unique<Executor>(2);
    for (int k = 0; k < 3; ++k) executor->Run([&ran] { ran.fetch_add(1); });
    executor.reset();
  }
  EXPECT_EQ(ran.load(), 6000);
}

TEST(ExecutorTest, WhatATaskCapturedIsGoneWhenWaitIdleReturns) {
  Executor executor(2);
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  executor.Run([token = std::move(token)] {});
  executor.WaitIdle();
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace nums::engine
