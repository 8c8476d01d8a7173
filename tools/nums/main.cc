// nums: start, inspect and stop the daemons of a cluster.
//
//   nums start --head [--port P] [--bind ADDR] [--token-file F [--keep-token]]
//              [--metrics-port P] [--dashboard-port P] [--foreground]
//              [--tls [--tls-name N]... | --tls-ca F --tls-cert F --tls-key F]
//   nums start --address HOST:P --token-file F [--cores N] [--memory SIZE] [--gpus N]
//              [--spill-dir DIR] [--metrics-port P] [--foreground] [--tls [--tls-ca F] [--tls-cert
//              F --tls-key F]]
//   nums status | nums stop  [--tls [--tls-ca F]]
//   nums job submit [--working-dir D] [--env K=V]... [--no-wait] -- PROGRAM ARGS...
//   nums job list | status ID | logs ID [--follow] | stop ID
//   nums convert SRC DST [--block-shape R,C,...] [--compression gzip] [--csv-header]
//                [--csv-delimiter C] [--nodes N | --address HOST:PORT [--token-file F]]
//
// Without --foreground a daemon is spawned in its own session with its output in the log
// directory, and `start` returns once it serves. Each daemon keeps a pid file under the state
// directory so that `stop` can check that nothing is left behind.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/head_daemon.h"
#include "engine/cluster/log.h"
#include "engine/cluster/node_daemon.h"
#include "engine/cluster/tls.h"
#include "engine/cluster/transport.h"
#include "nums/io.hpp"
#include "optimizer/simulator/simulate.h"
#include "src/context_impl.h"
#include "tools/nums/job_command.h"
#include "tools/nums/microbenchmark.h"
#include "tools/nums/timeline_command.h"

extern char** environ;

namespace nums::tools {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using engine::cluster::Connection;
using engine::cluster::Log;

struct Options {
  bool head = false;
  bool keep_token = false;  // head: serve the token in the token file, do not write one
  bool no_jobs = false;     // head: refuse `nums job submit`
  std::string address;
  std::string token_file;
  std::string bind = "127.0.0.1";
  std::string advertise;
  int port = -1;           // -1: 7700 for a head, a free port for a node
  int metrics_port = 0;    // 0: no metrics page
  int dashboard_port = 0;  // head: 0: no dashboard
  int64_t cores = 0;
  int64_t gpus = -1;   // -1: every GPU the machine has
  std::string memory;  // "256MiB", "2G", "1048576"; empty: most of the machine's memory
  std::string spill_dir;
  bool foreground = false;
  std::string state_dir;
  int timeout_s = 30;
  bool tls = false;      // TLS on every connection (implied by the --tls-* files)
  std::string tls_ca;    // the cluster CA (default STATE_DIR/tls/ca.pem)
  std::string tls_cert;  // the daemon's own certificate and key, from the operator's CA
  std::string tls_key;
  std::vector<std::string> tls_names;  // more names for a generated certificate
};

// "256MiB", "1.5GiB", "2G", "512k" or plain bytes; binary multiples either way.
int64_t ParseBytes(const std::string& text, const char* what) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::vector<std::pair<std::string, int>> units{
      {"", 0},     {"b", 0},  {"k", 10},  {"kb", 10},  {"kib", 10}, {"m", 20},  {"mb", 20},
      {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},   {"tb", 40}, {"tib", 40}};
  for (const auto& [name, shift] : units) {
    const double bytes = value * static_cast<double>(int64_t{1} << shift);
    if (used > 0 && unit == name && value > 0 && bytes < 9.2e18) return static_cast<int64_t>(bytes);
  }
  throw ValueError(std::string(what) + ": '" + text +
                   "' is not a positive size (bytes, or a number with KiB, MiB, GiB or TiB)");
}

int64_t DefaultNodeMemory() {
  return static_cast<int64_t>(static_cast<double>(engine::PhysicalMemoryBytes()) * 0.8);
}

fs::path StateDir(const Options& o) {
  if (!o.state_dir.empty()) return o.state_dir;
  if (const char* home = std::getenv("NUMS_HOME")) return home;
  if (const char* home = std::getenv("HOME")) return fs::path(home) / ".nums";
  return ".nums";
}

fs::path TokenPath(const Options& o) {
  return o.token_file.empty() ? StateDir(o) / "token" : fs::path(o.token_file);
}

std::string HeadAddress(const Options& o) {
  if (!o.address.empty()) return o.address;
  std::ifstream in(StateDir(o) / "head.addr");
  std::string address;
  if (!in || !std::getline(in, address) || address.empty()) {
    throw ClusterError("no --address given and no head recorded in " +
                       (StateDir(o) / "head.addr").string());
  }
  return address;
}

