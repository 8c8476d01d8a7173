#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nums/nums.hpp>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefReduce;

class ReductionTest : public testing::OnNodes {};

using testing::Layout;
const std::vector<Layout> kLayouts = {
    {{11}, {4}}, {{7, 5}, {3, 2}}, {{4, 6, 5}, {3, 4, 2}}, {{3, 4}, {3, 4}}, {{}, {}},
};

// Every subset of axes of an n-d array, plus "all" (nullopt).
std::vector<std::optional<std::vector<int64_t>>> AxisSets(int64_t nd) {
  std::vector<std::optional<std::vector<int64_t>>> out{std::nullopt};
  for (int64_t mask = 0; mask < (1 << nd); ++mask) {
    std::vector<int64_t> axes;
    for (int64_t d = 0; d < nd; ++d) {
      if (mask & (1 << d)) axes.push_back(d);
    }
    out.push_back(axes);
  }
  return out;
}

std::vector<int64_t> AllAxes(int64_t nd) {
  std::vector<int64_t> v(static_cast<size_t>(nd));
  for (int64_t d = 0; d < nd; ++d) v[static_cast<size_t>(d)] = d;
  return v;
}

TEST_P(ReductionTest, SumProdMinMaxAllAnyOverEveryAxisSet) {
  for (const auto& l : kLayouts) {
    NDArray x = RandomNDArray(l.shape, float64, 7);
    NDArray xi = RandomNDArray(l.shape, int32, 8);
    BlockArray a = from_ndarray(x, l.block), ai = from_ndarray(xi, l.block);
    const int64_t nd = static_cast<int64_t>(l.shape.size());
    for (const auto& axes_opt : AxisSets(nd)) {
      for (bool keep : {false, true}) {
        const std::vector<int64_t> axes = axes_opt.value_or(AllAxes(nd));
        const Axes ax = axes_opt ? Axes(*axes_opt) : Axes::all();
        SCOPED_TRACE(shape_str(l.shape) + " axes " + shape_str(axes) + (keep ? " keepdims" : ""));
        EXPECT_ARRAY_NEAR(a.sum(ax, keep).get(),
                          RefReduce(x, axes, keep, float64, 0, std::plus<double>()), 1e-12);
        NDArray isum = ai.sum(ax, keep).get();
        EXPECT_EQ(isum.dtype(), int64);
        EXPECT_ARRAY_EQ(isum, RefReduce(xi, axes, keep, int64, 0, std::plus<double>()));
        EXPECT_ARRAY_NEAR(a.prod(ax, keep).get(),
                          RefReduce(x, axes, keep, float64, 1, std::multiplies<double>()), 1e-12);
        auto mn = [](double p, double v) { return std::min(p, v); };
        auto mx = [](double p, double v) { return std::max(p, v); };
        EXPECT_ARRAY_EQ(a.min(ax, keep).get(), RefReduce(x, axes, keep, float64, INFINITY, mn));
        EXPECT_ARRAY_EQ(ai.max(ax, keep).get(), RefReduce(xi, axes, keep, int32, -1e9, mx));
        BlockArray pos = a > -5;
        EXPECT_ARRAY_EQ(pos.all(ax, keep).get(),
                        RefReduce(pos.get(), axes, keep, bool_, 1,
                                  [](double p, double v) { return p != 0 && v != 0; }));
        EXPECT_ARRAY_EQ(pos.any(ax, keep).get(),
                        RefReduce(pos.get(), axes, keep, bool_, 0,
                                  [](double p, double v) { return p != 0 || v != 0; }));
      }
    }
  }
}

