#pragma once
// LeaseTable: which driver sessions a node still serves. A driver renews its lease while it
// lives; when the lease runs out (or the driver's lease connection closes and it does not renew
// within a short grace), the node frees the session's objects and drops its queued tasks. Pure
// bookkeeping over times given by the caller, so it is tested step by step.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace nums::engine {

class LeaseTable {
 public:
  using Clock = std::chrono::steady_clock;

  /// Extends `session`'s lease to `now + ttl`; false (and no change) when it expired already: a
  /// driver that comes back after its objects were freed must not go on as if they existed.
  bool Renew(uint64_t session, Clock::time_point now, std::chrono::milliseconds ttl);
  /// The driver's lease connection closed: the lease ends `grace` from `now` unless renewed.
  void Disconnected(uint64_t session, Clock::time_point now, std::chrono::milliseconds grace);
  /// The sessions whose lease has run out by `now`, each returned once; they stay expired.
  std::vector<uint64_t> Expire(Clock::time_point now);
  /// Whether `session` has expired (a session never seen has not).
  bool Expired(uint64_t session) const;
  int64_t num_live() const;
  /// The sessions whose lease has not run out yet (as of the last Expire), in no order.
  std::vector<uint64_t> Live() const;

 private:
  mutable std::mutex mu_;  // guards until_ and expired_
  std::unordered_map<uint64_t, Clock::time_point> until_;
  std::unordered_set<uint64_t> expired_;
};

}  // namespace nums::engine
