#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include <cmath>

namespace nums {
namespace {

TEST(WaitTest, ComputesEveryBlockWhereItLivesAndRethrowsFailures) {
  Context ctx = init({.nodes = 3, .threads_per_node = 1});
  const BlockArray x = arange(0, 1000, 1, float64, {100});
  const BlockArray y = exp(x * 0.001) + 1.0;
  y.wait();
  wait({x, y, y.sum()});
  double want = 0;
  for (int i = 0; i < 1000; ++i) want += std::exp(i * 0.001) + 1.0;
  EXPECT_NEAR(y.sum().item<double>(), want, 1e-9 * want);
  // A failure inside a block's task surfaces from wait() as it would from get().
  const BlockArray bad = linalg::cholesky(-eye(4));
  EXPECT_THROW(bad.wait(), Error);
  EXPECT_THROW(wait({x, bad}), Error);
  EXPECT_THROW(BlockArray().wait(), ValueError);
}

TEST(ContextTest, EmbeddedDefaultUsesOneNodeWithAllCores) {
  Context ctx = init();
  EXPECT_EQ(ctx.num_nodes(), 1);
  EXPECT_GE(ctx.num_cores(), 1);
  auto nodes = ctx.nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_TRUE(nodes[0].live);
  EXPECT_GT(nodes[0].memory_bytes, 0);
}

TEST(ContextTest, NodeAndThreadCountsAreConfigurable) {
  Context ctx = init({.nodes = 4, .threads_per_node = 1});
  EXPECT_EQ(ctx.num_nodes(), 4);
  EXPECT_EQ(ctx.num_cores(), 4);
  EXPECT_THROW((void)init({.nodes = 0}), ValueError);
  EXPECT_THROW((void)init({.nodes = 1, .threads_per_node = -1}), ValueError);
}

TEST(ContextTest, AnArrayMadeAfterTheContextEndedRaisesInsteadOfStartingAnother) {
  { Context ctx = init({.nodes = 2, .threads_per_node = 1}); }
  try {
    (void)zeros({4});
    FAIL() << "zeros() after the context ended should throw";
  } catch (const ClusterError& e) {
    EXPECT_NE(std::string(e.what()).find("nums::init()"), std::string::npos) << e.what();
  }
  // A new init() is used from then on.
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  EXPECT_DOUBLE_EQ(ones({4}).sum().item<double>(), 4.0);
  EXPECT_EQ(ones({4}).sum().get().shape(), Shape{});
}

TEST(ContextTest, ArraysKeepTheirContextAlive) {
  BlockArray x = [] {
    Context ctx = init({.nodes = 2, .threads_per_node = 1});
    return arange(0, 10, 1);
  }();
  // The context lives on in x, and arrays made from here on use it.
  EXPECT_DOUBLE_EQ((x + ones({10})).sum().item<double>(), 55.0);
}

}  // namespace
}  // namespace nums