// Creates `dir` (and its parents) and makes it private to this user: logs and pid files say
// what runs where.
void MakePrivateDir(const fs::path& dir) {
  fs::create_directories(dir);
  if (chmod(dir.c_str(), 0700) != 0) throw IOError("cannot chmod 700 " + dir.string());
}

// Creates the state directory private to this user when it does not exist yet.
void EnsureStateDir(const Options& o) {
  if (!fs::exists(StateDir(o))) MakePrivateDir(StateDir(o));
}

// The connection limits of a daemon; NUMS_AUTH_TIMEOUT_MS, NUMS_FRAME_TIMEOUT_MS,
// NUMS_IDLE_TIMEOUT_MS and NUMS_MAX_CONNECTIONS override the defaults (tests shorten them).
engine::cluster::ServerLimits LimitsFromEnvironment() {
  engine::cluster::ServerLimits limits;
  auto read = [](const char* name, int64_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return fallback;
    try {
      size_t used = 0;
      const int64_t v = std::stoll(text, &used);
      if (used == std::strlen(text) && v >= 0) return v;
    } catch (const std::exception&) {
    }
    throw ValueError(std::string(name) + "='" + text + "' is not a count");
  };
  limits.auth_timeout =
      std::chrono::milliseconds(read("NUMS_AUTH_TIMEOUT_MS", limits.auth_timeout.count()));
  limits.frame_timeout =
      std::chrono::milliseconds(read("NUMS_FRAME_TIMEOUT_MS", limits.frame_timeout.count()));
  limits.idle_timeout =
      std::chrono::milliseconds(read("NUMS_IDLE_TIMEOUT_MS", limits.idle_timeout.count()));
  limits.max_connections =
      std::max<int64_t>(1, read("NUMS_MAX_CONNECTIONS", limits.max_connections));
  // Each connection holds a descriptor: keep the cap below what this process may open.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &files);
      getrlimit(RLIMIT_NOFILE, &files);
    }
    const auto room = static_cast<int64_t>(files.rlim_cur) - 256;
    if (files.rlim_cur != RLIM_INFINITY && limits.max_connections > room) {
      Log().warn("at most {} open files: serving at most {} connections", files.rlim_cur,
                 std::max<int64_t>(16, room));
      limits.max_connections = std::max<int64_t>(16, room);
    }
  }
  return limits;
}

// Writes `text` to `path` through a rename, so readers never see half a file.
void WriteAtomically(const fs::path& path, const std::string& text, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0 || fchmod(fd, mode) != 0 ||
      write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    if (fd >= 0) close(fd);
    throw IOError("cannot write " + tmp.string());
  }
  close(fd);
  fs::rename(tmp, path);
}

// The pid file of this daemon, removed when it exits.
class PidFile {
 public:
  PidFile(const fs::path& dir, const std::string& role)
      : path_(dir / (role + "." + std::to_string(getpid()))) {
    MakePrivateDir(dir);
    WriteAtomically(path_, std::to_string(getpid()) + "\n", 0644);
  }
  ~PidFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }

 private:
  fs::path path_;
};

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// A stop signal taken by a thread that does not block it: one a library started before main()
// blocked the stop signals (OpenBLAS starts its pool at load), which would otherwise end the
// daemon at once, with no orderly stop.
volatile sig_atomic_t stray_stop_signal = 0;

// Waits for the daemon's own stop or for SIGINT/SIGTERM/SIGHUP (blocked in every thread this
// tool starts and polled here, so no handler runs inside a library call but the flag's).
template <typename Daemon>
void ServeUntilStopped(Daemon& daemon) {
  struct sigaction action {};
  action.sa_handler = [](int sig) { stray_stop_signal = sig; };
  action.sa_flags = SA_RESTART;
  sigfillset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  const sigset_t set = StopSignals();
  const timespec now{0, 0};
  while (!daemon.WaitForStop(200ms)) {
    int sig = sigtimedwait(&set, nullptr, &now);
    if (sig <= 0) sig = stray_stop_signal;
    if (sig > 0) {
      Log().info("signal {}: stopping", sig);
      daemon.RequestStop();
    }
  }
}

bool UsesTls(const Options& o) {
  return o.tls || !o.tls_ca.empty() || !o.tls_cert.empty() || !o.tls_key.empty() ||
         !o.tls_names.empty();
}

// The CA a client or node checks daemons against: --tls-ca, $NUMS_TLS_CA, STATE_DIR/tls/ca.pem.
std::string TlsCaPath(const Options& o) {
  if (!o.tls_ca.empty()) return o.tls_ca;
  if (const char* env = std::getenv("NUMS_TLS_CA"); env != nullptr && *env != '\0') return env;
  return (StateDir(o) / "tls" / "ca.pem").string();
}

