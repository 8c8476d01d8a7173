#pragma once
/// nums::ProgressBar: a one-line bar on a terminal for long array work (a fit's iterations, a
/// large get()). It draws only where someone watches: by default when stderr is a terminal and
/// NUMS_PROGRESS is not "0" (NUMS_PROGRESS=always draws on any stderr); it redraws at most ~10
/// times a second, and when it does not draw an update costs one relaxed atomic add.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

namespace nums {

struct ProgressOptions {
  enum class Mode { kAuto, kOn, kOff };
  /// kAuto: draw when stderr is a terminal and NUMS_PROGRESS is not "0"; kOn / kOff force it.
  Mode mode = Mode::kAuto;
  /// Where it draws; nullptr: std::cerr.
  std::ostream* out = nullptr;
  /// Least time between two redraws, in seconds (the first and the last always draw).
  double min_interval_s = 0.1;
  /// Cells of the bar.
  int64_t width = 30;
};

class ProgressBar {
 public:
  /// A bar for `total` units of work labelled `label` (total 0: unknown, only counts are shown).
  /// Throws ValueError for a negative total or a width below 1.
  ProgressBar(std::string label, int64_t total, ProgressOptions options = {});
  /// finish()
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// `n` more units done; safe from several threads.
  void advance(int64_t n = 1);
  /// `done` units done in all.
  void set(int64_t done);
  /// Draws the final state and ends the line (if it drew at all); later updates draw nothing.
  void finish();

  bool enabled() const { return enabled_; }
  int64_t done() const { return done_.load(std::memory_order_relaxed); }
  int64_t total() const { return total_; }

  /// Whether a kAuto bar draws, given whether stderr is a terminal and NUMS_PROGRESS's value
  /// (nullptr when unset): not when it is "0", "false" or "off"; always when it is "always"
  /// (bars in a log file); else when stderr is a terminal.
  static bool auto_enabled(bool is_tty, const char* env);
  /// Whether stderr is a terminal now.
  static bool stderr_is_tty();
  /// The line drawn for `done` of `total` after `elapsed_s` seconds, e.g.
  /// "fit [#########.....................]  30% 3/10 1.2s" (without the leading '\r').
  static std::string render(const std::string& label, int64_t done, int64_t total, double elapsed_s,
                            int64_t width);

 private:
  void maybe_draw(bool force);

  const std::string label_;
  const int64_t total_;
  const ProgressOptions options_;
  const bool enabled_;
  const int64_t start_ns_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> next_draw_ns_{0};  // steady-clock ns before which no redraw happens
  std::mutex draw_mu_;                    // guards the stream, drawn_, finished_, last_width_
  bool drawn_ = false;
  bool finished_ = false;
  size_t last_width_ = 0;
};

}  // namespace nums
