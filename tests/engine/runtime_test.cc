#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "engine/embedded_runtime.h"
#include "tests/testing/testing.h"

namespace nums::engine {
namespace {

using nums::testing::MakeBlock;
using nums::testing::Values;
using namespace std::chrono_literals;

// Kernels used by these tests, over float64 blocks.
std::shared_ptr<KernelRegistry> TestKernels() {
  auto r = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*r);
  // Elementwise sum of all inputs.
  r->Register("test.add", Device::kCpu, [](const KernelContext& ctx) {
    Block out = Block::Allocate(float64, ctx.inputs[0].shape());
    for (int64_t i = 0; i < out.size(); ++i) {
      double s = 0;
      for (const Block& b : ctx.inputs) s += b.data<double>()[i];
      out.data<double>()[i] = s;
    }
    return std::vector<Block>{out};
  });
  // Input times scalar 0.
  r->Register("test.scale", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    Block out = Block::Allocate(float64, in.shape());
    for (int64_t i = 0; i < out.size(); ++i) {
      out.data<double>()[i] = in.data<double>()[i] * ctx.scalar<double>(0);
    }
    return std::vector<Block>{out};
  });
  // A block of shape scalar 0 filled with scalar 1.
  r->Register("test.fill", Device::kCpu, [](const KernelContext& ctx) {
    Block out = Block::Allocate(float64, ctx.scalar<std::vector<int64_t>>(0));
    for (int64_t i = 0; i < out.size(); ++i) out.data<double>()[i] = ctx.scalar<double>(1);
    return std::vector<Block>{out};
  });
  r->Register("test.fail", Device::kCpu, [](const KernelContext&) -> std::vector<Block> {
    throw ShapeError("shapes (2,) and (3,) do not match");
  });
  r->Register("test.throw_std", Device::kCpu, [](const KernelContext&) -> std::vector<Block> {
    throw std::out_of_range("index 7 out of range");
  });
  r->Register("test.sleep", Device::kCpu, [](const KernelContext& ctx) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ctx.scalar<int64_t>(0)));
    return std::vector<Block>{MakeBlock({1}, {1.0})};
  });
  // Splits a 1-d block into its two halves.
  r->Register("test.halves", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const int64_t h = in.size() / 2;
    Block a = Block::Allocate(float64, {h}), b = Block::Allocate(float64, {in.size() - h});
    for (int64_t i = 0; i < in.size(); ++i) {
      (i < h ? a.data<double>()[i] : b.data<double>()[i - h]) = in.data<double>()[i];
    }
    return std::vector<Block>{a, b};
  });
  r->Register("test.wrong_count", Device::kCpu,
              [](const KernelContext&) { return std::vector<Block>{}; });
  return r;
}

std::shared_ptr<EmbeddedRuntime> Start(int64_t nodes, int64_t threads = 2) {
  return EmbeddedRuntime::Start({.nodes = nodes, .threads_per_node = threads}, TestKernels());
}

TaskSpec Task(std::string kernel, std::vector<TaskArg> args, NodeId node = 0,
              int64_t num_returns = 1) {
  return TaskSpec{std::move(kernel), Device::kCpu, node, std::move(args), num_returns, ""};
}

int64_t TotalBytes(EmbeddedRuntime& rt) {
  int64_t n = 0;
  for (const auto& info : rt.Nodes()) n += info.memory_used;
  return n;
}

int64_t TotalObjects(EmbeddedRuntime& rt) {
  int64_t n = 0;
  for (const auto& info : rt.Nodes()) n += info.num_objects;
  return n;
}

TEST(RuntimeTest, PutGetRoundTrip) {
  auto rt = Start(1);
  ObjectRef r = rt->Put(MakeBlock({2, 3}), 0);
  Block b = rt->Get(r);
  EXPECT_EQ(b.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values(b), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(rt->Nodes()[0].memory_used, 48);
}

TEST(RuntimeTest, PutAndGetOf256MiBAreZeroCopy) {
  auto rt = Start(1);
  Block big = Block::Allocate(float64, {int64_t{32} << 20});  // 256 MiB
  const void* data = big.raw();
  ObjectRef r = rt->Put(big, 0);
  Block back = rt->Get(r);
  EXPECT_EQ(back.raw(), data);
  EXPECT_EQ(back.nbytes(), int64_t{256} << 20);
  // An identity task in the same process hands the same buffer through as well.
  auto out = rt->Submit(Task("engine.identity", {r}));
  EXPECT_EQ(rt->Get(out[0]).raw(), data);
}

TEST(RuntimeTest, DependencyChainIsSubmittedWithoutWaiting) {
  auto rt = Start(1);
  // The head of the chain sleeps, so every later submit happens while its input is pending.
  ObjectRef head = rt->Submit(Task("test.sleep", {Scalar{int64_t{50}}}))[0];
  ObjectRef x = head;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) x = rt->Submit(Task("test.scale", {x, Scalar{2.0}}))[0];
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 40ms) << "submit must not wait for inputs";
  EXPECT_EQ(rt->Wait({x}, 1, 0ms).ready.size(), 0u);
  EXPECT_DOUBLE_EQ(Values(rt->Get(x))[0], std::pow(2.0, 100));
}

