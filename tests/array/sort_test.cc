#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <nums/nums.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::Layout;

class SortTest : public testing::OnNodes {};

// Odd shapes, edge blocks on every axis, 1-d arrays of several blocks (the sample sort, with
// fewer and more blocks than buckets), one block, 0-d and empty.
const std::vector<Layout> kLayouts = {
    {{11}, {4}},
    {{37}, {5}},
    {{400}, {13}},
    {{7, 5}, {3, 2}},
    {{4, 6, 5}, {3, 4, 2}},
    {{3, 4}, {3, 4}},
    {{9, 1, 3}, {2, 1, 2}},
    {{}, {}},
    {{0, 4}, {1, 2}},
    {{5, 0}, {2, 1}},
    {{0}, {3}},
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Seeded values with many ties: floats are whole numbers in [-3, 3) with NaNs and -0.0 among
// them, integers in [-50, 50), bools half true.
NDArray TiedValues(const Shape& shape, DType dtype, uint64_t seed) {
  NDArray x = testing::RandomNDArray(shape, dtype, seed);
  if (!is_floating(dtype)) return x;
  NDArray d = x.astype(float64);
  double* p = d.data<double>();
  for (int64_t k = 0; k < d.size(); ++k) {
    p[k] = std::floor(p[k] / 3.4);
    if (k % 7 == 3) p[k] = kNaN;
    if (k % 5 == 1) p[k] = -0.0;
    if (k % 5 == 2) p[k] = 0.0;
  }
  return d.astype(dtype);
}

// NumPy's order: NaN last ascending; descending is flip(sort(flip(x))), so NaN first and ties
// in index order either way.
bool Before(double a, double b, bool descending) {
  if (descending) std::swap(a, b);
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

// Dense stable sort of x along `axis` (nullopt: flattened): the values (in x's dtype) or the
// int64 indices along the axis.
NDArray RefSort(const NDArray& x0, std::optional<int64_t> axis, bool descending, bool indices) {
  NDArray x = x0.astype(float64);
  int64_t ax = 0;
  if (!axis) {
    x = x.reshape({x.size()});
  } else {
    ax = *axis < 0 ? *axis + x.ndim() : *axis;
  }
  const Shape& shape = x.shape();
  const Shape strides = testing::Strides(shape);
  NDArray vals(float64, shape), idx(int64, shape);
  const double* px = x.data<double>();
  const auto a = static_cast<size_t>(ax);
  for (int64_t k = 0; k < x.size(); ++k) {
    if (testing::Unravel(k, shape)[a] != 0) continue;  // k starts a line along the axis
    std::vector<int64_t> order(static_cast<size_t>(shape[a]));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
      return Before(px[k + i * strides[a]], px[k + j * strides[a]], descending);
    });
    for (size_t j = 0; j < order.size(); ++j) {
      const int64_t at = k + static_cast<int64_t>(j) * strides[a];
      vals.data<double>()[at] = px[k + order[j] * strides[a]];
      idx.data<int64_t>()[at] = order[j];
    }
  }
  return indices ? idx : vals.astype(x0.dtype());
}

TEST_P(SortTest, SortAndArgsortMatchAStableReferenceOnEveryAxis) {
  // uint64 is left out: its wrapped negatives do not survive the float64 reference.
  for (DType dtype :
       {float64, float32, float16, int64, int32, int16, int8, uint32, uint16, uint8, bool_}) {
    for (const auto& l : kLayouts) {
      const NDArray x0 = TiedValues(l.shape, dtype, 5);
      const BlockArray x = from_ndarray(x0, l.block);
      std::vector<std::optional<int64_t>> axes{std::nullopt};
      for (int64_t d = 0; d < static_cast<int64_t>(l.shape.size()); ++d) axes.push_back(d);
      if (!l.shape.empty()) axes.push_back(-1);
      for (const auto& axis : axes) {
        for (bool descending : {false, true}) {
          SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(l.shape) + " blocks " +
                       shape_str(l.block) + " axis " +
                       (axis ? std::to_string(*axis) : std::string("None")) +
                       (descending ? " descending" : ""));
          const BlockArray s = sort(x, axis, false, descending);
          EXPECT_EQ(s.dtype(), dtype);
          EXPECT_ARRAY_EQ(s.get(), RefSort(x0, axis, descending, false));
          const BlockArray i = argsort(x, axis, true, descending);
          EXPECT_EQ(i.dtype(), int64);
          EXPECT_ARRAY_EQ(i.get(), RefSort(x0, axis, descending, true));
          // The result keeps the input's layout (flattened: a 1-d one).
          if (axis) {
            EXPECT_EQ(s.block_shape(), x.block_shape());
          }
        }
      }
    }
  }
}

