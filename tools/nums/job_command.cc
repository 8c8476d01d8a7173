#include "tools/nums/job_command.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <thread>

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/token.h"
#include "engine/cluster/transport.h"
#include "nums/errors.hpp"

namespace nums::tools {
namespace {

using engine::cluster::Connection;
using namespace std::chrono_literals;

std::string LocalTime(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::ostringstream s;
  s << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
  return s.str();
}

std::string Duration(const wire::JobW& j) {
  const int64_t end = j.end_ms > 0 ? j.end_ms
                                   : std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(end - j.start_ms) / 1000.0 << " s";
  return s.str();
}

std::string Command(const wire::JobW& j) {
  std::string out;
  for (const auto& a : j.argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

class HeadJobs {
 public:
  explicit HeadJobs(const JobHead& head)
      : conn_(Host(head.address), Port(head.address), engine::cluster::ReadToken(head.token_file),
              false, 30s, head.tls) {}

  wire::JobW Submit(const wire::JobSpecW& spec) {
    wire::JobW j;
    conn_.Invoke("Head.SubmitJob", [&](wire::HeadClient& c) { c.SubmitJob(j, spec); });
    return j;
  }
  std::vector<wire::JobW> List() {
    std::vector<wire::JobW> out;
    conn_.Invoke("Head.ListJobs", [&](wire::HeadClient& c) { c.ListJobs(out); });
    return out;
  }
  wire::JobW Get(const std::string& id) {
    wire::JobW j;
    conn_.Invoke("Head.GetJob", [&](wire::HeadClient& c) { c.GetJob(j, id); });
    return j;
  }
  wire::JobLogW Logs(const std::string& id, int64_t offset) {
    wire::JobLogW l;
    conn_.Invoke("Head.JobLogs", [&](wire::HeadClient& c) { c.JobLogs(l, id, offset, 1 << 20); });
    return l;
  }
  wire::JobW Stop(const std::string& id) {
    wire::JobW j;
    conn_.Invoke("Head.StopJob", [&](wire::HeadClient& c) { c.StopJob(j, id); });
    return j;
  }

 private:
  static std::string Host(const std::string& a) { return engine::cluster::SplitAddress(a).first; }
  static int Port(const std::string& a) { return engine::cluster::SplitAddress(a).second; }
  Connection<wire::HeadClient> conn_;
};

// Copies the job's output to `out` from the start: until it ends with `follow`, else what there
// is now. Returns the job as it stands at the end.
wire::JobW CopyLogs(HeadJobs& head, const std::string& id, bool follow, std::ostream& out) {
  int64_t offset = 0;
  for (;;) {
    const wire::JobLogW chunk = head.Logs(id, offset);
    out.write(chunk.data.data(), static_cast<std::streamsize>(chunk.data.size()));
    out.flush();
    offset = chunk.next_offset;
    if (chunk.finished) break;
    if (chunk.data.empty()) {
      if (!follow) break;
      std::this_thread::sleep_for(200ms);
    }
  }
  return head.Get(id);
}

void PrintJob(const wire::JobW& j, std::ostream& out) {
  out << "id           " << j.id << "\n"
      << "state        " << j.state << (j.message.empty() ? "" : "  (" + j.message + ")") << "\n"
      << "command      " << Command(j) << "\n"
      << "working dir  " << j.working_dir << "\n"
      << "pid          " << j.pid << "\n"
      << "started      " << LocalTime(j.start_ms) << "\n"
      << "ended        " << LocalTime(j.end_ms) << "\n"
      << "duration     " << Duration(j) << "\n"
      << "exit code    " << (j.exit_code >= 0 ? std::to_string(j.exit_code) : "-") << "\n"
      << "output       " << j.log_bytes << " bytes (nums job logs " << j.id << ")\n";
}

int Submit(HeadJobs& head, const JobCommandOptions& o, std::ostream& out, std::ostream& err) {
  if (o.argv.empty()) {
    throw ValueError(
        "nums job submit needs the program to run: nums job submit -- PROGRAM ARGS...");
  }
  wire::JobSpecW spec;
  spec.argv = o.argv;
  namespace fs = std::filesystem;
  spec.working_dir =
      fs::absolute(o.working_dir.empty() ? fs::current_path() : fs::path(o.working_dir))
          .lexically_normal()
          .string();
  if (spec.working_dir.size() > 1 && spec.working_dir.back() == '/') spec.working_dir.pop_back();
  for (const auto& e : o.env) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ValueError("--env '" + e + "' is not NAME=VALUE");
    }
    spec.env[e.substr(0, eq)] = e.substr(eq + 1);
  }
  const wire::JobW j = head.Submit(spec);
  err << "submitted " << j.id << " (pid " << j.pid << " on the head's machine)\n";
  if (o.no_wait) {
    out << j.id << "\n";
    err << "output:  nums job logs " << j.id << " --follow\n"
        << "state:   nums job status " << j.id << "\n"
        << "stop:    nums job stop " << j.id << "\n";
    return 0;
  }
  err << "following its output (Ctrl-C leaves the job running; nums job stop " << j.id
      << " ends it)\n";
  const wire::JobW end = CopyLogs(head, j.id, true, out);
  err << end.id << " " << end.state << (end.message.empty() ? "" : " (" + end.message + ")")
      << "\n";
  return end.state == "SUCCEEDED" ? 0 : 1;
}

}  // namespace

CLI::App* AddJobCommand(CLI::App& app, JobCommandOptions& o, std::vector<CLI::App*>* clients) {
  CLI::App* job = app.add_subcommand(
      "job", "run driver programs on the head's machine against the cluster (jobs)");
  job->require_subcommand(1);
  CLI::App* submit = job->add_subcommand(
      "submit",
      "run a program as a job: nums job submit [--working-dir D] -- PROGRAM ARGS... (it reaches "
      "the cluster through $NUMS_ADDRESS and $NUMS_TOKEN_FILE, which nums::init() reads)");
  submit->add_option("--working-dir", o.working_dir,
                     "its directory on the head's machine (default: this one)");
  submit->add_option("--env", o.env, "NAME=VALUE added to its environment (repeatable)");
  submit->add_flag("--no-wait", o.no_wait, "print the job's id and return instead of following");
  submit->add_option("command", o.argv, "the program and its arguments, after --");
  CLI::App* list = job->add_subcommand("list", "every job the head knows, oldest first");
  CLI::App* status = job->add_subcommand("status", "where a job stands");
  CLI::App* logs = job->add_subcommand("logs", "a job's output (stdout and stderr together)");
  logs->add_flag("--follow,-f", o.follow, "keep printing until the job ends");
  CLI::App* stop = job->add_subcommand(
      "stop", "end a job: SIGTERM to its processes, SIGKILL 5 s later; waits for its end");
  for (CLI::App* sub : {status, logs, stop}) {
    sub->add_option("ID", o.id, "the job's id (job-N)")->required();
  }
  for (CLI::App* sub : {submit, list, status, logs, stop}) clients->push_back(sub);
  return job;
}

int RunJobCommand(const CLI::App& job, const JobCommandOptions& o, const JobHead& where,
                  std::ostream& out, std::ostream& err) {
  // main() blocks the stop signals for the daemons' sake; Ctrl-C ends this command as usual
  // (a job it follows keeps running).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  HeadJobs head(where);
  if (job.got_subcommand("submit")) return Submit(head, o, out, err);
  if (job.got_subcommand("list")) {
    const auto jobs = head.List();
    if (jobs.empty()) {
      err << "no jobs\n";
      return 0;
    }
    out << std::left << std::setw(10) << "ID" << std::setw(11) << "STATE" << std::setw(9) << "PID"
        << std::setw(21) << "STARTED" << std::setw(11) << "DURATION"
        << "COMMAND\n";
    for (const auto& j : jobs) {
      out << std::left << std::setw(10) << j.id << std::setw(11) << j.state << std::setw(9) << j.pid
          << std::setw(21) << LocalTime(j.start_ms) << std::setw(11) << Duration(j) << Command(j)
          << "\n";
    }
    return 0;
  }
  if (job.got_subcommand("status")) {
    PrintJob(head.Get(o.id), out);
    return 0;
  }
  if (job.got_subcommand("logs")) {
    const wire::JobW end = CopyLogs(head, o.id, o.follow, out);
    if (!o.follow) return 0;
    err << end.id << " " << end.state << (end.message.empty() ? "" : " (" + end.message + ")")
        << "\n";
    return end.state == "SUCCEEDED" ? 0 : 1;
  }
  wire::JobW j = head.Stop(o.id);
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (j.state == "RUNNING" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    j = head.Get(o.id);
  }
  err << j.id << " " << j.state << (j.message.empty() ? "" : " (" + j.message + ")") << "\n";
  return j.state == "RUNNING" ? 1 : 0;
}

}  // namespace nums::tools