TEST(RuntimeTest, DiamondAcrossNodes) {
  auto rt = Start(3);
  // a on node 0; b = 2a on node 1 and c = 3a on node 2; d = b + c = 5a back on node 0.
  ObjectRef a = rt->Put(MakeBlock({4}, {1, 2, 3, 4}), 0);
  ObjectRef b = rt->Submit(Task("test.scale", {a, Scalar{2.0}}, 1))[0];
  ObjectRef c = rt->Submit(Task("test.scale", {a, Scalar{3.0}}, 2))[0];
  ObjectRef d = rt->Submit(Task("test.add", {b, c}, 0))[0];
  EXPECT_EQ(Values(rt->Get(d)), (std::vector<double>{5, 10, 15, 20}));
  EXPECT_EQ(d.node(), 0);
  auto nodes = rt->Nodes();
  EXPECT_EQ(nodes[0].tasks_run, 1);
  EXPECT_EQ(nodes[1].tasks_run, 1);
  EXPECT_EQ(nodes[2].tasks_run, 1);
  // a went to nodes 1 and 2; b and c came back to node 0: 32 bytes each way.
  EXPECT_EQ(nodes[0].net_out_bytes, 64);
  EXPECT_EQ(nodes[0].net_in_bytes, 64);
  EXPECT_EQ(nodes[1].net_in_bytes, 32);
  EXPECT_EQ(nodes[2].net_out_bytes, 32);
}

TEST(RuntimeTest, TasksWaitingForOneRemoteObjectShareItsTransfer) {
  auto rt = Start(2);
  // a is pending on node 0 (behind a sleep) while three tasks on node 1 wait for it.
  ObjectRef slow = rt->Submit(Task("test.sleep", {Scalar{int64_t{100}}}, 0))[0];
  ObjectRef a = rt->Submit(Task("test.scale", {slow, Scalar{2.0}}, 0))[0];
  std::vector<ObjectRef> uses;
  for (double k : {1.0, 2.0, 3.0})
    uses.push_back(rt->Submit(Task("test.scale", {a, Scalar{k}}, 1))[0]);
  const auto blocks = rt->Get(uses);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Values(blocks[i]), (std::vector<double>{2.0 * static_cast<double>(i + 1)}));
  }
  EXPECT_EQ(rt->Nodes()[1].net_in_bytes, 8);  // one transfer for the three
  // Once they have run the copy is dropped: a later task fetches again.
  EXPECT_EQ(Values(rt->Get(rt->Submit(Task("test.scale", {a, Scalar{1.0}}, 1))[0])),
            (std::vector<double>{2.0}));
  EXPECT_EQ(rt->Nodes()[1].net_in_bytes, 16);
}

TEST(RuntimeTest, MultipleReturns) {
  auto rt = Start(2);
  ObjectRef a = rt->Put(MakeBlock({5}), 1);
  auto parts = rt->Submit(Task("test.halves", {a}, 1, 2));
  ASSERT_EQ(parts.size(), 2u);
  auto blocks = rt->Get(parts);
  EXPECT_EQ(Values(blocks[0]), (std::vector<double>{0, 1}));
  EXPECT_EQ(Values(blocks[1]), (std::vector<double>{2, 3, 4}));
  EXPECT_NE(parts[0].id(), parts[1].id());
  EXPECT_EQ(parts[0].lineage(), parts[1].lineage());
}

TEST(RuntimeTest, ScalarsReachTheKernelAndInputsAreFreedWhenDropped) {
  auto rt = Start(1);
  ObjectRef a = rt->Submit(Task("test.fill", {Scalar{std::vector<int64_t>{2, 2}}, Scalar{7.0}}))[0];
  ObjectRef b = rt->Submit(Task("test.scale", {a, Scalar{0.5}}))[0];
  EXPECT_EQ(Values(rt->Get(b)), (std::vector<double>(4, 3.5)));
  a = ObjectRef();
  rt->WaitIdle();
  EXPECT_EQ(TotalObjects(*rt), 1);
  EXPECT_EQ(Values(rt->Get(b)), (std::vector<double>(4, 3.5)));
}