TEST_P(SortTest, SampleSortHandlesSortedReversedAndConstantInputs) {
  const int64_t n = 5000;
  std::vector<double> up(n), down(n), same(n, 2.5), few(n);
  for (int64_t k = 0; k < n; ++k) {
    up[static_cast<size_t>(k)] = static_cast<double>(k) * 0.5;
    down[static_cast<size_t>(k)] = static_cast<double>(n - k);
    few[static_cast<size_t>(k)] = static_cast<double>((k * 7919) % 3);
  }
  for (const auto& v : {up, down, same, few}) {
    const NDArray x0 = NDArray::from_vector(v);
    for (int64_t block : {int64_t{97}, int64_t{1000}, int64_t{4999}}) {
      SCOPED_TRACE("first " + std::to_string(v[0]) + " block " + std::to_string(block));
      const BlockArray x = from_ndarray(x0, {block});
      EXPECT_ARRAY_EQ(sort(x).get(), RefSort(x0, 0, false, false));
      EXPECT_ARRAY_EQ(argsort(x).get(), RefSort(x0, 0, false, true));
      EXPECT_ARRAY_EQ(argsort(x, 0, true, true).get(), RefSort(x0, 0, true, true));
      EXPECT_EQ(sort(x).block_shape(), Shape{block});
    }
  }
}

TEST_P(SortTest, SortKeepsTheSignOfZerosAndExtremes) {
  const double inf = std::numeric_limits<double>::infinity();
  const NDArray x0 = NDArray::from_vector<double>(
      {3.0, -inf, kNaN, 0.0, -0.0, inf, -kNaN, -1e308, 1e-320, -1e-320, 2.0, kNaN}, {12});
  const BlockArray x = from_ndarray(x0, {5});
  const NDArray s = sort(x).get();
  EXPECT_ARRAY_EQ(s, NDArray::from_vector<double>({-inf, -1e308, -1e-320, -0.0, 0.0, 1e-320, 2.0,
                                                   3.0, inf, kNaN, kNaN, kNaN}));
  EXPECT_TRUE(std::signbit(s.data<double>()[3]));   // -0.0 before 0.0
  EXPECT_FALSE(std::signbit(s.data<double>()[4]));  // 0.0
  // Integer extremes survive the key mapping.
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const NDArray i0 = NDArray::from_vector<int64_t>({hi, 0, lo, -1, 1, lo, hi}, {7});
  EXPECT_ARRAY_EQ(sort(from_ndarray(i0, {2})).get(),
                  NDArray::from_vector<int64_t>({lo, lo, -1, 0, 1, hi, hi}, {7}));
  const NDArray j0 = NDArray::from_vector<int32_t>({INT32_MAX, INT32_MIN, 0, -7}, {4});
  EXPECT_ARRAY_EQ(sort(from_ndarray(j0, {3}), 0, false, true).get(),
                  NDArray::from_vector<int32_t>({INT32_MAX, 0, -7, INT32_MIN}, {4}));
}

TEST_P(SortTest, SortRejectsBadAxes) {
  const BlockArray x = from_ndarray(testing::RandomNDArray({4, 3}, float64, 1), {2, 2});
  testing::ExpectThrowWith<IndexError>([&] { (void)sort(x, 2); }, {"sort", "axis 2"});
  testing::ExpectThrowWith<IndexError>([&] { (void)argsort(x, -3); }, {"argsort", "-3"});
  const BlockArray s = from_ndarray(NDArray::scalar(1.5));
  testing::ExpectThrowWith<IndexError>([&] { (void)sort(s); }, {"sort", "dimension 0"});
  EXPECT_ARRAY_EQ(sort(s, std::nullopt).get(), NDArray::from_vector<double>({1.5}));
}

// Dense np.unique(x, True, True, True, equal_nan) of the flattened x.
struct RefUnique {
  std::vector<double> values;
  std::vector<int64_t> index, inverse, counts;
};
RefUnique UniqueOf(const NDArray& x0, bool equal_nan) {
  const NDArray x = x0.astype(float64).reshape({x0.size()});
  const double* p = x.data<double>();
  std::vector<int64_t> order(static_cast<size_t>(x.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t i, int64_t j) { return Before(p[i], p[j], false); });
  RefUnique r;
  r.inverse.resize(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const double v = p[order[k]];
    const bool same = k > 0 && (v == p[order[k - 1]] ||
                                (equal_nan && std::isnan(v) && std::isnan(p[order[k - 1]])));
    if (!same) {
      r.values.push_back(v);
      r.index.push_back(order[k]);
      r.counts.push_back(0);
    }
    ++r.counts.back();
    r.inverse[static_cast<size_t>(order[k])] = static_cast<int64_t>(r.values.size()) - 1;
  }
  return r;
}