// The client side of `nums status/stop/convert`: TLS with --tls, --tls-ca or $NUMS_TLS_CA.
std::shared_ptr<const engine::cluster::TlsClient> ClientTls(const Options& o) {
  const char* env = std::getenv("NUMS_TLS_CA");
  if (!UsesTls(o) && (env == nullptr || *env == '\0')) return nullptr;
  return engine::cluster::TlsClient::FromCaFile(TlsCaPath(o));
}

// A head's TLS files. With --tls-cert/--tls-key/--tls-ca the operator's own; otherwise the
// cluster CA in STATE_DIR/tls (made once and kept, so that the copies nodes and drivers hold
// stay valid across restarts of the head) and a certificate for this head made at each start
// for the addresses it serves now. Keys are written with mode 0600.
engine::cluster::TlsOptions HeadTls(const Options& o, const std::string& advertised,
                                    std::string* ca_key_file) {
  using namespace engine::cluster;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty() || o.tls_ca.empty()) {
      throw ValueError("a head's own TLS files need all of --tls-cert, --tls-key and --tls-ca");
    }
    return {.enabled = true, .ca_file = o.tls_ca, .cert_file = o.tls_cert, .key_file = o.tls_key};
  }
  if (!o.tls_ca.empty()) {
    throw ValueError(
        "--tls-ca on a head needs --tls-cert and --tls-key (without them the head "
        "makes its CA in STATE_DIR/tls)");
  }
  const fs::path dir = StateDir(o) / "tls";
  MakePrivateDir(dir);
  const fs::path ca_pem = dir / "ca.pem", ca_key = dir / "ca.key";
  CertifiedKey ca;
  if (fs::exists(ca_pem) && fs::exists(ca_key)) {
    ca = {ReadPemFile(ca_pem, "TLS CA file", false), ReadPemFile(ca_key, "TLS CA key", true)};
  } else {
    ca = NewCertificateAuthority("nums cluster CA");
    WritePemFile(ca_key, ca.key_pem, 0600);
    WritePemFile(ca_pem, ca.cert_pem, 0644);
    Log().info("made the cluster CA {}", ca_pem.string());
  }
  const CertifiedKey head =
      NewCertificate(ca, "nums head", CertificateNames(o.bind, advertised, o.tls_names));
  WritePemFile(dir / "head.key", head.key_pem, 0600);
  WritePemFile(dir / "head.pem", head.cert_pem, 0644);
  *ca_key_file = ca_key.string();
  return {.enabled = true,
          .ca_file = ca_pem.string(),
          .cert_file = (dir / "head.pem").string(),
          .key_file = (dir / "head.key").string()};
}

// --metrics-port as the daemons take it: -1 (none) for 0.
int MetricsPort(const Options& o) {
  if (o.metrics_port < 0 || o.metrics_port > 65535) {
    throw ClusterError("--metrics-port " + std::to_string(o.metrics_port) + " is not a port");
  }
  return o.metrics_port == 0 ? -1 : o.metrics_port;
}

// --dashboard-port as the head takes it: -1 (none) for 0.
int DashboardPort(const Options& o) {
  if (o.dashboard_port < 0 || o.dashboard_port > 65535) {
    throw ClusterError("--dashboard-port " + std::to_string(o.dashboard_port) + " is not a port");
  }
  return o.dashboard_port == 0 ? -1 : o.dashboard_port;
}

// The dashboard's current one-time login link (mode 0600, like the token).
std::string DashboardUrlPath(const Options& o) { return (StateDir(o) / "dashboard.url").string(); }

