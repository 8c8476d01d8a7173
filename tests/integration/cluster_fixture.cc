#include "tests/integration/cluster_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace nums::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls `ready` every 20 ms until it holds or `timeout` passes.
template <typename Pred>
bool PollUntil(Pred&& ready, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

pid_t SpawnProcess(const std::vector<std::string>& args, const std::string& log) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Die with the test, whatever way it ends.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::string NumsTool() { return NUMS_TOOL_PATH; }

fs::path MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "nums-cluster-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

int RunNumsTool(const std::vector<std::string>& args, std::string* output,
                std::chrono::seconds timeout) {
  const fs::path out = MakeTempDir() / "out.txt";
  std::vector<std::string> full{NumsTool()};
  full.insert(full.end(), args.begin(), args.end());
  const pid_t pid = SpawnProcess(full, out.string());
  int status = 0;
  const bool done = PollUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (output != nullptr) *output = text;
  std::error_code ec;
  fs::remove_all(out.parent_path(), ec);
  if (!done) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

LocalCluster::LocalCluster(int nodes, int cores, std::chrono::seconds timeout)
    : dir_(MakeTempDir()) {
  try {
    const std::string tool = NumsTool();
    const std::string state = dir_.string();
    const pid_t head = Spawn(
        {tool, "--state-dir", state, "start", "--head", "--port", "0", "--foreground"}, "head.log");
    pids_.push_back(head);
    const fs::path addr = dir_ / "head.addr";
    if (!PollUntil([&] { return fs::exists(addr) || !Running(head); }, timeout) || !Running(head)) {
      throw std::runtime_error("the head did not start; see " + (dir_ / "head.log").string());
    }
    std::ifstream(addr) >> address_;
    for (int i = 0; i < nodes; ++i) {
      const pid_t pid =
          Spawn({tool, "--state-dir", state, "start", "--address", address_, "--token-file",
                 token_file(), "--cores", std::to_string(cores), "--foreground"},
                "node" + std::to_string(i) + ".log");
      pids_.push_back(pid);
      // Nodes register one at a time so that node i gets id i.
      const fs::path pid_file = dir_ / "pids" / ("node." + std::to_string(pid));
      if (!PollUntil([&] { return fs::exists(pid_file) || !Running(pid); }, timeout) ||
          !Running(pid)) {
        throw std::runtime_error("node " + std::to_string(i) + " did not start; see " +
                                 (dir_ / ("node" + std::to_string(i) + ".log")).string());
      }
    }
  } catch (...) {
    Stop();
    throw;
  }
}

pid_t LocalCluster::Spawn(const std::vector<std::string>& args, const std::string& log) {
  return SpawnProcess(args, (dir_ / log).string());
}

void LocalCluster::Kill(pid_t pid) {
  if (std::find(pids_.begin(), pids_.end(), pid) == pids_.end()) return;
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  std::erase(pids_, pid);
}

bool LocalCluster::Running(pid_t pid) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    // Reaped now: forget it so that Stop does not signal a recycled pid.
    std::erase(pids_, pid);
    return false;
  }
  return r == 0;
}

void LocalCluster::Stop() {
  for (int sig : {SIGTERM, SIGKILL}) {
    for (pid_t pid : pids_) kill(pid, sig);
    PollUntil(
        [&] {
          std::vector<pid_t> alive;
          for (pid_t pid : pids_) {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == 0) alive.push_back(pid);
          }
          pids_ = alive;
          return pids_.empty();
        },
        sig == SIGTERM ? 20s : 10s);
  }
}

}  // namespace nums::testing
