#pragma once
// LatencyHistogram: durations counted into fixed buckets with relaxed atomics, so that task and
// RPC paths record them without a lock; a scrape reads a snapshot. Used for the Prometheus
// histograms of engine/cluster/metrics.h.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace nums::engine {

class LatencyHistogram {
 public:
  /// Upper bounds of the buckets, in seconds (Prometheus `le`); one more bucket holds the rest.
  static constexpr std::array<double, 16> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                  1.0,    2.5,     5.0,    10.0};

  struct Snapshot {
    /// cumulative[i]: observations <= kBounds[i]; the last entry (+Inf) equals count.
    std::array<int64_t, kBounds.size() + 1> cumulative{};
    int64_t count = 0;
    double sum_seconds = 0;
  };

  void Observe(std::chrono::nanoseconds d) {
    const double s = std::chrono::duration<double>(d).count();
    size_t i = 0;
    while (i < kBounds.size() && s > kBounds[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(d.count(), std::memory_order_relaxed);
  }

  /// The buckets as Prometheus shows them; count is the sum of the buckets read, so that +Inf
  /// and _count agree even while observations arrive.
  Snapshot Read() const {
    Snapshot out;
    int64_t total = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      total += counts_[i].load(std::memory_order_relaxed);
      out.cumulative[i] = total;
    }
    out.count = total;
    out.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
    return out;
  }

 private:
  std::array<std::atomic<int64_t>, kBounds.size() + 1> counts_{};
  std::atomic<int64_t> sum_ns_{0};
};

}  // namespace nums::engine
