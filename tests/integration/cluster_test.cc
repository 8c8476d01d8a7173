// A real cluster on loopback: a head and three (or four) node processes of the `nums` tool.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/transport.h"
#include "engine/cluster/wire.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using engine::Block;
using engine::Device;
using engine::ObjectRef;
using engine::TaskSpec;
using engine::cluster::Connection;
using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;

constexpr int kNodes = 3;

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new LocalCluster(kNodes); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static std::string Token() { return engine::cluster::ReadToken(cluster_->token_file()); }
  static std::pair<std::string, int> Head() {
    return engine::cluster::SplitAddress(cluster_->address());
  }
  static std::pair<std::string, int> NodeAddress(int64_t id) { return cluster_->NodeAddress(id); }
  // Every daemon of the suite still runs.
  static void ExpectAllRunning() {
    for (pid_t pid : std::vector<pid_t>(cluster_->pids())) {
      EXPECT_TRUE(cluster_->Running(pid)) << "pid " << pid;
    }
    EXPECT_EQ(cluster_->pids().size(), static_cast<size_t>(kNodes + 1));
  }
  static LocalCluster* cluster_;
};

LocalCluster* ClusterTest::cluster_ = nullptr;

// The objects the live nodes listed by `nodes()` hold.
template <typename Nodes>
int64_t ObjectsHeld(Nodes&& nodes) {
  int64_t n = 0;
  for (const auto& node : nodes()) n += node.live ? node.num_objects : 0;
  return n;
}

// Polls until the live nodes hold at most `count` objects (frees go out in the background) or
// `timeout` passes; returns the last count.
template <typename Nodes>
int64_t AwaitObjects(Nodes&& nodes, int64_t count, std::chrono::seconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t now = ObjectsHeld(nodes);
  while (now > count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    now = ObjectsHeld(nodes);
  }
  return now;
}

TEST_F(ClusterTest, NodesAreListedWithTheirCores) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  const auto nodes = rt->Nodes();
  ASSERT_EQ(nodes.size(), static_cast<size_t>(kNodes));
  for (int64_t i = 0; i < kNodes; ++i) {
    EXPECT_EQ(nodes[i].id, i);
    EXPECT_EQ(nodes[i].cores, 1);
    EXPECT_TRUE(nodes[i].live);
  }
}

TEST_F(ClusterTest, TaskGraphAcrossNodesPullsInputsFromPeers) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  // A block put on node 0 and computed on in turn by nodes 1 and 2, which pull it from the
  // previous holder; ids are assigned by the driver, so the chain is submitted without waiting.
  ObjectRef a = rt->Put(Ramp(1000, 1.0), 0);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "hop1"})[0];
  ObjectRef c = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 2, {b}, 1, "hop2"})[0];
  const Block got = rt->Get(c, 60s);
  EXPECT_EQ(Values(got), Values(Ramp(1000, 1.0)));
  const auto nodes = rt->Nodes();
  EXPECT_GE(nodes[1].net_in_bytes, 8000);
  EXPECT_GE(nodes[2].net_in_bytes, 8000);
  EXPECT_GE(nodes[0].net_out_bytes, 8000);

  const auto waited = rt->Wait({a, b, c}, 3, 60s);
  EXPECT_EQ(waited.ready.size(), 3u);
  rt->Free({c});
  EXPECT_THROW(rt->Get(c, 10s), ClusterError);
}

TEST_F(ClusterTest, SubmitErrorsAreRaisedBeforeAnythingRuns) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  EXPECT_THROW(rt->Submit(TaskSpec{"no.such.kernel", Device::kCpu, 0, {}, 1, ""}), ClusterError);
  EXPECT_THROW(rt->Submit(TaskSpec{"engine.noop", Device::kCpu, kNodes, {}, 1, ""}), ClusterError);
  EXPECT_THROW(rt->Put(Ramp(4, 0), -1), ClusterError);
}

