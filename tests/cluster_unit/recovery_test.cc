// ClusterRuntime's recovery against FakeCluster: nodes that die, restart and kill themselves,
// without sockets.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/cluster/cluster_runtime.h"
#include "tests/cluster_unit/fake_cluster.h"

namespace nums::engine::cluster {
namespace {

using testing::FakeCluster;

// "test.add": its input plus a scalar; "test.make" (and "test.crash", which the fake can make
// deadly): a block of n copies of a scalar, from no input; "test.fail": a ValueError.
std::shared_ptr<KernelRegistry> Kernels() {
  auto registry = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*registry);
  registry->Register("test.add", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    Block out = Block::Allocate(in.dtype(), in.shape());
    const double add = ctx.scalar<double>(0);
    for (int64_t i = 0; i < in.size(); ++i) out.data<double>()[i] = in.data<double>()[i] + add;
    return std::vector<Block>{out};
  });
  auto make = [](const KernelContext& ctx) {
    const double value = ctx.scalar<double>(0);
    Block out = Block::Allocate(float64, {4});
    for (int64_t i = 0; i < 4; ++i) out.data<double>()[i] = value;
    return std::vector<Block>{out};
  };
  registry->Register("test.make", Device::kCpu, make);
  registry->Register("test.crash", Device::kCpu, make);
  registry->Register("test.fail", Device::kCpu, [](const KernelContext&) -> std::vector<Block> {
    throw ValueError("test.fail: this task always fails");
  });
  return registry;
}

Block Vec(std::vector<double> values) {
  Block b = Block::Allocate(float64, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) b.data<double>()[i] = values[i];
  return b;
}

std::vector<double> Values(const Block& b) {
  return std::vector<double>(b.data<double>(), b.data<double>() + b.size());
}

class RecoveryTest : public ::testing::Test {
 protected:
  void Start(int64_t nodes) {
    cluster_ = std::make_unique<FakeCluster>(nodes, Kernels());
    rt_ = ClusterRuntime::Start(cluster_->Head(), cluster_->Dialer(), "fake");
  }
  void TearDown() override {
    rt_.reset();  // before the nodes it talks to
    cluster_.reset();
  }