TEST_P(ReductionTest, MeanVarStd) {
  NDArray x = RandomNDArray({9, 7}, float64, 9);
  BlockArray a = from_ndarray(x, {4, 3});
  Eigen::MatrixXd m = a.to_eigen();
  EXPECT_NEAR(a.mean().item<double>(), m.mean(), 1e-12);
  Eigen::VectorXd col_mean = m.colwise().mean();
  NDArray got = a.mean(0).get();
  for (int64_t j = 0; j < 7; ++j) EXPECT_NEAR(got.at<double>({j}), col_mean(j), 1e-12);
  const double var = (m.array() - m.mean()).square().mean();
  EXPECT_NEAR(a.var().item<double>(), var, 1e-12);
  EXPECT_NEAR(a.var(std::nullopt, 1).item<double>(), var * 63 / 62, 1e-12);
  EXPECT_NEAR(a.std().item<double>(), std::sqrt(var), 1e-12);
  NDArray rv = a.var(1, 0, true).get();
  EXPECT_EQ(rv.shape(), (Shape{9, 1}));
  for (int64_t i = 0; i < 9; ++i) {
    const double mi = m.row(i).mean();
    EXPECT_NEAR(rv.at<double>({i, 0}), (m.row(i).array() - mi).square().mean(), 1e-12);
  }
  // Integer means are float64; float32 stays float32.
  EXPECT_EQ(arange(4).mean().dtype(), float64);
  EXPECT_DOUBLE_EQ(arange(4).mean().item<double>(), 1.5);
  EXPECT_EQ(ones({3}, float32).mean().dtype(), float32);
}

TEST_P(ReductionTest, ArgMinArgMaxOnAnyAxis) {
  NDArray x = RandomNDArray({6, 5, 4}, int64, 10);  // integers: ties are common
  BlockArray a = from_ndarray(x, {4, 2, 3});
  // Flat: first occurrence of the extreme.
  const auto v = x.to_vector<int64_t>();
  const int64_t want_max = std::max_element(v.begin(), v.end()) - v.begin();
  const int64_t want_min = std::min_element(v.begin(), v.end()) - v.begin();
  EXPECT_EQ(a.argmax().item<int64_t>(), want_max);
  EXPECT_EQ(a.argmin().item<int64_t>(), want_min);
  EXPECT_EQ(a.argmax(std::nullopt, true).shape(), (Shape{1, 1, 1}));
  for (int64_t axis = -3; axis < 3; ++axis) {
    const int64_t ax = axis < 0 ? axis + 3 : axis;
    for (bool keep : {false, true}) {
      NDArray got = a.argmin(axis, keep).get();
      EXPECT_EQ(got.dtype(), int64);
      Shape want_shape = x.shape();
      if (keep) {
        want_shape[static_cast<size_t>(ax)] = 1;
      } else {
        want_shape.erase(want_shape.begin() + ax);
      }
      ASSERT_EQ(got.shape(), want_shape);
      // Check against a straightforward loop.
      const Shape s = x.shape();
      for (int64_t i = 0; i < s[0]; ++i) {
        for (int64_t j = 0; j < s[1]; ++j) {
          for (int64_t k = 0; k < s[2]; ++k) {
            Shape idx{i, j, k};
            if (idx[static_cast<size_t>(ax)] != 0) continue;
            int64_t best = 0;
            for (int64_t t = 1; t < s[static_cast<size_t>(ax)]; ++t) {
              Shape cur = idx, bst = idx;
              cur[static_cast<size_t>(ax)] = t;
              bst[static_cast<size_t>(ax)] = best;
              if (x.at<int64_t>({cur[0], cur[1], cur[2]}) <
                  x.at<int64_t>({bst[0], bst[1], bst[2]})) {
                best = t;
              }
            }
            Shape out_idx = idx;
            if (keep) {
              out_idx[static_cast<size_t>(ax)] = 0;
            } else {
              out_idx.erase(out_idx.begin() + ax);
            }
            const int64_t flat =
                keep ? (out_idx[0] * want_shape[1] + out_idx[1]) * want_shape[2] + out_idx[2]
                     : out_idx[0] * want_shape[1] + out_idx[1];
            ASSERT_EQ(got.value_at<int64_t>(flat), best) << "axis " << axis;
          }
        }
      }
    }
  }
}

TEST_P(ReductionTest, NanPropagatesAndArgPicksFirstNan) {
  const double nan = std::nan("");
  BlockArray a = array<double>({3, nan, 1, nan}, {}, {1});
  EXPECT_TRUE(std::isnan(a.max().item<double>()));
  EXPECT_TRUE(std::isnan(a.min().item<double>()));
  EXPECT_EQ(a.argmax().item<int64_t>(), 1);
  EXPECT_EQ(a.argmin().item<int64_t>(), 1);
}