TEST_F(ClusterTest, BatchedTasksRunWithTheirInputsFromOtherNodes) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  auto tasks_run = [&] {
    int64_t n = 0;
    for (const auto& node : rt->Nodes()) n += node.tasks_run;
    return n;
  };
  const int64_t before = tasks_run();
  ObjectRef a = rt->Put(Ramp(100, 3.0), 0);
  std::vector<ObjectRef> outs;
  {
    engine::SubmitBatch batch(*rt);
    ObjectRef b = a;  // a chain that hops from node to node, each hop reading the last one
    for (int i = 1; i <= 12; ++i) {
      b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, i % kNodes, {b}, 1, ""})[0];
    }
    outs.push_back(b);
    for (engine::NodeId n = 0; n < kNodes; ++n) {
      outs.push_back(rt->Submit(TaskSpec{"engine.identity", Device::kCpu, n, {a}, 1, ""})[0]);
    }
    batch.Send();
  }
  for (const ObjectRef& o : outs) EXPECT_EQ(Values(rt->Get(o, 30s)), Values(Ramp(100, 3.0)));
  // Each ran once: no task reached its node before the task making its input.
  EXPECT_EQ(tasks_run() - before, 12 + kNodes);
}

TEST_F(ClusterTest, OutputsDroppedBeforeTheirBatchIsSentAreFreed) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  const int64_t before = ObjectsHeld([&] { return rt->Nodes(); });
  {
    engine::SubmitBatch batch(*rt);
    for (int i = 0; i < 12; ++i) {
      rt->Submit(TaskSpec{"engine.noop", Device::kCpu, i % kNodes, {}, 1, ""});  // dropped
    }
    batch.Send();
  }
  EXPECT_EQ(AwaitObjects([&] { return rt->Nodes(); }, before), before);
}

TEST_F(ClusterTest, ABatchRaisesAnUnknownKernelWhenItIsSent) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  engine::SubmitBatch batch(*rt);
  ObjectRef fine = rt->Submit(TaskSpec{"engine.noop", Device::kCpu, 0, {}, 1, ""})[0];
  ObjectRef before = rt->Submit(TaskSpec{"engine.noop", Device::kCpu, 1, {}, 1, ""})[0];
  EXPECT_NO_THROW(rt->Submit(TaskSpec{"no.such.kernel", Device::kCpu, 1, {}, 1, ""}));
  ObjectRef after = rt->Submit(TaskSpec{"engine.noop", Device::kCpu, 1, {}, 1, ""})[0];
  try {
    batch.Send();
    ADD_FAILURE() << "no error";
  } catch (const ClusterError& e) {
    EXPECT_NE(std::string(e.what()).find("no.such.kernel"), std::string::npos) << e.what();
  }
  // Every other task was sent, those beside the bad one on node 1 included.
  EXPECT_EQ(rt->Wait({fine, before, after}, 3, 30s).ready.size(), 3u);
  EXPECT_NO_THROW(rt->Get({fine, before, after}, 30s));
}

TEST_F(ClusterTest, TaskErrorsTravelToDependentsAndToGet) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  // identity of no inputs returns no block where one is expected: a RemoteTaskError on node 0,
  // which the dependent task on node 1 receives through its pull.
  ObjectRef bad = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 0, {}, 1, "bad"})[0];
  ObjectRef dep = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {bad}, 1, "dep"})[0];
  EXPECT_THROW(rt->Get(bad, 30s), RemoteTaskError);
  try {
    rt->Get(dep, 30s);
    ADD_FAILURE() << "no error";
  } catch (const RemoteTaskError& e) {
    EXPECT_NE(std::string(e.what()).find("'bad'"), std::string::npos) << e.what();
  }
}

TEST_F(ClusterTest, WaitReturnsOnceKAreFinished) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  std::vector<ObjectRef> refs;
  for (int64_t node = 0; node < kNodes; ++node) {
    ObjectRef in = rt->Put(Ramp(16, static_cast<double>(node)), node);
    refs.push_back(
        rt->Submit(TaskSpec{"engine.identity", Device::kCpu, (node + 1) % kNodes, {in}, 1, ""})[0]);
  }
  const auto two = rt->Wait(refs, 2, 30s);
  EXPECT_GE(two.ready.size(), 2u);
  EXPECT_EQ(two.ready.size() + two.not_ready.size(), refs.size());
  const auto all = rt->Wait(refs, 3, 30s);
  EXPECT_EQ(all.ready.size(), 3u);
  EXPECT_THROW(rt->Wait(refs, 4), ValueError);
}

TEST_F(ClusterTest, LargeBlocksMoveInChunks) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  const int64_t n = (int64_t{20} << 20) / 8 + 123;  // 20 MiB and a bit: 21 chunks
  ObjectRef a = rt->Put(Ramp(n, -5.0), 1);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 2, {a}, 1, ""})[0];
  const Block got = rt->Get(b, 120s);
  ASSERT_EQ(got.size(), n);
  EXPECT_EQ(std::memcmp(got.raw(), Ramp(n, -5.0).raw(), static_cast<size_t>(got.nbytes())), 0);
}

