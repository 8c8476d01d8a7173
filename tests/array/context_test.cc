#include <gtest/gtest.h>

#include <nums/nums.hpp>

namespace nums {
namespace {

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
  EXPECT_THROW(init({.nodes = 0}), ValueError);
  EXPECT_THROW(init({.nodes = 1, .threads_per_node = -1}), ValueError);
}

}  // namespace
}  // namespace nums
