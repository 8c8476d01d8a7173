#include "engine/lease_table.h"

#include <algorithm>

namespace nums::engine {

bool LeaseTable::Renew(uint64_t session, Clock::time_point now, std::chrono::milliseconds ttl) {
  std::lock_guard lock(mu_);
  if (expired_.count(session) != 0) return false;
  until_[session] = now + ttl;
  return true;
}

void LeaseTable::Disconnected(uint64_t session, Clock::time_point now,
                              std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  auto it = until_.find(session);
  if (it != until_.end()) it->second = std::min(it->second, now + grace);
}

std::vector<uint64_t> LeaseTable::Expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  for (auto it = until_.begin(); it != until_.end();) {
    if (it->second <= now) {
      out.push_back(it->first);
      expired_.insert(it->first);
      it = until_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

bool LeaseTable::Expired(uint64_t session) const {
  std::lock_guard lock(mu_);
  return expired_.count(session) != 0;
}

int64_t LeaseTable::num_live() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(until_.size());
}

std::vector<uint64_t> LeaseTable::Live() const {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  out.reserve(until_.size());
  for (const auto& [session, until] : until_) out.push_back(session);
  return out;
}

}  // namespace nums::engine