TEST_F(ClusterTest, TwoHundredMiBChunksOnOneConnection) {
  // Thrift 0.17 never resets a server connection's consumed-bytes counter; the daemons'
  // transport does, so one connection carries far more than the 64 MiB message limit.
  auto [host, port] = NodeAddress(0);
  Connection<wire::NodeClient> conn(host, port, Token(), true, 60s);
  const std::string chunk(engine::cluster::kChunkBytes, 'x');
  wire::BlockMetaW meta;
  meta.dtype = static_cast<int8_t>(DType::kInt32);
  meta.shape = {engine::cluster::kChunkBytes / 4};
  meta.nbytes = engine::cluster::kChunkBytes;
  engine::ObjectIdGenerator ids;
  std::vector<wire::ObjectIdW> put;
  for (int i = 0; i < 200; ++i) {
    put.push_back(engine::cluster::ToWire(ids.Next()));
    conn.Invoke("Node.PutChunk",
                [&](wire::NodeClient& c) { c.PutChunk(put.back(), meta, 0, chunk); });
  }
  for (int i = 0; i < 200; ++i) {
    wire::ChunkW out;
    conn.Invoke("Node.GetChunk", [&](wire::NodeClient& c) {
      c.GetChunk(out, put[i % put.size()], 0, engine::cluster::kChunkBytes, 0);
    });
    ASSERT_EQ(out.state, wire::ObjectState::READY);
    ASSERT_EQ(out.data.size(), chunk.size());
  }
  conn.Invoke("Node.Free", [&](wire::NodeClient& c) { c.Free(put); });
}

TEST_F(ClusterTest, PutChunksMayComeInAnyOrderButEachOnceInItsPlace) {
  auto [host, port] = NodeAddress(0);
  Connection<wire::NodeClient> conn(host, port, Token(), true, 60s);
  const int64_t k = engine::cluster::kChunkBytes;
  wire::BlockMetaW meta;
  meta.dtype = static_cast<int8_t>(DType::kBool);
  meta.shape = {2 * k + 3};
  meta.nbytes = 2 * k + 3;
  engine::ObjectIdGenerator ids;
  const wire::ObjectIdW id = engine::cluster::ToWire(ids.Next());
  auto put = [&](const wire::ObjectIdW& to, int64_t offset, const std::string& data) {
    conn.Invoke("Node.PutChunk", [&](wire::NodeClient& c) { c.PutChunk(to, meta, offset, data); });
  };
  // The last chunk first, then the others: the object is whole once all three came.
  put(id, 2 * k, std::string(3, 'c'));
  put(id, 0, std::string(static_cast<size_t>(k), 'a'));
  wire::ChunkW out;
  conn.Invoke("Node.GetChunk", [&](wire::NodeClient& c) { c.GetChunk(out, id, 0, 1, 0); });
  EXPECT_NE(out.state, wire::ObjectState::READY);
  put(id, k, std::string(static_cast<size_t>(k), 'b'));
  conn.Invoke("Node.GetChunk", [&](wire::NodeClient& c) { c.GetChunk(out, id, 2 * k - 1, 4, 0); });
  ASSERT_EQ(out.state, wire::ObjectState::READY);
  EXPECT_EQ(out.data, "bccc");
  // A chunk off the chunk grid, of the wrong length, or sent twice is refused.
  const wire::ObjectIdW other = engine::cluster::ToWire(ids.Next());
  EXPECT_THROW(put(other, 5, std::string(3, 'x')), ValueError);
  EXPECT_THROW(put(other, 0, std::string(7, 'x')), ValueError);
  put(other, 2 * k, std::string(3, 'x'));
  EXPECT_THROW(put(other, 2 * k, std::string(3, 'x')), ValueError);
  conn.Invoke("Node.Free", [&](wire::NodeClient& c) { c.Free({id, other}); });
}

TEST_F(ClusterTest, WrongTokenIsRefused) {
  EXPECT_THROW(ThriftRuntime::Connect(cluster_->address(), "not-the-token"), AuthError);
  EXPECT_THROW(nums::init({.address = cluster_->address(),
                           .token_file = (cluster_->state_dir() / "pids").string()}),
               AuthError);
  ExpectAllRunning();
}