TEST_P(ReductionTest, EmptyArrays) {
  BlockArray e = zeros({0, 3});
  NDArray s = e.sum(0).get();
  EXPECT_EQ(s.shape(), (Shape{3}));
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(e.sum().item<double>(), 0.0);
  EXPECT_EQ(e.prod().item<double>(), 1.0);
  EXPECT_TRUE(e.all().item<bool>());
  EXPECT_FALSE(e.any().item<bool>());
  EXPECT_EQ(e.sum(1).shape(), (Shape{0}));
  EXPECT_THROW(e.max(), ValueError);
  EXPECT_THROW(e.argmin(), ValueError);
}

TEST_P(ReductionTest, MinMaxArgOfEmptyArraysAlongNonEmptyAxesAreEmpty) {
  // NumPy: zeros((0, 5)).min(1).shape == (0,); only an empty reduced axis raises.
  BlockArray e = zeros({0, 5}, float64, {1, 2});
  for (const BlockArray& r : {e.min(1), e.max(1), min(e, -1), max(e, {1})}) {
    EXPECT_EQ(r.shape(), (Shape{0}));
    EXPECT_EQ(r.dtype(), float64);
    EXPECT_EQ(r.get().size(), 0);
  }
  EXPECT_EQ(e.max(1, true).shape(), (Shape{0, 1}));
  EXPECT_EQ(zeros({0, 5}, int32).min(1).dtype(), int32);
  EXPECT_THROW(e.min(0), ValueError);
  EXPECT_THROW(e.max({0, 1}), ValueError);
  EXPECT_THROW(e.max(), ValueError);
  // Reducing no axes of an empty array is the empty array itself.
  EXPECT_EQ(e.min(std::vector<int64_t>{}).shape(), (Shape{0, 5}));
  // 3-d: empty middle axis, reduce the others.
  BlockArray e3 = zeros({2, 0, 3});
  EXPECT_EQ(e3.max({0, 2}).shape(), (Shape{0}));
  EXPECT_THROW(e3.max({1, 2}), ValueError);
  // argmin/argmax: int64 results of the reduced shape; raise for the empty axis or no axis.
  for (bool is_max : {false, true}) {
    const BlockArray r = is_max ? e.argmax(1) : e.argmin(-1);
    EXPECT_EQ(r.shape(), (Shape{0}));
    EXPECT_EQ(r.dtype(), int64);
    EXPECT_EQ(r.get().size(), 0);
    EXPECT_EQ((is_max ? e.argmax(1, true) : e.argmin(1, true)).shape(), (Shape{0, 1}));
    EXPECT_THROW(is_max ? e.argmax(0) : e.argmin(0), ValueError);
    EXPECT_THROW(is_max ? e.argmax() : e.argmin(), ValueError);
  }
  EXPECT_EQ(e3.argmax(2).shape(), (Shape{2, 0}));
  EXPECT_THROW(e3.argmax(1), ValueError);
}

TEST_P(ReductionTest, VarAndStdDivideByNonNegativeDegreesOfFreedom) {
  // NumPy divides by max(n - ddof, 0): var([1, 2], ddof=2) == inf, var([1, 1], ddof=3) == nan.
  BlockArray a = array<double>({1, 2}, {}, {1});
  EXPECT_DOUBLE_EQ(a.var(std::nullopt, 1).item<double>(), 0.5);
  const double v2 = a.var(std::nullopt, 2).item<double>();
  const double v3 = a.var(std::nullopt, 3).item<double>();
  EXPECT_TRUE(std::isinf(v2) && v2 > 0) << v2;
  EXPECT_TRUE(std::isinf(v3) && v3 > 0) << v3;  // never the negative 0.25 / -1
  EXPECT_TRUE(std::isinf(a.std(std::nullopt, 5).item<double>()));
  BlockArray c = array<double>({1, 1});
  EXPECT_TRUE(std::isnan(c.var(std::nullopt, 2).item<double>()));
  EXPECT_TRUE(std::isnan(c.var(std::nullopt, 7).item<double>()));
  // Per axis: rows of length 3, ddof 4 -> every entry inf (or nan for a constant row).
  BlockArray m = array<double>({1, 2, 3, 5, 5, 5}, {2, 3}, {1, 2});
  NDArray r = m.var(1, 4).get();
  EXPECT_TRUE(std::isinf(r.at<double>({0})) && r.at<double>({0}) > 0);
  EXPECT_TRUE(std::isnan(r.at<double>({1})));
}

