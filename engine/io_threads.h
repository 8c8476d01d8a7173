#pragma once
// IoThreads: a node's threads for blocking I/O. A task that waits on a disk or a network runs
// here, so it never holds one of the compute threads of the node's TBB arena.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nums::engine {

class IoThreads {
 public:
  static constexpr int64_t kDefaultThreads = 4;

  /// Starts no thread until the first Run: most nodes never read a file.
  explicit IoThreads(int64_t threads = kDefaultThreads);
  /// Runs what is queued, then joins the threads.
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  /// Queues `fn` (which must not throw); the queue is first in, first out.
  void Run(std::function<void()> fn);
  /// Blocks until nothing is queued or running.
  void WaitIdle();
  int64_t threads() const { return max_threads_; }

 private:
  void Loop();

  const int64_t max_threads_;
  std::mutex mu_;  // guards queue_, busy_, stop_ and threads_
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  int64_t busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nums::engine
