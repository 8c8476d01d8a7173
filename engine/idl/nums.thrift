// The cluster's wire protocol: binary protocol over framed transport. Every connection calls
// Authenticate with the cluster token first; any other call before it fails with AuthFailure,
// which is therefore field 1 of the exceptions of every call (the server answers it without
// reading the call's arguments, engine/cluster/transport.cc).
// Object bytes move in chunks (about 1 MiB) so that no frame nears the transport's limits.

namespace cpp nums.wire

struct ObjectIdW {
  1: i64 hi
  2: i64 lo
}

// An inline task argument; exactly one field is set.
union ScalarW {
  1: bool b
  2: i64 i
  3: double d
  4: string s
  5: list<i64> iv
  6: list<double> dv
}

// A block argument: the object and the node that holds it.
struct ObjectArgW {
  1: ObjectIdW id
  2: i64 node
}

union ArgW {
  1: ObjectArgW object
  2: ScalarW scalar
}

// An output a task declares (engine OutputSpec).
struct OutputSpecW {
  1: i8 dtype
  2: list<i64> shape
  3: bool upper_bound
}

// A task with the ids of its outputs, assigned by the driver, and the memory it needs.
struct TaskW {
  1: string kernel
  2: string name
  3: i8 device
  4: i64 node
  5: list<ArgW> arguments
  6: list<ObjectIdW> returns
  7: list<OutputSpecW> outputs
  8: i64 scratch_bytes
  9: bool io
  10: bool recomputable
}

struct BlockMetaW {
  1: i8 dtype
  2: list<i64> shape
  3: i64 nbytes
}

// A task failure as a value (engine ErrorInfo).
struct ErrorW {
  1: i8 code
  2: string message
  3: string task
  4: i64 node
}

enum ObjectState {
  PENDING = 0
  READY = 1
  FAILED = 2
}

// One chunk of an object: `data` is bytes [offset, offset + size) when READY.
struct ChunkW {
  1: ObjectState state
  2: BlockMetaW meta
  3: binary data
  4: ErrorW error
}

// One GPU of a node, as it found it when it started.
struct GpuW {
  1: string name
  2: i64 memory_bytes
}

// What a node measured of its devices when it started (engine DeviceRates): float64 GEMM flop/s
// and streaming bytes/s of its CPU threads and of its first GPU, host<->GPU copy bytes/s. Zeros:
// not measured (a node without a GPU measures nothing).
struct DeviceRatesW {
  1: double cpu_flops
  2: double cpu_bytes_per_s
  3: double gpu_flops
  4: double gpu_bytes_per_s
  5: double link_bytes_per_s
}

struct NodeW {
  1: i64 id
  2: string host
  3: i32 port
  4: i64 cores
  5: i64 memory_bytes
  6: i64 gpus
  7: bool live
  // Drawn at random by each node process when it starts: the same id with a new incarnation is
  // a node that restarted and holds none of the objects it held before.
  8: i64 incarnation
  // The GPUs it uses (`gpus` of them); absent from nodes that predate GPUs.
  9: optional list<GpuW> gpu_devices
  // Absent from nodes that predate it.
  10: optional DeviceRatesW rates
}

// A task error as a node keeps it for the dashboard (engine RecentError).
struct TaskErrorW {
  1: i64 seq
  2: i64 unix_ms
  3: ErrorW error
}

// What one driver session's objects take on a node, and whether its lease there is live.
struct SessionUsageW {
  1: i64 session
  2: i64 objects
  3: i64 memory_bytes
  4: i64 spilled_bytes
  5: bool leased
}

struct StatsW {
  1: i64 memory_used
  2: i64 num_objects
  3: i64 tasks_run
  4: i64 net_in_bytes
  5: i64 net_out_bytes
  6: i64 memory_capacity
  7: i64 spilled_bytes
  8: i64 spill_bytes_total
  9: i64 restore_bytes_total
  10: i64 tasks_queued
  11: i64 tasks_running
  12: i64 tasks_failed
  // Node.Stats: the errors the node holds; a heartbeat: those not yet sent to the head.
  13: list<TaskErrorW> errors
  14: list<SessionUsageW> sessions
  // Bytes of objects in the memory of its GPUs.
  15: i64 gpu_memory_used
}

// What a node holds, measured as it answers SubmitTasks and KeepAlive: the driver's view of the
// nodes' loads for placement comes from these replies, never from a call of its own.
struct LoadW {
  1: i64 memory_used
  2: i64 spilled_bytes
}

// One task as a node ran it (engine TaskEvent); times in ns of the node's system clock.
struct TaskEventW {
  1: i64 seq
  2: string name
  3: string kernel
  4: i64 thread
  5: i64 start_ns
  6: i64 end_ns
  7: list<ObjectIdW> inputs
  8: i64 input_bytes
  9: i64 remote_bytes
  10: i64 output_bytes
  11: bool failed
}

// A page of a node's timeline (engine TraceSnapshot); `more`: ask again from `next_seq`.
struct TimelineW {
  1: list<TaskEventW> events
  2: i64 next_seq
  3: i64 dropped
  4: bool recording
  5: bool more
}

// A driver program the head runs for a client (`nums job submit`): argv[0] is looked up on the
// head's PATH unless it has a '/', then it is relative to working_dir (a directory on the head's
// machine). `env` is added to the head's environment.
struct JobSpecW {
  1: list<string> argv
  2: string working_dir
  3: map<string, string> env
}

