#pragma once
// LoadView: the driver's view of each node's load, kept from what the nodes report in their
// replies (Node.SubmitTasks, and Node.KeepAlive about every second), so that placing an
// operation asks nothing of the cluster. No I/O: callers hand it the reports.
//
// Staleness: a node's figure is its last report, taken when it answered, plus the declared
// output bytes of the tasks that call handed it (queued, not yet in its memory then). The next
// report replaces both. Between reports the view misses what finished or was freed meanwhile:
// at most one lease renewal (about a second) behind while the driver is idle, and one submit
// behind while it sends work.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "engine/runtime.h"
#include "engine/task.h"

namespace nums::engine::cluster {

class LoadView {
 public:
  using Clock = std::chrono::steady_clock;

  /// `nodes` nodes, each with nothing reported yet (a load of zero).
  explicit LoadView(int64_t nodes) : reports_(static_cast<size_t>(nodes)) {}

  /// Node `node` answered a call sent at `asked` with `load`, measured as it answered;
  /// `queued_bytes`: outputs of tasks that call handed it. A report of a call sent before that
  /// of the report held is older and ignored (replies of two connections may cross). Unknown
  /// nodes are ignored.
  void Report(NodeId node, const NodeLoad& load, int64_t queued_bytes, Clock::time_point asked);
  /// Each node's load now (`live` as reported: the runtime marks its lost nodes itself).
  std::vector<NodeLoad> Loads() const;

 private:
  struct Entry {
    NodeLoad load;
    int64_t queued_bytes = 0;
    Clock::time_point asked{};
  };
  mutable std::mutex mu_;  // guards reports_
  std::vector<Entry> reports_;
};

/// The output bytes `tasks` declare: what they add to their node's memory once they run.
int64_t OutputBytes(const std::vector<const TaskRecord*>& tasks);

}  // namespace nums::engine::cluster