TEST_P(ReductionTest, NanReductionsSkipNaNAndMatchNumPy) {
  const double nan = std::nan("");
  // np.nansum([[1, nan], [nan, nan]], axis=1) == [1, 0]; nanmin == [1, nan].
  const BlockArray a = array<double>({1, nan, 3, nan, nan, nan}, {2, 3}, {1, 2});
  EXPECT_ARRAY_EQ(nansum(a, 1).get(), NDArray::from_vector<double>({4, 0}));
  EXPECT_ARRAY_EQ(nanmin(a, 1).get(), NDArray::from_vector<double>({1, nan}));
  EXPECT_ARRAY_EQ(nanmax(a, 1).get(), NDArray::from_vector<double>({3, nan}));
  EXPECT_ARRAY_EQ(nanmean(a, 1).get(), NDArray::from_vector<double>({2, nan}));
  EXPECT_ARRAY_EQ(nanmax(a, 0, true).get(), NDArray::from_vector<double>({1, nan, 3}, {1, 3}));
  EXPECT_DOUBLE_EQ(nansum(a).item<double>(), 4);
  EXPECT_DOUBLE_EQ(nanmin(a).item<double>(), 1);
  EXPECT_DOUBLE_EQ(nanmean(a).item<double>(), 2);
  // Against a dense reference on random data with NaNs sprinkled in, over every axis set.
  NDArray x = RandomNDArray({6, 5, 4}, float64, 51);
  for (int64_t k = 0; k < x.size(); k += 3) x.data<double>()[k] = nan;
  const BlockArray xa = from_ndarray(x, {4, 2, 3});
  auto skip = [](auto f) {
    return [f](double acc, double v) { return std::isnan(v) ? acc : f(acc, v); };
  };
  for (const auto& axes : AxisSets(3)) {
    const std::vector<int64_t> ax = axes ? *axes : AllAxes(3);
    SCOPED_TRACE("axes " + shape_str(ax));
    const Axes sel = axes ? Axes(*axes) : Axes::all();
    EXPECT_ARRAY_NEAR(nansum(xa, sel).get(),
                      RefReduce(x, ax, false, float64, 0, skip(std::plus<double>())), 1e-12);
    // NaN until a number comes: nanmin of only NaN (as over no axes) is NaN.
    const NDArray mn = RefReduce(x, ax, false, float64, nan, [](double acc, double v) {
      return std::isnan(v) ? acc : std::isnan(acc) ? v : std::min(acc, v);
    });
    EXPECT_ARRAY_EQ(nanmin(xa, sel).get(), mn);
  }
  // float32 stays float32; integers and bools reduce as sum/min/max/mean do.
  EXPECT_EQ(nanmean(a.astype(float32)).dtype(), float32);
  EXPECT_EQ(nansum(a.astype(float32)).dtype(), float32);
  const BlockArray i = array<int32_t>({4, -2, 7}, {}, {2});
  EXPECT_EQ(nansum(i).dtype(), int64);
  EXPECT_EQ(nansum(i).item<int64_t>(), 9);
  EXPECT_EQ(nanmin(i).dtype(), int32);
  EXPECT_EQ(nanmin(i).item<int32_t>(), -2);
  EXPECT_EQ(nanmax(i).item<int32_t>(), 7);
  EXPECT_EQ(nanmean(i).dtype(), float64);
  EXPECT_DOUBLE_EQ(nanmean(i).item<double>(), 3.0);
  EXPECT_TRUE(nanmax(array<bool>({false, true})).item<bool>());
  // Empty: nansum is 0; nanmin has no identity along an empty axis.
  EXPECT_EQ(nansum(zeros({0, 2})).item<double>(), 0.0);
  EXPECT_THROW(nanmin(zeros({0, 2})), ValueError);
  EXPECT_EQ(nanmax(zeros({0, 2}), 1).shape(), (Shape{0}));
}

