// Jobs (`nums job ...`): driver programs the head runs against its cluster, on a loopback
// cluster of `nums` processes. The main job runs through `submit` and its output comes back
// through `logs`; a stopped job's arrays are freed by the nodes; failures, bad requests, a head
// that stops and one that dies are each reported as what they are.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "tests/integration/cluster_fixture.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;
using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `nums --state-dir DIR job ARGS...`: the exit status, its output in *out.
int Job(const LocalCluster& cluster, std::vector<std::string> args, std::string* out) {
  args.insert(args.begin(), {"--state-dir", cluster.state_dir().string(), "job"});
  return RunNumsTool(args, out);
}

int64_t ObjectsHeld(const LocalCluster& cluster) {
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  int64_t objects = 0;
  for (const auto& n : rt->Nodes()) objects += n.num_objects;
  return objects;
}

// The pid a job record names, for cleaning up after a head that died.
pid_t JobPid(const LocalCluster& cluster, const std::string& id) {
  const std::string json = ReadFile(cluster.state_dir() / "jobs" / id / "job.json");
  const auto at = json.find("\"pid\":");
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::stol(json.substr(at + 6)));
}

#ifdef LOGISTIC_REGRESSION_PATH
TEST(JobTest, SubmitRunsTheMainJobOnTheClusterAndLogsReturnItsOutput) {
  LocalCluster cluster(2);
  std::string out;
  ASSERT_EQ(Job(cluster, {"submit", "--", LOGISTIC_REGRESSION_PATH, "--rows", "20000"}, &out), 0)
      << out;
  // submit follows the output: the driver reached this cluster's two nodes through
  // NUMS_ADDRESS and NUMS_TOKEN_FILE alone.
  EXPECT_TRUE(Has(out, "submitted job-1")) << out;
  EXPECT_TRUE(Has(out, "2 nodes")) << out;
  EXPECT_TRUE(Has(out, "converged after")) << out;
  EXPECT_TRUE(Has(out, "job-1 SUCCEEDED")) << out;

  std::string logs;
  ASSERT_EQ(Job(cluster, {"logs", "job-1"}, &logs), 0) << logs;
  EXPECT_EQ(logs, ReadFile(cluster.state_dir() / "jobs" / "job-1" / "output.log"));
  EXPECT_TRUE(Has(logs, "train accuracy")) << logs;

  std::string status;
  ASSERT_EQ(Job(cluster, {"status", "job-1"}, &status), 0) << status;
  EXPECT_TRUE(Has(status, "SUCCEEDED")) << status;
  EXPECT_TRUE(Has(status, "exit code    0")) << status;
  EXPECT_TRUE(Has(status, std::to_string(logs.size()) + " bytes")) << status;

  std::string list;
  ASSERT_EQ(Job(cluster, {"list"}, &list), 0) << list;
  EXPECT_TRUE(Has(list, "job-1")) << list;
  EXPECT_TRUE(Has(list, "SUCCEEDED")) << list;
  EXPECT_TRUE(Has(list, LOGISTIC_REGRESSION_PATH)) << list;
}
#endif

TEST(JobTest, AStoppedJobEndsAndItsArraysAreFreed) {
  LocalCluster cluster(2);
  EXPECT_EQ(ObjectsHeld(cluster), 0);
  std::string out;
  ASSERT_EQ(Job(cluster,
                {"submit", "--no-wait", "--", OWNER_DRIVER_PATH, cluster.address(),
                 cluster.token_file(), "hold"},
                &out),
            0)
      << out;
  EXPECT_TRUE(Has(out, "job-1")) << out;
  std::string logs;
  ASSERT_TRUE(PollUntil(
      [&] {
        Job(cluster, {"logs", "job-1"}, &logs);
        return Has(logs, "ready");
      },
      120s))
      << logs;
  std::string status;
  ASSERT_EQ(Job(cluster, {"status", "job-1"}, &status), 0);
  EXPECT_TRUE(Has(status, "RUNNING")) << status;
  EXPECT_GT(ObjectsHeld(cluster), 0);

  ASSERT_EQ(Job(cluster, {"stop", "job-1"}, &out), 0) << out;
  EXPECT_TRUE(Has(out, "job-1 STOPPED (stopped on request)")) << out;
  int64_t held = -1;
  EXPECT_TRUE(PollUntil(
      [&] {
        held = ObjectsHeld(cluster);
        return held == 0;
      },
      20s))
      << held << " objects left by the stopped job";
  ASSERT_EQ(Job(cluster, {"status", "job-1"}, &status), 0);
  EXPECT_TRUE(Has(status, "STOPPED")) << status;
  // logs --follow of an ended job prints its output and its end, and says it did not succeed.
  EXPECT_EQ(Job(cluster, {"logs", "--follow", "job-1"}, &logs), 1);
  EXPECT_TRUE(Has(logs, "ready")) << logs;
  EXPECT_TRUE(Has(logs, "job-1 STOPPED")) << logs;
  // Stopping it again changes nothing.
  ASSERT_EQ(Job(cluster, {"stop", "job-1"}, &out), 0) << out;
  EXPECT_TRUE(Has(out, "STOPPED")) << out;
}

