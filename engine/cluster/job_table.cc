#include "engine/cluster/job_table.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/cluster/log.h"
#include "nums/errors.hpp"

extern char** environ;

namespace nums::engine::cluster {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxSpecBytes = 1 << 20;  // argv and env of one job, all strings together
constexpr int32_t kMaxLogRead = 1 << 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string IdOf(int64_t n) { return "job-" + std::to_string(n); }

// The number of "job-N"; -1 for anything else.
int64_t NumberOf(const std::string& id) {
  if (id.rfind("job-", 0) != 0 || id.size() == 4 || id.size() > 22) return -1;
  int64_t n = 0;
  for (size_t i = 4; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return -1;
    n = n * 10 + (id[i] - '0');
  }
  return n;
}

json ToJson(const wire::JobW& j) {
  return {{"id", j.id},          {"argv", j.argv},           {"working_dir", j.working_dir},
          {"state", j.state},    {"exit_code", j.exit_code}, {"signal", j.signal},
          {"pid", j.pid},        {"start_ms", j.start_ms},   {"end_ms", j.end_ms},
          {"message", j.message}};
}

wire::JobW FromJson(const json& v) {
  wire::JobW j;
  j.id = v.at("id").get<std::string>();
  j.argv = v.at("argv").get<std::vector<std::string>>();
  j.working_dir = v.at("working_dir").get<std::string>();
  j.state = v.at("state").get<std::string>();
  j.exit_code = v.at("exit_code").get<int32_t>();
  j.signal = v.at("signal").get<int32_t>();
  j.pid = v.at("pid").get<int64_t>();
  j.start_ms = v.at("start_ms").get<int64_t>();
  j.end_ms = v.at("end_ms").get<int64_t>();
  j.message = v.at("message").get<std::string>();
  return j;
}

// The head's environment with `extra` set over it.
std::vector<std::string> JobEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (extra.count(name) == 0) env.push_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

JobTable::JobTable(JobTableOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec || chmod(options_.dir.c_str(), 0700) != 0) {
    throw IOError("cannot make the jobs directory " + options_.dir + ": " + ec.message());
  }
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const int64_t n = NumberOf(entry.path().filename().string());
    if (n < 0) continue;
    next_id_ = std::max(next_id_, n + 1);
    auto e = std::make_unique<Entry>();
    e->log_path = (entry.path() / "output.log").string();
    try {
      std::ifstream in(entry.path() / "job.json");
      e->job = FromJson(json::parse(in));
    } catch (const std::exception& err) {
      Log().warn("jobs: skipping {}: {}", entry.path().string(), err.what());
      continue;
    }
    if (e->job.state == "RUNNING") {
      e->job.state = "LOST";
      e->job.message = "its head ended while it ran (pid " + std::to_string(e->job.pid) +
                       "), so its end was not seen";
      Save(e->job);
    }
    Refresh(*e);
    jobs_[n] = std::move(e);
  }
}

JobTable::~JobTable() { Close(); }

void JobTable::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    for (auto& [n, e] : jobs_) {
      if (e->job.state != "RUNNING" || e->stop_requested) continue;
      e->stop_requested = true;
      e->kill_at = std::chrono::steady_clock::now() + options_.stop_grace;
      kill(static_cast<pid_t>(-e->job.pid), SIGTERM);
    }
  }
  cv_.notify_all();
  // Submit adds no watcher once closing_ is set, so the map's entries stay as they are here.
  std::vector<std::thread*> watchers;
  {
    std::lock_guard lock(mu_);
    for (auto& [n, e] : jobs_) watchers.push_back(&e->watcher);
  }
  for (std::thread* w : watchers) {
    if (w->joinable()) w->join();
  }
}

void JobTable::Save(const wire::JobW& job) const {
  const fs::path dir = fs::path(options_.dir) / job.id;
  const fs::path tmp = dir / "job.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ToJson(job).dump() << "\n";
    if (!out) throw IOError("cannot write " + tmp.string());
  }
  fs::rename(tmp, dir / "job.json");
}