TEST_P(ReductionTest, NanVarAndNanStdSkipNaN) {
  const double nan = std::nan("");
  // np.nanvar([[1, nan, 3], [nan, nan, nan]], axis=1) == [1, nan]; with ddof=1, [2, nan].
  const BlockArray a = array<double>({1, nan, 3, nan, nan, nan}, {2, 3}, {1, 2});
  EXPECT_ARRAY_EQ(nanvar(a, 1).get(), NDArray::from_vector<double>({1, nan}));
  EXPECT_ARRAY_EQ(nanvar(a, 1, 1).get(), NDArray::from_vector<double>({2, nan}));
  EXPECT_ARRAY_EQ(nanstd(a, 1).get(), NDArray::from_vector<double>({1, nan}));
  EXPECT_EQ(nanstd(a, 1, 0, true).shape(), (Shape{2, 1}));
  // ddof at or past the count: 0 / 0 is NaN, a positive sum over 0 is inf.
  EXPECT_TRUE(std::isnan(nanvar(array<double>({1, nan}), std::nullopt, 1).item<double>()));
  EXPECT_EQ(nanvar(array<double>({1, 2, nan}), std::nullopt, 2).item<double>(), INFINITY);
  EXPECT_EQ(nanvar(array<double>({1, 2, nan}), std::nullopt, 5).item<double>(), INFINITY);
  // Without NaN it is var; float32 stays float32; integers as var.
  NDArray x = RandomNDArray({7, 4}, float64, 53);
  const BlockArray xa = from_ndarray(x, {3, 3});
  EXPECT_ARRAY_NEAR(nanvar(xa, 0, 1).get(), xa.var(0, 1).get(), 1e-12);
  EXPECT_ARRAY_NEAR(nanstd(xa).get(), xa.std().get(), 1e-12);
  EXPECT_EQ(nanvar(xa.astype(float32)).dtype(), float32);
  EXPECT_EQ(nanvar(array<int32_t>({1, 3})).dtype(), float64);
  EXPECT_DOUBLE_EQ(nanvar(array<int32_t>({1, 3})).item<double>(), 1.0);
}

