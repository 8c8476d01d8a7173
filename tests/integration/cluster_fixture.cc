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

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/token.h"
#include "engine/cluster/transport.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

pid_t SpawnProcess(const std::vector<std::string>& args, const std::string& log) {
  // Built before fork: the child of a threaded process may only make async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
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
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

bool PollUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::pair<std::string, int> LocalCluster::NodeAddress(int64_t id) const {
  const auto [host, port] = engine::cluster::SplitAddress(address_);
  engine::cluster::Connection<wire::HeadClient> head(
      host, port, engine::cluster::ReadToken(token_file()), false, 10s);
  std::vector<wire::NodeW> nodes;
  head.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(nodes); });
  for (const auto& n : nodes) {
    if (n.id == id) return {n.host, n.port};
  }
  throw ClusterError("no node " + std::to_string(id) + " in the cluster at " + address_);
}

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
    : LocalCluster([&] {
        LocalClusterOptions o;
        o.nodes = nodes;
        o.cores = cores;
        o.timeout = timeout;
        return o;
      }()) {}

LocalCluster::LocalCluster(LocalClusterOptions options)
    : options_(std::move(options)), dir_(MakeTempDir()) {
  try {
    StartHead({"--port", "0"});
    node_pids_.assign(static_cast<size_t>(options_.nodes), 0);
    // Nodes register one at a time so that node i gets id i.
    for (int i = 0; i < options_.nodes; ++i) StartNode(i, 0);
  } catch (...) {
    Stop();
    throw;
  }
}

void LocalCluster::StartHead(const std::vector<std::string>& extra) {
  std::vector<std::string> args{NumsTool(), "--state-dir", dir_.string(),      "start",
                                "--head",   "--bind",      options_.head_bind, "--foreground"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), options_.head_args.begin(), options_.head_args.end());
  const fs::path addr = dir_ / "head.addr";
  std::error_code ec;
  fs::remove(addr, ec);
  const pid_t head = Spawn(args, "head.log");
  pids_.push_back(head);
  head_pid_ = head;
  if (!PollUntil([&] { return fs::exists(addr) || !Running(head); }, options_.timeout) ||
      !Running(head)) {
    throw std::runtime_error("the head did not start; see " + (dir_ / "head.log").string());
  }
  std::ifstream(addr) >> address_;
}

void LocalCluster::RestartHead() {
  if (head_pid_ != 0 && Running(head_pid_)) throw std::runtime_error("the head is still running");
  const std::string port = address_.substr(address_.rfind(':') + 1);
  StartHead({"--port", port, "--token-file", token_file(), "--keep-token"});
}

pid_t LocalCluster::Launch(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = Spawn(args, log);
  pids_.push_back(pid);
  return pid;
}

void LocalCluster::StartNode(int i, int port) {
  const auto index = static_cast<size_t>(i);
  std::vector<std::string> args;
  if (index < options_.node_prefix.size()) args = options_.node_prefix[index];
  const std::string bind =
      index < options_.node_bind.size() ? options_.node_bind[index] : "127.0.0.1";
  const std::vector<std::string> tool{NumsTool(),     "--state-dir",
                                      dir_.string(),  "start",
                                      "--address",    address_,
                                      "--token-file", token_file(),
                                      "--bind",       bind,
                                      "--port",       std::to_string(port),
                                      "--cores",      std::to_string(options_.cores),
                                      "--foreground"};
  args.insert(args.end(), tool.begin(), tool.end());
  args.insert(args.end(), options_.node_args.begin(), options_.node_args.end());
  if (index < options_.node_args_each.size()) {
    args.insert(args.end(), options_.node_args_each[index].begin(),
                options_.node_args_each[index].end());
  }
  const std::string log = "node" + std::to_string(i) + ".log";
  const pid_t pid = Spawn(args, log);
  pids_.push_back(pid);
  node_pids_.at(index) = pid;
  // The daemon writes its pid file once it serves and has registered.
  const fs::path pid_file = dir_ / "pids" / ("node." + std::to_string(pid));
  if (!PollUntil([&] { return fs::exists(pid_file) || !Running(pid); }, options_.timeout) ||
      !Running(pid)) {
    throw std::runtime_error("node " + std::to_string(i) + " did not start; see " +
                             (dir_ / log).string());
  }
}

void LocalCluster::RestartNode(int i, int port) {
  if (node_pid(i) != 0 && Running(node_pid(i))) {
    throw std::runtime_error("node " + std::to_string(i) + " is still running");
  }
  StartNode(i, port);
}

pid_t LocalCluster::Spawn(const std::vector<std::string>& args, const std::string& log) {
  return SpawnProcess(args, (dir_ / log).string());
}

void LocalCluster::Kill(pid_t pid) {
  if (std::find(pids_.begin(), pids_.end(), pid) == pids_.end()) return;
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  Forget(pid);
}

bool LocalCluster::Running(pid_t pid) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    // Reaped now: forget it so that Stop does not signal a recycled pid.
    Forget(pid);
    return false;
  }
  return r == 0;
}

void LocalCluster::Forget(pid_t pid) {
  std::erase(pids_, pid);
  std::replace(node_pids_.begin(), node_pids_.end(), pid, pid_t{0});
  if (head_pid_ == pid) head_pid_ = 0;
}

void LocalCluster::Stop() {
  std::fill(node_pids_.begin(), node_pids_.end(), pid_t{0});
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