TEST_F(ClusterTest, CallsBeforeAuthenticateAreRefused) {
  // A raw Thrift client that skips Authenticate.
  auto [host, port] = NodeAddress(1);
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(host, port);
  auto transport = std::make_shared<engine::cluster::FramedTransport>(socket);
  wire::NodeClient client(std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
  transport->open();
  EXPECT_THROW(client.Ping(), wire::AuthFailure);
  wire::LoadW load;
  EXPECT_THROW(client.SubmitTasks(load, {}), wire::AuthFailure);
  EXPECT_THROW(client.Authenticate("wrong"), wire::AuthFailure);
  client.Authenticate(Token());
  EXPECT_NO_THROW(client.Ping());
  transport->close();
}

// Sends `bytes` on a fresh connection to host:port and waits for the daemon to close it.
bool ClosedAfterSending(const std::string& host, int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return false;
  }
  (void)!write(fd, bytes.data(), bytes.size());
  pollfd p{fd, POLLIN, 0};
  bool closed = false;
  if (poll(&p, 1, 30'000) == 1) {
    char buf[256];
    closed = read(fd, buf, sizeof(buf)) <= 0;
  }
  close(fd);
  return closed;
}

TEST_F(ClusterTest, GarbageAndOversizedFramesCloseOnlyThatConnection) {
  std::mt19937 rng(7);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  garbage[0] = 0;  // a whole frame of 4092 bytes of nonsense
  garbage[1] = 0;
  garbage[2] = 0x0f;
  garbage[3] = static_cast<char>(0xfc);
  const std::string oversized("\x7f\xff\xff\xff", 4);  // a 2 GiB frame
  for (int64_t id : {0, 2}) {
    auto [host, port] = NodeAddress(id);
    EXPECT_TRUE(ClosedAfterSending(host, port, garbage));
    EXPECT_TRUE(ClosedAfterSending(host, port, oversized));
  }
  auto [host, port] = Head();
  EXPECT_TRUE(ClosedAfterSending(host, port, garbage));
  EXPECT_TRUE(ClosedAfterSending(host, port, oversized));
  ExpectAllRunning();
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  EXPECT_EQ(Values(rt->Get(rt->Put(Ramp(8, 3.0), 2), 30s)), Values(Ramp(8, 3.0)));
}

// Five results of one small array program: elementwise, reductions, matmul and argmax over
// blocks spread across every node (a tall-skinny array is laid out along its rows).
std::vector<NDArray> ArrayProgram(const Context& ctx) {
  random::Generator rng(ctx, 1337);
  BlockArray x = rng.normal({300, 7}, 0.0, 1.0, float64, {50, 7});
  BlockArray y = ones({300, 7}, float64, {50, 7});
  BlockArray z = x + y * x;
  return {z.get(), z.sum(0).get(), (x + y).sum().get(), matmul(x.T(), z).get(), z.argmax(0).get()};
}

void ExpectResultsNear(const std::vector<NDArray>& got, const std::vector<NDArray>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("result " + std::to_string(i));
    EXPECT_ARRAY_NEAR(got[i], want[i], 1e-12);
  }
}

TEST(ClusterFourNodeTest, ArrayResultsEqualTheEmbeddedRunWithEveryPlacementPolicy) {
  constexpr int kFour = 4;
  LocalCluster cluster(kFour);
  Context embedded = nums::init({.nodes = kFour, .threads_per_node = 1});
  const std::vector<NDArray> want = ArrayProgram(embedded);
  for (const char* policy : {"lshs", "round-robin", "locality"}) {
    SCOPED_TRACE(policy);
    Context ctx = nums::init(
        {.placement = policy, .address = cluster.address(), .token_file = cluster.token_file()});
    ASSERT_EQ(ctx.num_nodes(), kFour);
    std::vector<int64_t> before;
    for (const auto& n : ctx.nodes()) before.push_back(n.tasks_run);
    ExpectResultsNear(ArrayProgram(ctx), want);
    // Every node took part.
    const auto after = ctx.nodes();
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_TRUE(after[i].live) << "node " << i;
      EXPECT_GT(after[i].tasks_run, before[i]) << "node " << i;
    }
  }
}

