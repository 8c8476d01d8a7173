#include "engine/chrome_trace.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "nums/errors.hpp"

namespace nums::engine {
namespace {

// Microseconds with nanosecond digits: relative to the origin so that a double keeps them all.
void WriteMicros(std::ostream& out, int64_t ns) {
  const int64_t whole = ns / 1000;
  int64_t frac = ns % 1000;
  if (frac < 0) frac = -frac;
  if (ns < 0 && whole == 0) out << '-';
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(frac));
  out << whole << '.' << buf;
}

}  // namespace

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void WriteChromeTrace(const std::vector<NodeTimeline>& nodes, std::ostream& out) {
  int64_t origin = std::numeric_limits<int64_t>::max();
  int64_t dropped = 0;
  for (const auto& n : nodes) {
    dropped += n.trace.dropped;
    for (const auto& e : n.trace.events) origin = std::min(origin, e.start_ns);
  }
  if (origin == std::numeric_limits<int64_t>::max()) origin = 0;

  out << "{\"traceEvents\":[";
  bool first = true;
  auto sep = [&] {
    out << (first ? "\n" : ",\n");
    first = false;
  };
  for (const auto& n : nodes) {
    sep();
    const std::string label = "node " + std::to_string(n.node) +
                              (n.address.empty() ? std::string() : " (" + n.address + ")");
    out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << n.node
        << ",\"tid\":0,\"args\":{\"name\":" << JsonString(label) << "}}";
    sep();
    out << "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" << n.node
        << ",\"tid\":0,\"args\":{\"sort_index\":" << n.node << "}}";
    for (const TaskEvent& e : n.trace.events) {
      sep();
      out << "{\"name\":" << JsonString(e.name) << ",\"cat\":\"task\",\"ph\":\"X\",\"ts\":";
      WriteMicros(out, e.start_ns - origin);
      out << ",\"dur\":";
      // A step of the system clock mid-task must not make a negative duration.
      WriteMicros(out, std::max<int64_t>(0, e.end_ns - e.start_ns));
      out << ",\"pid\":" << e.node << ",\"tid\":" << e.thread
          << ",\"args\":{\"kernel\":" << JsonString(e.kernel) << ",\"seq\":" << e.seq
          << ",\"inputs\":[";
      for (size_t i = 0; i < e.inputs.size(); ++i) {
        out << (i ? "," : "") << '"' << e.inputs[i].ToString() << '"';
      }
      out << "],\"input_bytes\":" << e.input_bytes << ",\"remote_bytes\":" << e.remote_bytes
          << ",\"output_bytes\":" << e.output_bytes
          << ",\"failed\":" << (e.failed ? "true" : "false") << "}}";
    }
  }
  out << "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"origin_unix_ns\":" << origin
      << ",\"dropped_events\":" << dropped << "}}\n";
}

void WriteChromeTraceFile(const std::vector<NodeTimeline>& nodes, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw IOError("timeline: cannot open '" + path + "' for writing: " + std::strerror(errno));
  }
  WriteChromeTrace(nodes, out);
  out.flush();
  if (!out) throw IOError("timeline: writing '" + path + "' failed");
}

}  // namespace nums::engine