TEST_P(SortTest, UniqueMatchesAReference) {
  // uint64 is left out: its wrapped negatives do not survive the float64 reference.
  for (DType dtype :
       {float64, float32, float16, int64, int32, int16, int8, uint32, uint16, uint8, bool_}) {
    for (const auto& l : kLayouts) {
      for (bool equal_nan : {true, false}) {
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(l.shape) + " blocks " +
                     shape_str(l.block) + (equal_nan ? "" : " equal_nan=False"));
        const NDArray x0 = TiedValues(l.shape, dtype, 9);
        const BlockArray x = from_ndarray(x0, l.block);
        const RefUnique want = UniqueOf(x0, equal_nan);
        const int64_t m = static_cast<int64_t>(want.values.size());
        const UniqueResult got = unique(x, true, true, true, equal_nan);
        EXPECT_EQ(got.values.dtype(), dtype);
        EXPECT_ARRAY_EQ(got.values.get(), NDArray::from_vector(want.values, {m}).astype(dtype));
        EXPECT_ARRAY_EQ(got.indices.get(), NDArray::from_vector(want.index, {m}));
        EXPECT_ARRAY_EQ(got.counts.get(), NDArray::from_vector(want.counts, {m}));
        // from_vector takes an empty shape as 1-d: reshape to x's shape (0-d included).
        EXPECT_ARRAY_EQ(got.inverse.get(), NDArray::from_vector(want.inverse).reshape(l.shape));
        // Without indices or the inverse the values come from a values-only sort.
        EXPECT_ARRAY_EQ(unique(x, false, false, false, equal_nan).values.get(), got.values.get());
      }
    }
  }
}

TEST_P(SortTest, ArrayApiUniqueFunctionsAgreeWithUnique) {
  const NDArray x0 = TiedValues({6, 7}, float64, 3);
  const BlockArray x = from_ndarray(x0, {4, 3});
  const UniqueResult u = unique(x, true, true, true);
  EXPECT_ARRAY_EQ(unique_values(x).get(), u.values.get());
  const UniqueCountsResult c = unique_counts(x);
  EXPECT_ARRAY_EQ(c.values.get(), u.values.get());
  EXPECT_ARRAY_EQ(c.counts.get(), u.counts.get());
  const UniqueInverseResult inv = unique_inverse(x);
  EXPECT_EQ(inv.inverse_indices.shape(), x.shape());
  EXPECT_ARRAY_EQ(inv.inverse_indices.get(), u.inverse.get());
  const UniqueAllResult all = unique_all(x);
  EXPECT_ARRAY_EQ(all.indices.get(), u.indices.get());
  EXPECT_ARRAY_EQ(all.inverse_indices.get(), u.inverse.get());
  EXPECT_ARRAY_EQ(all.counts.get(), u.counts.get());
  // values[inverse] rebuilds x (NaN for NaN).
  const NDArray rebuilt = BlockArray(u.values(u.inverse.flatten())).get().reshape(x0.shape());
  EXPECT_ARRAY_EQ(rebuilt, x0);
}

