#include <gtest/gtest.h>

#include <nums/nums.hpp>
#include <string>

#include "tests/testing/reference.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::Range;
using testing::RefMap;
using testing::RefSelect;

class ShapeTest : public testing::OnNodes {};

TEST_P(ShapeTest, TransposeMatchesReference) {
  struct Case {
    Shape shape, block;
    std::vector<int64_t> axes;
  };
  const std::vector<Case> cases = {
      {{7, 5}, {3, 2}, {}},                // reversed by default
      {{7, 5}, {3, 2}, {1, 0}},            // the same
      {{4, 3, 5}, {3, 2, 2}, {2, 0, 1}},   // 3-d, edge blocks on every axis
      {{4, 3, 5}, {4, 3, 5}, {0, -1, 1}},  // one block, negative axis
      {{3, 1, 4}, {2, 1, 3}, {1, 2, 0}},   // unit axis moved: blocks keep their bytes
      {{6}, {4}, {}},                      // 1-d
      {{}, {}, {}},                        // 0-d
      {{0, 3}, {1, 2}, {}},                // empty
      {{2, 3, 4, 5}, {1, 2, 3, 2}, {3, 1, 0, 2}},
  };
  for (DType dtype : {float64, int32, bool_, float16, uint16, int8}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(shape_str(c.shape) + " axes " + shape_str(c.axes));
      const NDArray x = RandomNDArray(c.shape, dtype, 3);
      const BlockArray a = from_ndarray(x, c.block);
      std::vector<int64_t> axes = c.axes;
      const auto nd = static_cast<int64_t>(c.shape.size());
      if (axes.empty()) {
        for (int64_t d = nd; d-- > 0;) axes.push_back(d);
      }
      for (auto& v : axes) v = v < 0 ? v + nd : v;
      Shape shape;
      for (int64_t v : axes) shape.push_back(c.shape[static_cast<size_t>(v)]);
      const NDArray want = RefMap(x, shape, [&](const Shape& i) {
        Shape src(i.size());
        for (size_t d = 0; d < i.size(); ++d) src[static_cast<size_t>(axes[d])] = i[d];
        return src;
      });
      const BlockArray t = a.transpose(c.axes);
      EXPECT_EQ(t.dtype(), dtype);
      EXPECT_ARRAY_EQ(t.get(), want);
      EXPECT_ARRAY_EQ(transpose(a, c.axes).get(), want);
      if (c.axes.empty()) {
        EXPECT_ARRAY_EQ(a.T().get(), want);
      }
    }
  }
}

TEST_P(ShapeTest, TransposePermutesTheGridWithoutMovingBlocks) {
  const BlockArray a = from_ndarray(RandomNDArray({9, 8}, float64, 4), {2, 3});
  const BlockArray t = a.T();
  EXPECT_EQ(t.grid_shape(), (Shape{3, 5}));
  EXPECT_EQ(t.block_shape(), (Shape{3, 2}));
  const auto nodes = a.block_nodes(), tnodes = t.block_nodes();
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(tnodes[static_cast<size_t>(j * 5 + i)], nodes[static_cast<size_t>(i * 3 + j)]);
    }
  }
}

TEST_P(ShapeTest, SwapaxesMatchesReference) {
  const NDArray x = RandomNDArray({4, 3, 5}, float64, 5);
  const BlockArray a = from_ndarray(x, {3, 2, 2});
  const NDArray want = RefMap(x, {5, 3, 4}, [](const Shape& i) { return Shape{i[2], i[1], i[0]}; });
  EXPECT_ARRAY_EQ(a.swapaxes(0, 2).get(), want);
  EXPECT_ARRAY_EQ(swapaxes(a, -1, 0).get(), want);
  EXPECT_ARRAY_EQ(a.swapaxes(1, 1).get(), x);
}

TEST_P(ShapeTest, TransposeErrors) {
  const BlockArray a = ones({2, 3, 4});
  testing::ExpectThrowWith<ValueError>([&] { a.transpose({1, 0}); }, {"(1, 0)", "(2, 3, 4)"});
  testing::ExpectThrowWith<ValueError>([&] { a.transpose({1, 1, 0}); }, {"repeated"});
  testing::ExpectThrowWith<IndexError>([&] { a.transpose({0, 1, 3}); }, {"axis 3", "dimension 3"});
  testing::ExpectThrowWith<IndexError>([&] { a.swapaxes(0, -4); }, {"axis -4"});
}

