#include "engine/timeline.h"

#include <algorithm>
#include <chrono>

#include "nums/errors.hpp"

namespace nums::engine {

TaskTrace::TaskTrace(int64_t capacity) : capacity_(capacity) {
  if (capacity < 1) {
    throw ValueError("TaskTrace: capacity must be at least 1 event, got " +
                     std::to_string(capacity));
  }
}

void TaskTrace::Record(TaskEvent event) {
  std::lock_guard lock(mu_);
  event.seq = next_;
  const auto slot = static_cast<size_t>(next_ % capacity_);
  // The ring grows to its capacity on demand, so an idle node holds no memory for it.
  if (slot == ring_.size()) {
    ring_.push_back(std::move(event));
  } else {
    ring_[slot] = std::move(event);
  }
  ++next_;
}

TraceSnapshot TaskTrace::Since(int64_t since) const {
  TraceSnapshot out;
  out.recording = recording();
  std::lock_guard lock(mu_);
  out.next = next_;
  const int64_t oldest = std::max<int64_t>(0, next_ - capacity_);
  since = std::max<int64_t>(since, 0);
  if (since < oldest) {
    out.dropped = oldest - since;
    since = oldest;
  }
  for (int64_t s = since; s < next_; ++s) {
    out.events.push_back(ring_[static_cast<size_t>(s % capacity_)]);
  }
  return out;
}

int64_t TaskTrace::total() const {
  std::lock_guard lock(mu_);
  return next_;
}

int64_t TaskTrace::ThreadId() {
  static std::atomic<int64_t> next{1};
  thread_local const int64_t id = next.fetch_add(1, std::memory_order_relaxed);
  return id;
}

int64_t TaskTrace::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace nums::engine