void JobTable::Refresh(Entry& e) const {
  struct stat st {};
  e.job.log_bytes = stat(e.log_path.c_str(), &st) == 0 ? st.st_size : 0;
}

wire::JobW JobTable::Submit(const wire::JobSpecW& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    throw ValueError("a job needs a program to run: its argv is empty");
  }
  int64_t spec_bytes = static_cast<int64_t>(spec.working_dir.size());
  for (const auto& a : spec.argv) spec_bytes += static_cast<int64_t>(a.size()) + 1;
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      throw ValueError("job environment name '" + k + "' is empty or has '=' or NUL");
    }
    spec_bytes += static_cast<int64_t>(k.size() + v.size()) + 2;
  }
  if (spec_bytes > kMaxSpecBytes) {
    throw ValueError("a job's argv and environment take " + std::to_string(spec_bytes) +
                     " bytes; at most " + std::to_string(kMaxSpecBytes) + " are accepted");
  }
  if (!spec.working_dir.empty()) {
    if (fs::path(spec.working_dir).is_relative()) {
      throw ValueError("job working directory '" + spec.working_dir +
                       "' is not an absolute path on the head's machine");
    }
    std::error_code ec;
    if (!fs::is_directory(spec.working_dir, ec)) {
      throw ValueError("job working directory '" + spec.working_dir +
                       "' is not a directory on the head's machine");
    }
  }

  std::unique_lock lock(mu_);
  if (closing_) throw ClusterError("the head is stopping: it takes no more jobs");
  int64_t running = 0;
  for (const auto& [n, e] : jobs_) running += e->job.state == "RUNNING" ? 1 : 0;
  if (running >= options_.max_running) {
    throw ClusterError(std::to_string(running) + " jobs are running, the most this head runs " +
                       "at once; stop one or wait");
  }
  const int64_t n = next_id_++;
  auto e = std::make_unique<Entry>();
  e->job.id = IdOf(n);
  e->job.argv = spec.argv;
  const fs::path dir = fs::path(options_.dir) / e->job.id;
  fs::create_directory(dir);
  e->job.working_dir = spec.working_dir.empty() ? dir.string() : spec.working_dir;
  e->log_path = (dir / "output.log").string();

  std::map<std::string, std::string> extra = spec.env;
  extra["NUMS_ADDRESS"] = options_.head_address;
  extra["NUMS_TOKEN_FILE"] = options_.token_file;
  extra["NUMS_JOB_ID"] = e->job.id;
  if (!options_.tls_ca.empty()) extra["NUMS_TLS_CA"] = options_.tls_ca;
  std::vector<std::string> env = JobEnvironment(extra);
  std::vector<std::string> argv = spec.argv;
  std::vector<char*> cenv = CStrings(env), cargv = CStrings(argv);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, e->log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, e->job.working_dir.c_str());
  // Nothing of the head's but the three streams: its listening socket held by a job would keep
  // a restarted head off its port, and its connections would outlive their clients.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // The head blocks its stop signals in every thread; the job must not inherit that mask.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    next_id_ = n;  // the id goes to the next job: mu_ has been held since it was taken
    throw ValueError("cannot run job program '" + spec.argv[0] + "' in " + e->job.working_dir +
                     ": " + std::strerror(rc));
  }
  e->job.pid = pid;
  e->job.state = "RUNNING";
  e->job.exit_code = -1;
  e->job.signal = 0;
  e->job.start_ms = NowMs();
  e->job.end_ms = 0;
  Save(e->job);
  Log().info("job {}: started pid {}: {}", e->job.id, pid, spec.argv[0]);
  Entry* raw = e.get();
  const wire::JobW job = e->job;
  jobs_[n] = std::move(e);
  raw->watcher = std::thread([this, raw] { Watch(raw); });
  return job;
}

