// Context::timeline and TimelineRecording: the driver's side of the task timeline. The nodes
// record (engine/timeline.h); this gathers their events and writes the Chrome trace.

#include <limits>

#include "engine/chrome_trace.h"
#include "src/context_impl.h"

namespace nums {
namespace {

TimelineSummary Write(const std::vector<engine::NodeTimeline>& nodes, const std::string& path) {
  engine::WriteChromeTraceFile(nodes, path);
  TimelineSummary out;
  out.nodes = static_cast<int64_t>(nodes.size());
  for (const auto& n : nodes) {
    out.events += static_cast<int64_t>(n.trace.events.size());
    out.dropped += n.trace.dropped;
  }
  return out;
}

}  // namespace

struct TimelineRecording::State {
  std::shared_ptr<Context::Impl> ctx;
  std::vector<int64_t> marks;  // per node id: the seq its first event of the region gets
  bool was_recording = false;  // some node recorded before the region: leave recording on
  bool saved = false;
};

TimelineRecording::TimelineRecording(std::unique_ptr<State> state) : state_(std::move(state)) {}
TimelineRecording::TimelineRecording(TimelineRecording&&) noexcept = default;
TimelineRecording& TimelineRecording::operator=(TimelineRecording&&) noexcept = default;

TimelineRecording::~TimelineRecording() {
  if (!state_ || state_->saved || state_->was_recording) return;
  try {
    state_->ctx->runtime->Timeline(state_->marks, false);
  } catch (...) {  // a destructor reports nothing; the nodes keep recording into their rings
  }
}

TimelineSummary TimelineRecording::save(const std::string& path) {
  if (!state_ || state_->saved) throw ValueError("timeline: this recording was saved already");
  state_->saved = true;
  std::optional<bool> restore;
  if (!state_->was_recording) restore = false;
  return Write(state_->ctx->runtime->Timeline(state_->marks, restore), path);
}

TimelineSummary Context::timeline(const std::string& path) const {
  return Write(impl_->runtime->Timeline({}, std::nullopt), path);
}

TimelineRecording Context::start_timeline() const {
  auto state = std::make_unique<TimelineRecording::State>();
  state->ctx = impl_;
  // From past the end: no events, only where each node's next one will be.
  const std::vector<int64_t> end(static_cast<size_t>(impl_->num_nodes),
                                 std::numeric_limits<int64_t>::max());
  for (const auto& n : impl_->runtime->Timeline(end, true)) {
    const auto i = static_cast<size_t>(n.node);
    if (state->marks.size() <= i) state->marks.resize(i + 1, 0);
    state->marks[i] = n.trace.next;
    state->was_recording = state->was_recording || n.trace.recording;
  }
  return TimelineRecording(std::move(state));
}

}  // namespace nums