TEST_P(ReductionTest, PtpIsMaxMinusMin) {
  // np.ptp(int32 [[3, -1, 7], [2, 2, 2]], axis=1) == [8, 0]; ptp wraps for int32 extremes.
  const BlockArray a = array<int32_t>({3, -1, 7, 2, 2, 2}, {2, 3}, {1, 2});
  EXPECT_EQ(ptp(a, 1).dtype(), int32);
  EXPECT_EQ(ptp(a, 1).get().to_vector<int32_t>(), (std::vector<int32_t>{8, 0}));
  EXPECT_EQ(ptp(a).item<int32_t>(), 8);
  EXPECT_EQ(ptp(a, 0, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(ptp(array<int32_t>({2147483647, -2147483647 - 1})).item<int32_t>(), -1);
  NDArray x = RandomNDArray({5, 4}, float64, 52);
  const BlockArray xa = from_ndarray(x, {2, 3});
  EXPECT_ARRAY_EQ(ptp(xa, 0).get(), (xa.max(0) - xa.min(0)).get());
  EXPECT_TRUE(std::isnan(ptp(array<double>({1, std::nan("")})).item<double>()));
  EXPECT_THROW(ptp(ones({2}, bool_)), DTypeError);
  EXPECT_THROW(ptp(zeros({0})), ValueError);
}

TEST_P(ReductionTest, BadAxesThrowBeforeAnyTask) {
  BlockArray a = ones({3, 4});
  EXPECT_THROW(a.sum(2), IndexError);
  EXPECT_THROW(a.sum(-3), IndexError);
  EXPECT_THROW(a.sum({0, 0}), ValueError);
  EXPECT_THROW(a.argmax(5), IndexError);
  EXPECT_EQ(a.sum(-1).shape(), (Shape{3}));
  EXPECT_EQ(a.sum({0, 1}, true).shape(), (Shape{1, 1}));
  EXPECT_DOUBLE_EQ(sum(a).item<double>(), 12.0);
  EXPECT_DOUBLE_EQ(mean(a, 0).get().at<double>({2}), 1.0);
}

TEST_P(ReductionTest, LargeSumUsesEveryBlock) {
  BlockArray a = arange(0, 1'000'000, 1, int64, {65'536});
  EXPECT_EQ(a.sum().item<int64_t>(), int64_t{999'999} * 1'000'000 / 2);
  EXPECT_DOUBLE_EQ(a.astype(float64).mean().item<double>(), 499'999.5);
}

// NumPy's x.sum(axis=()) reduces over no axes, while a C++ `{}` would value-initialise Axes as
// "all axes": a bare `{}` must not compile for any reduction taking Axes.
#define NUMS_BRACES_COMPILE(name, call) \
  template <typename X>                 \
  concept name = requires(const X& x) { \
    call;                               \
  };
NUMS_BRACES_COMPILE(SumBraces, x.sum({}))
NUMS_BRACES_COMPILE(SumBracesKeepdims, x.sum({}, true))
NUMS_BRACES_COMPILE(ProdBraces, x.prod({}))
NUMS_BRACES_COMPILE(MeanBraces, x.mean({}))
NUMS_BRACES_COMPILE(VarBraces, x.var({}, 1))
NUMS_BRACES_COMPILE(StdBraces, x.std({}))
NUMS_BRACES_COMPILE(MinBraces, x.min({}))
NUMS_BRACES_COMPILE(MaxBraces, x.max({}))
NUMS_BRACES_COMPILE(AllBraces, x.all({}))
NUMS_BRACES_COMPILE(AnyBraces, x.any({}))
NUMS_BRACES_COMPILE(FreeSumBraces, nums::sum(x, {}))
NUMS_BRACES_COMPILE(FreeAllBraces, nums::all(x, {}))
NUMS_BRACES_COMPILE(NanMeanBraces, nanmean(x, {}))
NUMS_BRACES_COMPILE(MedianBraces, median(x, {}))
NUMS_BRACES_COMPILE(QuantileBraces, quantile(x, 0.5, {}))
NUMS_BRACES_COMPILE(CountNonzeroBraces, count_nonzero(x, {}))
NUMS_BRACES_COMPILE(NormBraces, linalg::vector_norm(x, {}))
// The spellings that say what they mean do compile.
NUMS_BRACES_COMPILE(SumSpelled, (x.sum(), x.sum(std::nullopt), x.sum(Axes::all()),
                                 x.sum(std::vector<int64_t>{}), x.sum({1}), x.sum({0, 1}, true)))
// ... and the same calls with std::nullopt, so that the checks above fail only on the braces.
NUMS_BRACES_COMPILE(AllSpelled,
                    (x.prod(std::nullopt), x.mean(std::nullopt), x.var(std::nullopt, 1),
                     x.std(std::nullopt), x.min(std::nullopt), x.max(std::nullopt),
                     x.all(std::nullopt), x.any(std::nullopt), nums::sum(x, std::nullopt),
                     nums::all(x, std::nullopt), nanmean(x, std::nullopt), median(x, std::nullopt),
                     quantile(x, 0.5, std::nullopt), count_nonzero(x, std::nullopt),
                     linalg::vector_norm(x, std::nullopt)))
#undef NUMS_BRACES_COMPILE
static_assert(!SumBraces<BlockArray> && !SumBracesKeepdims<BlockArray> && !ProdBraces<BlockArray> &&
              !MeanBraces<BlockArray> && !VarBraces<BlockArray> && !StdBraces<BlockArray> &&
              !MinBraces<BlockArray> && !MaxBraces<BlockArray> && !AllBraces<BlockArray> &&
              !AnyBraces<BlockArray>);
static_assert(!FreeSumBraces<BlockArray> && !FreeAllBraces<BlockArray> &&
              !NanMeanBraces<BlockArray> && !MedianBraces<BlockArray> &&
              !QuantileBraces<BlockArray> && !CountNonzeroBraces<BlockArray> &&
              !NormBraces<BlockArray>);
static_assert(SumSpelled<BlockArray> && AllSpelled<BlockArray>);

TEST_P(ReductionTest, EmptyAxisListReducesNothingAndNulloptReducesAll) {
  const NDArray x = RandomNDArray({3, 4}, float64, 61);
  const BlockArray a = from_ndarray(x, {2, 3});
  EXPECT_ARRAY_EQ(a.sum(std::vector<int64_t>{}).get(), x);
  EXPECT_ARRAY_EQ(a.max(std::vector<int64_t>{}, true).get(), x);
  EXPECT_EQ(a.sum(std::nullopt).shape(), Shape{});
  EXPECT_DOUBLE_EQ(a.sum(std::nullopt).item<double>(), a.sum().item<double>());
  EXPECT_DOUBLE_EQ(a.var(Axes::all(), 1).item<double>(), a.var(std::nullopt, 1).item<double>());
}

INSTANTIATE_TEST_SUITE_P(Nodes, ReductionTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