void JobTable::Watch(Entry* e) {
  const auto pid = static_cast<pid_t>(e->job.pid);
  int status = 0;
  bool killed = false;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      status = -1;
      break;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (e->stop_requested && !killed && std::chrono::steady_clock::now() >= e->kill_at) {
      kill(-pid, SIGKILL);
      killed = true;
    }
  }
  std::lock_guard lock(mu_);
  wire::JobW& j = e->job;
  j.end_ms = NowMs();
  if (status != -1 && WIFEXITED(status)) j.exit_code = WEXITSTATUS(status);
  if (status != -1 && WIFSIGNALED(status)) j.signal = WTERMSIG(status);
  if (e->stop_requested) {
    kill(-pid, SIGKILL);  // what the job left running in its group
    j.state = "STOPPED";
    j.message = closing_ ? "stopped when its head stopped" : "stopped on request";
  } else if (status == -1) {
    j.state = "LOST";
    j.message = "its process could not be waited for";
  } else {
    j.state = j.exit_code == 0 ? "SUCCEEDED" : "FAILED";
    if (j.signal != 0) {
      j.message = std::string("ended by signal ") + std::to_string(j.signal) + " (" +
                  strsignal(j.signal) + ")";
    } else if (j.exit_code != 0) {
      j.message = "exited with status " + std::to_string(j.exit_code);
    }
  }
  try {
    Save(j);
  } catch (const std::exception& err) {
    Log().warn("job {}: {}", j.id, err.what());
  }
  Log().info("job {}: {}{}{}", j.id, j.state, j.message.empty() ? "" : ", ", j.message);
}

JobTable::Entry& JobTable::Find(const std::string& id) {
  const int64_t n = NumberOf(id);
  auto it = n < 0 ? jobs_.end() : jobs_.find(n);
  if (it == jobs_.end()) {
    throw ValueError("no job '" + id + "' on this head (nums job list shows the ids)");
  }
  return *it->second;
}

std::vector<wire::JobW> JobTable::List() {
  std::lock_guard lock(mu_);
  std::vector<wire::JobW> out;
  for (auto& [n, e] : jobs_) {
    Refresh(*e);
    out.push_back(e->job);
  }
  return out;
}

wire::JobW JobTable::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  Entry& e = Find(id);
  Refresh(e);
  return e.job;
}

wire::JobLogW JobTable::Logs(const std::string& id, int64_t offset, int32_t max_bytes) {
  if (offset < 0) throw ValueError("job log offset " + std::to_string(offset) + " is negative");
  if (max_bytes <= 0) {
    throw ValueError("job log read of " + std::to_string(max_bytes) + " bytes: give at least 1");
  }
  std::string path;
  bool ended = false;
  {
    std::lock_guard lock(mu_);
    Entry& e = Find(id);
    path = e.log_path;
    ended = e.job.state != "RUNNING";  // read before the size: no output comes after an end
  }
  wire::JobLogW out;
  out.next_offset = offset;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  int64_t size = 0;
  if (fd >= 0) {
    struct stat st {};
    if (fstat(fd, &st) == 0) size = st.st_size;
    if (offset < size) {
      const auto want =
          static_cast<size_t>(std::min<int64_t>(size - offset, std::min(max_bytes, kMaxLogRead)));
      out.data.resize(want);
      const ssize_t got = pread(fd, out.data.data(), want, offset);
      out.data.resize(got > 0 ? static_cast<size_t>(got) : 0);
      out.next_offset = offset + static_cast<int64_t>(out.data.size());
    }
    close(fd);
  }
  out.finished = ended && out.next_offset >= size;
  return out;
}

wire::JobW JobTable::Stop(const std::string& id) {
  wire::JobW job;
  {
    std::lock_guard lock(mu_);
    Entry& e = Find(id);
    if (e.job.state == "RUNNING" && !e.stop_requested) {
      e.stop_requested = true;
      e.kill_at = std::chrono::steady_clock::now() + options_.stop_grace;
      kill(static_cast<pid_t>(-e.job.pid), SIGTERM);
      Log().info("job {}: stopping pid {}", e.job.id, e.job.pid);
    }
    Refresh(e);
    job = e.job;
  }
  cv_.notify_all();
  return job;
}

}  // namespace nums::engine::cluster
