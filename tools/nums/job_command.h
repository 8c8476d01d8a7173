#pragma once
// `nums job submit|list|status|logs|stop`: driver programs the head runs on its machine against
// the cluster (engine/cluster/job_table.h), their output and their end.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/cluster/tls.h"

namespace nums::tools {

struct JobCommandOptions {
  std::vector<std::string> argv;  ///< submit: the program and its arguments
  std::string working_dir;        ///< submit: default this command's directory
  std::vector<std::string> env;   ///< submit: NAME=VALUE added to the job's environment
  bool no_wait = false;           ///< submit: print the id and return
  std::string id;                 ///< status, logs, stop
  bool follow = false;            ///< logs: until the job ends
};

/// The head a job command talks to.
struct JobHead {
  std::string address;
  std::string token_file;
  std::shared_ptr<const engine::cluster::TlsClient> tls;  ///< null: plaintext
};

/// Adds `job` and its subcommands; `clients` receives each subcommand, for the caller's
/// --address, --token-file and TLS options.
CLI::App* AddJobCommand(CLI::App& app, JobCommandOptions& options, std::vector<CLI::App*>* clients);

/// Runs the parsed subcommand of `job` against `head`, printing to `out` (job output, tables)
/// and `err` (what this command says about it). Returns the exit status: for submit without
/// --no-wait and for logs --follow, 0 when the job SUCCEEDED and 1 otherwise.
int RunJobCommand(const CLI::App& job, const JobCommandOptions& options, const JobHead& head,
                  std::ostream& out, std::ostream& err);

}  // namespace nums::tools