TEST(JobTest, OutputEnvironmentWorkingDirectoryAndFailures) {
  LocalCluster cluster(1);
  const fs::path dir = MakeTempDir();
  std::string out;
  ASSERT_EQ(
      Job(cluster,
          {"submit", "--working-dir", dir.string(), "--env", "GREETING=hello there", "--", "sh",
           "-c", "pwd; echo \"$GREETING\"; echo \"$NUMS_JOB_ID $NUMS_ADDRESS\"; echo oops >&2"},
          &out),
      0)
      << out;
  EXPECT_TRUE(Has(out, dir.string() + "\n")) << out;
  EXPECT_TRUE(Has(out, "hello there\n")) << out;
  EXPECT_TRUE(Has(out, "job-1 " + cluster.address() + "\n")) << out;
  EXPECT_TRUE(Has(out, "oops\n")) << out;  // stderr is captured with stdout

  // A program that fails: submit (following) and logs --follow exit 1; status has its code.
  EXPECT_EQ(Job(cluster, {"submit", "--", "sh", "-c", "echo partial; exit 3"}, &out), 1);
  EXPECT_TRUE(Has(out, "job-2 FAILED (exited with status 3)")) << out;
  std::string status;
  ASSERT_EQ(Job(cluster, {"status", "job-2"}, &status), 0);
  EXPECT_TRUE(Has(status, "exit code    3")) << status;
  EXPECT_EQ(Job(cluster, {"submit", "--", "sh", "-c", "kill -KILL $$"}, &out), 1);
  EXPECT_TRUE(Has(out, "job-3 FAILED (ended by signal 9")) << out;

  // Requests the head refuses, each named; none takes an id.
  EXPECT_EQ(Job(cluster, {"submit", "--", "/no/such/program"}, &out), 1);
  EXPECT_TRUE(Has(out, "cannot run job program '/no/such/program'")) << out;
  EXPECT_TRUE(Has(out, "No such file or directory")) << out;
  EXPECT_EQ(Job(cluster, {"submit", "--working-dir", "/no/such/dir", "--", "true"}, &out), 1);
  EXPECT_TRUE(Has(out, "'/no/such/dir' is not a directory")) << out;
  EXPECT_EQ(Job(cluster, {"submit", "--env", "NOEQUALS", "--", "true"}, &out), 1);
  EXPECT_TRUE(Has(out, "--env 'NOEQUALS' is not NAME=VALUE")) << out;
  EXPECT_EQ(Job(cluster, {"status", "job-99"}, &out), 1);
  EXPECT_TRUE(Has(out, "no job 'job-99'")) << out;
  EXPECT_EQ(Job(cluster, {"logs", "nonsense"}, &out), 1);
  EXPECT_TRUE(Has(out, "no job 'nonsense'")) << out;
  ASSERT_EQ(Job(cluster, {"submit", "--", "true"}, &out), 0) << out;
  EXPECT_TRUE(Has(out, "job-4 SUCCEEDED")) << out;

  // A client without the cluster's token is refused before anything runs.
  const fs::path bad = MakeTempDir() / "token";
  { std::ofstream(bad) << std::string(64, 'a') << "\n"; }
  fs::permissions(bad, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(Job(cluster, {"submit", "--token-file", bad.string(), "--", "touch", "x"}, &out), 1);
  EXPECT_FALSE(fs::exists(cluster.state_dir() / "jobs" / "job-5")) << out;
}

TEST(JobTest, AHeadThatStopsStopsItsJobsAndAHeadThatDiesReportsThemLost) {
  {
    LocalCluster cluster(1);
    std::string out;
    ASSERT_EQ(Job(cluster, {"submit", "--no-wait", "--", "sleep", "300"}, &out), 0) << out;
    const pid_t pid = JobPid(cluster, "job-1");
    ASSERT_GT(pid, 0);
    cluster.Stop();  // SIGTERM to the head: it stops its jobs before it goes
    EXPECT_TRUE(
        Has(ReadFile(cluster.state_dir() / "jobs" / "job-1" / "job.json"), "\"state\":\"STOPPED\""))
        << ReadFile(cluster.state_dir() / "head.log");
    EXPECT_NE(kill(pid, 0), 0) << "the job outlived its head";
  }
  LocalCluster cluster(1);
  std::string out;
  ASSERT_EQ(Job(cluster, {"submit", "--", "echo", "done"}, &out), 0) << out;
  ASSERT_EQ(Job(cluster, {"submit", "--no-wait", "--", "sleep", "300"}, &out), 0) << out;
  const pid_t orphan = JobPid(cluster, "job-2");
  ASSERT_GT(orphan, 0);
  cluster.Kill(cluster.head_pid());
  cluster.RestartHead();
  kill(orphan, SIGKILL);  // nothing watches it now
  std::string list;
  ASSERT_EQ(Job(cluster, {"list"}, &list), 0) << list;
  EXPECT_TRUE(Has(list, "job-1     SUCCEEDED")) << list;
  EXPECT_TRUE(Has(list, "job-2     LOST")) << list;
  std::string logs;
  ASSERT_EQ(Job(cluster, {"logs", "job-1"}, &logs), 0);
  EXPECT_EQ(logs, "done\n");
  // New jobs take the next id.
  ASSERT_EQ(Job(cluster, {"submit", "--", "true"}, &out), 0) << out;
  EXPECT_TRUE(Has(out, "job-3 SUCCEEDED")) << out;
}

TEST(JobTest, AHeadStartedWithNoJobsRefusesThem) {
  LocalClusterOptions o;
  o.nodes = 1;
  o.head_args = {"--no-jobs"};
  LocalCluster cluster(o);
  std::string out;
  EXPECT_EQ(Job(cluster, {"submit", "--", "true"}, &out), 1);
  EXPECT_TRUE(Has(out, "this head runs no jobs")) << out;
  EXPECT_FALSE(fs::exists(cluster.state_dir() / "jobs"));
}

}  // namespace
}  // namespace nums::testing