int RunHead(const Options& o) {
  const fs::path state = StateDir(o);
  EnsureStateDir(o);
  const fs::path token_path = TokenPath(o);
  // A token shared beforehand (a Kubernetes Secret, a file copied to every machine) is only read:
  // its file may be read-only.
  const std::string token =
      o.keep_token ? engine::cluster::ReadToken(token_path.string()) : engine::cluster::NewToken();
  if (!o.keep_token) WriteAtomically(token_path, token + "\n", 0600);
  const std::string host = o.bind == "0.0.0.0" ? "127.0.0.1" : o.bind;
  std::string ca_key_file;
  const engine::cluster::TlsOptions tls =
      UsesTls(o) ? HeadTls(o, host, &ca_key_file) : engine::cluster::TlsOptions{};
  auto head =
      engine::cluster::HeadDaemon::Start({.bind_host = o.bind,
                                          .port = o.port < 0 ? 7700 : o.port,
                                          .token = token,
                                          .limits = LimitsFromEnvironment(),
                                          .metrics_port = MetricsPort(o),
                                          .tls = tls,
                                          .tls_ca_key_file = ca_key_file,
                                          .dashboard_port = DashboardPort(o),
                                          .dashboard_login_file = DashboardUrlPath(o),
                                          .jobs_dir = o.no_jobs ? "" : (state / "jobs").string(),
                                          .advertise_host = host,
                                          .token_file = fs::absolute(token_path).string()});
  PidFile pid(state / "pids", "head");
  const std::string address = host + ":" + std::to_string(head->port());
  WriteAtomically(state / "head.addr", address + "\n", 0644);
  Log().info("head ready at {}; token in {}", address, token_path.string());
  if (head->dashboard_port() >= 0) {
    Log().info("dashboard on port {}; one-time login link in {}", head->dashboard_port(),
               DashboardUrlPath(o));
  }
  ServeUntilStopped(*head);
  head->StopJobs();  // before the nodes: a job's end is STOPPED, not a failure on lost nodes
  head->StopNodes();
  std::error_code ec;
  fs::remove(state / "head.addr", ec);
  fs::remove(DashboardUrlPath(o), ec);
  Log().info("head stopped");
  return 0;
}

// NUMS_TEST_CRASH_KERNEL=1 in a node's environment adds "test.crash_node", a kernel that ends
// the node's process at once: the integration tests of a task that kills every node it is sent
// to use it. Nothing else may set it.
std::shared_ptr<const engine::KernelRegistry> NodeKernels() {
  const char* crash = std::getenv("NUMS_TEST_CRASH_KERNEL");
  if (crash == nullptr || std::strcmp(crash, "1") != 0) return DefaultKernels();
  auto registry = std::make_shared<engine::KernelRegistry>(*DefaultKernels());
  registry->Register("test.crash_node", engine::Device::kCpu,
                     [](const engine::KernelContext&) -> std::vector<engine::Block> {
                       Log().error("test.crash_node: ending this node's process");
                       std::_Exit(70);
                     });
  return registry;
}

int RunNode(const Options& o) {
  auto [host, port] = engine::cluster::SplitAddress(o.address);
  engine::cluster::NodeDaemonOptions no;
  no.head_host = host;
  no.head_port = port;
  no.token = engine::cluster::ReadToken(TokenPath(o).string());
  no.bind_host = o.bind;
  no.advertise_host = o.advertise;
  no.port = o.port < 0 ? 0 : o.port;
  no.cores = o.cores > 0 ? o.cores : std::max<int64_t>(1, std::thread::hardware_concurrency());
  no.memory_bytes = o.memory.empty() ? DefaultNodeMemory() : ParseBytes(o.memory, "--memory");
  no.gpus = o.gpus;
  no.spill_dir = o.spill_dir.empty() ? (StateDir(o) / "spill").string() : o.spill_dir;
  no.limits = LimitsFromEnvironment();
  no.metrics_port = MetricsPort(o);
  if (UsesTls(o)) {
    if (o.tls_cert.empty() != o.tls_key.empty()) {
      throw ValueError("--tls-cert and --tls-key go together");
    }
    no.tls = {
        .enabled = true, .ca_file = TlsCaPath(o), .cert_file = o.tls_cert, .key_file = o.tls_key};
    no.tls_names = o.tls_names;
  }
  auto node = engine::cluster::NodeDaemon::Start(no, NodeKernels());
  PidFile pid(StateDir(o) / "pids", "node");
  ServeUntilStopped(*node);
  Log().info("node {} stopping", node->id());
  node.reset();
  Log().info("node stopped");
  return 0;
}

// Whether `pid` runs a daemon of this tool (`nums ... start ... --foreground`), not a process
// that reused the pid of one that died without removing its pid file.
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t begin = 0; begin < cmdline.size();) {
    const size_t end = cmdline.find('\0', begin);
    args.push_back(cmdline.substr(begin, end == std::string::npos ? end : end - begin));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  if (args.empty() || fs::path(args[0]).filename() != "nums") return false;
  return std::find(args.begin(), args.end(), "start") != args.end() &&
         std::find(args.begin(), args.end(), "--foreground") != args.end();
}