TEST_F(ClusterTest, DroppedArraysAreFreedOnTheNodes) {
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token());
  auto objects = [&] {
    int64_t n = 0;
    for (const auto& node : rt->Nodes()) n += node.num_objects;
    return n;
  };
  const int64_t before = objects();
  {
    ObjectRef a = rt->Put(Ramp(100, 0.0), 0);
    ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, ""})[0];
    rt->Get(b, 30s);
  }
  // Frees go out in the background: poll, bounded.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (objects() != before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(objects(), before);
}

TEST(ClusterNodeLossTest, ALostNodeIsReportedAndItsObjectsRaiseNodeLostError) {
  LocalCluster cluster(2);
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  ObjectRef on_node1 = rt->Put(Ramp(64, 2.0), 1);
  ASSERT_EQ(Values(rt->Get(on_node1, 30s)), Values(Ramp(64, 2.0)));
  cluster.Kill(cluster.pids().at(2));  // node 1

  EXPECT_THROW(rt->Get(on_node1, 30s), NodeLostError);
  // A task on the surviving node that needs the lost object fails with the same error.
  ObjectRef dep = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 0, {on_node1}, 1, ""})[0];
  EXPECT_THROW(rt->Get(dep, 30s), NodeLostError);
  // The head stops listing it as live once its heartbeats stop (5 s without one).
  auto [host, port] = engine::cluster::SplitAddress(cluster.address());
  Connection<wire::HeadClient> head(host, port, engine::cluster::ReadToken(cluster.token_file()),
                                    false, 10s);
  auto head_view = [&] {
    std::vector<wire::NodeW> nodes;
    head.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(nodes); });
    return nodes;
  };
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (head_view().at(1).live && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(head_view().at(1).live);
  EXPECT_TRUE(head_view().at(0).live);
  EXPECT_FALSE(rt->Nodes().at(1).live);
}

TEST(ClusterNodeLossTest, ObjectsOfALostNodeAreRecomputedFromLineage) {
  LocalCluster cluster(3);
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  ObjectRef a = rt->Put(Ramp(1000, 7.0), 0);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "b"})[0];
  ObjectRef c = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 2, {b}, 1, "c"})[0];
  ASSERT_EQ(Values(rt->Get(c, 30s)), Values(Ramp(1000, 7.0)));
  cluster.Kill(cluster.pids().at(2));  // node 1, holding b

  // b is recomputed from a on a survivor.
  EXPECT_EQ(Values(rt->Get(b, 60s)), Values(Ramp(1000, 7.0)));
  // A task submitted after the loss, on a survivor, reads the recomputed b.
  ObjectRef d = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 2, {b}, 1, "d"})[0];
  EXPECT_EQ(Values(rt->Get(d, 60s)), Values(Ramp(1000, 7.0)));
}

TEST(ClusterNodeLossTest, AKillMidComputationStillGivesTheRightAnswer) {
  LocalCluster cluster(3);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  // A chain of 30 elementwise steps over 6 blocks of 8 MB; each step's input is dropped as the
  // next is made, so a lost block must be recomputed from inputs that were freed too.
  BlockArray y = ones({6 * 1'000'000}, float64, {1'000'000});
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) y = y * 1.0 + 1.0;
  std::this_thread::sleep_until(start + 150ms);
  cluster.Kill(cluster.pids().at(2));  // node 1
  EXPECT_DOUBLE_EQ(y.sum().get().at<double>({}), 6e6 * 31);
  // What was made again for the recovery is freed with the rest once nothing refers to it.
  y = BlockArray();
  EXPECT_EQ(AwaitObjects([&] { return ctx.nodes(); }, 0), 0);
}

TEST(ClusterCleanupTest, ADriverThatExitsMidComputationLeavesNoObjectsBehind) {
  LocalCluster cluster(2);
  {
    Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
    BlockArray x = random::Generator(ctx, 3).random({8'000'000}, float64, {1'000'000});
    BlockArray y = exp(x * 2.0 + 1.0);
  }  // the driver goes while the tasks run: what they make is released before it exists
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  EXPECT_EQ(AwaitObjects([&] { return rt->Nodes(); }, 0), 0);
}

TEST(ClusterNodeLossTest, TasksThatFailedForALostInputAreRunAgain) {
  LocalCluster cluster(3);
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  ObjectRef a = rt->Put(Ramp(500, 1.0), 0);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "b"})[0];
  rt->Wait({b}, 1, 30s);
  cluster.Kill(cluster.pids().at(2));  // node 1, holding b
  // Submitted before the driver knows: node 2 fails to pull b and fails e with NodeLostError;
  // Get recomputes b and then e.
  ObjectRef e = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 2, {b}, 1, "e"})[0];
  EXPECT_EQ(Values(rt->Get(e, 60s)), Values(Ramp(500, 1.0)));
}

