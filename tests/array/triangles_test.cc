#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <nums/nums.hpp>
#include <string>

#include "tests/testing/reference.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefMap;

class TrianglesTest : public testing::OnNodes {};

TEST_P(TrianglesTest, TriMatchesReference) {
  for (auto [n, m, k] : std::vector<std::array<int64_t, 3>>{
           {4, 4, 0}, {5, 3, 1}, {3, 6, -1}, {4, 4, 10}, {4, 4, -10}, {0, 3, 0}, {1, 1, 0}}) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(m) + " k " + std::to_string(k));
    const BlockArray t = tri(n, m, k, int32);
    EXPECT_EQ(t.dtype(), int32);
    ASSERT_EQ(t.shape(), (Shape{n, m}));
    const NDArray g = t.get();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < m; ++j) EXPECT_EQ(g.at<int64_t>({i, j}), j - i <= k ? 1 : 0);
    }
  }
  EXPECT_EQ(tri(3).shape(), (Shape{3, 3}));
  EXPECT_EQ(tri(3).dtype(), float64);
  testing::ExpectThrowWith<ValueError>([] { tri(-1); }, {"tri", "-1"});
}

TEST_P(TrianglesTest, TrilTriuMatchReference) {
  struct Case {
    Shape shape, block;
  };
  const std::vector<Case> cases = {
      {{5, 4}, {2, 3}}, {{3, 7}, {3, 2}}, {{2, 4, 3}, {1, 3, 2}}, {{6}, {4}}, {{0, 3}, {1, 2}},
  };
  for (DType dtype : {float64, int32, bool_}) {
    for (const auto& c : cases) {
      const NDArray x = RandomNDArray(c.shape, dtype, 41);
      const BlockArray a = from_ndarray(x, c.block);
      // A 1-d x is taken as rows of itself (NumPy): the result is n x n.
      const Shape out = c.shape.size() == 1 ? Shape{c.shape[0], c.shape[0]} : c.shape;
      for (int64_t k : {-2, -1, 0, 1, 3}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(c.shape) + " k " +
                     std::to_string(k));
        const NDArray zero = NDArray(dtype, {1});
        auto ref = [&](bool lower) {
          NDArray want =
              RefMap(x, out, [&](const Shape& i) { return c.shape.size() == 1 ? Shape{i[1]} : i; });
          dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            for (int64_t f = 0; f < want.size(); ++f) {
              const Shape i = testing::Unravel(f, out);
              const int64_t r = i[i.size() - 2], col = i[i.size() - 1];
              const bool keep = lower ? col - r <= k : col - r >= k;
              if (!keep) want.data<T>()[f] = T(0);
            }
          });
          return want;
        };
        const BlockArray lo = tril(a, k), up = triu(a, k);
        EXPECT_EQ(lo.dtype(), dtype);
        EXPECT_EQ(up.dtype(), dtype);
        EXPECT_ARRAY_EQ(lo.get(), ref(true));
        EXPECT_ARRAY_EQ(up.get(), ref(false));
      }
    }
  }
  testing::ExpectThrowWith<ValueError>([] { tril(full({}, 1.0)); }, {"tril", "0-d"});
  testing::ExpectThrowWith<ValueError>([] { triu(full({}, 1.0)); }, {"triu", "0-d"});
}

