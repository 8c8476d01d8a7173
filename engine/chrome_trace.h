#pragma once
// The Chrome trace-event format (JSON) for a cluster's timeline: what chrome://tracing and
// Perfetto (ui.perfetto.dev) open. One "X" (complete) event per task, ts and dur in microseconds
// from the earliest task, pid = node, tid = the thread that ran it; "M" events name the nodes.

#include <ostream>
#include <string>
#include <vector>

#include "engine/timeline.h"

namespace nums::engine {

/// Writes the timeline of `nodes` as one JSON object {"traceEvents": [...], ...}. The events'
/// args carry the kernel, input object ids and bytes (of those, bytes pulled from other nodes)
/// and output bytes; "otherData" holds the time origin (Unix ns) and the dropped-event count.
void WriteChromeTrace(const std::vector<NodeTimeline>& nodes, std::ostream& out);

/// WriteChromeTrace into file `path` (replaced). Throws IOError when it cannot be written.
void WriteChromeTraceFile(const std::vector<NodeTimeline>& nodes, const std::string& path);

/// `s` as a JSON string literal, quotes included.
std::string JsonString(const std::string& s);

}  // namespace nums::engine
