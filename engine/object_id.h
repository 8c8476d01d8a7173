#pragma once
// 128-bit object ids assigned by the driver when it submits a task, so dependents can be submitted
// before their inputs exist.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace nums::engine {

/// Id of one object (one block) in the cluster: a per-driver session in `hi`, a counter in `lo`.
struct ObjectId {
  uint64_t hi = 0;
  uint64_t lo = 0;

  bool IsNil() const { return hi == 0 && lo == 0; }
  /// 32 hex digits.
  std::string ToString() const;
  friend bool operator==(const ObjectId&, const ObjectId&) = default;
  friend auto operator<=>(const ObjectId&, const ObjectId&) = default;
};

struct ObjectIdHash {
  size_t operator()(const ObjectId& id) const {
    // The counter half is already unique within a session; mix in the session for cross-driver use.
    return static_cast<size_t>(id.lo * 0x9E3779B97F4A7C15ull ^ id.hi);
  }
};

/// Hands out ids that are unique within a session; thread-safe.
class ObjectIdGenerator {
 public:
  /// `session` 0 draws a random nonzero session id.
  explicit ObjectIdGenerator(uint64_t session = 0);
  ObjectId Next() { return {session_, counter_.fetch_add(1, std::memory_order_relaxed)}; }
  uint64_t session() const { return session_; }

 private:
  uint64_t session_;
  std::atomic<uint64_t> counter_{1};
};

}  // namespace nums::engine
