#pragma once
// `nums timeline`: a running cluster's task timeline as a Chrome trace (see Context::timeline).

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace nums::tools {

struct TimelineCommandOptions {
  std::string output = "timeline.json";
  double duration_s = 0;  ///< > 0: record for this long from now; 0: what the nodes keep
};

/// Adds the subcommand's own options (the caller adds --address and --token-file).
CLI::App* AddTimelineCommand(CLI::App& app, TimelineCommandOptions& options);

/// Connects to the head at `address` with the token in `token_file` and writes the trace.
/// With a duration it turns recording on at every node, waits (Ctrl-C ends the wait early) and
/// puts recording back as it was; without one it writes every task the nodes keep. Prints a
/// line of summary to `out`; returns the exit status.
int RunTimelineCommand(const TimelineCommandOptions& options, const std::string& address,
                       const std::string& token_file, std::ostream& out);

}  // namespace nums::tools
