#include "engine/cluster/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace nums::engine::cluster {

spdlog::logger& Log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto existing = spdlog::get("nums");
    return existing ? existing : spdlog::stderr_color_mt("nums");
  }();
  return *logger;
}

bool LogRateLimiter::Allow(const std::string& key, Clock::time_point now, int64_t* suppressed) {
  Key& k = keys_[key];
  if (k.in_window == 0 || now - k.window_start >= window_) {
    k.window_start = now;
    k.in_window = 0;
  }
  if (k.in_window >= burst_) {
    ++k.suppressed;
    return false;
  }
  ++k.in_window;
  *suppressed = k.suppressed;
  k.suppressed = 0;
  return true;
}

void WarnLimited(const std::string& key, const std::string& message) {
  static std::mutex mu;  // guards limiter
  static LogRateLimiter limiter(5, std::chrono::seconds(10));
  int64_t suppressed = 0;
  {
    std::lock_guard lock(mu);
    if (!limiter.Allow(key, LogRateLimiter::Clock::now(), &suppressed)) return;
  }
  if (suppressed > 0) {
    Log().warn("{} ({} more like it not logged)", message, suppressed);
  } else {
    Log().warn("{}", message);
  }
}

}  // namespace nums::engine::cluster