TEST_P(ShapeTest, ReshapeMatchesReference) {
  struct Case {
    Shape shape, block, to, to_block, want;
  };
  const std::vector<Case> cases = {
      {{7, 5}, {3, 2}, {5, 7}, {}, {5, 7}},
      {{7, 5}, {3, 2}, {35}, {4}, {35}},
      {{7, 5}, {3, 2}, {-1}, {}, {35}},
      {{4, 3, 5}, {3, 2, 2}, {6, 10}, {4, 3}, {6, 10}},
      {{4, 3, 5}, {4, 3, 5}, {2, -1, 5}, {}, {2, 6, 5}},
      {{12}, {5}, {3, 4}, {2, 3}, {3, 4}},
      {{12}, {5}, {2, 2, 3}, {}, {2, 2, 3}},
      {{6, 4}, {2, 4}, {24}, {}, {24}},
      {{6, 4}, {2, 4}, {3, 8}, {}, {3, 8}},
      {{6, 4}, {1, 3}, {4, 6}, {3, 2}, {4, 6}},
      {{9, 10, 11}, {4, 3, 5}, {11, 90}, {5, 7}, {11, 90}},
      {{10000}, {3000}, {5000, 2}, {5000, 1}, {5000, 2}},  // many runs per output block
      {{}, {}, {1, 1}, {}, {1, 1}},
      {{1, 1}, {1, 1}, {}, {}, {}},
      {{0, 4}, {1, 2}, {4, 0}, {}, {4, 0}},
      {{0, 4}, {1, 2}, {-1, 2}, {}, {0, 2}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(shape_str(c.shape) + " -> " + shape_str(c.to));
    const NDArray x = RandomNDArray(c.shape, int64, 6);
    const BlockArray r = from_ndarray(x, c.block).reshape(c.to, c.to_block);
    if (!c.to_block.empty()) {
      EXPECT_EQ(r.block_shape(), c.to_block);
    }
    EXPECT_ARRAY_EQ(r.get(), x.reshape(c.want));
    EXPECT_ARRAY_EQ(reshape(from_ndarray(x, c.block), c.to).get(), x.reshape(c.want));
  }
}

TEST_P(ShapeTest, ReshapeOfRowBlocksKeepsBlocksInPlace) {
  const NDArray x = RandomNDArray({6, 4}, float64, 7);
  const BlockArray a = from_ndarray(x, {2, 4});
  const BlockArray f = a.reshape({-1});
  EXPECT_EQ(f.block_shape(), (Shape{8}));
  EXPECT_EQ(f.block_nodes(), a.block_nodes());
  const BlockArray g = a.reshape({3, 2, 4});
  EXPECT_EQ(g.block_shape(), (Shape{1, 2, 4}));
  EXPECT_EQ(g.block_nodes(), a.block_nodes());
  EXPECT_ARRAY_EQ(g.get(), x.reshape({3, 2, 4}));
}

TEST_P(ShapeTest, ReshapeErrors) {
  const BlockArray a = ones({3, 4});
  testing::ExpectThrowWith<ShapeError>([&] { a.reshape({5, 2}); }, {"12", "(3, 4)", "(5, 2)"});
  testing::ExpectThrowWith<ShapeError>([&] { a.reshape({5, -1}); }, {"(5, -1)"});
  testing::ExpectThrowWith<ValueError>([&] { a.reshape({-1, -1}); }, {"one unknown"});
  testing::ExpectThrowWith<ValueError>([&] { a.reshape({-2, -6}); }, {"(-2, -6)"});
  testing::ExpectThrowWith<ShapeError>([&] { a.reshape({12}, {3, 4}); }, {"(3, 4)"});
  testing::ExpectThrowWith<ShapeError>([&] { zeros({0, 3}).reshape({0, -1}); }, {"(0, -1)"});
}

TEST_P(ShapeTest, FlattenExpandDimsSqueeze) {
  const NDArray x = RandomNDArray({3, 1, 4}, float64, 8);
  const BlockArray a = from_ndarray(x, {2, 1, 3});
  EXPECT_ARRAY_EQ(a.flatten().get(), x.reshape({12}));
  EXPECT_ARRAY_EQ(a.expand_dims(0).get(), x.reshape({1, 3, 1, 4}));
  EXPECT_ARRAY_EQ(a.expand_dims(3).get(), x.reshape({3, 1, 4, 1}));
  EXPECT_ARRAY_EQ(expand_dims(a, -2).get(), x.reshape({3, 1, 1, 4}));
  EXPECT_ARRAY_EQ(a.squeeze().get(), x.reshape({3, 4}));
  EXPECT_ARRAY_EQ(squeeze(a, -2).get(), x.reshape({3, 4}));
  EXPECT_EQ(a.expand_dims(0).block_nodes(), a.block_nodes());
  const BlockArray s = from_ndarray(NDArray::scalar(2.5));
  EXPECT_EQ(s.expand_dims(0).shape(), (Shape{1}));
  EXPECT_EQ(s.flatten().shape(), (Shape{1}));
  EXPECT_EQ(ones({1, 1}).squeeze().shape(), Shape{});
  EXPECT_EQ(zeros({0, 1}).squeeze().shape(), (Shape{0}));
  EXPECT_DOUBLE_EQ(s.expand_dims(-1).squeeze().item<double>(), 2.5);
  testing::ExpectThrowWith<ValueError>([&] { a.squeeze(0); }, {"axis 0", "(3, 1, 4)"});
  testing::ExpectThrowWith<IndexError>([&] { a.squeeze(3); }, {"axis 3"});
  testing::ExpectThrowWith<IndexError>([&] { a.expand_dims(4); }, {"axis 4"});
  testing::ExpectThrowWith<IndexError>([&] { a.expand_dims(-5); }, {"axis -5"});
}

// Dense concatenation along `axis` of arrays converted to `dtype`.
NDArray RefConcatenate(const std::vector<NDArray>& xs, size_t axis, DType dtype) {
  Shape shape = xs[0].shape();
  shape[axis] = 0;
  for (const auto& x : xs) shape[axis] += x.shape()[axis];
  NDArray out(dtype, shape);
  for (int64_t k = 0; k < out.size(); ++k) {
    Shape i = testing::Unravel(k, shape);
    size_t s = 0;
    while (i[axis] >= xs[s].shape()[axis]) i[axis] -= xs[s++].shape()[axis];
    const double v = xs[s].value_at<double>(testing::Ravel(i, xs[s].shape()));
    dispatch(dtype, [&](auto t) { out.data<decltype(t)>()[k] = static_cast<decltype(t)>(v); });
  }
  return out;
}

TEST_P(ShapeTest, ConcatenateMatchesReference) {
  struct Part {
    Shape shape, block;
    DType dtype;
  };
  struct Case {
    std::vector<Part> parts;
    int64_t axis;
    DType want;
  };
  const std::vector<Case> cases = {
      {{{{5, 3}, {2, 2}, float64}, {{4, 3}, {3, 3}, int32}, {{0, 3}, {1, 2}, float64}}, 0, float64},
      {{{{5, 3}, {2, 2}, int32}, {{5, 4}, {3, 3}, int64}}, -1, int64},
      {{{{4, 2}, {2, 2}, float64}, {{6, 2}, {2, 2}, float64}}, 0, float64},  // blocks line up
      {{{{2, 3, 4}, {1, 2, 3}, float32},
        {{2, 1, 4}, {2, 1, 2}, bool_},
        {{2, 5, 4}, {2, 2, 4}, float32}},
       1,
       float32},
      {{{{7}, {3}, int64}, {{2}, {2}, int64}, {{5}, {4}, int64}}, 0, int64},
      {{{{0, 3}, {1, 2}, float64}, {{0, 2}, {1, 2}, float64}}, 1, float64},
  };
  uint64_t seed = 10;
  for (const auto& c : cases) {
    std::vector<NDArray> xs;
    std::vector<BlockArray> as;
    for (const auto& p : c.parts) {
      xs.push_back(RandomNDArray(p.shape, p.dtype, seed++));
      as.push_back(from_ndarray(xs.back(), p.block));
    }
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " first " + shape_str(c.parts[0].shape));
    const BlockArray r = concatenate(as, c.axis);
    EXPECT_EQ(r.dtype(), c.want);
    const auto nd = static_cast<int64_t>(c.parts[0].shape.size());
    EXPECT_ARRAY_EQ(r.get(), RefConcatenate(xs, static_cast<size_t>((c.axis + nd) % nd), c.want));
  }
}