  ObjectRef Add(const ObjectRef& in, double add, NodeId node) {
    TaskSpec spec;
    spec.kernel = "test.add";
    spec.node = node;
    spec.args = {in, Scalar{add}};
    return rt_->Submit(spec)[0];
  }
  ObjectRef Make(const std::string& kernel, double value, NodeId node) {
    TaskSpec spec;
    spec.kernel = kernel;
    spec.name = kernel == "test.crash" ? "crashy" : "";
    spec.node = node;
    spec.args = {Scalar{value}};
    return rt_->Submit(spec)[0];
  }
  // Waits until `node` no longer holds `id` (its free is sent from a background thread).
  void WaitFreed(NodeId node, const ObjectId& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (cluster_->Holds(node, id) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(cluster_->Holds(node, id)) << "object " << id.ToString() << " never freed";
  }

  std::unique_ptr<FakeCluster> cluster_;
  std::shared_ptr<ClusterRuntime> rt_;
};

TEST_F(RecoveryTest, AKillMidChainStillGivesTheRightAnswer) {
  Start(3);
  const ObjectRef x = rt_->Put(Vec({1, 2, 3}), 0);
  ObjectRef y = x;
  for (int i = 1; i <= 5; ++i) y = Add(y, 1.0, i % 3);
  EXPECT_EQ(Values(rt_->Get(y)), (std::vector<double>{6, 7, 8}));
  cluster_->Kill(1);  // holds steps 1 and 4 of the chain
  for (int i = 6; i <= 10; ++i) y = Add(y, 1.0, i % 3);
  EXPECT_EQ(Values(rt_->Get(y)), (std::vector<double>{11, 12, 13}));
  EXPECT_NE(rt_->Location(y), 1);
}

TEST_F(RecoveryTest, AFreedInputIsMadeAgain) {
  Start(3);
  const ObjectRef x = rt_->Put(Vec({1, 2}), 0);
  ObjectRef a = Add(x, 1.0, 1);
  const ObjectRef b = Add(a, 10.0, 2);
  ASSERT_EQ(Values(rt_->Get(b)), (std::vector<double>{12, 13}));
  const ObjectId a_id = a.id();
  a = ObjectRef();  // the last ref: `a` is freed on node 1
  WaitFreed(1, a_id);
  const int64_t before = cluster_->TasksRun(0) + cluster_->TasksRun(1);
  cluster_->Kill(2);  // b is lost, and so is the input it needs again
  EXPECT_EQ(Values(rt_->Get(b)), (std::vector<double>{12, 13}));
  EXPECT_EQ(cluster_->TasksRun(0) + cluster_->TasksRun(1) - before, 2) << "a and b run again";
}

TEST_F(RecoveryTest, LoadsComeFromTheNodesAnswersAndLeaveOutLostNodes) {
  Start(2);
  const ObjectRef x = rt_->Put(Vec({1, 2, 3, 4}), 1);
  ASSERT_EQ(Values(rt_->Get(x)), (std::vector<double>{1, 2, 3, 4}));
  const ObjectRef y = Add(x, 1.0, 1);  // node 1 answers with x's 32 bytes in its memory
  auto loads = rt_->Loads();
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_GE(loads[1].memory_used, 32);
  EXPECT_TRUE(loads[0].live);
  EXPECT_TRUE(loads[1].live);
  cluster_->Kill(0);
  const ObjectRef z = Add(y, 1.0, 0);  // finds node 0 lost and goes to node 1
  EXPECT_EQ(Values(rt_->Get(z)), (std::vector<double>{3, 4, 5, 6}));
  loads = rt_->Loads();
  EXPECT_FALSE(loads[0].live);
  EXPECT_TRUE(loads[1].live);
}

TEST_F(RecoveryTest, AnObjectPutOnALostNodeRaisesNodeLostError) {
  Start(2);
  const ObjectRef x = rt_->Put(Vec({1}), 1);
  ASSERT_EQ(Values(rt_->Get(x)), (std::vector<double>{1}));
  cluster_->Kill(1);
  try {
    rt_->Get(x);
    FAIL() << "no NodeLostError";
  } catch (const NodeLostError& e) {
    EXPECT_NE(std::string(e.what()).find("put on node 1"), std::string::npos) << e.what();
  }
}

TEST_F(RecoveryTest, TasksAndPutsMeantForALostNodeGoToASurvivor) {
  Start(3);
  cluster_->Kill(1);
  const ObjectRef x = rt_->Put(Vec({1, 2}), 1);
  const ObjectRef y = Add(x, 1.0, 1);
  EXPECT_NE(rt_->Location(x), 1);
  EXPECT_NE(rt_->Location(y), 1);
  EXPECT_EQ(Values(rt_->Get(y)), (std::vector<double>{2, 3}));
  const auto nodes = rt_->Nodes();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_FALSE(nodes[1].live);
}

TEST_F(RecoveryTest, ARestartedNodeIsUsedAgainAndWhatItHeldCountsAsLost) {
  Start(2);
  const ObjectRef put = rt_->Put(Vec({5}), 1);
  const ObjectRef y = Add(rt_->Put(Vec({1}), 0), 1.0, 1);
  ASSERT_EQ(Values(rt_->Get(y)), (std::vector<double>{2}));
  cluster_->Restart(1);
  const auto nodes = rt_->Nodes();  // notices the new incarnation and takes it back
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_TRUE(nodes[1].live);
  EXPECT_THROW(rt_->Get(put), NodeLostError);
  EXPECT_EQ(Values(rt_->Get(y)), (std::vector<double>{2}));  // made again there
  EXPECT_EQ(rt_->Location(y), 1);
  EXPECT_TRUE(cluster_->Holds(1, y.id()));
  const ObjectRef z = Add(y, 1.0, 1);
  EXPECT_EQ(Values(rt_->Get(z)), (std::vector<double>{3}));
  EXPECT_EQ(rt_->Location(z), 1);
}

TEST_F(RecoveryTest, TheLocationOfARecomputedObjectIsTheNodeItLivesOnNow) {
  Start(3);
  const ObjectRef y = Make("test.make", 7.0, 1);
  ASSERT_EQ(Values(rt_->Get(y)), (std::vector<double>(4, 7.0)));
  EXPECT_EQ(rt_->Location(y), 1);
  cluster_->Kill(1);
  ASSERT_EQ(Values(rt_->Get(y)), (std::vector<double>(4, 7.0)));
  const NodeId now = rt_->Location(y);
  EXPECT_NE(now, 1);
  EXPECT_TRUE(cluster_->Holds(now, y.id()));
}

TEST_F(RecoveryTest, WorkGoesOnWithTheLastViewWhileTheHeadIsDown) {
  Start(2);
  cluster_->SetHeadDown(true);
  const auto nodes = rt_->Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_TRUE(nodes[0].live && nodes[1].live);
  EXPECT_EQ(Values(rt_->Get(Add(rt_->Put(Vec({1}), 0), 1.0, 1))), (std::vector<double>{2}));
}

TEST_F(RecoveryTest, ATaskThatKillsItsNodesFailsWithANamedErrorAfterThreeLosses) {
  Start(4);
  cluster_->KillWhenRuns("test.crash");
  const ObjectRef y = Make("test.crash", 1.0, 1);
  try {
    rt_->Get(y);
    FAIL() << "no NodeLostError";
  } catch (const NodeLostError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'crashy'"), std::string::npos) << what;
    EXPECT_NE(what.find("not run again"), std::string::npos) << what;
  }
  int64_t alive = 0;
  for (NodeId n = 0; n < 4; ++n) alive += cluster_->Alive(n) ? 1 : 0;
  EXPECT_EQ(alive, 1) << "the task ran on more than three nodes";
  EXPECT_THROW(rt_->Get(y), NodeLostError);  // and is not run again later either
  alive = 0;
  for (NodeId n = 0; n < 4; ++n) alive += cluster_->Alive(n) ? 1 : 0;
  EXPECT_EQ(alive, 1);
  // The survivor still works.
  EXPECT_EQ(Values(rt_->Get(Make("test.make", 2.0, 0))), (std::vector<double>(4, 2.0)));
}

int64_t TasksRun(FakeCluster& cluster, int64_t nodes) {
  int64_t n = 0;
  for (NodeId i = 0; i < nodes; ++i) n += cluster.Alive(i) ? cluster.TasksRun(i) : 0;
  return n;
}

TEST_F(RecoveryTest, AwaitRunsNoTaskOfItsOwn) {
  Start(3);
  const ObjectRef x = rt_->Put(Vec({1, 2}), 0);
  std::vector<ObjectRef> ys;
  for (int i = 0; i < 9; ++i) ys.push_back(Add(Add(x, 1.0, i % 3), 1.0, (i + 1) % 3));
  rt_->Await(ys);  // while they run
  EXPECT_EQ(TasksRun(*cluster_, 3), 18) << "the 18 tasks, and no no-op to wait for them";
  for (const ObjectRef& y : ys) EXPECT_TRUE(cluster_->Holds(rt_->Location(y), y.id()));
  rt_->Await(ys);  // once they are done
  rt_->Await({});
  EXPECT_EQ(TasksRun(*cluster_, 3), 18);
  EXPECT_THROW(rt_->Await({ys[0], ObjectRef()}), ValueError);
}

TEST_F(RecoveryTest, AwaitRecomputesWhatALostNodeHeld) {
  Start(3);
  const ObjectRef x = rt_->Put(Vec({1, 2}), 0);
  std::vector<ObjectRef> ys;
  for (int i = 0; i < 6; ++i) ys.push_back(Add(Add(x, 1.0, i % 3), 1.0, (i + 1) % 3));
  rt_->Await(ys);
  cluster_->Kill(1);
  rt_->Await(ys);
  for (const ObjectRef& y : ys) {
    const NodeId now = rt_->Location(y);
    EXPECT_NE(now, 1);
    EXPECT_TRUE(cluster_->Holds(now, y.id())) << "not made again before Await returned";
  }
  for (const ObjectRef& y : ys) EXPECT_EQ(Values(rt_->Get(y)), (std::vector<double>{3, 4}));
}

TEST_F(RecoveryTest, AwaitRaisesTheFirstFailedTasksErrorAsGetDoes) {
  Start(3);
  const ObjectRef fine = Make("test.make", 1.0, 0);
  const ObjectRef bad = Make("test.fail", 0.0, 1);
  const ObjectRef after = Add(bad, 1.0, 2);
  std::string from_get;
  try {
    rt_->Get(bad);
    FAIL() << "Get raised nothing";
  } catch (const ValueError& e) {
    from_get = e.what();
  }
  EXPECT_NE(from_get.find("this task always fails"), std::string::npos) << from_get;
  for (const auto& refs : {std::vector{fine, bad}, std::vector{bad, fine, after}}) {
    try {
      rt_->Await(refs);
      ADD_FAILURE() << "Await raised nothing";
    } catch (const ValueError& e) {
      EXPECT_EQ(std::string(e.what()), from_get);
    }
  }
  EXPECT_THROW(rt_->Await({fine, after}), ValueError);  // the error reached its dependent
  rt_->Await({fine});
}

}  // namespace
}  // namespace nums::engine::cluster
