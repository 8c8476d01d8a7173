#pragma once
// A real cluster for tests: a head and N node processes of the `nums` tool, each a child of the
// test with bounded start-up waits, all killed and reaped on Stop (and killed by the kernel
// should the test process die first). Nodes run on loopback, or each behind a command prefix
// (`ip netns exec NS`) bound to an address of its own.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace nums::testing {

struct LocalClusterOptions {
  int nodes = 3;
  int cores = 1;  ///< worker threads per node
  std::chrono::seconds timeout{60};
  /// The address the head binds, and that nodes and drivers dial.
  std::string head_bind = "127.0.0.1";
  /// Per node (empty: none): words run before the `nums` tool, e.g. {"ip", "netns", "exec", NS}.
  std::vector<std::vector<std::string>> node_prefix;
  /// Per node (empty: 127.0.0.1): the address node i binds and registers.
  std::vector<std::string> node_bind;
  /// More arguments for every node's `nums start`, e.g. {"--memory", "256MiB"}.
  std::vector<std::string> node_args;
  /// Per node (empty: none): more arguments for node i's `nums start` only.
  std::vector<std::vector<std::string>> node_args_each;
  /// More arguments for the head's `nums start`, e.g. {"--metrics-port", "9100"}.
  std::vector<std::string> head_args;
};

class LocalCluster {
 public:
  /// Starts a head on a free port and `nodes` nodes of `cores` threads; throws std::runtime_error
  /// (after killing what it started) when one does not come up within `timeout`.
  LocalCluster(int nodes, int cores = 1, std::chrono::seconds timeout = std::chrono::seconds(60));
  explicit LocalCluster(LocalClusterOptions options);
  ~LocalCluster() { Stop(); }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  /// SIGTERM to every process, SIGKILL to those still alive after a grace period; reaps all.
  void Stop();

  const std::string& address() const { return address_; }
  std::string token_file() const { return (dir_ / "token").string(); }
  const std::filesystem::path& state_dir() const { return dir_; }
  /// The head's pid first, then node i's at index i + 1 (until one exits); a restarted node's
  /// new pid is appended.
  const std::vector<pid_t>& pids() const { return pids_; }
  /// Node i's current process (0 after it was killed or exited).
  pid_t node_pid(int i) const { return node_pids_.at(static_cast<size_t>(i)); }
  /// Kills process `pid` (one of ours) with SIGKILL and reaps it.
  void Kill(pid_t pid);
  /// Whether process `pid` (one of ours) is still running.
  bool Running(pid_t pid);
  /// Starts node i again (after Kill) listening on `port`, its old port, so that it rejoins the
  /// head under its old id; returns once it serves. Throws std::runtime_error when it does not.
  void RestartNode(int i, int port);
  /// Node `id`'s "host" and port, as the head lists it; throws ClusterError for an unknown node.
  std::pair<std::string, int> NodeAddress(int64_t id) const;
  /// The head's current process (0 after it was killed).
  pid_t head_pid() const { return head_pid_; }
  /// Starts the head again (after Kill) on its old port, serving the same token; returns once
  /// it serves. Its nodes register with it again by themselves.
  void RestartHead();
  /// Starts `args` as one more process of the cluster (killed on Stop), output to `log` in the
  /// state directory.
  pid_t Launch(const std::vector<std::string>& args, const std::string& log);

 private:
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log);
  // Starts node i on `port` (0: a free one) and waits until it has registered.
  void StartNode(int i, int port);
  // Starts the head with `extra` arguments and waits until it has written its address.
  void StartHead(const std::vector<std::string>& extra);
  // Drops a reaped process from pids_ and node_pids_.
  void Forget(pid_t pid);

  LocalClusterOptions options_;
  std::filesystem::path dir_;
  std::string address_;
  std::vector<pid_t> pids_;
  std::vector<pid_t> node_pids_;
  pid_t head_pid_ = 0;
};

/// Polls `ready` every 20 ms until it holds (true) or `timeout` passes (false).
bool PollUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout);
/// The path of the `nums` tool built with this tree.
std::string NumsTool();
/// Runs the `nums` tool with `args` and returns its exit status; its output goes to `output`.
int RunNumsTool(const std::vector<std::string>& args, std::string* output,
                std::chrono::seconds timeout = std::chrono::seconds(120));
/// A fresh directory under the system temp dir.
std::filesystem::path MakeTempDir();

}  // namespace nums::testing