// A job and where it stands. state: RUNNING, SUCCEEDED (exit 0), FAILED (another exit or a
// signal), STOPPED (by StopJob), LOST (its head ended without seeing it end).
struct JobW {
  1: string id
  2: list<string> argv
  3: string working_dir
  4: string state
  5: i32 exit_code      // -1 unless it exited
  6: i32 signal         // 0 unless a signal ended it
  7: i64 pid
  8: i64 start_ms       // Unix time
  9: i64 end_ms         // 0 while it runs
  10: i64 log_bytes
  11: string message
}

// Bytes [offset, next_offset) of a job's output (stdout and stderr together); `finished` once
// the job has ended and nothing is left after next_offset.
struct JobLogW {
  1: binary data
  2: i64 next_offset
  3: bool finished
}

exception AuthFailure {
  1: string message
}

// A request the daemon could not carry out (unknown kernel, bad chunk, ...).
exception RequestError {
  1: i8 code
  2: string message
}

// Membership and heartbeats only; no object data passes through the head.
service Head {
  void Authenticate(1: string token) throws (1: AuthFailure auth)
  // Returns the node's id: ids are 0, 1, 2, ... in order of registration.
  i64 RegisterNode(1: NodeW node) throws (1: AuthFailure auth, 2: RequestError bad)
  // `stats`: the node's counters now (absent from nodes that predate it), for the dashboard.
  void Heartbeat(1: i64 node, 2: StatsW stats) throws (1: AuthFailure auth, 2: RequestError bad)
  list<NodeW> ListNodes() throws (1: AuthFailure auth, 2: RequestError bad)
  // Issues a certificate from the cluster CA for the key of `request` (a PEM signing request)
  // naming `names` (the addresses the node is dialled at); only over TLS, from a head that
  // holds the CA key (engine/cluster/tls.h).
  string SignCertificate(1: string request, 2: list<string> names)
      throws (1: AuthFailure auth, 2: RequestError bad)
  // Jobs: driver programs the head runs on its machine against this cluster (JobSpecW).
  JobW SubmitJob(1: JobSpecW spec) throws (1: AuthFailure auth, 2: RequestError bad)
  list<JobW> ListJobs() throws (1: AuthFailure auth, 2: RequestError bad)
  JobW GetJob(1: string id) throws (1: AuthFailure auth, 2: RequestError bad)
  // Up to max_bytes (at most 1 MiB) of the job's output from `offset` on.
  JobLogW JobLogs(1: string id, 2: i64 offset, 3: i32 max_bytes)
      throws (1: AuthFailure auth, 2: RequestError bad)
  // SIGTERM to the job's process group, SIGKILL after a grace; returns at once.
  JobW StopJob(1: string id) throws (1: AuthFailure auth, 2: RequestError bad)
  // Stops every node, then the head.
  oneway void Shutdown()
}

service Node {
  void Authenticate(1: string token) throws (1: AuthFailure auth)
  LoadW SubmitTasks(1: list<TaskW> tasks) throws (1: AuthFailure auth, 2: RequestError bad)
  // Writes bytes [offset, offset + size(data)) of a new object; the last chunk seals it.
  void PutChunk(1: ObjectIdW id, 2: BlockMetaW meta, 3: i64 offset, 4: binary data)
      throws (1: AuthFailure auth, 2: RequestError bad)
  // Waits up to wait_ms for the object, then returns its state and, when ready, one chunk.
  ChunkW GetChunk(1: ObjectIdW id, 2: i64 offset, 3: i64 length, 4: i32 wait_ms)
      throws (1: AuthFailure auth, 2: RequestError bad)
  // GetChunk for a peer node fetching a task input; counted as network traffic of both nodes.
  ChunkW Pull(1: ObjectIdW id, 2: i64 offset, 3: i64 length, 4: i32 wait_ms, 5: i64 receiver)
      throws (1: AuthFailure auth, 2: RequestError bad)
  // Waits up to wait_ms until at least min_done of the objects are ready or failed; returns
  // which are (an object the node does not hold counts as failed). With `with_failed`, the
  // list has a second half: per object, whether it finished without being ready (failed, or
  // not held), so that the caller learns which to look at without a call per object.
  list<bool> Await(1: list<ObjectIdW> ids, 2: i32 min_done, 3: i32 wait_ms, 4: bool with_failed)
      throws (1: AuthFailure auth, 2: RequestError bad)
  void Free(1: list<ObjectIdW> ids) throws (1: AuthFailure auth, 2: RequestError bad)
  StatsW Stats() throws (1: AuthFailure auth, 2: RequestError bad)
  // Renews driver session `session`'s lease for lease_ms. When a lease ends (or the connection
  // that renewed it closes and no renewal comes within a short grace), the node frees the
  // session's objects and drops its tasks; a renewal after that fails with RequestError.
  LoadW KeepAlive(1: i64 session, 2: i32 lease_ms) throws (1: AuthFailure auth, 2: RequestError bad)
  void Ping() throws (1: AuthFailure auth)
  oneway void Shutdown()
  // The tasks this node recorded from seq `since` on, a page at a time; then `recording` 1
  // turns recording on, 0 off, -1 leaves it (`recording` in the reply: before the change).
  TimelineW Timeline(1: i64 since, 2: i8 recording)
      throws (1: AuthFailure auth, 2: RequestError bad)
}