TEST_P(ShapeTest, ConcatenateErrors) {
  testing::ExpectThrowWith<ValueError>([] { concatenate({}); }, {"at least one"});
  const BlockArray s = from_ndarray(NDArray::scalar(1.0));
  testing::ExpectThrowWith<ValueError>([&] { concatenate({s, s}); }, {"zero-dimensional"});
  testing::ExpectThrowWith<ShapeError>(
      [] {
        concatenate({ones({2, 3}), ones({3})});
      },
      {"(2, 3)", "(3,)"});
  testing::ExpectThrowWith<ShapeError>(
      [] {
        concatenate({ones({2, 3}), ones({2, 4})}, 0);
      },
      {"(2, 3)", "(2, 4)"});
  testing::ExpectThrowWith<IndexError>(
      [] {
        concatenate({ones({2, 3}), ones({2, 3})}, 2);
      },
      {"axis 2"});
}

TEST_P(ShapeTest, StackMatchesReference) {
  std::vector<NDArray> xs;
  std::vector<BlockArray> as;
  for (uint64_t s = 0; s < 3; ++s) {
    xs.push_back(RandomNDArray({4, 3}, float64, 20 + s));
    as.push_back(from_ndarray(xs.back(), s == 1 ? Shape{3, 2} : Shape{2, 3}));
  }
  for (int64_t axis : {0, 1, 2, -1, -3}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const size_t ax = static_cast<size_t>((axis + 3) % 3);
    Shape shape{4, 3};
    shape.insert(shape.begin() + static_cast<int64_t>(ax), 3);
    NDArray want(float64, shape);
    for (int64_t k = 0; k < want.size(); ++k) {
      Shape i = testing::Unravel(k, shape);
      const int64_t which = i[ax];
      i.erase(i.begin() + static_cast<int64_t>(ax));
      want.data<double>()[k] = xs[static_cast<size_t>(which)].at<double>({i[0], i[1]});
    }
    EXPECT_ARRAY_EQ(stack(as, axis).get(), want);
  }
  testing::ExpectThrowWith<ValueError>([] { stack({}); }, {"at least one"});
  testing::ExpectThrowWith<ShapeError>(
      [] {
        stack({ones({2, 3}), ones({3, 2})});
      },
      {"(2, 3)", "(3, 2)"});
  testing::ExpectThrowWith<IndexError>([&] { stack(as, 3); }, {"axis 3"});
}

