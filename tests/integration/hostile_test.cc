// Connections that cannot hurt a daemon: hand-crafted frames before and after authentication,
// idle and half-sent connections, the connection cap, token file modes, and where the driver
// library logs. Real daemons on loopback (cluster_fixture.h).

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <thread>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TSocket.h>

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/log.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/transport.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using engine::ObjectRef;
using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int64_t kMiB = int64_t{1} << 20;
// Short deadlines for these daemons (the defaults are 5 s and 60 s).
constexpr auto kAuthTimeout = 1500ms;
constexpr auto kFrameTimeout = 1500ms;
// Time a daemon may take beyond a deadline to close a connection.
constexpr auto kMargin = 3s;

// ---- Hand-crafted binary protocol ----------------------------------------------------------

std::string Be32(uint32_t v) {
  const uint32_t n = htonl(v);
  return std::string(reinterpret_cast<const char*>(&n), 4);
}
std::string Be16(uint16_t v) {
  const uint16_t n = htons(v);
  return std::string(reinterpret_cast<const char*>(&n), 2);
}
// A strict binary-protocol call message: version | CALL, name, seqid, then `args`.
std::string CallMessage(const std::string& name, int32_t seqid, const std::string& args) {
  return Be32(0x80010001u) + Be32(static_cast<uint32_t>(name.size())) + name +
         Be32(static_cast<uint32_t>(seqid)) + args;
}
std::string Frame(const std::string& payload) {
  return Be32(static_cast<uint32_t>(payload.size())) + payload;
}
// SubmitTasks whose argument 1 (list<TaskW>) announces `entries` structs and holds none.
std::string SubmitTasksAnnouncing(int32_t seqid, uint32_t entries) {
  const std::string list_of_structs = std::string("\x0f", 1) + Be16(1) + "\x0c" + Be32(entries);
  return Frame(CallMessage("SubmitTasks", seqid, list_of_structs));
}

// ---- Raw sockets ---------------------------------------------------------------------------

int Dial(const std::string& host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // closed by the daemon: what some tests expect
    sent += static_cast<size_t>(n);
  }
}

// Whether the daemon closed `fd` (end of file or reset) by `deadline`; data it sends first is
// read and dropped.
bool ClosedBy(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count()) + 1) != 1) continue;
    char buf[512];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
  }
}

// Reads one frame from `fd` (waiting up to 10 s); empty when the connection ends first.
std::string ReadFrame(int fd) {
  auto read_n = [&](size_t n) {
    std::string out;
    while (out.size() < n) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 10'000) != 1) return std::string();
      char buf[4096];
      const ssize_t got = read(fd, buf, std::min(sizeof(buf), n - out.size()));
      if (got <= 0) return std::string();
      out.append(buf, static_cast<size_t>(got));
    }
    return out;
  };
  const std::string header = read_n(4);
  if (header.size() != 4) return {};
  uint32_t size = 0;
  std::memcpy(&size, header.data(), 4);
  return read_n(ntohl(size));
}

// The message type of a reply frame (its version word's low byte), -1 for none.
int MessageType(const std::string& frame) {
  if (frame.size() < 4) return -1;
  uint32_t word = 0;
  std::memcpy(&word, frame.data(), 4);
  return static_cast<int>(ntohl(word) & 0xff);
}

// ---- Processes -----------------------------------------------------------------------------

// A field of /proc/PID/status in bytes (VmRSS: resident now; VmHWM: the peak so far).
int64_t StatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
  }
  return -1;
}

struct Memory {
  int64_t rss;
  int64_t hwm;
};
Memory MemoryOf(pid_t pid) { return {StatusBytes(pid, "VmRSS"), StatusBytes(pid, "VmHWM")}; }

