#include <gtest/gtest.h>

#include <nums/nums.hpp>

namespace nums {
namespace {

TEST(ArrayGridTest, GridShapeAndEdgeBlocks) {
  ArrayGrid g({10, 7}, {4, 3}, float64);
  EXPECT_EQ(g.grid_shape(), (Shape{3, 3}));
  EXPECT_EQ(g.num_blocks(), 9);
  EXPECT_EQ(g.block_shape_at({0, 0}), (Shape{4, 3}));
  EXPECT_EQ(g.block_shape_at({2, 2}), (Shape{2, 1}));
  EXPECT_EQ(g.block_offset({2, 1}), (Shape{8, 3}));
  EXPECT_EQ(g.flat({1, 2}), 5);
  EXPECT_EQ(g.entry(5), (Shape{1, 2}));
  EXPECT_EQ(g.to_string(),
            "ArrayGrid(shape=(10, 7), block_shape=(4, 3), grid_shape=(3, 3), dtype=float64)");
}

TEST(ArrayGridTest, ZeroDimAndEmpty) {
  ArrayGrid scalar({}, {}, int64);
  EXPECT_EQ(scalar.num_blocks(), 1);
  EXPECT_EQ(scalar.size(), 1);
  ArrayGrid empty({0, 5}, {0, 5}, float64);
  EXPECT_EQ(empty.num_blocks(), 0);
  EXPECT_EQ(empty.block_shape(), (Shape{1, 5}));
}

TEST(ArrayGridTest, BadBlockShapesThrow) {
  EXPECT_THROW(ArrayGrid({4, 4}, {2}, float64), ShapeError);
  EXPECT_THROW(ArrayGrid({4, 4}, {0, 2}, float64), ShapeError);
  EXPECT_THROW(ArrayGrid({-1}, {1}, float64), ValueError);  // NumPy: ValueError
}

TEST(NodeGridTest, ShapeFromNodeCount) {
  EXPECT_EQ(NodeGrid::for_nodes(1).shape(), (Shape{1, 1}));
  EXPECT_EQ(NodeGrid::for_nodes(4).shape(), (Shape{2, 2}));
  EXPECT_EQ(NodeGrid::for_nodes(6).shape(), (Shape{3, 2}));
  EXPECT_EQ(NodeGrid::for_nodes(5).shape(), (Shape{5, 1}));
  EXPECT_THROW(NodeGrid::for_nodes(0), ValueError);
}

TEST(NodeGridTest, BlockCyclicMapping) {
  const NodeGrid g = NodeGrid::for_nodes(4);  // 2 x 2
  // A matrix split both ways: node (i mod 2, j mod 2).
  EXPECT_EQ(g.node_of({0, 0}, {4, 4}), 0);
  EXPECT_EQ(g.node_of({0, 1}, {4, 4}), 1);
  EXPECT_EQ(g.node_of({1, 0}, {4, 4}), 2);
  EXPECT_EQ(g.node_of({3, 3}, {4, 4}), 3);
  EXPECT_EQ(g.node_of({2, 2}, {4, 4}), 0);
  // Tall-skinny (split by rows only) and 1-d arrays use all four nodes, as 4 x 1.
  for (int64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(g.node_of({i, 0}, {8, 1}), i % 4);
    EXPECT_EQ(g.node_of({i}, {8}), i % 4);
  }
  EXPECT_EQ(g.node_of({0, 0}, {1, 1}), 0);
}

TEST(DefaultBlockShapeTest, SmallArraysStayWhole) {
  EXPECT_EQ(default_block_shape({100, 10}, float64, 8), (Shape{100, 10}));
  EXPECT_EQ(default_block_shape({}, float64, 8), (Shape{}));
  EXPECT_EQ(default_block_shape({0, 3}, float64, 8), (Shape{1, 3}));
}

TEST(DefaultBlockShapeTest, TallSkinnySplitsRowsOnly) {
  const Shape b = default_block_shape({4'000'000, 64}, float64, 16);  // 2 GiB
  EXPECT_EQ(b[1], 64);
  const int64_t blocks = (4'000'000 + b[0] - 1) / b[0];
  EXPECT_GE(blocks, 16);
  EXPECT_LE(b[0] * 64 * 8, int64_t{64} << 20);
}

TEST(DefaultBlockShapeTest, AtLeastOneBlockPerCoreAndAtMost64MiB) {
  for (int64_t cores : {1, 2, 4, 16}) {
    const Shape shape{4096, 4096};  // 128 MiB
    const ArrayGrid g(shape, default_block_shape(shape, float64, cores), float64);
    EXPECT_GE(g.num_blocks(), std::max<int64_t>(cores, 2)) << cores;
    EXPECT_LE(shape_size(g.block_shape()) * 8, int64_t{64} << 20) << cores;
  }
}

}  // namespace
}  // namespace nums