TEST(RuntimeTest, ATaskRecordNamesItsInputsAndTheirProducers) {
  // What a cluster runtime keeps as lineage: the record of b names a and the task that made it.
  ObjectIdGenerator ids;
  auto producer = std::make_shared<TaskRecord>();
  producer->kernel = "test.fill";
  ObjectRef a(ids.Next(), 0, producer, {});
  TaskSpec spec = Task("test.scale", {a, Scalar{0.5}});
  std::vector<ObjectRef> pins;
  auto record = MakeTaskRecord(spec, ids, pins, [](const ObjectRef& r) { return r.node(); });
  EXPECT_EQ(record->kernel, "test.scale");
  ASSERT_EQ(record->args.size(), 2u);
  const auto& parent = std::get<ObjectArg>(record->args[0]);
  EXPECT_EQ(parent.id, a.id());
  ASSERT_TRUE(parent.producer);
  EXPECT_EQ(parent.producer->kernel, "test.fill");
  EXPECT_EQ(std::get<double>(std::get<Scalar>(record->args[1])), 0.5);
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0].id(), a.id());
  EXPECT_EQ(record->returns.size(), 1u);
}

TEST(RuntimeTest, WaitWithKAndTimeout) {
  auto rt = Start(1, 2);
  ObjectRef fast = rt->Submit(Task("test.sleep", {Scalar{int64_t{0}}}))[0];
  ObjectRef slow = rt->Submit(Task("test.sleep", {Scalar{int64_t{400}}}))[0];
  const auto t0 = std::chrono::steady_clock::now();
  WaitResult w = rt->Wait({slow, fast}, 1, 5000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms);
  ASSERT_EQ(w.ready.size(), 1u);
  EXPECT_EQ(w.ready[0], fast);
  ASSERT_EQ(w.not_ready.size(), 1u);
  EXPECT_EQ(w.not_ready[0], slow);

  WaitResult none = rt->Wait({slow}, 1, 10ms);
  EXPECT_TRUE(none.ready.empty());
  EXPECT_THROW(rt->Get(slow, 10ms), TimeoutError);

  WaitResult all = rt->Wait({slow, fast}, 2);
  EXPECT_EQ(all.ready.size(), 2u);
  EXPECT_EQ(rt->Wait({slow}, 0, 0ms).ready.size(), 1u);  // finished by now; k = 0 never waits
  EXPECT_THROW(rt->Wait({slow}, 2), ValueError);
}

TEST(RuntimeTest, ErrorPropagatesThroughChainWithOriginalTypeAndTaskName) {
  auto rt = Start(2);
  TaskSpec bad = Task("test.fail", {}, 1);
  bad.name = "make-block-7";
  ObjectRef x = rt->Submit(bad)[0];
  ObjectRef y = rt->Submit(Task("test.scale", {x, Scalar{2.0}}, 0))[0];
  ObjectRef ok = rt->Put(MakeBlock({1}), 0);
  ObjectRef z = rt->Submit(Task("test.add", {ok, y}, 1))[0];
  try {
    rt->Get(z);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("make-block-7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("node 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("shapes (2,) and (3,)"), std::string::npos) << msg;
  }
  // A failed object counts as finished for wait, and the tasks downstream did not run.
  EXPECT_EQ(rt->Wait({z}, 1, 1000ms).ready.size(), 1u);
  EXPECT_EQ(rt->Nodes()[0].tasks_run + rt->Nodes()[1].tasks_run, 3);
}

TEST(RuntimeTest, ForeignExceptionsBecomeRemoteTaskError) {
  auto rt = Start(1);
  ObjectRef x = rt->Submit(Task("test.throw_std", {}))[0];
  try {
    rt->Get(x);
    FAIL();
  } catch (const RemoteTaskError& e) {
    EXPECT_NE(std::string(e.what()).find("index 7 out of range"), std::string::npos);
  }
  ObjectRef w = rt->Submit(Task("test.wrong_count", {}))[0];
  EXPECT_THROW(rt->Get(w), RemoteTaskError);
  ObjectRef s = rt->Submit(Task("test.scale", {rt->Put(MakeBlock({1}), 0)}))[0];  // no scalar
  EXPECT_THROW(rt->Get(s), ValueError);
}

TEST(RuntimeTest, BadSubmissionsAreRejectedBeforeSending) {
  auto rt = Start(2);
  EXPECT_THROW(rt->Submit(Task("no.such.kernel", {})), ClusterError);
  try {
    rt->Submit(Task("engine.noop", {}, 5));
    FAIL();
  } catch (const ClusterError& e) {
    EXPECT_NE(std::string(e.what()).find("node 5"), std::string::npos);
  }
  EXPECT_THROW(rt->Submit(Task("engine.noop", {ObjectRef()})), ValueError);
  EXPECT_THROW(rt->Put(MakeBlock({1}), -1), ClusterError);
  EXPECT_EQ(rt->Nodes()[0].tasks_run + rt->Nodes()[1].tasks_run, 0);
  EXPECT_THROW(EmbeddedRuntime::Start({.nodes = 0}, TestKernels()), ValueError);
}

