#pragma once
// RecentErrors: the last task errors of a node, numbered in order, for the head's dashboard. A
// bounded ring: a node that fails millions of tasks keeps the newest few, and a reader that
// remembers the last number it saw gets only what came after.

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "engine/error_info.h"

namespace nums::engine {

struct RecentError {
  int64_t seq = 0;      ///< 1, 2, 3, ... in the order the errors happened on this node
  int64_t unix_ms = 0;  ///< wall-clock time of the failure, milliseconds since 1970
  ErrorInfo error;      ///< its message cut to kMaxMessage bytes
};

class RecentErrors {
 public:
  static constexpr int64_t kDefaultCapacity = 64;
  /// Longer messages (a kernel's whole traceback) are cut, with "..." at the end.
  static constexpr size_t kMaxMessage = 1024;

  explicit RecentErrors(int64_t capacity = kDefaultCapacity);
  /// Records a failure that happened now; the oldest entry goes once `capacity` are held.
  void Add(const ErrorInfo& error);
  /// The held errors whose seq is greater than `after`, oldest first (0: all held).
  std::vector<RecentError> Since(int64_t after) const;
  /// How many errors were ever added (the seq of the newest one).
  int64_t total() const;

 private:
  const int64_t capacity_;
  mutable std::mutex mu_;  // guards ring_ and next_seq_
  std::deque<RecentError> ring_;
  int64_t next_seq_ = 1;
};

}  // namespace nums::engine
