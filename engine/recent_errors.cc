#include "engine/recent_errors.h"

#include <algorithm>
#include <chrono>

namespace nums::engine {

RecentErrors::RecentErrors(int64_t capacity) : capacity_(std::max<int64_t>(1, capacity)) {}

void RecentErrors::Add(const ErrorInfo& error) {
  RecentError e;
  e.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  e.error = error;
  if (e.error.message.size() > kMaxMessage) {
    e.error.message.resize(kMaxMessage - 3);
    e.error.message += "...";
  }
  std::lock_guard lock(mu_);
  e.seq = next_seq_++;
  ring_.push_back(std::move(e));
  while (static_cast<int64_t>(ring_.size()) > capacity_) ring_.pop_front();
}

std::vector<RecentError> RecentErrors::Since(int64_t after) const {
  std::lock_guard lock(mu_);
  std::vector<RecentError> out;
  for (const RecentError& e : ring_) {
    if (e.seq > after) out.push_back(e);
  }
  return out;
}

int64_t RecentErrors::total() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

}  // namespace nums::engine
