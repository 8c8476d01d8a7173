#pragma once
// A real cluster on loopback for tests: a head and N node processes of the `nums` tool, each a
// child of the test with bounded start-up waits, all killed and reaped on Stop (and killed by
// the kernel should the test process die first).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace nums::testing {

class LocalCluster {
 public:
  /// Starts a head on a free port and `nodes` nodes of `cores` threads; throws std::runtime_error
  /// (after killing what it started) when one does not come up within `timeout`.
  LocalCluster(int nodes, int cores = 1, std::chrono::seconds timeout = std::chrono::seconds(60));
  ~LocalCluster() { Stop(); }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  /// SIGTERM to every process, SIGKILL to those still alive after a grace period; reaps all.
  void Stop();

  const std::string& address() const { return address_; }
  std::string token_file() const { return (dir_ / "token").string(); }
  const std::filesystem::path& state_dir() const { return dir_; }
  /// The head's pid first, then node i's at index i + 1 (until one exits).
  const std::vector<pid_t>& pids() const { return pids_; }
  /// Kills process `pid` (one of ours) with SIGKILL and reaps it.
  void Kill(pid_t pid);
  /// Whether process `pid` (one of ours) is still running.
  bool Running(pid_t pid);

 private:
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log);

  std::filesystem::path dir_;
  std::string address_;
  std::vector<pid_t> pids_;
};

/// The path of the `nums` tool built with this tree.
std::string NumsTool();
/// Runs the `nums` tool with `args` and returns its exit status; its output goes to `output`.
int RunNumsTool(const std::vector<std::string>& args, std::string* output,
                std::chrono::seconds timeout = std::chrono::seconds(120));
/// A fresh directory under the system temp dir.
std::filesystem::path MakeTempDir();

}  // namespace nums::testing
