#pragma once
/// nums::init and the Context it returns: the connection to the cluster every array lives on.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nums {

/// How to reach a cluster. The default starts an embedded cluster inside this process.
struct InitOptions {
  int64_t nodes = 1;             ///< embedded: number of virtual nodes
  int64_t threads_per_node = 0;  ///< embedded: 0 divides the machine's cores among the nodes
  /// Where block operations run: "lshs" (load-simulated: least max memory + network load),
  /// "round-robin", or "locality" (where the larger input is).
  std::string placement = "lshs";
  /// HOST:PORT of a running cluster's head (`nums start --head`); empty: $NUMS_ADDRESS when set
  /// (a job the head runs has it, `nums job submit`), else an embedded cluster is started.
  /// Connecting throws AuthError for a refused token and ClusterError for an unreachable head.
  std::string address{};
  /// The cluster token file; empty: $NUMS_TOKEN_FILE, else $NUMS_HOME/token, else
  /// ~/.nums/token.
  std::string token_file{};
  /// The cluster CA certificate (PEM) of a cluster started with `nums start --head --tls`
  /// (its STATE_DIR/tls/ca.pem); set, every connection is TLS and each daemon's certificate
  /// must chain to it and name the address dialled. Empty: $NUMS_TLS_CA when set, else
  /// plaintext. The token is sent as well. A failed handshake throws ClusterError.
  std::string tls_ca{};
  /// embedded: the memory budget in bytes, shared equally by the nodes; 0: 80% of physical
  /// memory. Above 80% of it objects spill to disk; a task that can never fit throws
  /// OutOfMemoryError.
  int64_t memory = 0;
  /// embedded: where objects spill; empty: $NUMS_HOME/spill, else ~/.nums/spill.
  std::string spill_dir{};
  /// Record every task from the start, for Context::timeline (as NUMS_TIMELINE=1 in the
  /// environment of the process that runs the nodes does); on a running cluster this turns
  /// recording on at every node.
  bool timeline = false;
  /// Where block operations run by default: "cpu" (each node's cores), "gpu" (each node's
  /// first GPU: blocks live in its memory and move to and from the host as tasks need; an
  /// operation with no CUDA kernel runs on the CPU, which each node logs once per kernel), or
  /// "auto" (per block operation, the device the placement estimates faster on the node it
  /// chose, from the rates each node measured at start and the bytes that would cross between
  /// host and GPU; CPU on nodes without a GPU). "gpu" throws ClusterError when a node has no
  /// GPU, naming it and why. Arrays moved with BlockArray::to keep to their device whatever
  /// the default.
  std::string device = "cpu";
};

/// Where an array's blocks live and its operations run (BlockArray::to).
enum class Device : uint8_t {
  kCpu,  ///< host memory, the nodes' cores
  kGpu,  ///< each node's first GPU
};
inline constexpr Device cpu = Device::kCpu;
inline constexpr Device gpu = Device::kGpu;
/// "cpu", "gpu".
const char* device_name(Device device);

/// One node as the driver sees it.
struct NodeStatus {
  int64_t id = 0;
  std::string address;
  int64_t cores = 0;
  int64_t memory_bytes = 0;  ///< capacity
  int64_t memory_used = 0;   ///< bytes of objects in memory
  int64_t num_objects = 0;
  int64_t tasks_run = 0;
  int64_t net_in_bytes = 0;   ///< bytes this node received from other nodes so far
  int64_t net_out_bytes = 0;  ///< bytes it sent
  bool live = true;
  int64_t spilled_bytes = 0;        ///< bytes of objects on its spill disk only
  int64_t spill_bytes_total = 0;    ///< bytes it wrote to spill files so far
  int64_t restore_bytes_total = 0;  ///< bytes it read back from them
  int64_t gpus = 0;                 ///< GPUs it uses (`nums start --gpus N` limits them)
  std::vector<std::string> gpu_names;
  int64_t gpu_memory_bytes = 0;  ///< their memory, all together
  int64_t gpu_memory_used = 0;   ///< bytes of objects in it
};

/// What a timeline file received.
struct TimelineSummary {
  int64_t events = 0;   ///< tasks written
  int64_t dropped = 0;  ///< tasks the nodes recorded but no longer kept (their rings overflowed)
  int64_t nodes = 0;    ///< nodes that answered
};

/// The tasks run from Context::start_timeline() on, until save(). Move-only. If it is dropped
/// unsaved, recording is put back as it was and nothing is written.
class TimelineRecording {
 public:
  struct State;
  explicit TimelineRecording(std::unique_ptr<State> state);
  TimelineRecording(TimelineRecording&&) noexcept;
  TimelineRecording& operator=(TimelineRecording&&) noexcept;
  ~TimelineRecording();

  /// Writes the tasks every node ran since start_timeline() to `path` as Chrome trace-event
  /// JSON (open it in ui.perfetto.dev or chrome://tracing) and puts recording back as it was.
  /// Tasks still running are not in it: get() the results first. Throws IOError when the file
  /// cannot be written, ValueError when save() was called already.
  TimelineSummary save(const std::string& path);

 private:
  std::unique_ptr<State> state_;
};

/// A handle to a running cluster; cheap to copy. The cluster stops when the last copy (and the
/// last array made with it) is gone.
class Context {
 public:
  struct Impl;
  explicit Context(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  int64_t num_nodes() const;
  /// Total cores over all nodes.
  int64_t num_cores() const;
  std::vector<NodeStatus> nodes() const;
  /// The placement policy for operations from now on (see InitOptions::placement); ValueError
  /// for an unknown name.
  void set_placement(const std::string& policy);
  std::string placement() const;

  /// Timeline: each node records the tasks it runs (name, node, thread, start and end, input
  /// ids and bytes, bytes pulled from other nodes, output bytes) while recording is on, in a ring
  /// of its own that keeps the last 100,000; recording is off unless InitOptions::timeline,
  /// NUMS_TIMELINE=1 or start_timeline() turns it on. Times come from each node's system
  /// clock: processes on one machine line up exactly; on several machines the clocks are used
  /// as they are (keep them in sync with NTP).
  ///
  /// Writes every task the nodes still keep to `path` as Chrome trace-event JSON ("X" events,
  /// ts/dur in microseconds, pid = node, tid = thread). Throws IOError when it cannot be written.
  TimelineSummary timeline(const std::string& path) const;
  /// Turns recording on at every node for the code that follows, until the recording's save():
  ///   auto t = ctx.start_timeline();  ...;  t.save("trace.json");
  [[nodiscard]] TimelineRecording start_timeline() const;

  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

/// Starts (or, with later options, connects to) a cluster. Throws ValueError for bad options.
/// Arrays made without a Context use the latest init()'s; once it has ended (the Context and its
/// arrays all dropped) they throw ClusterError. Before any init(), an embedded default is started.
[[nodiscard]] Context init(const InitOptions& options = {});

}  // namespace nums
