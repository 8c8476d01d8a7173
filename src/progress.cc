#include "nums/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "nums/errors.hpp"

namespace nums {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Decide(const ProgressOptions& o) {
  switch (o.mode) {
    case ProgressOptions::Mode::kOn:
      return true;
    case ProgressOptions::Mode::kOff:
      return false;
    case ProgressOptions::Mode::kAuto:
      break;
  }
  return ProgressBar::auto_enabled(ProgressBar::stderr_is_tty(), std::getenv("NUMS_PROGRESS"));
}

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      enabled_(Decide(options)),
      start_ns_(SteadyNs()) {
  if (total < 0) {
    throw ValueError("ProgressBar '" + label_ + "': total must be >= 0, got " +
                     std::to_string(total));
  }
  if (options.width < 1) {
    throw ValueError("ProgressBar '" + label_ + "': width must be >= 1, got " +
                     std::to_string(options.width));
  }
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(int64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (enabled_) maybe_draw(false);
}

void ProgressBar::set(int64_t done) {
  done_.store(done, std::memory_order_relaxed);
  if (enabled_) maybe_draw(false);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  maybe_draw(true);
  std::lock_guard lock(draw_mu_);
  if (finished_) return;
  finished_ = true;
  std::ostream& out = options_.out ? *options_.out : std::cerr;
  if (drawn_) out << "\n" << std::flush;
}

void ProgressBar::maybe_draw(bool force) {
  const int64_t now = SteadyNs();
  // The first update draws at once; after it, one every min_interval_s at most.
  if (!force && now < next_draw_ns_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(draw_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    if (!force) return;  // another thread draws now
    lock.lock();
  }
  if (finished_) return;
  next_draw_ns_.store(now + static_cast<int64_t>(options_.min_interval_s * 1e9),
                      std::memory_order_relaxed);
  const std::string line =
      render(label_, done(), total_, static_cast<double>(now - start_ns_) / 1e9, options_.width);
  std::ostream& out = options_.out ? *options_.out : std::cerr;
  // Spaces over what is left of a longer previous line.
  out << '\r' << line << std::string(last_width_ > line.size() ? last_width_ - line.size() : 0, ' ')
      << std::flush;
  last_width_ = line.size();
  drawn_ = true;
}

bool ProgressBar::auto_enabled(bool is_tty, const char* env) {
  if (env != nullptr && std::strcmp(env, "always") == 0) return true;
  if (env != nullptr && (std::strcmp(env, "0") == 0 || std::strcmp(env, "false") == 0 ||
                         std::strcmp(env, "off") == 0)) {
    return false;
  }
  return is_tty;
}

bool ProgressBar::stderr_is_tty() { return isatty(STDERR_FILENO) == 1; }

std::string ProgressBar::render(const std::string& label, int64_t done, int64_t total,
                                double elapsed_s, int64_t width) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1fs", std::max(0.0, elapsed_s));
  if (total <= 0) return label + " " + std::to_string(done) + " " + seconds;
  const int64_t shown = std::clamp<int64_t>(done, 0, total);
  const int64_t filled = shown * width / total;
  const int64_t percent = shown * 100 / total;
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3lld%%", static_cast<long long>(percent));
  return label + " [" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(width - filled), '.') + "] " + pct + " " +
         std::to_string(done) + "/" + std::to_string(total) + " " + seconds;
}

}  // namespace nums
