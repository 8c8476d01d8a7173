// Node on its own, with a scripted ObjectSource for its remote inputs: a copy that finds no
// memory is fetched again rather than failing the task at once.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "engine/node.h"
#include "nums/errors.hpp"

namespace nums::engine {
namespace {

// Answers the first `refusals` fetches with OutOfMemoryError (as a peer fetcher does when the
// receiving pool has no room), then with a 4-element block of 1..4.
class TightSource : public ObjectSource {
 public:
  explicit TightSource(int refusals) : refusals_(refusals) {}
  void Subscribe(NodeId, NodeId, const ObjectId&, ObjectCallback cb) override {
    if (calls_.fetch_add(1) < refusals_) {
      auto info = std::make_shared<ErrorInfo>();
      info->code = ErrorCode::kOutOfMemory;
      info->message = "node 0 cannot allocate 32 bytes";
      cb(ObjectValue{Block(), info});
      return;
    }
    Block b = Block::Allocate(float64, {4});
    for (int i = 0; i < 4; ++i) b.data<double>()[i] = i + 1;
    cb(ObjectValue{b, nullptr});
  }
  int calls() const { return calls_.load(); }

 private:
  const int refusals_;
  std::atomic<int> calls_{0};
};

std::shared_ptr<KernelRegistry> Kernels() {
  auto r = std::make_shared<KernelRegistry>();
  r->Register("test.sum", Device::kCpu, [](const KernelContext& ctx) {
    Block out = Block::Allocate(float64, {1});
    double s = 0;
    for (int64_t i = 0; i < ctx.inputs[0].size(); ++i) s += ctx.inputs[0].data<double>()[i];
    out.data<double>()[0] = s;
    return std::vector<Block>{out};
  });
  return r;
}

// Runs test.sum on node 0 over an object of node 1; returns the result's value.
ObjectValue SumOfRemote(Node& node) {
  auto t = std::make_shared<TaskRecord>();
  t->kernel = t->name = "test.sum";
  t->args.emplace_back(ObjectArg{ObjectId{7, 1}, 1, nullptr});
  t->returns = {ObjectId{7, 2}};
  node.Submit(t, {});
  std::promise<ObjectValue> done;
  node.store().Subscribe(ObjectId{7, 2}, [&](const ObjectValue& v) { done.set_value(v); });
  return done.get_future().get();
}

TEST(NodeTest, AFetchThatFindsNoMemoryIsRetriedInsteadOfFailingTheTask) {
  TightSource peers(3);
  Node node(0, 2, NodeMemory{64 << 20}, Kernels(), &peers);
  const ObjectValue v = SumOfRemote(node);
  ASSERT_TRUE(v.ok()) << v.error->message;
  EXPECT_EQ(v.block.data<double>()[0], 10.0);
  EXPECT_EQ(peers.calls(), 4);
}

TEST(NodeTest, AFetchThatNeverFindsMemoryFailsWithOutOfMemoryError) {
  TightSource peers(1 << 30);
  Node node(0, 2, NodeMemory{64 << 20}, Kernels(), &peers);
  const auto start = std::chrono::steady_clock::now();
  const ObjectValue v = SumOfRemote(node);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error->code, ErrorCode::kOutOfMemory) << v.error->message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, Node::kIdleMemoryWait)
      << "it failed before memory had a chance to be freed";
  EXPECT_GT(peers.calls(), 2);
}

// A kernel that fills its declared output with the id of the thread it ran on, hashed, plus its
// int64 scalar: tells where a task ran and what scalars it read.
std::shared_ptr<KernelRegistry> ThreadKernels() {
  auto r = std::make_shared<KernelRegistry>();
  r->Register("test.where", Device::kCpu, [](const KernelContext& ctx) {
    Block out = Block::Allocate(float64, {ctx.scalar<int64_t>(0)});
    out.data<double>()[0] =
        static_cast<double>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000003);
    out.data<double>()[1] = static_cast<double>(ctx.scalar<std::vector<int64_t>>(1).size());
    return std::vector<Block>{out};
  });
  return r;
}

double ThisThread() {
  return static_cast<double>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000003);
}