// Re-runs this command with --foreground in a new session, its output in the log directory, and
// waits until `ready()` holds. Returns the child's pid; throws when it exits or times out first.
template <typename Ready>
pid_t SpawnDaemon(const Options& o, int argc, char** argv, const std::string& role, Ready&& ready) {
  EnsureStateDir(o);
  const fs::path logs = StateDir(o) / "logs";
  MakePrivateDir(logs);
  const auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const fs::path log = logs / (role + "-" + std::to_string(stamp) + ".log");
  std::vector<std::string> args(argv, argv + argc);
  args.push_back("--foreground");
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw ClusterError("cannot start the " + role + " daemon: " + strerror(rc));

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      throw ClusterError("the " + role + " daemon exited during start; see " + log.string());
    }
    if (ready(pid)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      throw ClusterError("the " + role + " daemon did not start within " +
                         std::to_string(o.timeout_s) + " s; see " + log.string());
    }
    std::this_thread::sleep_for(50ms);
  }
  std::cout << role << " started (pid " << pid << "), log " << log.string() << "\n";
  return pid;
}

std::vector<pid_t> DaemonPids(const fs::path& dir) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    try {
      const pid_t pid = std::stoi(name.substr(dot + 1));
      if (Alive(pid)) {
        pids.push_back(pid);
      } else {
        fs::remove(entry.path(), ec);  // left by a daemon that was killed
      }
    } catch (const std::exception&) {
      continue;
    }
  }
  return pids;
}

int Start(const Options& o, int argc, char** argv) {
  if (o.head == !o.address.empty()) {
    throw ValueError("nums start needs exactly one of --head or --address HOST:PORT");
  }
  if (o.keep_token && !o.head) throw ValueError("--keep-token is for a head (--head)");
  if (o.dashboard_port != 0 && !o.head) throw ValueError("--dashboard-port is for a head (--head)");
  if (o.no_jobs && !o.head) throw ValueError("--no-jobs is for a head (--head)");
  DashboardPort(o);  // a bad port fails here rather than in the daemon's log
  const fs::path pids = StateDir(o) / "pids";
  if (o.head) {
    // A second head would overwrite the running one's head.addr and (without --keep-token) token.
    for (pid_t pid : DaemonPids(pids)) {
      if (fs::exists(pids / ("head." + std::to_string(pid))) && pid != getpid()) {
        throw ClusterError("a head started from " + StateDir(o).string() + " is running (pid " +
                           std::to_string(pid) + "); run nums stop first");
      }
    }
    // An unreadable token fails here rather than in the daemon's log.
    if (o.keep_token) engine::cluster::ReadToken(TokenPath(o).string());
    if (o.foreground) return RunHead(o);
    std::error_code ec;
    fs::remove(StateDir(o) / "head.addr", ec);
    fs::remove(DashboardUrlPath(o), ec);
    SpawnDaemon(o, argc, argv, "head", [&](pid_t pid) {
      return fs::exists(pids / ("head." + std::to_string(pid))) &&
             fs::exists(StateDir(o) / "head.addr");
    });
    const std::string address = HeadAddress(o);
    const std::string token = TokenPath(o).string();
    std::cout << "head listening on " << address << "; cluster token in " << token << "\n"
              << "start a node:  nums start --address " << address << " --token-file " << token
              << "\n"
              << "connect:       nums::init({.address = \"" << address << "\", .token_file = \""
              << token << "\"})\n"
              << "stop all:      nums" << (o.state_dir.empty() ? "" : " --state-dir " + o.state_dir)
              << " stop" << (o.token_file.empty() ? "" : " --token-file " + token) << "\n";
    if (UsesTls(o)) {
      const std::string ca =
          o.tls_ca.empty() ? (StateDir(o) / "tls" / "ca.pem").string() : o.tls_ca;
      std::cout << "TLS:           every connection; copy " << ca
                << " with the token: nodes take --tls --tls-ca " << ca
                << ", drivers .tls_ca (or $NUMS_TLS_CA), nums status/stop --tls\n";
    }
    if (std::ifstream url(DashboardUrlPath(o)); o.dashboard_port != 0 && url) {
      std::string link;
      std::getline(url, link);
      std::cout << "dashboard:     " << link << "\n"
                << "               (the link logs in once; the next one is in "
                << DashboardUrlPath(o) << ", or log in with the token)\n";
    }
    return 0;
  }
  // A token file that is unreadable or open to others fails here rather than in the log.
  engine::cluster::ReadToken(TokenPath(o).string());
  if (o.foreground) return RunNode(o);
  SpawnDaemon(o, argc, argv, "node",
              [&](pid_t pid) { return fs::exists(pids / ("node." + std::to_string(pid))); });
  return 0;
}

