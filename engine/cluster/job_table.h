#pragma once
// JobTable: the driver programs a head runs on its machine for clients (`nums job submit`). Each
// job is a process in its own session, its stdout and stderr in one log file, with NUMS_ADDRESS,
// NUMS_TOKEN_FILE (and NUMS_TLS_CA) set so that nums::init() joins this cluster. A job that dies
// frees its arrays the way any driver does: the nodes end its lease.
//
// Jobs are recorded under the jobs directory (one folder per job: job.json and output.log), so a
// restarted head still lists the ones that ended; one that was running when its head ended is
// LOST, as nothing watched it end.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster/gen/nums_types.h"

namespace nums::engine::cluster {

struct JobTableOptions {
  std::string dir;                             ///< one folder per job in it; made private (0700)
  std::string head_address;                    ///< NUMS_ADDRESS of the jobs: HOST:PORT of this head
  std::string token_file;                      ///< NUMS_TOKEN_FILE of the jobs
  std::string tls_ca;                          ///< NUMS_TLS_CA of the jobs; empty without TLS
  int max_running = 64;                        ///< Submit refuses past this many running jobs
  std::chrono::milliseconds stop_grace{5000};  ///< from SIGTERM to SIGKILL
};

class JobTable {
 public:
  /// Loads the jobs recorded in options.dir. Throws IOError when the directory cannot be made.
  explicit JobTable(JobTableOptions options);
  /// Close().
  ~JobTable();
  JobTable(const JobTable&) = delete;
  JobTable& operator=(const JobTable&) = delete;

  /// Starts spec's program. ValueError for an empty argv, a working directory that is not one,
  /// or a program that cannot be run (the reason from exec); ClusterError past max_running.
  wire::JobW Submit(const wire::JobSpecW& spec);
  /// Every job, oldest first.
  std::vector<wire::JobW> List();
  /// ValueError naming `id` when there is no such job.
  wire::JobW Get(const std::string& id);
  /// Up to max_bytes (clamped to 1 MiB) of the job's output from `offset`.
  wire::JobLogW Logs(const std::string& id, int64_t offset, int32_t max_bytes);
  /// Asks a running job to stop (SIGTERM to its process group, SIGKILL after the grace); a job
  /// that has ended is returned as it is.
  wire::JobW Stop(const std::string& id);
  /// Stops the running jobs (SIGTERM, then SIGKILL after the grace) and waits for them to end;
  /// Submit refuses from then on.
  void Close();

 private:
  struct Entry {
    wire::JobW job;
    std::string log_path;
    bool stop_requested = false;
    std::chrono::steady_clock::time_point kill_at;
    std::thread watcher;
  };
  Entry& Find(const std::string& id);  // caller holds mu_
  void Watch(Entry* entry);
  void Save(const wire::JobW& job) const;
  void Refresh(Entry& entry) const;  // log_bytes from the file

  const JobTableOptions options_;
  std::mutex mu_;  // guards jobs_, next_id_, closing_ and each Entry's fields but watcher
  std::condition_variable cv_;
  std::map<int64_t, std::unique_ptr<Entry>> jobs_;
  int64_t next_id_ = 1;
  bool closing_ = false;
};

}  // namespace nums::engine::cluster
