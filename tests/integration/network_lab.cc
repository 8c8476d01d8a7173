#include "tests/integration/network_lab.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace nums::testing {
namespace {

namespace fs = std::filesystem;

// Runs `ip args...`; throws std::runtime_error with the command and its output on failure.
std::string Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const int status = RunCommand(argv, &out);
  if (status != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("'" + cmd + "' failed (exit " + std::to_string(status) + "): " + out);
  }
  return out;
}

bool ProcessExists(const std::string& pid) { return fs::exists("/proc/" + pid); }

// Holds an exclusive lock on a file shared by all test processes of this host while lab names
// and subnets are chosen and made.
class HostLock {
 public:
  HostLock() : fd_(open("/tmp/nums-network-lab.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0666)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~HostLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;

 private:
  int fd_;
};

// Removes the bridges and namespaces of lab owners that no longer run.
void RemoveLeftovers() {
  const std::regex bridge(R"(^\d+: (nums-br(\d+))[:@])");
  std::istringstream links(Ip({"-o", "link", "show", "type", "bridge"}));
  for (std::string line; std::getline(links, line);) {
    std::smatch m;
    if (std::regex_search(line, m, bridge) && !ProcessExists(m[2])) {
      std::string ignored;
      RunCommand({"ip", "link", "del", m[1]}, &ignored);
    }
  }
  const std::regex ns(R"(^(nums-(\d+)-\d+)\b)");
  std::istringstream spaces(Ip({"netns", "list"}));
  for (std::string line; std::getline(spaces, line);) {
    std::smatch m;
    if (std::regex_search(line, m, ns) && !ProcessExists(m[2])) {
      std::string ignored;
      RunCommand({"ip", "netns", "del", m[1]}, &ignored);
    }
  }
}

}  // namespace

int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  // Built before fork: the child of a threaded process may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

NetworkLab::NetworkLab(int count) : count_(count), tag_(std::to_string(getpid())) {
  bridge_ = "nums-br" + tag_;
  try {
    Create();
  } catch (...) {
    Remove();
    throw;
  }
}

NetworkLab::~NetworkLab() { Remove(); }

std::string NetworkLab::ns(int k) const { return "nums-" + tag_ + "-" + std::to_string(k); }

std::string NetworkLab::address(int k) const { return prefix_ + std::to_string(k + 2); }

std::string NetworkLab::host_link(int k) const { return "nv" + tag_ + "h" + std::to_string(k); }

void NetworkLab::Create() {
  if (count_ < 1 || count_ > 250) throw std::runtime_error("a lab holds 1 to 250 namespaces");
  {
    // Choosing a free subnet and taking it must not interleave with another test process.
    HostLock lock;
    RemoveLeftovers();
    std::set<int> used;
    const std::regex in_use(R"(inet 10\.213\.(\d+)\.)");
    const std::string addrs = Ip({"-4", "-o", "addr", "show"});
    for (std::sregex_iterator it(addrs.begin(), addrs.end(), in_use), end; it != end; ++it) {
      used.insert(std::stoi((*it)[1]));
    }
    int x = 0;
    for (int i = 0; i < 254 && x == 0; ++i) {
      const int candidate = 1 + (getpid() + i) % 254;
      if (used.count(candidate) == 0) x = candidate;
    }
    if (x == 0) throw std::runtime_error("no free subnet 10.213.X.0/24 on this host");
    prefix_ = "10.213." + std::to_string(x) + ".";
    bridge_address_ = prefix_ + "1";
    Ip({"link", "add", bridge_, "type", "bridge"});
    Ip({"addr", "add", bridge_address_ + "/24", "dev", bridge_});
  }
  Ip({"link", "set", bridge_, "up"});
  for (int k = 0; k < count_; ++k) {
    const std::string inner = "nv" + tag_ + "n" + std::to_string(k);
    Ip({"netns", "add", ns(k)});
    Ip({"link", "add", host_link(k), "type", "veth", "peer", "name", inner});
    Ip({"link", "set", host_link(k), "master", bridge_});
    Ip({"link", "set", host_link(k), "up"});
    Ip({"link", "set", inner, "netns", ns(k)});
    Ip({"-n", ns(k), "addr", "add", address(k) + "/24", "dev", inner});
    Ip({"-n", ns(k), "link", "set", inner, "up"});
    Ip({"-n", ns(k), "link", "set", "lo", "up"});
  }
}

void NetworkLab::Remove() noexcept {
  std::string ignored;
  for (int k = 0; k < count_; ++k) {
    RunCommand({"ip", "netns", "del", ns(k)}, &ignored);  // takes its veth pair along
    RunCommand({"ip", "link", "del", host_link(k)}, &ignored);
  }
  RunCommand({"ip", "link", "del", bridge_}, &ignored);
}

}  // namespace nums::testing
