// Node on its own, with a scripted ObjectSource for its remote inputs: a copy that finds no
// memory is fetched again rather than failing the task at once.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

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

}  // namespace
}  // namespace nums::engine
