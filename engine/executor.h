#pragma once
// Executor: the threads of one node, a TBB arena of its own so nodes in one process do not steal
// each other's cores.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include <tbb/task_arena.h>

#include <tbb/task_scheduler_observer.h>
#include "engine/memory_pool.h"

namespace nums::engine {

class Executor {
 public:
  /// An arena of `threads` threads; TBB's process-wide worker limit is raised so that every
  /// executor alive in the process gets all of its threads, whatever the machine's core count.
  /// With `pool` (which must outlive the executor), the arena's workers allocate from it.
  explicit Executor(int64_t threads, const std::shared_ptr<MemoryPool>* pool = nullptr);
  /// Waits for every queued task to finish.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Queues `fn` to run on one of this node's threads. `fn` must not throw.
  void Run(std::function<void()> fn);
  /// Blocks until nothing is queued or running.
  void WaitIdle();
  int64_t threads() const { return threads_; }
  /// Runs `fn` inside this node's arena (so TBB parallel loops in kernels use this node's threads).
  void Isolate(const std::function<void()>& fn);

 private:
  // What the arena runs: TBB calls it as const, and it must drop `fn` before Done().
  struct Task {
    Task(Executor* e, std::function<void()> f) : executor(e), fn(std::move(f)) {}
    Task(Task&& other) noexcept;
    Executor* executor;
    mutable std::function<void()> fn;
    void operator()() const;
  };
  void Done();

  const int64_t threads_;
  std::unique_ptr<tbb::task_arena> arena_;
  std::unique_ptr<tbb::task_scheduler_observer> observer_;
  std::mutex mu_;  // guards in_flight_; held while notifying so WaitIdle cannot return early
  int64_t in_flight_ = 0;
  std::condition_variable idle_cv_;
};

}  // namespace nums::engine
