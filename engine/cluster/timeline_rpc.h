#pragma once
// Node.Timeline on the wire: the node's side (a page of its TaskTrace) and the driver's (every
// page of one node's snapshot).

#include <functional>
#include <optional>

#include "engine/cluster/gen/nums_types.h"
#include "engine/timeline.h"

namespace nums::engine::cluster {

/// Events per reply, so that a full ring never nears the frame limit (about 100 B each).
constexpr int64_t kTimelinePageEvents = 10'000;

/// Fills `out` with one page of `trace` from seq `since` on, then applies `recording` (1 on,
/// 0 off, -1 unchanged); `out.recording` is the state before. Throws ValueError for another
/// `recording` value.
void ServeTimeline(TaskTrace& trace, int64_t since, int8_t recording, wire::TimelineW& out);

/// One node's whole snapshot from `since` on, through `call(since, recording, page)` made once
/// per page; the first call applies `record`.
TraceSnapshot FetchTimeline(
    int64_t node, int64_t since, std::optional<bool> record,
    const std::function<void(int64_t since, int8_t recording, wire::TimelineW& page)>& call);

}  // namespace nums::engine::cluster
