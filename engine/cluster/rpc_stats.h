#pragma once
// RpcLatencies: how long each RPC handler of this process took, by handler name, for the
// `nums_rpc_duration_seconds` histogram. Handlers record without a lock: the names live in a
// fixed table of slots claimed once each by compare-and-swap.

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "engine/histogram.h"

namespace nums::engine::cluster {

class RpcLatencies {
 public:
  /// More distinct handler names than this share the last slot, named "other".
  static constexpr size_t kSlots = 64;

  /// Counts one call of handler `rpc`, a name that outlives the process (a string literal).
  void Observe(const char* rpc, std::chrono::nanoseconds d);
  /// Calls `fn(name, histogram)` for each handler seen so far.
  void ForEach(const std::function<void(const std::string&, const LatencyHistogram&)>& fn) const;

 private:
  struct Slot {
    std::atomic<const char*> name{nullptr};
    LatencyHistogram seconds;
  };
  std::array<Slot, kSlots> slots_;
};

/// The process's table (one daemon per process; the head's and nodes' names differ anyway).
RpcLatencies& ProcessRpcLatencies();

/// Records, on destruction, how long handler `rpc` ran: returns and throws alike.
class RpcTimer {
 public:
  explicit RpcTimer(const char* rpc) : rpc_(rpc), start_(std::chrono::steady_clock::now()) {}
  ~RpcTimer() { ProcessRpcLatencies().Observe(rpc_, std::chrono::steady_clock::now() - start_); }
  RpcTimer(const RpcTimer&) = delete;
  RpcTimer& operator=(const RpcTimer&) = delete;

 private:
  const char* rpc_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace nums::engine::cluster
