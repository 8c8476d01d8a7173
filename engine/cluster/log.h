#pragma once
// The cluster library's logger and a rate limit for the warnings a peer can provoke. The driver
// links this library into a user's program, so it logs to stderr under its own name and never
// touches spdlog's default logger (whose sink is stdout).

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

namespace nums::engine::cluster {

/// The logger "nums" (stderr); daemons set its pattern and level.
spdlog::logger& Log();

/// Allows `burst` messages of each key per `window`; the rest are counted, and the next message
/// allowed says how many were left out. Pure: the caller passes the time.
class LogRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LogRateLimiter(int64_t burst, Clock::duration window) : burst_(burst), window_(window) {}

  /// Whether a message of `key` may be logged at `now`; when it may, `*suppressed` is the number
  /// of messages of that key refused since the last one allowed.
  bool Allow(const std::string& key, Clock::time_point now, int64_t* suppressed);

 private:
  struct Key {
    Clock::time_point window_start{};
    int64_t in_window = 0;
    int64_t suppressed = 0;
  };
  const int64_t burst_;
  const Clock::duration window_;
  std::map<std::string, Key> keys_;
};

/// Logs a warning of kind `key` unless more than 5 of that kind came in the last 10 s.
void WarnLimited(const std::string& key, const std::string& message);

}  // namespace nums::engine::cluster