int Status(const Options& o) {
  const std::string address = HeadAddress(o);
  auto [host, port] = engine::cluster::SplitAddress(address);
  const std::string token = engine::cluster::ReadToken(TokenPath(o).string());
  const auto tls = ClientTls(o);
  Connection<wire::HeadClient> head(host, port, token, false, 10s, tls);
  std::vector<wire::NodeW> nodes;
  head.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(nodes); });
  std::cout << "head " << address << ", " << nodes.size() << " node(s)\n";
  for (const auto& n : nodes) {
    std::cout << "  node " << n.id << "  " << n.host << ":" << n.port << "  cores " << n.cores
              << "  memory " << n.memory_bytes << "  " << (n.live ? "live" : "NOT LIVE")
              << "  gpus " << n.gpus;
    for (const auto& g : n.gpu_devices) {
      std::cout << " [" << g.name << ", " << g.memory_bytes << " B]";
    }
    try {
      Connection<wire::NodeClient> conn(n.host, n.port, token, true, 10s, tls);
      wire::StatsW s;
      conn.Invoke("Node.Stats", [&](wire::NodeClient& c) { c.Stats(s); });
      std::cout << "  objects " << s.num_objects << "  in memory " << s.memory_used << " B of "
                << s.memory_capacity << "  spilled " << s.spilled_bytes << " B  (spill "
                << s.spill_bytes_total << " B, restore " << s.restore_bytes_total << " B)  tasks "
                << s.tasks_run;
      if (n.gpus > 0) std::cout << "  in GPU memory " << s.gpu_memory_used << " B";
    } catch (const Error& e) {
      std::cout << "  unreachable: " << e.what();
    }
    std::cout << "\n";
  }
  return 0;
}

int Stop(const Options& o) {
  const fs::path pids_dir = StateDir(o) / "pids";
  try {
    auto [host, port] = engine::cluster::SplitAddress(HeadAddress(o));
    Connection<wire::HeadClient> head(host, port, engine::cluster::ReadToken(TokenPath(o).string()),
                                      false, 10s, ClientTls(o));
    head.Invoke("Head.Shutdown", [](wire::HeadClient& c) { c.Shutdown(); });
    std::cout << "asked the head to stop its nodes and itself\n";
  } catch (const Error& e) {
    std::cout << "head not reachable (" << e.what() << "); stopping local daemons by pid\n";
  }
  // Give the daemons time to stop on their own, then signal what is left.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  std::vector<pid_t> left = DaemonPids(pids_dir);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    left = DaemonPids(pids_dir);
  }
  for (int sig : {SIGTERM, SIGKILL}) {
    if (left.empty()) break;
    for (pid_t pid : left) kill(pid, sig);
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!left.empty() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
      left = DaemonPids(pids_dir);
    }
  }
  if (!left.empty()) {
    std::cout << left.size() << " daemon(s) still running\n";
    return 1;
  }
  std::cout << "all daemons stopped\n";
  return 0;
}

struct ConvertOptions {
  std::string src, dst;
  Shape block_shape;
  std::string compression;
  bool csv_header = false;
  std::string csv_delimiter = ",";
  int64_t nodes = 1;
};

// Reads the dataset SRC names and writes it to DST (io::read / io::write), on an embedded cluster
// or, with --address, on a running one.
int Convert(const Options& o, const ConvertOptions& c) {
  // main() blocks the stop signals for the daemons' sake; a conversion ends on Ctrl-C as usual.
  const sigset_t stop = StopSignals();
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  // Both specs are checked before anything is read or a cluster is started.
  io::parse_dataset_spec(c.src);
  io::parse_dataset_spec(c.dst);
  if (c.csv_delimiter.size() != 1) {
    throw ValueError("--csv-delimiter '" + c.csv_delimiter + "' is not one character");
  }
  for (int64_t b : c.block_shape) {
    if (b <= 0) throw ValueError("--block-shape " + shape_str(c.block_shape) + " is not positive");
  }
  InitOptions init_options{.nodes = c.nodes};
  if (!o.address.empty()) {
    init_options.address = o.address;
    init_options.token_file = TokenPath(o).string();
    if (UsesTls(o)) init_options.tls_ca = TlsCaPath(o);
  }
  Context ctx = init(init_options);
  const BlockArray x = io::read(ctx, c.src,
                                {.block_shape = c.block_shape,
                                 .csv_header = c.csv_header,
                                 .csv_delimiter = c.csv_delimiter[0]});
  io::write(x, c.dst, {.compression = c.compression});
  std::cout << c.src << " -> " << c.dst << ": shape " << shape_str(x.shape()) << " "
            << dtype_name(x.dtype()) << ", " << shape_str(x.grid_shape()) << " blocks of "
            << shape_str(x.block_shape()) << "\n";
  return 0;
}

}  // namespace
}  // namespace nums::tools

