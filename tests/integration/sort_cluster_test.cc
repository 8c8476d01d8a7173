// The distributed sample sort on a real 4-node cluster on loopback: results equal a dense stable
// sort, and the buckets move node to node (the nodes' own transfer counters grow by most of the
// array; a copy through the driver would be a put, which the nodes do not count as transfers).

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

int64_t TotalNetIn(const Context& ctx) {
  int64_t bytes = 0;
  for (const NodeStatus& n : ctx.nodes()) bytes += n.net_in_bytes;
  return bytes;
}

TEST(SortClusterTest, SampleSortOnFourNodesIsCorrectAndMovesBucketsBetweenNodes) {
  constexpr int kNodes = 4;
  constexpr int64_t kN = 400'000, kBlock = 25'000;  // 16 blocks, 4 per node
  LocalCluster cluster(kNodes);
  Context ctx = nums::init({.address = cluster.address(), .token_file = cluster.token_file()});
  ASSERT_EQ(ctx.num_nodes(), kNodes);
  // Whole numbers in [0, 1000): many ties, so argsort's order is checked against stability.
  const BlockArray x = floor(random::Generator(ctx, 3).uniform({kN}, 0, 1000, float64, {kBlock}));
  x.wait();
  std::vector<int64_t> placed(kNodes, 0);
  for (int64_t node : x.block_nodes()) ++placed[static_cast<size_t>(node)];
  for (int n = 0; n < kNodes; ++n) EXPECT_EQ(placed[static_cast<size_t>(n)], 4) << "node " << n;

  const int64_t before = TotalNetIn(ctx);
  const BlockArray s = sort(x);
  const BlockArray i = argsort(x);
  wait({s, i});
  const int64_t moved = TotalNetIn(ctx) - before;
  // Each bucket gathers pieces from all 16 blocks, 3/4 of them on other nodes, once for the sort
  // and once for the argsort (values and indices): at least half the array's bytes each time.
  EXPECT_GE(moved, x.nbytes()) << "bytes pulled between nodes: " << moved;

  const NDArray x0 = x.get();
  std::vector<int64_t> order(static_cast<size_t>(kN));
  std::iota(order.begin(), order.end(), 0);
  const double* px = x0.data<double>();
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return px[a] < px[b]; });
  std::vector<double> sorted(order.size());
  for (size_t k = 0; k < order.size(); ++k) sorted[k] = px[order[k]];
  EXPECT_ARRAY_EQ(s.get(), NDArray::from_vector(sorted));
  EXPECT_ARRAY_EQ(i.get(), NDArray::from_vector(order));
  EXPECT_EQ(s.block_shape(), Shape{kBlock});
  // The output is spread over the nodes like any array.
  std::vector<int64_t> held(kNodes, 0);
  for (int64_t node : s.block_nodes()) ++held[static_cast<size_t>(node)];
  for (int n = 0; n < kNodes; ++n) EXPECT_GT(held[static_cast<size_t>(n)], 0) << "node " << n;
}

}  // namespace
}  // namespace nums::testing
