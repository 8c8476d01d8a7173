#include "tools/nums/timeline_command.h"

#include <signal.h>

#include <cerrno>
#include <cmath>
#include <limits>
#include <optional>

#include "engine/chrome_trace.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "nums/errors.hpp"

namespace nums::tools {

CLI::App* AddTimelineCommand(CLI::App& app, TimelineCommandOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "timeline", "write the tasks the nodes ran as a Chrome trace (open in ui.perfetto.dev)");
  cmd->add_option("--output,-o", options.output, "trace file to write (default timeline.json)");
  cmd->add_option("--duration", options.duration_s,
                  "record every node's tasks for S seconds from now (default: write what the "
                  "nodes recorded so far, e.g. with NUMS_TIMELINE=1 in their environment)")
      ->check(CLI::NonNegativeNumber);
  return cmd;
}

int RunTimelineCommand(const TimelineCommandOptions& options, const std::string& address,
                       const std::string& token_file, std::ostream& out) {
  if (!std::isfinite(options.duration_s) || options.duration_s < 0) {
    throw ValueError("--duration must be a number of seconds >= 0, got " +
                     std::to_string(options.duration_s));
  }
  auto rt =
      engine::cluster::ThriftRuntime::Connect(address, engine::cluster::ReadToken(token_file));
  std::vector<engine::NodeTimeline> nodes;
  if (options.duration_s > 0) {
    const auto listed = rt->Nodes();
    // From past the end: only where each node's next event will be, and whether it recorded.
    std::vector<int64_t> marks(listed.size(), std::numeric_limits<int64_t>::max());
    bool was_recording = false;
    for (const auto& n : rt->Timeline(marks, true)) {
      marks.at(static_cast<size_t>(n.node)) = n.trace.next;
      was_recording = was_recording || n.trace.recording;
    }
    // main() blocks the stop signals for its daemons: wait for one of them, or the duration.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    const double whole = std::floor(options.duration_s);
    timespec wait{static_cast<time_t>(whole),
                  static_cast<long>((options.duration_s - whole) * 1e9)};
    while (sigtimedwait(&stop, nullptr, &wait) < 0 && errno == EINTR) {
    }
    std::optional<bool> restore;
    if (!was_recording) restore = false;
    nodes = rt->Timeline(marks, restore);
  } else {
    nodes = rt->Timeline({}, std::nullopt);
  }
  engine::WriteChromeTraceFile(nodes, options.output);
  int64_t events = 0, dropped = 0;
  for (const auto& n : nodes) {
    events += static_cast<int64_t>(n.trace.events.size());
    dropped += n.trace.dropped;
  }
  out << "wrote " << events << " tasks of " << nodes.size() << " nodes to " << options.output;
  if (dropped > 0) out << " (" << dropped << " older tasks no longer kept)";
  out << "\n";
  return 0;
}

}  // namespace nums::tools
