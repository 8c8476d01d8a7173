#include "engine/io_threads.h"

#include <algorithm>

#include <pthread.h>

namespace nums::engine {

IoThreads::IoThreads(int64_t threads) : max_threads_(std::max<int64_t>(1, threads)) {}

IoThreads::~IoThreads() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void IoThreads::Run(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
    // A thread more only while every thread is busy: idle ones take the work.
    const auto idle = static_cast<int64_t>(threads_.size()) - busy_;
    if (idle < static_cast<int64_t>(queue_.size()) &&
        static_cast<int64_t>(threads_.size()) < max_threads_) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  work_cv_.notify_one();
}

void IoThreads::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
}

void IoThreads::Loop() {
  pthread_setname_np(pthread_self(), "nums-io");
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> fn = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    fn();
    fn = nullptr;  // whatever it captured goes before the node counts it finished
    lock.lock();
    --busy_;
    if (queue_.empty() && busy_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace nums::engine
