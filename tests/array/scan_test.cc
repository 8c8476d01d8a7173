#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nums/nums.hpp>
#include <optional>
#include <string>

#include "tests/testing/reference.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefMap;

class ScanTest : public testing::OnNodes {};

using testing::Layout;
// Odd shapes, edge blocks on every axis, one block, 0-d and empty.
const std::vector<Layout> kLayouts = {
    {{11}, {4}}, {{7, 5}, {3, 2}}, {{4, 6, 5}, {3, 4, 2}}, {{3, 4}, {3, 4}}, {{9, 1, 3}, {2, 1, 2}},
    {{}, {}},    {{0, 4}, {1, 2}}, {{5, 0}, {2, 1}},
};

// Sequential scan of x along `axis` (flattened when nullopt) in `dtype`: int64 wraps.
NDArray RefScan(const NDArray& x0, std::optional<int64_t> axis, DType dtype, bool prod) {
  NDArray x = x0.astype(dtype);
  int64_t ax = 0;
  if (!axis) {
    x = x.reshape({x.size()});
  } else {
    ax = *axis < 0 ? *axis + x.ndim() : *axis;
  }
  NDArray out(dtype, x.shape());
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const Shape strides = testing::Strides(x.shape());
    for (int64_t k = 0; k < x.size(); ++k) {
      const Shape i = testing::Unravel(k, x.shape());
      const auto a = static_cast<size_t>(ax);
      if (i[a] == 0) {
        po[k] = px[k];
        continue;
      }
      const int64_t prev = k - strides[a];
      if constexpr (std::is_same_v<T, int64_t>) {
        const auto u = static_cast<uint64_t>(po[prev]), v = static_cast<uint64_t>(px[k]);
        po[k] = static_cast<int64_t>(prod ? u * v : u + v);
      } else {
        po[k] = prod ? static_cast<T>(po[prev] * px[k]) : static_cast<T>(po[prev] + px[k]);
      }
    }
  });
  return out;
}

DType ScanDType(DType t) { return t == float32 || t == float64 ? t : int64; }

TEST_P(ScanTest, CumsumCumprodMatchReferenceOnEveryAxis) {
  for (DType dtype : {float64, float32, int64, int32, bool_}) {
    for (const auto& l : kLayouts) {
      const NDArray x0 = RandomNDArray(l.shape, dtype, 11);
      // Products of values near 1 stay finite in float32; integers wrap (as NumPy's do).
      const NDArray xp = dtype == float32 || dtype == float64 ? (from_ndarray(x0) / 9.0).get() : x0;
      const BlockArray a = from_ndarray(x0, l.block), ap = from_ndarray(xp, l.block);
      std::vector<std::optional<int64_t>> axes{std::nullopt};
      for (int64_t d = 0; d < static_cast<int64_t>(l.shape.size()); ++d) axes.push_back(d);
      if (!l.shape.empty()) axes.push_back(-1);
      for (const auto& axis : axes) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(l.shape) + " axis " +
                     (axis ? std::to_string(*axis) : std::string("None")));
        const double tol = dtype == float32 ? 1e-4 : 1e-12;
        const BlockArray s = cumsum(a, axis);
        EXPECT_EQ(s.dtype(), ScanDType(dtype));
        EXPECT_ARRAY_NEAR(s.get(), RefScan(x0, axis, ScanDType(dtype), false), tol);
        const BlockArray p = cumprod(ap, axis);
        EXPECT_EQ(p.dtype(), ScanDType(dtype));
        EXPECT_ARRAY_NEAR(p.get(), RefScan(xp, axis, ScanDType(dtype), true), tol);
      }
    }
  }
}

TEST_P(ScanTest, CumsumKnownValuesAndBlocksStayWhereTheyLive) {
  // numpy: np.cumsum(np.arange(10).reshape(2, 5), axis=1) and np.cumprod([1, 2, 3, 4, 5]).
  const BlockArray a = arange(0, 10, 1, std::nullopt, {3}).reshape({2, 5}, {1, 2});
  const BlockArray s = cumsum(a, 1);
  EXPECT_EQ(s.get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 3, 6, 10, 5, 11, 18, 26, 35}));
  EXPECT_EQ(s.block_nodes(), a.block_nodes());
  EXPECT_EQ(s.block_shape(), a.block_shape());
  EXPECT_EQ(cumprod(arange(1, 6, 1, std::nullopt, {2})).get().to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 6, 24, 120}));
  // A 0-d array scans as shape (1,).
  EXPECT_EQ(cumsum(full({}, 4, int32)).shape(), (Shape{1}));
  // Large int64 sums wrap as NumPy's do.
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(cumsum(array<int64_t>({big, 1}, {}, {1})).get().to_vector<int64_t>(),
            (std::vector<int64_t>{big, std::numeric_limits<int64_t>::min()}));
}