// Submits test.where making `elements` float64 (declared) with a scalar list of `list` entries,
// reading `input` when given; returns its result.
ObjectValue RunWhere(Node& node, uint64_t seq, int64_t elements, int64_t list,
                     std::optional<ObjectId> input = std::nullopt) {
  auto t = std::make_shared<TaskRecord>();
  t->kernel = t->name = "test.where";
  if (input) t->args.emplace_back(ObjectArg{*input, 0, nullptr});
  t->args.emplace_back(Scalar{elements});
  t->args.emplace_back(Scalar{std::vector<int64_t>(static_cast<size_t>(list), 1)});
  t->returns = {ObjectId{9, seq}};
  t->outputs = {OutputSpec{float64, {elements}}};
  node.Submit(t, {});
  std::promise<ObjectValue> done;
  node.store().Subscribe(ObjectId{9, seq}, [&](const ObjectValue& v) { done.set_value(v); });
  return done.get_future().get();
}

TEST(NodeTest, ASmallReadyTaskRunsOnTheSubmittingThread) {
  Node node(0, 2, NodeMemory{64 << 20}, ThreadKernels(), nullptr);
  const ObjectValue small = RunWhere(node, 1, 16, 3);
  ASSERT_TRUE(small.ok()) << small.error->message;
  EXPECT_EQ(small.block.data<double>()[0], ThisThread()) << "a 128-byte task was handed off";
  EXPECT_EQ(small.block.data<double>()[1], 3.0);
  // Its input ready too: still here.
  const ObjectValue chained = RunWhere(node, 2, 16, 1, ObjectId{9, 1});
  ASSERT_TRUE(chained.ok()) << chained.error->message;
  EXPECT_EQ(chained.block.data<double>()[0], ThisThread());
  // 1 MiB of output: a worker's.
  const ObjectValue large = RunWhere(node, 3, 1 << 17, 2);
  ASSERT_TRUE(large.ok()) << large.error->message;
  EXPECT_NE(large.block.data<double>()[0], ThisThread()) << "a 1 MiB task ran inline";
  // A small task reading a large input: a worker's too.
  const ObjectValue reads_large = RunWhere(node, 4, 16, 2, ObjectId{9, 3});
  ASSERT_TRUE(reads_large.ok()) << reads_large.error->message;
  EXPECT_NE(reads_large.block.data<double>()[0], ThisThread());
}

TEST(NodeTest, ATaskWaitingForItsInputRunsOnAWorkerWhenTheInputArrives) {
  Node node(0, 2, NodeMemory{64 << 20}, ThreadKernels(), nullptr);
  node.store().CreatePending(ObjectId{8, 1});
  auto t = std::make_shared<TaskRecord>();
  t->kernel = t->name = "test.where";
  t->args.emplace_back(ObjectArg{ObjectId{8, 1}, 0, nullptr});
  t->args.emplace_back(Scalar{int64_t{16}});
  t->args.emplace_back(Scalar{std::vector<int64_t>{1}});
  t->returns = {ObjectId{9, 5}};
  t->outputs = {OutputSpec{float64, {16}}};
  node.Submit(t, {});
  EXPECT_FALSE(node.store().Finished(ObjectId{9, 5}));
  // The input arrives on another thread: the task, ready only then, goes to a worker (neither
  // the submitter nor the thread that sealed its input runs it).
  double sealer = 0;
  std::thread([&] {
    sealer = ThisThread();
    node.store().Seal(ObjectId{8, 1}, Block::Allocate(float64, {4}));
  }).join();
  std::promise<ObjectValue> done;
  node.store().Subscribe(ObjectId{9, 5}, [&](const ObjectValue& v) { done.set_value(v); });
  const ObjectValue v = done.get_future().get();
  ASSERT_TRUE(v.ok()) << v.error->message;
  EXPECT_NE(v.block.data<double>()[0], ThisThread());
  EXPECT_NE(v.block.data<double>()[0], sealer);
}

TEST(NodeTest, RecycledTasksReadTheirOwnScalars) {
  Node node(0, 2, NodeMemory{64 << 20}, ThreadKernels(), nullptr);
  // Scalar lists of changing lengths, including ones too large to keep, through the same node.
  const int64_t lengths[] = {3, 1, 5000, 0, 7, 2, 100000, 4};
  uint64_t seq = 100;
  for (int round = 0; round < 3; ++round) {
    for (const int64_t n : lengths) {
      const ObjectValue v = RunWhere(node, seq++, 16, n);
      ASSERT_TRUE(v.ok()) << v.error->message;
      EXPECT_EQ(v.block.data<double>()[1], static_cast<double>(n));
    }
  }
}

}  // namespace
}  // namespace nums::engine