int main(int argc, char** argv) {
  using nums::tools::Options;
  // Stop signals are taken synchronously by the daemon's main loop; block them before any
  // thread starts so that every thread inherits the mask.
  const sigset_t stop = nums::tools::StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Thrift's own messages (a dropped connection, a garbage frame) go to the daemon's log, as
  // many as a peer may provoke, rate-limited.
  apache::thrift::GlobalOutput.setOutputFunction([](const char* msg) {
    nums::engine::cluster::WarnLimited("thrift", std::string("thrift: ") + msg);
  });
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [pid %P] %v");
  nums::engine::cluster::Log().set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [pid %P] %v");

  Options o;
  CLI::App app{"nums: start, inspect and stop a nums cluster"};
  app.require_subcommand(1);
  app.add_option("--state-dir", o.state_dir,
                 "token, head address, pid files and logs (default $NUMS_HOME or ~/.nums)");
  CLI::App* start = app.add_subcommand("start", "start a head (--head) or a node (--address)");
  start->add_flag("--head", o.head, "start the head daemon");
  start->add_option("--address", o.address, "HOST:PORT of the head to join");
  start->add_option("--token-file", o.token_file, "cluster token (default STATE_DIR/token)");
  start->add_flag("--keep-token", o.keep_token,
                  "head: serve the token already in the token file instead of writing a new one");
  start->add_option("--port", o.port, "port to listen on (head: 7700; node: a free port)");
  start->add_option("--bind", o.bind, "address to listen on (default 127.0.0.1)");
  start->add_option("--metrics-port", o.metrics_port,
                    "serve Prometheus metrics at http://BIND:P/metrics, read-only and without "
                    "the token (default 0: off)");
  start->add_option("--dashboard-port", o.dashboard_port,
                    "head: serve the web dashboard at http://BIND:P/ behind a login with the "
                    "token or the printed one-time link (default 0: off)");
  start->add_flag("--no-jobs", o.no_jobs,
                  "head: run no jobs (nums job submit runs programs as this user for anyone "
                  "holding the token)");
  start->add_option("--advertise", o.advertise, "host peers dial for this node (default --bind)");
  start->add_option("--cores", o.cores, "node: worker threads (default: all cores)");
  start->add_option("--memory", o.memory,
                    "node: memory capacity, e.g. 256MiB, 8GiB or bytes (default: 80% of RAM); "
                    "objects spill to disk above 80% of it");
  start
      ->add_option("--gpus", o.gpus,
                   "node: GPUs to use, the machine's first N (default: all it has; 0: none)")
      ->check(CLI::NonNegativeNumber);
  start->add_option("--spill-dir", o.spill_dir,
                    "node: where objects that do not fit in memory go (default STATE_DIR/spill)");
  start->add_flag("--foreground", o.foreground, "run in this process, logging to stderr");
  start->add_option("--timeout", o.timeout_s, "seconds to wait for the daemon to serve");
  start->add_flag("--tls", o.tls,
                  "TLS on every connection; a head makes the cluster CA in STATE_DIR/tls, a node "
                  "has the head issue its certificate (README.md, \"TLS\")");
  start->add_option("--tls-ca", o.tls_ca,
                    "the cluster CA certificate (default $NUMS_TLS_CA, else STATE_DIR/tls/ca.pem)");
  start->add_option("--tls-cert", o.tls_cert, "this daemon's certificate, from the operator's CA");
  start->add_option("--tls-key", o.tls_key, "its private key (mode 0600)");
  start->add_option("--tls-name", o.tls_names,
                    "another address or DNS name peers dial this daemon at, for its certificate");
  CLI::App* status = app.add_subcommand("status", "list the nodes of the cluster");
  CLI::App* stop_cmd = app.add_subcommand("stop", "stop the head, its nodes and local daemons");
  for (CLI::App* sub : {status, stop_cmd}) {
    sub->add_option("--address", o.address, "HOST:PORT of the head (default STATE_DIR/head.addr)");
    sub->add_option("--token-file", o.token_file, "cluster token (default STATE_DIR/token)");
    sub->add_flag("--tls", o.tls, "connect over TLS (also when $NUMS_TLS_CA is set)");
    sub->add_option("--tls-ca", o.tls_ca,
                    "the cluster CA (default $NUMS_TLS_CA, else STATE_DIR/tls/ca.pem)");
  }
  stop_cmd->add_option("--timeout", o.timeout_s, "seconds to wait before signalling daemons");
  CLI::App* simulate =
      app.add_subcommand("simulate", "place common workloads on a virtual cluster, per policy");
  nums::optimizer::sim::CommandOptions sim_options;
  nums::optimizer::sim::AddCommandOptions(*simulate, sim_options);
  CLI::App* convert = app.add_subcommand(
      "convert",
      "copy a dataset between formats: nums convert data.h5:/X x.npy (any io::read spec)");
  nums::tools::ConvertOptions convert_options;
  convert
      ->add_option("SRC", convert_options.src,
                   "dataset spec to read: x.npy, s3://b/x.npy, f.h5:/X, f.hdf5:g/X, t.csv, "
                   "zarr://store, s.zarr")
      ->required();
  convert->add_option("DST", convert_options.dst, "dataset spec to write (same forms)")->required();
  convert
      ->add_option("--block-shape", convert_options.block_shape,
                   "blocks of the array read, e.g. 100000,64 (default: the engine's rule)")
      ->delimiter(',');
  convert->add_option("--compression", convert_options.compression,
                      "HDF5 destination: \"gzip\" (default none)");
  convert->add_flag("--csv-header", convert_options.csv_header,
                    "CSV source: skip the first line (column names)");
  convert->add_option("--csv-delimiter", convert_options.csv_delimiter,
                      "CSV source: the field separator (default ',')");
  convert->add_option("--nodes", convert_options.nodes, "embedded nodes (default 1)")
      ->check(CLI::PositiveNumber);
  convert->add_option("--address", o.address,
                      "HOST:PORT of a running cluster's head (default: an embedded cluster)");
  convert->add_option("--token-file", o.token_file, "cluster token (default STATE_DIR/token)");
  convert->add_flag("--tls", o.tls, "connect over TLS");
  convert->add_option("--tls-ca", o.tls_ca,
                      "the cluster CA (default $NUMS_TLS_CA, else STATE_DIR/tls/ca.pem)");
  nums::tools::TimelineCommandOptions timeline_options;
  CLI::App* timeline = nums::tools::AddTimelineCommand(app, timeline_options);
  nums::tools::MicrobenchmarkOptions bench_options;
  CLI::App* bench = nums::tools::AddMicrobenchmarkCommand(app, bench_options);
  nums::tools::JobCommandOptions job_options;
  std::vector<CLI::App*> job_clients;
  CLI::App* job = nums::tools::AddJobCommand(app, job_options, &job_clients);
  for (CLI::App* sub : job_clients) {
    sub->add_option("--address", o.address, "HOST:PORT of the head (default STATE_DIR/head.addr)");
    sub->add_option("--token-file", o.token_file, "cluster token (default STATE_DIR/token)");
    sub->add_flag("--tls", o.tls, "connect over TLS (also when $NUMS_TLS_CA is set)");
    sub->add_option("--tls-ca", o.tls_ca,
                    "the cluster CA (default $NUMS_TLS_CA, else STATE_DIR/tls/ca.pem)");
  }
  for (CLI::App* sub : {timeline, bench}) {
    sub->add_option("--address", o.address, "HOST:PORT of the head (default STATE_DIR/head.addr)");
    sub->add_option("--token-file", o.token_file, "cluster token (default STATE_DIR/token)");
  }
  // `nums job submit ... -- PROGRAM ARGS...`: what follows "--" is the job's, options included
  // (CLI11 would read them as its own).
  for (int i = 1, job_at = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "job") == 0 && job_at == 0) job_at = i;
    if (std::strcmp(argv[i], "--") != 0) continue;
    if (job_at > 0 && job_at + 1 < i && std::strcmp(argv[job_at + 1], "submit") == 0) {
      job_options.argv.assign(argv + i + 1, argv + argc);
      argc = i;
    }
    break;
  }
  CLI11_PARSE(app, argc, argv);
  if (simulate->parsed())
    return nums::optimizer::sim::RunCommand(sim_options, std::cout, std::cerr);

  try {
    if (start->parsed()) return nums::tools::Start(o, argc, argv);
    if (status->parsed()) return nums::tools::Status(o);
    if (convert->parsed()) return nums::tools::Convert(o, convert_options);
    if (timeline->parsed()) {
      return nums::tools::RunTimelineCommand(timeline_options, nums::tools::HeadAddress(o),
                                             nums::tools::TokenPath(o).string(), std::cout);
    }
    if (job->parsed()) {
      return nums::tools::RunJobCommand(*job, job_options,
                                        {.address = nums::tools::HeadAddress(o),
                                         .token_file = nums::tools::TokenPath(o).string(),
                                         .tls = nums::tools::ClientTls(o)},
                                        std::cout, std::cerr);
    }
    if (bench->parsed()) {
      return nums::tools::RunMicrobenchmarkCommand(
          bench_options, nums::tools::ParseBytes(bench_options.bytes, "--bytes"),
          nums::tools::HeadAddress(o), nums::tools::TokenPath(o).string(), std::cout);
    }
    return nums::tools::Stop(o);
  } catch (const std::exception& e) {
    std::cerr << "nums: " << e.what() << "\n";
    return 1;
  }
}