// The head's record of node `id`.
wire::NodeW HeadRecord(const LocalCluster& cluster, int64_t id) {
  auto [host, port] = engine::cluster::SplitAddress(cluster.address());
  Connection<wire::HeadClient> head(host, port, engine::cluster::ReadToken(cluster.token_file()),
                                    false, 10s);
  std::vector<wire::NodeW> nodes;
  head.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(nodes); });
  for (const auto& n : nodes) {
    if (n.id == id) return n;
  }
  throw ClusterError("the head lists no node " + std::to_string(id));
}

TEST(ClusterNodeLossTest, ATaskThatKillsItsNodesIsNotRunAgainAfterThree) {
  // The daemons add test.crash_node, which ends their process (tools/nums/main.cc).
  ASSERT_EQ(setenv("NUMS_TEST_CRASH_KERNEL", "1", 1), 0);
  LocalCluster cluster(4);
  unsetenv("NUMS_TEST_CRASH_KERNEL");
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  try {
    // A node may die before it answers SubmitTasks: then Submit raises it.
    rt->Get(rt->Submit(TaskSpec{"test.crash_node", Device::kCpu, 1, {}, 1, "crashy"})[0], 60s);
    FAIL() << "no NodeLostError";
  } catch (const NodeLostError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'crashy'"), std::string::npos) << what;
    EXPECT_NE(what.find("not run again"), std::string::npos) << what;
  }
  std::vector<engine::NodeId> live;
  for (const auto& n : rt->Nodes()) {
    if (n.live) live.push_back(n.id);
  }
  ASSERT_EQ(live.size(), 1u) << "the task ran on more than three nodes";
  ObjectRef a = rt->Put(Ramp(100, 2.0), live[0]);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, live[0], {a}, 1, "b"})[0];
  EXPECT_EQ(Values(rt->Get(b, 30s)), Values(Ramp(100, 2.0)));
}