TEST_P(SortTest, SearchsortedMatchesAReference) {
  const std::vector<double> a{-5, -1, -0.0, 0, 0, 2, 2, 2, 7.5, kNaN, kNaN};
  const NDArray a0 = NDArray::from_vector(a);
  const NDArray v0 = NDArray::from_vector<double>(
      {-9, -5, -1, 0, -0.0, 1, 2, 3, 7.5, 8, kNaN, 2, 0.5, -1.5}, {2, 7});
  for (int64_t ab : {int64_t{3}, int64_t{11}}) {
    for (const Shape& vb : {Shape{1, 3}, Shape{2, 7}}) {
      for (const std::string side : {"left", "right"}) {
        SCOPED_TRACE(side + " a blocks " + std::to_string(ab) + " v blocks " + shape_str(vb));
        const BlockArray got = searchsorted(from_ndarray(a0, {ab}), from_ndarray(v0, vb), side);
        NDArray want(int64, v0.shape());
        for (int64_t k = 0; k < v0.size(); ++k) {
          const double v = v0.data<double>()[k];
          int64_t c = 0;
          for (double e : a) c += side == "left" ? Before(e, v, false) : !Before(v, e, false);
          want.data<int64_t>()[k] = c;
        }
        EXPECT_EQ(got.block_shape(), vb);
        EXPECT_ARRAY_EQ(got.get(), want);
      }
    }
  }
  // Mixed dtypes compare in their result type; 0-d and empty values.
  const BlockArray ai = from_ndarray(NDArray::from_vector<int32_t>({1, 3, 5, 7}), {3});
  EXPECT_ARRAY_EQ(searchsorted(ai, from_ndarray(NDArray::from_vector<double>({3.5, 0.5, 7}))).get(),
                  NDArray::from_vector<int64_t>({2, 0, 3}));
  EXPECT_EQ(searchsorted(ai, from_ndarray(NDArray::scalar<int64_t>(5)), "right").item<int64_t>(),
            3);
  EXPECT_EQ(searchsorted(ai, zeros({0}, int32)).shape(), Shape{0});
  EXPECT_ARRAY_EQ(
      searchsorted(zeros({0}), from_ndarray(NDArray::from_vector<double>({1, 2}))).get(),
      NDArray::from_vector<int64_t>({0, 0}));
  testing::ExpectThrowWith<ValueError>(
      [&] {
        (void)searchsorted(zeros({2, 2}), zeros({2}));
      },
      {"1-d", "(2, 2)"});
  testing::ExpectThrowWith<ValueError>([&] { (void)searchsorted(ai, ai, "middle"); },
                                       {"side", "middle"});
}

TEST_P(SortTest, NonzeroFamilyMatchesAReference) {
  for (DType dtype : {float64, int32, bool_}) {
    for (const auto& l : kLayouts) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + shape_str(l.shape) + " blocks " +
                   shape_str(l.block));
      NDArray x0 = TiedValues(l.shape, dtype, 21);
      const BlockArray x = from_ndarray(x0, l.block);
      const NDArray xd = x0.astype(float64);
      std::vector<int64_t> flat;
      for (int64_t k = 0; k < xd.size(); ++k) {
        if (xd.data<double>()[k] != 0) flat.push_back(k);  // NaN counts as non-zero
      }
      const auto cnt = static_cast<int64_t>(flat.size());
      EXPECT_ARRAY_EQ(flatnonzero(x).get(), NDArray::from_vector(flat, {cnt}));
      EXPECT_EQ(count_nonzero(x).item<int64_t>(), cnt);
      if (l.shape.empty()) {
        testing::ExpectThrowWith<ValueError>([&] { (void)nonzero(x); }, {"nonzero", "0d"});
        EXPECT_EQ(argwhere(x).shape(), (Shape{cnt, 0}));
        continue;
      }
      const auto nd = static_cast<int64_t>(l.shape.size());
      const std::vector<BlockArray> nz = nonzero(x);
      ASSERT_EQ(static_cast<int64_t>(nz.size()), nd);
      NDArray rows(int64, {cnt, nd});
      for (int64_t d = 0; d < nd; ++d) {
        std::vector<int64_t> want;
        for (size_t k = 0; k < flat.size(); ++k) {
          const int64_t i = testing::Unravel(flat[k], l.shape)[static_cast<size_t>(d)];
          want.push_back(i);
          rows.data<int64_t>()[static_cast<int64_t>(k) * nd + d] = i;
        }
        EXPECT_ARRAY_EQ(nz[static_cast<size_t>(d)].get(), NDArray::from_vector(want, {cnt}));
      }
      EXPECT_ARRAY_EQ(argwhere(x).get(), rows);
      for (int64_t d = 0; d < nd; ++d) {
        const NDArray got = count_nonzero(x, d).get();
        EXPECT_EQ(got.dtype(), int64);
        EXPECT_ARRAY_EQ(got,
                        testing::RefReduce(xd, {d}, false, int64, 0.0, [](double acc, double v) {
                          return acc + (v != 0 ? 1.0 : 0.0);
                        }));
      }
      EXPECT_EQ(count_nonzero(x, std::nullopt, true).shape(), Shape(l.shape.size(), 1));
    }
  }
  EXPECT_EQ(argwhere(from_ndarray(NDArray::scalar(0.0))).shape(), (Shape{0, 0}));
  EXPECT_EQ(argwhere(from_ndarray(NDArray::scalar(2.0))).shape(), (Shape{1, 0}));
}

INSTANTIATE_TEST_SUITE_P(Nodes, SortTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