TEST_P(TrianglesTest, DiagonalAndTraceMatchReference) {
  struct Case {
    Shape shape, block;
    int64_t axis1, axis2;
  };
  const std::vector<Case> cases = {
      {{5, 4}, {2, 3}, 0, 1},       {{3, 7}, {3, 2}, 0, 1},       {{3, 7}, {2, 2}, 1, 0},
      {{2, 4, 3}, {1, 3, 2}, 0, 1}, {{2, 4, 3}, {2, 2, 2}, 1, 2}, {{4, 2, 5}, {3, 1, 2}, -1, 0},
      {{0, 3}, {1, 2}, 0, 1},
  };
  for (DType dtype : {float64, int32, bool_}) {
    for (const auto& c : cases) {
      const NDArray x = RandomNDArray(c.shape, dtype, 42);
      const BlockArray a = from_ndarray(x, c.block);
      const auto nd = static_cast<int64_t>(c.shape.size());
      const auto a1 = static_cast<size_t>(c.axis1 < 0 ? c.axis1 + nd : c.axis1);
      const auto a2 = static_cast<size_t>(c.axis2 < 0 ? c.axis2 + nd : c.axis2);
      for (int64_t offset : {-3, -1, 0, 1, 2, 8}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(c.shape) + " offset " +
                     std::to_string(offset));
        const int64_t r0 = offset < 0 ? -offset : 0, c0 = offset > 0 ? offset : 0;
        const int64_t rows = c.shape[a1], cols = c.shape[a2];
        const int64_t len = std::max<int64_t>(0, std::min(rows - r0, cols - c0));
        Shape out;
        for (size_t d = 0; d < c.shape.size(); ++d) {
          if (d != a1 && d != a2) out.push_back(c.shape[d]);
        }
        out.push_back(len);
        const NDArray want = RefMap(x, out, [&](const Shape& i) {
          Shape s(c.shape.size());
          size_t k = 0;
          for (size_t d = 0; d < s.size(); ++d) {
            if (d != a1 && d != a2) s[d] = i[k++];
          }
          s[a1] = r0 + i.back();
          s[a2] = c0 + i.back();
          return s;
        });
        const BlockArray dg = diagonal(a, offset, c.axis1, c.axis2);
        EXPECT_EQ(dg.dtype(), dtype);
        EXPECT_ARRAY_EQ(dg.get(), want);
        const BlockArray tr = trace(a, offset, c.axis1, c.axis2);
        const DType td = dtype == float64 ? float64 : int64;
        EXPECT_EQ(tr.dtype(), td);
        EXPECT_ARRAY_NEAR(tr.get(),
                          testing::RefReduce(want.astype(td), {want.ndim() - 1}, false, td, 0,
                                             std::plus<double>()),
                          1e-12);
      }
    }
  }
  // numpy: np.trace(np.arange(9).reshape(3, 3)) == 12; np.diagonal(..., 1) == [1, 5].
  const BlockArray m = arange(0, 9, 1, std::nullopt, {2}).reshape({3, 3}, {2, 2});
  EXPECT_EQ(trace(m).item<int64_t>(), 12);
  EXPECT_EQ(diagonal(m, 1).get().to_vector<int64_t>(), (std::vector<int64_t>{1, 5}));
  testing::ExpectThrowWith<ValueError>([] { diagonal(ones({3})); }, {"diagonal", "(3,)"});
  testing::ExpectThrowWith<ValueError>(
      [] {
        diagonal(ones({3, 3}), 0, 1, 1);
      },
      {"diagonal", "same"});
  testing::ExpectThrowWith<IndexError>(
      [] {
        diagonal(ones({3, 3}), 0, 0, 2);
      },
      {"diagonal", "axis 2"});
  testing::ExpectThrowWith<ValueError>([] { trace(ones({3})); }, {"trace", "(3,)"});
}

TEST_P(TrianglesTest, DiagonalIsCutWhereTheBlocksLive) {
  // Each 2 x 2 diagonal block holds one whole output block: it stays on the diagonal block's node.
  const NDArray x = RandomNDArray({6, 6}, float64, 47);
  const BlockArray a = from_ndarray(x, {2, 2});
  const BlockArray d = diagonal(a);
  EXPECT_EQ(d.block_shape(), (Shape{2}));
  const auto nodes = a.block_nodes(), dnodes = d.block_nodes();
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(dnodes[k], nodes[k * 3 + k]);
  EXPECT_ARRAY_EQ(d.get(), RefMap(x, {6}, [](const Shape& i) { return Shape{i[0], i[0]}; }));
}