TEST(RuntimeTest, DroppingRefsFreesEverything) {
  auto rt = Start(3);
  {
    std::vector<ObjectRef> keep;
    for (int i = 0; i < 30; ++i) {
      ObjectRef a = rt->Put(MakeBlock({100}), i % 3);
      ObjectRef b = rt->Submit(Task("test.scale", {a, Scalar{2.0}}, (i + 1) % 3))[0];
      keep.push_back(rt->Submit(Task("test.add", {a, b}, (i + 2) % 3))[0]);
    }
    rt->Get(keep);
    rt->WaitIdle();
    // Only the 30 results remain: intermediates were freed when their last user ran.
    EXPECT_EQ(TotalObjects(*rt), 30);
    EXPECT_EQ(TotalBytes(*rt), 30 * 800);
  }
  rt->WaitIdle();
  EXPECT_EQ(TotalBytes(*rt), 0);
  EXPECT_EQ(TotalObjects(*rt), 0);
}

TEST(RuntimeTest, ResultDroppedBeforeItsTaskRunsIsDiscarded) {
  auto rt = Start(1);
  rt->Submit(Task("test.sleep", {Scalar{int64_t{20}}}));  // result ref dropped at once
  rt->WaitIdle();
  EXPECT_EQ(TotalObjects(*rt), 0);
  EXPECT_EQ(TotalBytes(*rt), 0);
}

TEST(RuntimeTest, ExplicitFreeMakesGetFail) {
  auto rt = Start(1);
  ObjectRef a = rt->Put(MakeBlock({8}), 0);
  rt->Free({a});
  EXPECT_EQ(TotalBytes(*rt), 0);
  EXPECT_THROW(rt->Get(a), ClusterError);
}

TEST(RuntimeTest, TasksRunOnTheNodeTheyWereSentTo) {
  auto rt = Start(4, 1);
  std::vector<ObjectRef> outs;
  for (int i = 0; i < 40; ++i) {
    outs.push_back(rt->Submit(Task(
        "test.fill", {Scalar{std::vector<int64_t>{3}}, Scalar{static_cast<double>(i)}}, i % 4))[0]);
  }
  auto blocks = rt->Get(outs);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(outs[i].node(), i % 4);
    EXPECT_EQ(Values(blocks[i])[2], i);
  }
  for (const auto& n : rt->Nodes()) {
    EXPECT_EQ(n.tasks_run, 10) << "node " << n.id;
    EXPECT_EQ(n.num_objects, 10);
    EXPECT_EQ(n.memory_used, 10 * 24);
    EXPECT_EQ(n.cores, 1);
  }
}

TEST(RuntimeTest, StressHundredThousandTasks) {
  auto rt = Start(2, 1);
  constexpr int kTasks = 100000;
  std::vector<ObjectRef> outs;
  outs.reserve(kTasks / 100);
  // Independent no-ops, plus short chains every 100 tasks so dependencies cross nodes.
  ObjectRef chain = rt->Put(MakeBlock({1}, {0}), 0);
  for (int i = 0; i < kTasks; ++i) {
    if (i % 100 == 0) {
      chain = rt->Submit(Task("test.scale", {chain, Scalar{1.0}}, (i / 100) % 2))[0];
      outs.push_back(chain);
    } else {
      rt->Submit(Task("engine.noop", {}, i % 2));
    }
  }
  auto blocks = rt->Get(outs);
  EXPECT_EQ(blocks.size(), static_cast<size_t>(kTasks / 100));
  rt->WaitIdle();
  auto nodes = rt->Nodes();
  EXPECT_EQ(nodes[0].tasks_run + nodes[1].tasks_run, kTasks);
  outs.clear();
  blocks.clear();
  chain = ObjectRef();
  rt->WaitIdle();
  EXPECT_EQ(TotalObjects(*rt), 0);
}

TEST(RuntimeTest, DroppingTheRuntimeWhileTasksRunWaitsForThem) {
  // Workers release the inputs of running tasks after the driver dropped the runtime: the
  // runtime must still be destroyed here, on the driver, once they finish.
  auto rt = Start(2, 1);
  for (int i = 0; i < 8; ++i) {
    ObjectRef in = rt->Put(MakeBlock({4}), i % 2);
    rt->Submit(Task("test.sleep", {Scalar{int64_t{5}}, in}, (i + 1) % 2));
  }
  const auto t0 = std::chrono::steady_clock::now();
  rt.reset();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 15ms);
}

TEST(RuntimeTest, RefsOutliveTheRuntime) {
  ObjectRef survivor;
  {
    auto rt = Start(1);
    survivor = rt->Put(MakeBlock({3}), 0);
  }
  survivor = ObjectRef();  // releasing after shutdown is a no-op, not a crash
  SUCCEED();
}

}  // namespace
}  // namespace nums::engine
