#pragma once
// TaskTrace: what ran on one node, task by task, for a timeline of the cluster. Recording is off
// by default; while it is off a finished task costs one relaxed atomic load. While it is on, each
// finished task adds one TaskEvent to a ring of bounded size: when the ring is full the oldest
// event is overwritten and counted as dropped.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/object_id.h"

namespace nums::engine {

/// One task as it ran on a node. Times are nanoseconds of the node's system clock since the Unix
/// epoch, so that the events of node processes on one machine line up; on several machines the
/// nodes' clocks are used as they are (NTP keeps them within a millisecond or so).
struct TaskEvent {
  int64_t seq = 0;               ///< position among the events this node recorded, from 0
  std::string name;              ///< the task's name (its array operation, else the kernel)
  std::string kernel;            ///< registry name of the kernel
  int64_t node = 0;              ///< the node that ran it
  int64_t thread = 0;            ///< small id of the thread that ran it, per process
  int64_t start_ns = 0;          ///< when its execution began (inputs present, memory admitted)
  int64_t end_ns = 0;            ///< when its outputs were made (or it failed)
  std::vector<ObjectId> inputs;  ///< its block arguments, in order
  int64_t input_bytes = 0;       ///< bytes of those inputs
  int64_t remote_bytes = 0;      ///< of those, bytes pulled from other nodes
  int64_t output_bytes = 0;      ///< bytes of the blocks it made
  bool failed = false;           ///< its outputs are errors
};

/// The events one node recorded from a sequence number on.
struct TraceSnapshot {
  std::vector<TaskEvent> events;  ///< in the order they were recorded
  int64_t next = 0;               ///< the seq the next event will get: ask Since(next) next time
  int64_t dropped = 0;            ///< events from the asked-for seq on that the ring overwrote
  bool recording = false;         ///< whether recording was on when the snapshot was taken
};

class TaskTrace {
 public:
  /// Events a node keeps by default: some 20 MB at most for tasks of a few inputs.
  static constexpr int64_t kDefaultCapacity = 100'000;

  /// Throws ValueError for a capacity below 1.
  explicit TaskTrace(int64_t capacity = kDefaultCapacity);
  TaskTrace(const TaskTrace&) = delete;
  TaskTrace& operator=(const TaskTrace&) = delete;

  /// Whether finished tasks are recorded now: one relaxed load, for the executor's hot path.
  bool recording() const { return recording_.load(std::memory_order_relaxed); }
  /// Turns recording on or off; returns whether it was on. Events kept stay.
  bool SetRecording(bool on) { return recording_.exchange(on, std::memory_order_relaxed); }

  /// Appends `event` (its seq is assigned here), overwriting the oldest when the ring is full.
  void Record(TaskEvent event);
  /// The kept events with seq >= `since` (0: all of them). A `since` past the last event gives
  /// none, with `next` telling where recording stands.
  TraceSnapshot Since(int64_t since) const;

  int64_t capacity() const { return capacity_; }
  /// Events recorded so far, kept or overwritten.
  int64_t total() const;

  /// A small id for the calling thread, stable for its life (1, 2, ... in order of first use).
  static int64_t ThreadId();
  /// The system clock in nanoseconds since the Unix epoch.
  static int64_t NowNs();

 private:
  const int64_t capacity_;
  std::atomic<bool> recording_{false};
  mutable std::mutex mu_;        // guards ring_ and next_
  std::vector<TaskEvent> ring_;  // event seq lives at ring_[seq % capacity_] while kept
  int64_t next_ = 0;
};

/// One node's part of a cluster's timeline, as the driver gathers it.
struct NodeTimeline {
  int64_t node = 0;
  std::string address;  ///< how the driver reaches it ("embedded" in-process)
  TraceSnapshot trace;
};

}  // namespace nums::engine
