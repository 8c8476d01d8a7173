#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include "tests/testing/testing.h"

namespace nums {
namespace {

class CreationTest : public testing::OnNodes {};

TEST_P(CreationTest, ZerosOnesFull) {
  BlockArray z = zeros({5, 7}, float64, {2, 3});
  EXPECT_EQ(z.shape(), (Shape{5, 7}));
  EXPECT_EQ(z.grid_shape(), (Shape{3, 3}));
  EXPECT_EQ(z.dtype(), float64);
  EXPECT_ARRAY_EQ(z.get(), NDArray(float64, {5, 7}));
  NDArray o = ones({4}, int32, {3}).get();
  EXPECT_EQ(o.dtype(), int32);
  EXPECT_EQ(o.to_vector<int32_t>(), (std::vector<int32_t>{1, 1, 1, 1}));
  EXPECT_EQ(full({2, 2}, 2.5).get().to_vector<double>(), (std::vector<double>(4, 2.5)));
  EXPECT_EQ(full({3}, 7).dtype(), int64);
  EXPECT_EQ(full({3}, true).dtype(), bool_);
  EXPECT_EQ(full({2}, int64_t{1} << 60).get().at<int64_t>({1}), int64_t{1} << 60);
  EXPECT_EQ(empty({3, 0}).get().size(), 0);
  EXPECT_EQ(zeros({}).get().shape(), Shape{});
  EXPECT_DOUBLE_EQ(full({}, 3.0).item<double>(), 3.0);
  EXPECT_EQ(zeros_like(z).grid(), z.grid());
  EXPECT_EQ(ones_like(z).get().at<double>({4, 6}), 1.0);
  EXPECT_EQ(full_like(z, 9).get().at<double>({0, 0}), 9.0);
}

TEST_P(CreationTest, BlocksLiveOnTheirBlockCyclicNodes) {
  BlockArray z = zeros({12, 12}, float64, {3, 3});
  const NodeGrid g = NodeGrid::for_nodes(GetParam());
  const auto nodes = z.block_nodes();
  for (int64_t k = 0; k < z.grid().num_blocks(); ++k) {
    EXPECT_EQ(nodes[static_cast<size_t>(k)], g.node_of(z.grid().entry(k), z.grid_shape()));
  }
}

TEST_P(CreationTest, DefaultBlocksShareEvenlyOverTheNodes) {
  // 8192 x 8192 float64 (512 MiB) needs 8 blocks: 3 x 3 alone; on 4 nodes 4 x 4 (a count the
  // nodes divide, square blocks kept square), on 3 nodes the 3 x 3 divides already.
  const int64_t nodes = GetParam();
  const BlockArray a = empty({8192, 8192});
  EXPECT_EQ(a.grid_shape(), nodes == 4 ? (Shape{4, 4}) : (Shape{3, 3}));
  // Rows only for tall-skinny arrays, a multiple of the node count.
  const BlockArray tall = empty({1'000'000, 32});  // 256 MiB: 4 blocks or one per core
  EXPECT_EQ(tall.block_shape()[1], 32);
  EXPECT_EQ(tall.grid().num_blocks() % nodes, 0) << tall.grid_shape()[0];
  // Small arrays stay one block on any number of nodes.
  EXPECT_EQ(empty({100, 10}).grid().num_blocks(), 1);
}

TEST_P(CreationTest, Arange) {
  EXPECT_EQ(arange(5).get().to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(5).dtype(), int64);
  EXPECT_EQ(arange(2, 11, 3).get().to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(arange(5, 0, -2).get().to_vector<int64_t>(), (std::vector<int64_t>{5, 3, 1}));
  NDArray f = arange(0.0, 1.0, 0.25).get();
  EXPECT_EQ(f.dtype(), float64);
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(arange(0, 10, 1, float32, {3}).get().to_vector<float>()[9], 9.0f);
  EXPECT_EQ(arange(3, 3).size(), 0);
  EXPECT_THROW(arange(0, 5, 0), ValueError);
  // Blocks of 7 over 100 elements: every block's offset is right.
  NDArray big = arange(0, 100, 1, int64, {7}).get();
  for (int64_t i = 0; i < 100; ++i) ASSERT_EQ(big.at<int64_t>({i}), i);
}

TEST_P(CreationTest, Linspace) {
  NDArray a = linspace(0, 1, 5, true, float64, {2}).get();
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1.0}));
  NDArray b = linspace(0, 1, 4, false).get();
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  NDArray c = linspace(-1, 2, 7).get();
  EXPECT_DOUBLE_EQ(c.at<double>({6}), 2.0);
  EXPECT_DOUBLE_EQ(c.at<double>({3}), 0.5);
  EXPECT_EQ(linspace(0, 1, 1).get().to_vector<double>(), (std::vector<double>{0}));
  EXPECT_EQ(linspace(0, 1, 0).size(), 0);
  EXPECT_THROW(linspace(0, 1, -1), ValueError);
}

