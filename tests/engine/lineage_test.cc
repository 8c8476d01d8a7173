#include <gtest/gtest.h>

#include <memory>

#include "engine/embedded_runtime.h"
#include "engine/task.h"

namespace nums::engine {
namespace {

TEST(LineageTest, AMillionDeepChainIsFreedWithoutRecursion) {
  // Each record names the one before as its input's producer, as lineage does for x = f(x) run a
  // million times; nested destructors would overflow the stack.
  std::shared_ptr<const TaskRecord> last;
  for (int64_t i = 0; i < 1'000'000; ++i) {
    auto record = std::make_shared<TaskRecord>();
    record->kernel = "test.step";
    record->args.emplace_back(ObjectArg{ObjectId{}, 0, std::move(last)});
    last = std::move(record);
  }
  std::weak_ptr<const TaskRecord> watch = last;
  last.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(LineageTest, AProducerStillHeldElsewhereSurvives) {
  auto first = std::make_shared<TaskRecord>();
  first->kernel = "test.first";
  std::shared_ptr<const TaskRecord> kept = first;
  auto second = std::make_shared<TaskRecord>();
  second->args.emplace_back(ObjectArg{ObjectId{}, 0, std::move(first)});
  second.reset();
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->kernel, "test.first");
  EXPECT_EQ(kept.use_count(), 1);
}

TEST(LineageTest, EmbeddedRefsKeepNoLineage) {
  // An embedded node cannot be lost, so nothing is recomputed and no record outlives its task.
  auto registry = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*registry);
  auto rt = EmbeddedRuntime::Start({.nodes = 1, .threads_per_node = 1}, registry);
  auto put = rt->Put(Block::Allocate(float64, {4}), 0);
  TaskSpec spec;
  spec.kernel = "engine.identity";
  spec.args = {put};
  auto out = rt->Submit(spec);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].lineage(), nullptr);
  rt->Get(out);
}

}  // namespace
}  // namespace nums::engine
