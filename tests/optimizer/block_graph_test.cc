#include "optimizer/block_graph.h"

#include <gtest/gtest.h>

#include "nums/errors.hpp"

namespace nums::optimizer {
namespace {

TEST(BlockGraph, NumbersOpsInOrderAndCountsConsumers) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 100);
  const OpId b = g.AddLeaf(3, 200);
  const OpId sq = g.AddBinary(a, a, 100, "mul");  // one consumer reading a twice
  const OpId u = g.AddUnary(b, 200, "exp");
  const OpId p = g.AddProduct(a, u, 8);
  const OpId r = g.AddReduce({sq, p, b}, 8);
  g.MarkOutput(r);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(r, 5);
  EXPECT_EQ(g.size(), 6);
  EXPECT_EQ(g.consumers(a), 3);
  EXPECT_EQ(g.consumers(b), 2);
  EXPECT_EQ(g.consumers(r), 0);
  EXPECT_EQ(g.op(u).kind, OpKind::kUnary);
  EXPECT_EQ(g.op(p).kind, OpKind::kProduct);
  EXPECT_EQ(g.op(r).inputs, (std::vector<OpId>{sq, p, b}));
  EXPECT_TRUE(g.op(r).is_output);
  EXPECT_FALSE(g.op(p).is_output);
  EXPECT_EQ(g.min_nodes(), 4);
  EXPECT_EQ(g.OutputBytes(), 8);
  EXPECT_EQ(g.LeafBytesPerNode(5), (std::vector<int64_t>{100, 0, 0, 200, 0}));
}

TEST(BlockGraph, RejectsBadArguments) {
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 10);
  EXPECT_THROW(g.AddLeaf(-1, 10), ValueError);
  EXPECT_THROW(g.AddLeaf(0, -10), ValueError);
  EXPECT_THROW(g.AddUnary(7, 10), ValueError);  // not an op yet: inputs come first
  EXPECT_THROW(g.AddBinary(a, -1, 10), ValueError);
  EXPECT_THROW(g.AddReduce({a}, 10), ValueError);
  EXPECT_THROW(g.MarkOutput(1), ValueError);
  EXPECT_THROW(g.LeafBytesPerNode(0), ValueError);
  EXPECT_EQ(g.size(), 1);
  EXPECT_EQ(g.consumers(a), 0);  // failed calls leave no trace
}

// A source has no inputs and a node; Pin gives an op a node. Both count in min_nodes; leaves and
// reductions (whose steps the optimizer places) cannot be pinned.
TEST(BlockGraph, SourcesAndPinsGiveOpsTheirNodes) {
  BlockGraph g;
  const OpId s = g.AddSource(2, 64, "full");
  const OpId a = g.AddLeaf(0, 10);
  const OpId u = g.AddUnary(s, 64, "exp");
  EXPECT_EQ(g.op(s).kind, OpKind::kSource);
  EXPECT_EQ(OpKindName(OpKind::kSource), "source");
  EXPECT_TRUE(g.op(s).inputs.empty());
  EXPECT_EQ(g.op(s).node, 2);
  EXPECT_EQ(g.op(u).node, -1);
  EXPECT_EQ(g.min_nodes(), 3);
  g.Pin(u, 4);
  EXPECT_EQ(g.op(u).node, 4);
  EXPECT_EQ(g.min_nodes(), 5);
  EXPECT_EQ(g.LeafBytesPerNode(5), (std::vector<int64_t>{10, 0, 0, 0, 0}));
  EXPECT_THROW(g.AddSource(-1, 8), ValueError);
  EXPECT_THROW(g.AddSource(0, -8), ValueError);
  EXPECT_THROW(g.Pin(a, 1), ValueError);
  EXPECT_THROW(g.Pin(g.AddReduce({a, u}, 8), 1), ValueError);
  EXPECT_THROW(g.Pin(u, -1), ValueError);
  EXPECT_THROW(g.Pin(99, 0), ValueError);
  EXPECT_EQ(g.op(u).node, 4);
}

TEST(BlockGraph, MemoryFloorCountsWhatMustBeLiveAtOnce) {
  // Two nodes with 100 and 300 bytes of leaves. t = a * 2 (400) stays live until its reader
  // s = t + b (50) is written: 400 leaves + 400 + 50 at that moment, then t is released.
  BlockGraph g;
  const OpId a = g.AddLeaf(0, 100);
  const OpId b = g.AddLeaf(1, 300);
  const OpId t = g.AddUnary(a, 400, "scale");
  const OpId s = g.AddBinary(t, b, 50, "add");
  g.MarkOutput(s);
  EXPECT_EQ(g.MemoryFloor(2), 425);  // (400 + 400 + 50) / 2
  EXPECT_EQ(g.MemoryFloor(8), 300);  // the leaves of node 1 cannot move
  EXPECT_THROW(g.MemoryFloor(0), ValueError);
  EXPECT_THROW(g.MemoryFloor(1), ValueError);  // a leaf lives on node 1
}

}  // namespace
}  // namespace nums::optimizer