TEST_P(ScanTest, LongCarryChains) {
  // 1429 blocks along the axis: element i of cumsum(arange(n)) is i (i + 1) / 2.
  const int64_t n = 10000;
  const std::vector<int64_t> s =
      cumsum(arange(0, n, 1, std::nullopt, {7})).get().to_vector<int64_t>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(s[static_cast<size_t>(i)], i * (i + 1) / 2) << i;
  // Along axis 0 of a matrix split on both axes: each column is its own chain.
  const BlockArray m = ones({300, 5}, int32, {4, 2});
  const NDArray c = cumsum(m, 0).get();
  for (int64_t i = 0; i < 300; i += 37) EXPECT_EQ(c.at<int64_t>({i, 4}), i + 1);
}

TEST_P(ScanTest, ScanErrors) {
  const BlockArray a = ones({2, 3});
  testing::ExpectThrowWith<IndexError>([&] { cumsum(a, 2); }, {"cumsum", "axis 2"});
  testing::ExpectThrowWith<IndexError>([&] { cumprod(a, -3); }, {"cumprod", "axis -3"});
  testing::ExpectThrowWith<IndexError>([&] { cumsum(full({}, 1.0), 0); }, {"cumsum"});
}

// Dense diff along `axis`, n times.
NDArray RefDiff(NDArray x, int64_t n, int64_t axis) {
  const auto ax = static_cast<size_t>(axis < 0 ? axis + x.ndim() : axis);
  for (int64_t k = 0; k < n && x.shape()[ax] > 0; ++k) {
    Shape shape = x.shape();
    shape[ax] -= 1;
    NDArray out(x.dtype(), shape);
    dispatch(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      for (int64_t f = 0; f < out.size(); ++f) {
        Shape i = testing::Unravel(f, shape);
        const T lo = x.data<T>()[testing::Ravel(i, x.shape())];
        i[ax] += 1;
        const T hi = x.data<T>()[testing::Ravel(i, x.shape())];
        if constexpr (std::is_same_v<T, bool>) {
          out.data<T>()[f] = hi != lo;
        } else {
          out.data<T>()[f] = static_cast<T>(hi - lo);
        }
      }
    });
    x = out;
  }
  return x;
}

TEST_P(ScanTest, DiffMatchesReference) {
  for (DType dtype : {float64, int32, bool_}) {
    for (const auto& l : kLayouts) {
      if (l.shape.empty()) continue;
      const NDArray x = RandomNDArray(l.shape, dtype, 12);
      const BlockArray a = from_ndarray(x, l.block);
      for (int64_t axis = -1; axis < static_cast<int64_t>(l.shape.size()); ++axis) {
        for (int64_t n : {0, 1, 2, 7}) {
          SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(l.shape) + " axis " +
                       std::to_string(axis) + " n " + std::to_string(n));
          const BlockArray d = diff(a, n, axis);
          EXPECT_EQ(d.dtype(), dtype);
          EXPECT_ARRAY_EQ(d.get(), RefDiff(x, n, axis));
        }
      }
    }
  }
  // numpy: np.diff([1, 4, 9, 16, 25]) == [3, 5, 7, 9]; n=2: [2, 2, 2].
  const BlockArray sq = array<int64_t>({1, 4, 9, 16, 25}, {}, {2});
  EXPECT_EQ(diff(sq).get().to_vector<int64_t>(), (std::vector<int64_t>{3, 5, 7, 9}));
  EXPECT_EQ(diff(sq, 2).get().to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 2}));
}

TEST_P(ScanTest, DiffErrors) {
  testing::ExpectThrowWith<ValueError>([] { diff(ones({3}), -1); }, {"diff", "-1"});
  testing::ExpectThrowWith<ValueError>([] { diff(full({}, 1.0)); }, {"diff", "one dimensional"});
  testing::ExpectThrowWith<IndexError>([] { diff(ones({3}), 1, 1); }, {"diff", "axis 1"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, ScanTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
