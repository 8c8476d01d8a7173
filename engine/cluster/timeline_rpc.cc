#include "engine/cluster/timeline_rpc.h"

#include <algorithm>

#include "engine/cluster/wire.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {

void ServeTimeline(TaskTrace& trace, int64_t since, int8_t recording, wire::TimelineW& out) {
  if (recording < -1 || recording > 1) {
    throw ValueError("Node.Timeline: recording must be -1, 0 or 1, got " +
                     std::to_string(recording));
  }
  TraceSnapshot snap = trace.Since(since);
  if (recording >= 0) trace.SetRecording(recording == 1);
  const auto page =
      std::min<int64_t>(static_cast<int64_t>(snap.events.size()), kTimelinePageEvents);
  out.events.clear();
  out.events.reserve(static_cast<size_t>(page));
  for (int64_t i = 0; i < page; ++i) {
    const TaskEvent& e = snap.events[static_cast<size_t>(i)];
    wire::TaskEventW w;
    w.seq = e.seq;
    w.name = e.name;
    w.kernel = e.kernel;
    w.thread = e.thread;
    w.start_ns = e.start_ns;
    w.end_ns = e.end_ns;
    for (const ObjectId& id : e.inputs) w.inputs.push_back(ToWire(id));
    w.input_bytes = e.input_bytes;
    w.remote_bytes = e.remote_bytes;
    w.output_bytes = e.output_bytes;
    w.failed = e.failed;
    out.events.push_back(std::move(w));
  }
  out.more = page < static_cast<int64_t>(snap.events.size());
  out.next_seq = out.more ? snap.events[static_cast<size_t>(page)].seq : snap.next;
  out.dropped = snap.dropped;
  out.recording = snap.recording;
}

TraceSnapshot FetchTimeline(
    int64_t node, int64_t since, std::optional<bool> record,
    const std::function<void(int64_t since, int8_t recording, wire::TimelineW& page)>& call) {
  TraceSnapshot out;
  int8_t recording = record ? (*record ? 1 : 0) : -1;
  bool first = true;
  for (;;) {
    wire::TimelineW page;
    call(since, recording, page);
    if (first) {
      out.recording = page.recording;
      out.dropped = page.dropped;
      first = false;
    }
    recording = -1;  // applied once
    for (auto& w : page.events) {
      TaskEvent e;
      e.seq = w.seq;
      e.name = std::move(w.name);
      e.kernel = std::move(w.kernel);
      e.node = node;
      e.thread = w.thread;
      e.start_ns = w.start_ns;
      e.end_ns = w.end_ns;
      for (const auto& id : w.inputs) e.inputs.push_back(FromWire(id));
      e.input_bytes = w.input_bytes;
      e.remote_bytes = w.remote_bytes;
      e.output_bytes = w.output_bytes;
      e.failed = w.failed;
      out.events.push_back(std::move(e));
    }
    out.next = page.next_seq;
    // A page that ends no further on than it began would loop for ever.
    if (!page.more || page.next_seq <= since) break;
    since = page.next_seq;
  }
  return out;
}

}  // namespace nums::engine::cluster