TEST(ClusterNodeLossTest, ARestartedNodeRejoinsAndRunsNewTasks) {
  LocalCluster cluster(3);
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()));
  Context embedded = nums::init({.nodes = 3, .threads_per_node = 1});
  const std::vector<NDArray> want = ArrayProgram(embedded);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  ExpectResultsNear(ArrayProgram(ctx), want);
  // An array made before the loss (a third of its blocks on node 1) and its embedded twin.
  BlockArray kept = random::Generator(ctx, 5).normal({240, 6}, 0.0, 1.0, float64, {40, 6});
  BlockArray kept_twin =
      random::Generator(embedded, 5).normal({240, 6}, 0.0, 1.0, float64, {40, 6});
  EXPECT_ARRAY_NEAR(kept.get(), kept_twin.get(), 1e-12);

  const wire::NodeW before = HeadRecord(cluster, 1);
  ObjectRef a = rt->Put(Ramp(500, 1.0), 0);
  ObjectRef put_on_1 = rt->Put(Ramp(64, 3.0), 1);
  ObjectRef made_on_1 =
      rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "made_on_1"})[0];
  ASSERT_EQ(Values(rt->Get(made_on_1, 30s)), Values(Ramp(500, 1.0)));
  cluster.Kill(cluster.node_pid(1));

  // While node 1 is down, work meant for it runs on the survivors.
  ExpectResultsNear(ArrayProgram(ctx), want);
  EXPECT_ARRAY_NEAR(kept.sum(0).get(), kept_twin.sum(0).get(), 1e-12);
  ObjectRef while_down =
      rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "while_down"})[0];
  EXPECT_NE(while_down.node(), 1);
  EXPECT_EQ(Values(rt->Get(while_down, 30s)), Values(Ramp(500, 1.0)));
  EXPECT_FALSE(rt->Nodes().at(1).live);

  // The same node again, on its old port: it registers under its old id, live.
  cluster.RestartNode(1, before.port);
  const std::string listed = "node 1  " + before.host + ":" + std::to_string(before.port) + " ";
  std::string status;
  bool live = false;
  for (const auto deadline = std::chrono::steady_clock::now() + 30s;
       !live && std::chrono::steady_clock::now() < deadline;) {
    ASSERT_EQ(RunNumsTool({"--state-dir", cluster.state_dir().string(), "status"}, &status), 0)
        << status;
    const auto at = status.find(listed);
    live = at != std::string::npos &&
           status.substr(at, status.find('\n', at) - at).find("  live") != std::string::npos;
    if (!live) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(live) << status;
  const wire::NodeW after = HeadRecord(cluster, 1);
  EXPECT_TRUE(after.live);
  EXPECT_NE(after.incarnation, before.incarnation);

  // A task meant for node 1 runs there again once the driver has noticed (Submit asks the head
  // at most once a second while a node is lost).
  ObjectRef on_1;
  for (const auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline;) {
    on_1 = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "on_1"})[0];
    if (on_1.node() == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(on_1.node(), 1);
  EXPECT_EQ(Values(rt->Get(on_1, 30s)), Values(Ramp(500, 1.0)));
  const auto nodes = rt->Nodes();
  EXPECT_TRUE(nodes.at(1).live);
  EXPECT_GE(nodes.at(1).tasks_run, 1);
  EXPECT_GE(nodes.at(1).net_in_bytes, 4000);  // pulled `a` from node 0
  // What node 1 held before its restart stays lost: computed objects are made again, put ones
  // raise.
  EXPECT_EQ(Values(rt->Get(made_on_1, 30s)), Values(Ramp(500, 1.0)));
  EXPECT_THROW(rt->Get(put_on_1, 30s), NodeLostError);

  // Array programs over all three nodes: in the context that saw the loss, and in a new one.
  const int64_t tasks_before = ctx.nodes().at(1).tasks_run;
  ExpectResultsNear(ArrayProgram(ctx), want);
  EXPECT_ARRAY_NEAR(matmul(kept.T(), kept).get(), matmul(kept_twin.T(), kept_twin).get(), 1e-12);
  const auto seen = ctx.nodes();
  EXPECT_TRUE(seen.at(1).live);
  EXPECT_GT(seen.at(1).tasks_run, tasks_before);
  Context fresh = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  ASSERT_EQ(fresh.num_nodes(), 3);
  ExpectResultsNear(ArrayProgram(fresh), want);

  // Killed and restarted again with no call of the driver in between: the first call that
  // fails (or the new incarnation the head lists) tells it, and on_1 is made again.
  cluster.Kill(cluster.node_pid(1));
  cluster.RestartNode(1, before.port);
  EXPECT_EQ(Values(rt->Get(on_1, 30s)), Values(Ramp(500, 1.0)));
  ObjectRef again = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "again"})[0];
  EXPECT_EQ(again.node(), 1);
  EXPECT_EQ(Values(rt->Get(again, 30s)), Values(Ramp(500, 1.0)));
}

// Whether `pid` still exists as a process that is not a zombie.
bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() &&
         line[close_paren + 2] != 'Z';
}

TEST(ClusterCliTest, StartStatusStopLeavesNoProcessBehind) {
  const std::string state = MakeTempDir().string();
  std::string out;
  std::vector<pid_t> pids;
  const std::regex started(R"(started \(pid (\d+)\))");
  auto record = [&](const std::string& text) {
    for (std::sregex_iterator it(text.begin(), text.end(), started), end; it != end; ++it) {
      pids.push_back(std::stoi((*it)[1]));
    }
  };
  ASSERT_EQ(RunNumsTool({"--state-dir", state, "start", "--head", "--port", "0"}, &out), 0) << out;
  record(out);
  std::string address;
  std::ifstream(state + "/head.addr") >> address;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(RunNumsTool({"--state-dir", state, "start", "--address", address, "--token-file",
                           state + "/token", "--cores", "1"},
                          &out),
              0)
        << out;
    record(out);
  }
  ASSERT_EQ(pids.size(), 3u);
  EXPECT_EQ(std::filesystem::status(state + "/token").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_EQ(RunNumsTool({"--state-dir", state, "status"}, &out), 0) << out;
  EXPECT_NE(out.find("2 node(s)"), std::string::npos) << out;

  EXPECT_EQ(RunNumsTool({"--state-dir", state, "stop"}, &out), 0) << out;
  for (pid_t pid : pids) {
    EXPECT_FALSE(ProcessAlive(pid)) << "pid " << pid << " survived nums stop";
    if (ProcessAlive(pid)) kill(pid, SIGKILL);
  }
  std::error_code ec;
  std::filesystem::remove_all(state, ec);
}

}  // namespace
}  // namespace nums::testing
