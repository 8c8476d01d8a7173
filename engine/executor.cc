#include "engine/executor.h"

namespace nums::engine {

Executor::Executor(int64_t threads)
    : threads_(threads), arena_(std::make_unique<tbb::task_arena>(static_cast<int>(threads), 0)) {}

Executor::~Executor() { WaitIdle(); }

void Executor::Run(std::function<void()> fn) {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  arena_->enqueue([this, fn = std::move(fn)] {
    fn();
    Done();
  });
}

void Executor::Done() {
  if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lock(idle_mu_);
    idle_cv_.notify_all();
  }
}

void Executor::WaitIdle() {
  std::unique_lock lock(idle_mu_);
  idle_cv_.wait(lock, [this] { return in_flight_.load(std::memory_order_acquire) == 0; });
}

void Executor::Isolate(const std::function<void()>& fn) { arena_->execute(fn); }

}  // namespace nums::engine