// The daemon's peak memory grew by less than 32 MiB (the figures are printed for the record).
void ExpectNoGrowth(const Memory& before, const Memory& after) {
  std::printf("node RSS %lld -> %lld KiB, peak %lld -> %lld KiB\n",
              static_cast<long long>(before.rss / 1024), static_cast<long long>(after.rss / 1024),
              static_cast<long long>(before.hwm / 1024), static_cast<long long>(after.hwm / 1024));
  EXPECT_LT(after.hwm - before.hwm, 32 << 20);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int64_t Count(const std::string& text, const std::string& what) {
  int64_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A driver's small computation over every node: 0 + 1 + ... + 9999.
int64_t DriverSum(const std::string& address, const std::string& token_file) {
  Context ctx = nums::init({.address = address, .token_file = token_file});
  return arange(0, 10'000, 1, int64, {1000}).sum().item<int64_t>();
}

// Sets environment variables for the daemons a test starts, and removes them afterwards.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars)
      : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_) setenv(k.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : vars_) unsetenv(k.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

// ---- A cluster with short deadlines --------------------------------------------------------

class HostileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ScopedEnv env({{"NUMS_AUTH_TIMEOUT_MS", std::to_string(kAuthTimeout.count())},
                   {"NUMS_FRAME_TIMEOUT_MS", std::to_string(kFrameTimeout.count())}});
    cluster_ = new LocalCluster(2);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static std::string Token() { return engine::cluster::ReadToken(cluster_->token_file()); }
  static std::pair<std::string, int> Head() {
    return engine::cluster::SplitAddress(cluster_->address());
  }
  static std::pair<std::string, int> NodeAddress(int64_t id) { return cluster_->NodeAddress(id); }
  // The daemons still run and a driver still computes.
  static void ExpectServing() {
    for (pid_t pid : std::vector<pid_t>(cluster_->pids())) {
      EXPECT_TRUE(cluster_->Running(pid)) << "pid " << pid;
    }
    EXPECT_EQ(DriverSum(cluster_->address(), cluster_->token_file()), 49'995'000);
  }
  static LocalCluster* cluster_;
};

LocalCluster* HostileTest::cluster_ = nullptr;

// A client of our own framed transport over a socket, authenticated, whose raw descriptor the
// test may write to.
struct RawClient {
  std::shared_ptr<apache::thrift::transport::TSocket> socket;
  std::shared_ptr<engine::cluster::FramedTransport> transport;
  std::shared_ptr<apache::thrift::protocol::TBinaryProtocol> protocol;
  std::unique_ptr<wire::NodeClient> client;
  RawClient(const std::string& host, int port) {
    socket = std::make_shared<apache::thrift::transport::TSocket>(host, port);
    socket->setRecvTimeout(10'000);
    transport = std::make_shared<engine::cluster::FramedTransport>(socket);
    protocol = std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport);
    client = std::make_unique<wire::NodeClient>(protocol);
    transport->open();
  }
  int fd() const { return socket->getSocketFD(); }
};

TEST_F(HostileTest, AnOversizedListBeforeAuthenticateCostsNoMemory) {
  const pid_t node = cluster_->node_pid(0);
  auto [host, port] = NodeAddress(0);
  const std::string attack = SubmitTasksAnnouncing(1, 8'388'608);
  EXPECT_EQ(attack.size(), 35u);
  const Memory before = MemoryOf(node);
  const int fd = Dial(host, port);
  ASSERT_GE(fd, 0);
  SendAll(fd, attack);
  // Answered with AuthFailure (a REPLY) without its arguments being read.
  const std::string reply = ReadFrame(fd);
  EXPECT_EQ(MessageType(reply), 2) << "no reply";
  EXPECT_NE(reply.find("has not authenticated"), std::string::npos);
  const Memory after = MemoryOf(node);
  close(fd);
  std::printf("node RSS %lld -> %lld KiB, peak %lld -> %lld KiB\n",
              static_cast<long long>(before.rss / 1024), static_cast<long long>(after.rss / 1024),
              static_cast<long long>(before.hwm / 1024), static_cast<long long>(after.hwm / 1024));
  EXPECT_LT(after.rss - before.rss, 32 * kMiB);
  EXPECT_LT(after.hwm - before.hwm, 32 * kMiB);
  ExpectServing();
}

TEST_F(HostileTest, AHugeStringOrFrameBeforeAuthenticateCostsNoMemory) {
  const pid_t node = cluster_->node_pid(1);
  auto [host, port] = NodeAddress(1);
  const Memory before = MemoryOf(node);
  // Authenticate(token) whose token claims 60,000,000 bytes in a frame of 30.
  const std::string huge_string = Frame(
      CallMessage("Authenticate", 1, std::string("\x0b", 1) + Be16(1) + Be32(60'000'000) + "abc"));
  int fd = Dial(host, port);
  ASSERT_GE(fd, 0);
  SendAll(fd, huge_string);
  const std::string reply = ReadFrame(fd);
  EXPECT_EQ(MessageType(reply), 3) << "no exception in reply";  // T_EXCEPTION
  EXPECT_NE(reply.find("60000000"), std::string::npos);
  EXPECT_TRUE(ClosedBy(fd, Clock::now() + kMargin));
  close(fd);
  // A frame of 48 MiB before authentication, sent in full: refused at its header.
  fd = Dial(host, port);
  ASSERT_GE(fd, 0);
  SendAll(fd, Be32(48 << 20) + std::string(48 << 20, 'x'));
  EXPECT_TRUE(ClosedBy(fd, Clock::now() + kMargin));
  close(fd);
  const Memory after = MemoryOf(node);
  ExpectNoGrowth(before, after);
  ExpectServing();
}

TEST_F(HostileTest, AnAuthenticatedCallAnnouncingMoreThanItsFrameHoldsGetsAnError) {
  const pid_t node = cluster_->node_pid(0);
  auto [host, port] = NodeAddress(0);
  RawClient raw(host, port);
  raw.client->Authenticate(Token());
  raw.client->Ping();
  const Memory before = MemoryOf(node);
  SendAll(raw.fd(), SubmitTasksAnnouncing(7, 8'388'608));
  std::string name;
  apache::thrift::protocol::TMessageType type{};
  int32_t seqid = 0;
  ASSERT_NO_THROW(raw.protocol->readMessageBegin(name, type, seqid)) << "no reply";
  EXPECT_EQ(type, apache::thrift::protocol::T_EXCEPTION);
  EXPECT_EQ(seqid, 7);
  apache::thrift::TApplicationException x;
  x.read(raw.protocol.get());
  EXPECT_NE(std::string(x.what()).find("8388608 entries"), std::string::npos) << x.what();
  const Memory after = MemoryOf(node);
  ExpectNoGrowth(before, after);
  ExpectServing();
}

TEST_F(HostileTest, IdleAndHalfSentConnectionsDoNotStopADriverAndAreClosedAfterTheDeadline) {
  auto [host, port] = NodeAddress(0);
  auto [head_host, head_port] = Head();
  std::vector<int> fds;
  const auto opened = Clock::now();
  for (int i = 0; i < 200; ++i) {
    const int fd = i < 180 ? Dial(host, port) : Dial(head_host, head_port);
    ASSERT_GE(fd, 0) << "connection " << i;
    if (i % 4 == 1) SendAll(fd, Be32(100) + "half a fr");  // 9 bytes of a 100-byte frame
    if (i % 4 == 2) SendAll(fd, std::string("\0\0", 2));   // half a frame header
    fds.push_back(fd);
  }
  // An authenticated connection that stalls in the middle of a frame, and one that idles.
  RawClient stalled(host, port), idle(host, port);
  stalled.client->Authenticate(Token());
  idle.client->Authenticate(Token());
  SendAll(stalled.fd(), Be32(64) + "part");
  const auto stalled_at = Clock::now();

  EXPECT_EQ(DriverSum(cluster_->address(), cluster_->token_file()), 49'995'000);

  int closed = 0;
  for (int fd : fds) {
    closed += ClosedBy(fd, opened + kAuthTimeout + kMargin) ? 1 : 0;
    close(fd);
  }
  EXPECT_EQ(closed, 200) << "connections left open past the authentication deadline";
  EXPECT_TRUE(ClosedBy(stalled.fd(), stalled_at + kFrameTimeout + kMargin));
  // Idle past every deadline, an authenticated connection still works.
  std::this_thread::sleep_until(stalled_at + kFrameTimeout + 500ms);
  EXPECT_NO_THROW(idle.client->Ping());
  ExpectServing();
}

TEST_F(HostileTest, RefusedCallsAreLoggedRateLimited) {
  auto [host, port] = NodeAddress(1);
  const fs::path log = cluster_->state_dir() / "node1.log";
  const int64_t before = Count(ReadFile(log), "wrong cluster token");
  RawClient raw(host, port);
  for (int i = 0; i < 50; ++i) {
    EXPECT_THROW(raw.client->Authenticate("not-the-token"), wire::AuthFailure);
  }
  std::this_thread::sleep_for(200ms);
  const int64_t logged = Count(ReadFile(log), "wrong cluster token") - before;
  EXPECT_GE(logged, 1);
  EXPECT_LE(logged, 5);
}

TEST(HostileCapTest, AtTheCapUnauthenticatedConnectionsMakeRoomAndTheCapIsLogged) {
  // A long authentication deadline: only the cap can free places in time.
  ScopedEnv env({{"NUMS_MAX_CONNECTIONS", "40"}, {"NUMS_AUTH_TIMEOUT_MS", "60000"}});
  LocalCluster cluster(1);
  const std::string token = engine::cluster::ReadToken(cluster.token_file());
  auto established = ThriftRuntime::Connect(cluster.address(), token);
  ObjectRef kept = established->Put(Ramp(100, 1.0), 0);
  std::vector<wire::NodeW> nodes;
  {
    auto [host, port] = engine::cluster::SplitAddress(cluster.address());
    engine::cluster::Connection<wire::HeadClient> head(host, port, token, false, 10s);
    head.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(nodes); });
  }
  std::vector<int> fds;
  for (int i = 0; i < 100; ++i) {
    const int fd = Dial(nodes.at(0).host, nodes.at(0).port);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  // The established driver keeps working, and a new one gets in.
  EXPECT_EQ(Values(established->Get(kept, 30s)), Values(Ramp(100, 1.0)));
  const auto start = Clock::now();
  EXPECT_EQ(DriverSum(cluster.address(), cluster.token_file()), 49'995'000);
  EXPECT_LT(Clock::now() - start, 20s);
  // Once the daemon has accepted all 100, at most 40 - 2 (the established driver's) are open.
  std::vector<bool> is_closed(fds.size(), false);
  int closed = 0;
  for (const auto deadline = Clock::now() + 20s; closed < 60 && Clock::now() < deadline;) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!is_closed[i] && ClosedBy(fds[i], Clock::now())) {
        is_closed[i] = true;
        ++closed;
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  for (int fd : fds) close(fd);
  EXPECT_GE(closed, 60) << "the cap did not drop unauthenticated connections";
  EXPECT_NE(ReadFile(cluster.state_dir() / "node0.log").find("connections is reached"),
            std::string::npos);
}

// ---- Files and logs ------------------------------------------------------------------------

TEST(HostileTokenTest, ATokenFileOpenToOthersIsRefusedByTheDriverAndByNumsStart) {
  const fs::path dir = MakeTempDir();
  const fs::path token = dir / "token";
  std::ofstream(token) << "0123456789abcdef0123456789abcdef\n";
  for (mode_t mode : {0644, 0640, 0604}) {
    ASSERT_EQ(chmod(token.c_str(), mode), 0);
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
    SCOPED_TRACE(octal);
    try {
      engine::cluster::ReadToken(token.string());
      ADD_FAILURE() << "a token file of mode " << octal << " was read";
    } catch (const AuthError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(token.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(octal), std::string::npos) << msg;
      EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
    }
    EXPECT_THROW(nums::init({.address = "127.0.0.1:1", .token_file = token.string()}), AuthError);
    std::string out;
    const std::string state = (dir / "state").string();
    EXPECT_EQ(RunNumsTool({"--state-dir", state, "start", "--address", "127.0.0.1:1",
                           "--token-file", token.string()},
                          &out),
              1);
    EXPECT_NE(out.find(octal), std::string::npos) << out;
    EXPECT_NE(out.find(token.string()), std::string::npos) << out;
    EXPECT_EQ(RunNumsTool({"--state-dir", state, "start", "--head", "--port", "0", "--token-file",
                           token.string(), "--keep-token"},
                          &out),
              1);
    EXPECT_NE(out.find(octal), std::string::npos) << out;
  }
  ASSERT_EQ(chmod(token.c_str(), 0600), 0);
  EXPECT_EQ(engine::cluster::ReadToken(token.string()), "0123456789abcdef0123456789abcdef");
  ASSERT_EQ(chmod(token.c_str(), 0400), 0);
  EXPECT_NO_THROW(engine::cluster::ReadToken(token.string()));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(HostileTokenTest, TheStateDirectoryKeepsLogsAndPidsPrivate) {
  const fs::path state = MakeTempDir() / "state";
  std::string out;
  ASSERT_EQ(RunNumsTool({"--state-dir", state.string(), "start", "--head", "--port", "0"}, &out), 0)
      << out;
  auto mode = [](const fs::path& p) { return fs::status(p).permissions() & fs::perms::all; };
  EXPECT_EQ(mode(state / "logs"), fs::perms::owner_all);
  EXPECT_EQ(mode(state / "pids"), fs::perms::owner_all);
  EXPECT_EQ(mode(state), fs::perms::owner_all);
  for (const auto& entry : fs::directory_iterator(state / "logs")) {
    EXPECT_EQ(mode(entry.path()), fs::perms::owner_read | fs::perms::owner_write) << entry.path();
  }
  EXPECT_EQ(RunNumsTool({"--state-dir", state.string(), "stop"}, &out), 0) << out;
  std::error_code ec;
  fs::remove_all(state.parent_path(), ec);
}

// Sends what this process writes to descriptors 1 and 2 to files until Restore().
class CapturedOutput {
 public:
  CapturedOutput() : dir_(MakeTempDir()) {
    std::fflush(stdout);
    std::fflush(stderr);
    for (int fd : {1, 2}) {
      saved_[fd - 1] = dup(fd);
      const int file =
          open((dir_ / std::to_string(fd)).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      dup2(file, fd);
      close(file);
    }
  }
  ~CapturedOutput() { Restore(); }
  void Restore() {
    if (saved_[0] < 0) return;
    std::fflush(stdout);
    std::fflush(stderr);
    for (int fd : {1, 2}) {
      dup2(saved_[fd - 1], fd);
      close(saved_[fd - 1]);
      saved_[fd - 1] = -1;
    }
  }
  std::string Stdout() const { return ReadFile(dir_ / "1"); }
  std::string Stderr() const { return ReadFile(dir_ / "2"); }

 private:
  fs::path dir_;
  int saved_[2] = {-1, -1};
};

TEST(HostileLogTest, TheDriverLibraryLogsToStderrNeverToStdout) {
  LocalCluster cluster(2);
  const std::string token = engine::cluster::ReadToken(cluster.token_file());
  bool lost = false;
  CapturedOutput captured;
  {
    auto rt = ThriftRuntime::Connect(cluster.address(), token);
    ObjectRef on_node1 = rt->Put(Ramp(64, 2.0), 1);
    rt->Get(on_node1, 30s);
    cluster.Kill(cluster.node_pid(1));
    try {
      rt->Get(on_node1, 30s);  // logs that node 1 was lost
    } catch (const NodeLostError&) {
      lost = true;
    }
  }
  captured.Restore();
  EXPECT_TRUE(lost);
  EXPECT_EQ(captured.Stdout(), "");
  EXPECT_NE(captured.Stderr().find("node 1 lost"), std::string::npos) << captured.Stderr();
}

// ---- The rate limit, step by step ----------------------------------------------------------

TEST(LogRateLimiterTest, AllowsABurstPerWindowPerKeyAndCountsTheRest) {
  engine::cluster::LogRateLimiter limiter(2, 10s);
  const auto t0 = Clock::time_point() + 100s;
  int64_t suppressed = -1;
  EXPECT_TRUE(limiter.Allow("a", t0, &suppressed));
  EXPECT_EQ(suppressed, 0);
  EXPECT_TRUE(limiter.Allow("a", t0 + 1s, &suppressed));
  EXPECT_FALSE(limiter.Allow("a", t0 + 2s, &suppressed));
  EXPECT_FALSE(limiter.Allow("a", t0 + 9s, &suppressed));
  EXPECT_TRUE(limiter.Allow("b", t0 + 9s, &suppressed));  // keys count apart
  EXPECT_EQ(suppressed, 0);
  EXPECT_TRUE(limiter.Allow("a", t0 + 10s, &suppressed));  // a new window
  EXPECT_EQ(suppressed, 2);
  EXPECT_TRUE(limiter.Allow("a", t0 + 11s, &suppressed));
  EXPECT_EQ(suppressed, 0);
  EXPECT_FALSE(limiter.Allow("a", t0 + 12s, &suppressed));
}

}  // namespace
}  // namespace nums::testing