TEST_P(TrianglesTest, LikeFunctionsKeepShapeDTypeAndBlocks) {
  const BlockArray a = from_ndarray(RandomNDArray({5, 3}, int32, 43), {2, 2});
  for (const BlockArray& b : {empty_like(a), zeros_like(a), ones_like(a), full_like(a, 7)}) {
    EXPECT_EQ(b.shape(), a.shape());
    EXPECT_EQ(b.dtype(), int32);
    EXPECT_EQ(b.block_shape(), a.block_shape());
  }
  EXPECT_EQ(empty_like(a).get().to_vector<int64_t>(), std::vector<int64_t>(15, 0));
  EXPECT_EQ(full_like(a, 7).get().to_vector<int64_t>(), std::vector<int64_t>(15, 7));
  EXPECT_EQ(ones_like(full({}, 2.5)).item<double>(), 1.0);
  // numpy: np.full_like(np.zeros(3, np.int32), 2.5, dtype=np.float32) == [2.5, 2.5, 2.5].
  const BlockArray f = full_like(a, 2.5, float32);
  EXPECT_EQ(f.dtype(), float32);
  EXPECT_EQ(f.block_shape(), a.block_shape());
  EXPECT_EQ(f.get().to_vector<double>(), std::vector<double>(15, 2.5));
  EXPECT_EQ(zeros_like(a, bool_).dtype(), bool_);
  EXPECT_EQ(ones_like(a, float64).get().to_vector<double>(), std::vector<double>(15, 1.0));
  EXPECT_EQ(empty_like(a, int64).dtype(), int64);
  EXPECT_EQ(zeros_like(from_ndarray(RandomNDArray({0, 3}, float64, 48), {1, 2})).shape(),
            (Shape{0, 3}));
}

TEST_P(TrianglesTest, LogspaceMatchesNumPy) {
  // numpy: np.logspace(0, 3, 4) == [1, 10, 100, 1000]; np.logspace(0, 3, 3, endpoint=False,
  // base=2) == [1, 2, 4]; np.logspace(1, 2, 5) from printed values.
  EXPECT_ARRAY_NEAR(logspace(0, 3, 4, true, 10.0, float64, {3}).get(),
                    NDArray::from_vector<double>({1, 10, 100, 1000}), 1e-12);
  EXPECT_ARRAY_NEAR(logspace(0, 3, 3, false, 2.0).get(), NDArray::from_vector<double>({1, 2, 4}),
                    1e-12);
  const std::vector<double> want{10.0, 17.78279410038923, 31.622776601683793, 56.23413251903491,
                                 100.0};
  EXPECT_ARRAY_NEAR(logspace(1, 2, 5, true, 10.0, float64, {2}).get(), NDArray::from_vector(want),
                    1e-12);
  EXPECT_EQ(logspace(0, 2, 3, true, 10.0, int64).get().to_vector<int64_t>(),
            (std::vector<int64_t>{1, 10, 100}));
  EXPECT_EQ(logspace(0, 1, 0).shape(), (Shape{0}));
  testing::ExpectThrowWith<ValueError>([] { logspace(0, 1, -1); }, {"logspace", "-1"});
}

TEST_P(TrianglesTest, MeshgridXyAndIj) {
  const NDArray x = RandomNDArray({3}, float64, 44), y = RandomNDArray({5}, int32, 45),
                z = RandomNDArray({2}, float64, 46);
  const BlockArray bx = from_ndarray(x, {2}), by = from_ndarray(y, {2}), bz = from_ndarray(z, {1});
  // numpy: [g.shape for g in np.meshgrid(x, y, z)] == [(5, 3, 2)] * 3; indexing='ij': (3, 5, 2).
  for (const std::string indexing : {"xy", "ij"}) {
    SCOPED_TRACE(indexing);
    const auto g = meshgrid({bx, by, bz}, indexing);
    ASSERT_EQ(g.size(), 3u);
    const Shape want = indexing == "xy" ? Shape{5, 3, 2} : Shape{3, 5, 2};
    const size_t ax_x = indexing == "xy" ? 1 : 0, ax_y = indexing == "xy" ? 0 : 1;
    for (const auto& a : g) EXPECT_EQ(a.shape(), want);
    EXPECT_EQ(g[1].dtype(), int32);
    EXPECT_ARRAY_EQ(g[0].get(), RefMap(x, want, [&](const Shape& i) { return Shape{i[ax_x]}; }));
    EXPECT_ARRAY_EQ(g[1].get(), RefMap(y, want, [&](const Shape& i) { return Shape{i[ax_y]}; }));
    EXPECT_ARRAY_EQ(g[2].get(), RefMap(z, want, [&](const Shape& i) { return Shape{i[2]}; }));
  }
  const auto one = meshgrid({bx});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_ARRAY_EQ(one[0].get(), x);
  EXPECT_TRUE(meshgrid({}).empty());
  testing::ExpectThrowWith<ValueError>([&] { meshgrid({bx}, "xyz"); }, {"meshgrid", "xyz"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, TrianglesTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