TEST_P(CreationTest, LinspaceOfIntegersComputesInFloatAndFloors) {
  // Expected values from NumPy (>= 1.20 floors integer linspace).
  auto ints = [](const BlockArray& a) { return a.get().to_vector<int64_t>(); };
  EXPECT_EQ(ints(linspace(0, 10, 4, true, int64, {3})), (std::vector<int64_t>{0, 3, 6, 10}));
  EXPECT_EQ(ints(linspace(-5, 0, 4, true, int64, {1})), (std::vector<int64_t>{-5, -4, -2, 0}));
  EXPECT_EQ(ints(linspace(10, 0, 7, true, int64, {2})),
            (std::vector<int64_t>{10, 8, 6, 5, 3, 1, 0}));
  EXPECT_EQ(ints(linspace(0, 10, 4, false, int64)), (std::vector<int64_t>{0, 2, 5, 7}));
  EXPECT_EQ(ints(linspace(1, 1099511627776.0, 3, true, int64)),
            (std::vector<int64_t>{1, 549755813888, 1099511627776}));
  const BlockArray i32 = linspace(0, 1, 5, true, int32, {2});
  EXPECT_EQ(i32.dtype(), int32);
  EXPECT_EQ(i32.get().to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 0, 0, 1}));
  EXPECT_EQ(linspace(0, 3, 4, true, bool_).get().to_vector<bool>(),
            (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(linspace(0, 1, 0, true, int64).size(), 0);
  EXPECT_EQ(ints(linspace(7, 9, 1, true, int64)), (std::vector<int64_t>{7}));
}

TEST_P(CreationTest, EyeIdentityDiag) {
  NDArray e = eye(5, 4, 1, float64, {2, 3}).get();
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(e.at<double>({i, j}), j - i == 1 ? 1.0 : 0.0);
  }
  NDArray id = identity(3, int32).get();
  EXPECT_EQ(id.dtype(), int32);
  EXPECT_EQ(id.to_vector<int32_t>(), (std::vector<int32_t>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  NDArray d = diag(array<double>({1, 2, 3}), -1).get();
  EXPECT_EQ(d.shape(), (Shape{4, 4}));
  EXPECT_EQ(d.at<double>({1, 0}), 1.0);
  EXPECT_EQ(d.at<double>({3, 2}), 3.0);
  EXPECT_EQ(d.at<double>({0, 0}), 0.0);
  NDArray back = diag(from_ndarray(d), -1).get();
  EXPECT_EQ(back.to_vector<double>(), (std::vector<double>{1, 2, 3}));
  EXPECT_THROW(diag(zeros({2, 2, 2})), ShapeError);
}

TEST_P(CreationTest, FromNdarrayRoundTripsAnyDtypeAndBlocking) {
  for (DType t : {float64, float32, float16, int64, int32, int16, int8, uint64, uint32, uint16,
                  uint8, bool_}) {
    NDArray x = testing::RandomNDArray({7, 5, 3}, t, 11);
    BlockArray a = from_ndarray(x, {3, 2, 2});
    EXPECT_EQ(a.grid_shape(), (Shape{3, 3, 2}));
    EXPECT_EQ(a.dtype(), t);
    EXPECT_ARRAY_EQ(a.get(), x);
  }
  NDArray s = NDArray::scalar(4.5);
  EXPECT_DOUBLE_EQ(from_ndarray(s).item<double>(), 4.5);
  EXPECT_EQ(from_ndarray(NDArray(float64, {0})).get().size(), 0);
  EXPECT_THROW(from_ndarray(NDArray(float64, {4}), {2, 2}), ShapeError);
}

TEST_P(CreationTest, EigenRoundTrip) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Random(9, 4);
  BlockArray a = from_eigen(m, {4, 3});
  EXPECT_EQ(a.shape(), (Shape{9, 4}));
  EXPECT_TRUE(a.to_eigen().isApprox(m, 0));
  EXPECT_EQ(arange(3).to_eigen().rows(), 3);
  EXPECT_THROW(zeros({2, 2, 2}).to_eigen(), ShapeError);
}

TEST_P(CreationTest, NegativeDimensionsThrow) {
  EXPECT_THROW(zeros({3, -1}), ValueError);  // NumPy: ValueError
  EXPECT_THROW(eye(-2), ValueError);
  EXPECT_THROW(zeros({4, 4}, float64, {2}), ShapeError);
}

INSTANTIATE_TEST_SUITE_P(Nodes, CreationTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