TEST_P(ShapeTest, SplitMatchesReference) {
  const NDArray x = RandomNDArray({10, 3}, float64, 30);
  const BlockArray a = from_ndarray(x, {3, 2});
  const auto all3 = Range(3);
  auto rows = [](int64_t lo, int64_t hi) {
    std::vector<int64_t> r;
    for (int64_t i = lo; i < hi; ++i) r.push_back(i);
    return r;
  };
  const auto parts = split(a, 5);
  ASSERT_EQ(parts.size(), 5u);
  for (int64_t p = 0; p < 5; ++p) {
    EXPECT_ARRAY_EQ(parts[static_cast<size_t>(p)].get(),
                    RefSelect(x, {rows(2 * p, 2 * p + 2), all3}, {2, 3}));
  }
  // Python slicing of each part: [:-2], [-2:20], [20:4], [4:].
  const auto uneven = split(a, std::vector<int64_t>{-2, 20, 4});
  ASSERT_EQ(uneven.size(), 4u);
  EXPECT_ARRAY_EQ(uneven[0].get(), RefSelect(x, {rows(0, 8), all3}, {8, 3}));
  EXPECT_ARRAY_EQ(uneven[1].get(), RefSelect(x, {rows(8, 10), all3}, {2, 3}));
  EXPECT_EQ(uneven[2].shape(), (Shape{0, 3}));
  EXPECT_ARRAY_EQ(uneven[3].get(), RefSelect(x, {rows(4, 10), all3}, {6, 3}));
  const auto cols = split(a, 3, -1);
  ASSERT_EQ(cols.size(), 3u);
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_ARRAY_EQ(cols[static_cast<size_t>(c)].get(), RefSelect(x, {Range(10), {c}}, {10, 1}));
  }
  EXPECT_ARRAY_EQ(split(a, std::vector<int64_t>{}, 1)[0].get(), x);
  testing::ExpectThrowWith<ValueError>([&] { split(a, 3); }, {"equal division", "10", "3"});
  testing::ExpectThrowWith<ValueError>([&] { split(a, 0); }, {"larger than 0"});
  testing::ExpectThrowWith<IndexError>([&] { split(a, 2, 2); }, {"axis 2"});
  testing::ExpectThrowWith<IndexError>([] { split(from_ndarray(NDArray::scalar(1.0)), 1); },
                                       {"axis 0"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, ShapeTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
