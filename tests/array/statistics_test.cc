#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nums/nums.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/embedded_runtime.h"
#include "src/statistics_impl.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::Layout;
using testing::RandomNDArray;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class StatisticsTest : public testing::OnNodes {};

// Odd shapes, edge blocks on every axis, one block, single-element axes, 0-d.
const std::vector<Layout> kLayouts = {
    {{11}, {4}}, {{7, 5}, {3, 2}}, {{4, 6, 5}, {3, 4, 2}}, {{3, 4}, {3, 4}}, {{9, 1, 3}, {2, 1, 2}},
    {{}, {}},    {{13}, {13}},
};

// ---- Dense references -------------------------------------------------------------------------

// The elements of each slice over the sorted `axes` (all when empty), as doubles, slices in
// row-major order of the kept axes.
std::vector<std::vector<double>> Slices(const NDArray& x, const std::vector<int64_t>& axes) {
  Shape kept;
  for (int64_t d = 0; d < x.ndim(); ++d) {
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) kept.push_back(x.shape()[d]);
  }
  std::vector<std::vector<double>> out(static_cast<size_t>(shape_size(kept)));
  for (int64_t k = 0; k < x.size(); ++k) {
    const Shape idx = testing::Unravel(k, x.shape());
    int64_t pos = 0, j = 0;
    for (int64_t d = 0; d < x.ndim(); ++d) {
      if (std::find(axes.begin(), axes.end(), d) != axes.end()) continue;
      pos = pos * kept[static_cast<size_t>(j++)] + idx[static_cast<size_t>(d)];
    }
    out[static_cast<size_t>(pos)].push_back(x.value_at<double>(k));
  }
  return out;
}

double Lerp(double a, double b, double g) {
  return g >= 0.5 ? b - (b - a) * (1 - g) : a + (b - a) * g;
}

// numpy.quantile / numpy.median of one slice, by sorting it.
double RefQuantile(std::vector<double> v, double q, const std::string& method, bool omit_nan,
                   bool median = false) {
  const bool has_nan = std::any_of(v.begin(), v.end(), [](double e) { return std::isnan(e); });
  if (has_nan && !omit_nan) return kNaN;
  v.erase(std::remove_if(v.begin(), v.end(), [](double e) { return std::isnan(e); }), v.end());
  const auto n = static_cast<int64_t>(v.size());
  if (n == 0) return kNaN;
  std::sort(v.begin(), v.end());
  const auto at = [&](int64_t i) {
    return v[static_cast<size_t>(std::clamp<int64_t>(i, 0, n - 1))];
  };
  if (median) return n % 2 == 1 ? at(n / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  const double vi = q * static_cast<double>(n - 1);
  const auto i = static_cast<int64_t>(std::floor(vi));
  if (method == "lower") return at(i);
  if (method == "higher") return at(static_cast<int64_t>(std::ceil(vi)));
  if (method == "nearest") {
    // Round half to even, as np.around.
    const double frac = vi - std::floor(vi);
    int64_t r = frac > 0.5 ? i + 1 : i;
    if (frac == 0.5) r = (i % 2 == 0) ? i : i + 1;
    return at(r);
  }
  if (method == "midpoint") return vi == std::floor(vi) ? at(i) : Lerp(at(i), at(i + 1), 0.5);
  return Lerp(at(i), at(i + 1), vi - std::floor(vi));
}

// The reference result of a quantile call: shape q + kept (keepdims: 1s at reduced axes).
NDArray RefQuantiles(const NDArray& x, const std::vector<double>& qs, bool scalar_q,
                     std::vector<int64_t> axes, bool keepdims, const std::string& method,
                     bool omit_nan, bool median = false) {
  if (axes.empty()) {
    for (int64_t d = 0; d < x.ndim(); ++d) axes.push_back(d);
  }
  const auto slices = Slices(x, axes);
  Shape shape;
  if (!scalar_q) shape.push_back(static_cast<int64_t>(qs.size()));
  for (int64_t d = 0; d < x.ndim(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced) shape.push_back(x.shape()[static_cast<size_t>(d)]);
    if (reduced && keepdims) shape.push_back(1);
  }
  std::vector<double> vals;
  for (double q : qs) {
    for (const auto& s : slices) vals.push_back(RefQuantile(s, q, method, omit_nan, median));
  }
  return NDArray::from_vector(vals, shape.empty() ? Shape{} : shape).reshape(shape);
}

double Tol(DType t) { return t == DType::kFloat32 ? 1e-6 : 1e-12; }

DType QuantileDType(DType in, const std::string& method) {
  if (method == "lower" || method == "higher" || method == "nearest") return in;
  return in == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
}

const std::vector<std::string> kMethods = {"linear", "lower", "higher", "nearest", "midpoint"};

// ---- Quantiles ---------------------------------------------------------------------------------

TEST_P(StatisticsTest, QuantileOverAllAxesMatchesSortedReference) {
  const std::vector<double> qs = {0, 0.1, 0.25, 0.5, 0.7, 1};
  uint64_t seed = 1;
  for (const auto& l : kLayouts) {
    for (DType dt : {DType::kFloat64, DType::kFloat32, DType::kInt32, DType::kInt64}) {
      const NDArray a = RandomNDArray(l.shape, dt, seed++);
      const BlockArray x = from_ndarray(a, l.block);
      for (const auto& m : kMethods) {
        SCOPED_TRACE(shape_str(l.shape) + " " + std::string(dtype_name(dt)) + " " + m);
        const BlockArray got = quantile(x, qs, std::nullopt, false, m);
        EXPECT_EQ(got.dtype(), QuantileDType(dt, m));
        EXPECT_ARRAY_NEAR(got.get(), RefQuantiles(a, qs, false, {}, false, m, false), Tol(dt));
        const BlockArray one = quantile(x, 0.3, std::nullopt, true, m);
        EXPECT_ARRAY_NEAR(one.get(), RefQuantiles(a, {0.3}, true, {}, true, m, false), Tol(dt));
      }
      const BlockArray med = median(x);
      EXPECT_EQ(med.dtype(), dt == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64);
      EXPECT_ARRAY_NEAR(med.get(), RefQuantiles(a, {0.5}, true, {}, false, "", false, true),
                        Tol(dt));
      EXPECT_ARRAY_NEAR(percentile(x, std::vector<double>{10, 75}).get(),
                        RefQuantiles(a, {0.1, 0.75}, false, {}, false, "linear", false), Tol(dt));
    }
  }
}

TEST_P(StatisticsTest, QuantileAlongAxesMatchesSortedReference) {
  struct Case {
    Layout layout;
    std::vector<int64_t> axes;
  };
  const std::vector<Case> cases = {
      {{{7, 5}, {3, 2}}, {0}},
      {{{7, 5}, {3, 2}}, {1}},
      {{{4, 6, 5}, {3, 4, 2}}, {1}},
      {{{4, 6, 5}, {3, 4, 2}}, {0, 2}},
      {{{4, 6, 5}, {3, 4, 2}}, {2}},
      {{{9, 1, 3}, {2, 1, 2}}, {0, 1}},
      {{{11}, {4}}, {0}},
      {{{2, 3, 4, 3}, {1, 2, 3, 2}}, {1, 3}},
  };
  uint64_t seed = 100;
  for (const auto& c : cases) {
    for (DType dt : {DType::kFloat64, DType::kInt32, DType::kFloat32}) {
      const NDArray a = RandomNDArray(c.layout.shape, dt, seed++);
      const BlockArray x = from_ndarray(a, c.layout.block);
      for (bool keepdims : {false, true}) {
        for (const auto& m : kMethods) {
          SCOPED_TRACE(shape_str(c.layout.shape) + " axes " + std::to_string(c.axes.size()) + " " +
                       std::string(dtype_name(dt)) + " " + m);
          const BlockArray got = quantile(x, {0.2, 0.5, 0.95}, c.axes, keepdims, m);
          EXPECT_EQ(got.dtype(), QuantileDType(dt, m));
          EXPECT_ARRAY_NEAR(got.get(),
                            RefQuantiles(a, {0.2, 0.5, 0.95}, false, c.axes, keepdims, m, false),
                            Tol(dt));
        }
        EXPECT_ARRAY_NEAR(median(x, c.axes, keepdims).get(),
                          RefQuantiles(a, {0.5}, true, c.axes, keepdims, "", false, true), Tol(dt));
      }
    }
  }
  // Negative axes count from the end.
  const NDArray a = RandomNDArray({5, 4}, DType::kFloat64, 7);
  EXPECT_ARRAY_NEAR(median(from_ndarray(a, {2, 3}), -1).get(),
                    RefQuantiles(a, {0.5}, true, {1}, false, "", false, true), 1e-12);
}

// Enough elements that the selection narrows ranges over several rounds before gathering, with
// distinct doubles, heavy duplicates (integers in [-50, 50)), and a spread of magnitudes.
TEST_P(StatisticsTest, SelectionOverManyBlocksMatchesReference) {
  std::mt19937_64 rng(42);
  const int64_t n = 60'001;
  NDArray spread(DType::kFloat64, {n});
  for (int64_t k = 0; k < n; ++k) {
    const double e = std::uniform_real_distribution<double>(-30, 30)(rng);
    spread.data<double>()[k] = (k % 3 == 0 ? -1 : 1) * std::pow(10.0, e);
  }
  const std::vector<NDArray> inputs = {RandomNDArray({n}, DType::kFloat64, 5),
                                       RandomNDArray({n}, DType::kInt64, 6), spread,
                                       RandomNDArray({301, 199}, DType::kFloat32, 8)};
  const std::vector<double> qs = {0, 1e-5, 0.3, 0.5, 0.999, 1};
  for (const auto& a : inputs) {
    const BlockArray x = from_ndarray(a, a.ndim() == 1 ? Shape{7001} : Shape{50, 70});
    for (const auto& m : kMethods) {
      SCOPED_TRACE(std::string(dtype_name(a.dtype())) + " " + m);
      EXPECT_ARRAY_NEAR(quantile(x, qs, std::nullopt, false, m).get(),
                        RefQuantiles(a, qs, false, {}, false, m, false), Tol(a.dtype()));
    }
    EXPECT_ARRAY_NEAR(median(x).get(), RefQuantiles(a, {0.5}, true, {}, false, "", false, true),
                      Tol(a.dtype()));
  }
}

// The selection moves per-block histograms and the final candidates, never the array: a 3.2 MB
// array sends the driver a small fraction of its bytes.
TEST_P(StatisticsTest, SelectionDoesNotGatherTheArray) {
  const NDArray a = RandomNDArray({400'000}, DType::kFloat64, 9);
  const BlockArray x = from_ndarray(a, {40'000});
  x.wait();
  const int64_t before = detail::statistics_driver_bytes();
  const NDArray got = quantile(x, {0.25, 0.5}).get();
  const int64_t moved = detail::statistics_driver_bytes() - before;
  EXPECT_ARRAY_NEAR(got, RefQuantiles(a, {0.25, 0.5}, false, {}, false, "linear", false), 1e-12);
  EXPECT_GT(moved, 0);
  EXPECT_LT(moved, a.nbytes() / 20)
      << moved << " bytes fetched for a " << a.nbytes() << "-byte array";
}

TEST_P(StatisticsTest, NaNPropagatesUnlessSkipped) {
  NDArray a = RandomNDArray({6, 7}, DType::kFloat64, 11);
  double* p = a.data<double>();
  p[3] = kNaN;                                          // row 0
  p[15] = kNaN;                                         // row 2
  for (int64_t j = 0; j < 7; ++j) p[5 * 7 + j] = kNaN;  // row 5: only NaN
  const BlockArray x = from_ndarray(a, {4, 3});
  for (const auto& m : kMethods) {
    SCOPED_TRACE(m);
    EXPECT_ARRAY_NEAR(quantile(x, {0.1, 0.6}, std::nullopt, false, m).get(),
                      RefQuantiles(a, {0.1, 0.6}, false, {}, false, m, false), 0);
    EXPECT_ARRAY_NEAR(nanquantile(x, {0.1, 0.6}, std::nullopt, false, m).get(),
                      RefQuantiles(a, {0.1, 0.6}, false, {}, false, m, true), 1e-12);
    EXPECT_ARRAY_NEAR(quantile(x, 0.4, 1, false, m).get(),
                      RefQuantiles(a, {0.4}, true, {1}, false, m, false), 1e-12);
    EXPECT_ARRAY_NEAR(nanquantile(x, 0.4, 1, false, m).get(),
                      RefQuantiles(a, {0.4}, true, {1}, false, m, true), 1e-12);
    EXPECT_ARRAY_NEAR(nanpercentile(x, 40.0, 0, true, m).get(),
                      RefQuantiles(a, {0.4}, true, {0}, true, m, true), 1e-12);
  }
  EXPECT_ARRAY_NEAR(nanmedian(x).get(), RefQuantiles(a, {0.5}, true, {}, false, "", true, true),
                    1e-12);
  EXPECT_ARRAY_NEAR(nanmedian(x, 1).get(), RefQuantiles(a, {0.5}, true, {1}, false, "", true, true),
                    1e-12);
  EXPECT_TRUE(std::isnan(median(x).item<double>()));
  // Only NaN: NaN for the nan* forms too.
  const BlockArray all_nan = full({5}, kNaN);
  EXPECT_TRUE(std::isnan(nanmedian(all_nan).item<double>()));
  EXPECT_TRUE(std::isnan(nanquantile(all_nan, 0.5, std::nullopt, false, "lower").item<double>()));
}

TEST_P(StatisticsTest, EmptyAndZeroDimensional) {
  // np.median of an empty array is NaN (with a warning); np.quantile raises IndexError.
  const BlockArray e = zeros({0, 3}, float64, {1, 2});
  EXPECT_TRUE(std::isnan(median(e).item<double>()));
  EXPECT_THROW(quantile(e, 0.5), IndexError);
  EXPECT_THROW(percentile(e, 50.0, std::nullopt, false, "lower"), IndexError);
  EXPECT_TRUE(std::isnan(nanquantile(e, 0.5).item<double>()));
  // Reducing an empty axis: NaN per slice; keeping an empty axis: an empty result.
  const BlockArray me = median(zeros({3, 0}), 1);
  EXPECT_EQ(me.shape(), (Shape{3}));
  for (double v : me.get().to_vector<double>()) EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(median(zeros({0, 3}), 1).shape(), (Shape{0}));
  EXPECT_EQ(quantile(zeros({0, 3}), {0.1, 0.2}, 1).shape(), (Shape{2, 0}));
  EXPECT_THROW(quantile(zeros({3, 0}), 0.5, 1), IndexError);
  // 0-d: the value itself, shape () (q's axis for a vector q).
  const BlockArray s = full({}, 4.5);
  EXPECT_EQ(median(s).shape(), Shape{});
  EXPECT_DOUBLE_EQ(median(s).item<double>(), 4.5);
  EXPECT_EQ(quantile(s, {0.1, 0.9}).shape(), (Shape{2}));
  EXPECT_EQ(quantile(full({}, int64_t{3}), 0.5, std::nullopt, true, "nearest").item<int64_t>(), 3);
  EXPECT_THROW(median(s, 0), IndexError);
  // Bool: linear reads 0/1 as numbers, lower keeps bool.
  const BlockArray b = from_ndarray(NDArray::from_vector<bool>({true, false, true}), {2});
  EXPECT_DOUBLE_EQ(median(b).item<double>(), 1.0);
  EXPECT_EQ(quantile(b, 0.2, std::nullopt, false, "lower").dtype(), bool_);
  EXPECT_EQ(quantile(b, 0.2, std::nullopt, false, "lower").item<bool>(), false);
}

TEST_P(StatisticsTest, QuantileArgumentErrors) {
  const BlockArray x = arange(10);
  testing::ExpectThrowWith<ValueError>([&] { quantile(x, 1.5); }, {"[0, 1]", "1.5"});
  testing::ExpectThrowWith<ValueError>([&] { quantile(x, {0.5, -0.1}); }, {"[0, 1]"});
  testing::ExpectThrowWith<ValueError>([&] { percentile(x, 101.0); }, {"[0, 100]", "101"});
  testing::ExpectThrowWith<ValueError>([&] { quantile(x, 0.5, std::nullopt, false, "cubic"); },
                                       {"cubic", "linear"});
  EXPECT_THROW(median(x, 1), IndexError);
  EXPECT_THROW(median(zeros({2, 3}), {0, 0}), ValueError);
  EXPECT_THROW(quantile(x, kNaN), ValueError);
}

// ---- average -----------------------------------------------------------------------------------

TEST_P(StatisticsTest, AverageMatchesWeightedReference) {
  const NDArray a = RandomNDArray({5, 7}, DType::kFloat64, 21);
  NDArray w = RandomNDArray({5, 7}, DType::kFloat64, 22);
  for (int64_t k = 0; k < w.size(); ++k) w.data<double>()[k] = std::abs(w.data<double>()[k]) + 0.1;
  const BlockArray x = from_ndarray(a, {2, 3}), wx = from_ndarray(w, {3, 2});
  // Dense: sum(x * w) / sum(w) over the slices of `axes`.
  const auto ref = [&](const NDArray& ww, std::vector<int64_t> axes, bool keepdims) {
    const auto xs = Slices(a, axes), ws = Slices(ww, axes);
    std::vector<double> out;
    for (size_t i = 0; i < xs.size(); ++i) {
      double s = 0, sw = 0;
      for (size_t j = 0; j < xs[i].size(); ++j) {
        s += xs[i][j] * ws[i][j];
        sw += ws[i][j];
      }
      out.push_back(s / sw);
    }
    Shape shape;
    for (int64_t d = 0; d < 2; ++d) {
      const bool red = std::find(axes.begin(), axes.end(), d) != axes.end();
      if (!red) shape.push_back(a.shape()[static_cast<size_t>(d)]);
      if (red && keepdims) shape.push_back(1);
    }
    return NDArray::from_vector(out, shape.empty() ? Shape{} : shape).reshape(shape);
  };
  EXPECT_ARRAY_NEAR(average(x, std::nullopt, wx).get(), ref(w, {0, 1}, false), 1e-12);
  EXPECT_ARRAY_NEAR(average(x, 0, wx).get(), ref(w, {0}, false), 1e-12);
  EXPECT_ARRAY_NEAR(average(x, 1, wx, true).get(), ref(w, {1}, true), 1e-12);
  // No weights: the mean, and the count as the weight sum.
  const NDArray ones(DType::kFloat64, {5, 7});
  NDArray ones_v = ones;
  for (int64_t k = 0; k < ones_v.size(); ++k) ones_v.data<double>()[k] = 1;
  EXPECT_ARRAY_NEAR(average(x, 1).get(), ref(ones_v, {1}, false), 1e-12);
  const auto [avg, cnt] = average_returned(x, 1);
  EXPECT_ARRAY_NEAR(avg.get(), ref(ones_v, {1}, false), 1e-12);
  EXPECT_EQ(cnt.shape(), (Shape{5}));
  for (double c : cnt.get().to_vector<double>()) EXPECT_EQ(c, 7);
  // 1-d weights along one axis: each row of x weighted by w1.
  const NDArray w1 = NDArray::from_vector<double>({1, 2, 0.5, 3, 1, 0, 2});
  NDArray w1_full(DType::kFloat64, {5, 7});
  for (int64_t k = 0; k < 35; ++k) w1_full.data<double>()[k] = w1.data<double>()[k % 7];
  const auto [avg1, sum1] = average_returned(x, 1, from_ndarray(w1, {3}));
  EXPECT_ARRAY_NEAR(avg1.get(), ref(w1_full, {1}, false), 1e-12);
  for (double s : sum1.get().to_vector<double>()) EXPECT_DOUBLE_EQ(s, 9.5);
  // Integer input averages in float64.
  const BlockArray xi = from_ndarray(RandomNDArray({6}, DType::kInt32, 3), {4});
  EXPECT_EQ(average(xi, std::nullopt, from_ndarray(RandomNDArray({6}, DType::kInt32, 4))).dtype(),
            float64);
  // Errors.
  testing::ExpectThrowWith<ValueError>([&] { average(x, 1, zeros({7})); }, {"weights sum to zero"});
  testing::ExpectThrowWith<ShapeError>([&] { average(x, std::nullopt, zeros({7})); },
                                       {"axis must be specified", "(5, 7)", "(7,)"});
  testing::ExpectThrowWith<ShapeError>([&] { average(x, 0, ones_like(from_ndarray(w1))); },
                                       {"length of weights"});
  EXPECT_THROW(average(x, 0, zeros({5, 7, 1})), ShapeError);
}

// ---- cov and corrcoef --------------------------------------------------------------------------

// numpy.cov on a dense variables x observations matrix: weights w (empty: none), a the
// aweights (empty: none).
NDArray RefCov(const NDArray& x, int64_t ddof, const std::vector<double>& w,
               const std::vector<double>& aw) {
  const int64_t p = x.shape()[0], n = x.shape()[1];
  std::vector<double> ww(static_cast<size_t>(n), 1.0);
  if (!w.empty()) ww = w;
  double wsum = 0, waw = 0;
  for (int64_t k = 0; k < n; ++k) {
    wsum += ww[static_cast<size_t>(k)];
    if (!aw.empty()) waw += ww[static_cast<size_t>(k)] * aw[static_cast<size_t>(k)];
  }
  double fact = static_cast<double>(n - ddof);
  if (!w.empty()) {
    fact = ddof == 0 ? wsum
                     : (aw.empty() ? wsum - static_cast<double>(ddof) : wsum - ddof * waw / wsum);
  }
  std::vector<double> mean(static_cast<size_t>(p), 0.0);
  for (int64_t i = 0; i < p; ++i) {
    for (int64_t k = 0; k < n; ++k)
      mean[static_cast<size_t>(i)] += x.at<double>({i, k}) * ww[static_cast<size_t>(k)];
    mean[static_cast<size_t>(i)] /= wsum;
  }
  NDArray c(DType::kFloat64, {p, p});
  for (int64_t i = 0; i < p; ++i) {
    for (int64_t j = 0; j < p; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) {
        s += (x.at<double>({i, k}) - mean[static_cast<size_t>(i)]) *
             (x.at<double>({j, k}) - mean[static_cast<size_t>(j)]) * ww[static_cast<size_t>(k)];
      }
      c.data<double>()[i * p + j] = s / fact;
    }
  }
  return p == 1 ? c.reshape({}) : c;
}

NDArray Transpose2(const NDArray& a) {
  const int64_t r = a.shape()[0], c = a.shape()[1];
  NDArray t(a.dtype(), {c, r});
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < c; ++j) t.data<double>()[j * r + i] = a.data<double>()[i * c + j];
  }
  return t;
}

TEST_P(StatisticsTest, CovMatchesReference) {
  const NDArray a = RandomNDArray({4, 9}, DType::kFloat64, 31);
  const BlockArray x = from_ndarray(a, {3, 4});
  EXPECT_ARRAY_NEAR(cov(x).get(), RefCov(a, 1, {}, {}), 1e-10);
  EXPECT_ARRAY_NEAR(cov(x, std::nullopt, true, true).get(), RefCov(a, 0, {}, {}), 1e-10);
  EXPECT_ARRAY_NEAR(cov(x, std::nullopt, true, false, 3).get(), RefCov(a, 3, {}, {}), 1e-10);
  // rowvar = false: columns are variables.
  const NDArray at = Transpose2(a);
  EXPECT_ARRAY_NEAR(cov(from_ndarray(at, {4, 3}), std::nullopt, false).get(), RefCov(a, 1, {}, {}),
                    1e-10);
  // y appends variables.
  const NDArray b = RandomNDArray({2, 9}, DType::kFloat64, 32);
  NDArray ab(DType::kFloat64, {6, 9});
  for (int64_t k = 0; k < 36; ++k) ab.data<double>()[k] = a.data<double>()[k];
  for (int64_t k = 0; k < 18; ++k) ab.data<double>()[36 + k] = b.data<double>()[k];
  EXPECT_ARRAY_NEAR(cov(x, from_ndarray(b, {2, 5})).get(), RefCov(ab, 1, {}, {}), 1e-10);
  // Weights: fweights (integer counts) and aweights.
  const std::vector<int64_t> f = {1, 2, 0, 3, 1, 1, 4, 2, 1};
  const std::vector<double> aw = {0.5, 1, 2, 0.1, 1, 3, 1, 0.7, 1};
  std::vector<double> fd(f.begin(), f.end()), fa(9);
  for (size_t k = 0; k < 9; ++k) fa[k] = fd[k] * aw[k];
  const BlockArray fb = from_ndarray(NDArray::from_vector(f), {4});
  const BlockArray ab_w = from_ndarray(NDArray::from_vector(aw), {5});
  EXPECT_ARRAY_NEAR(cov(x, std::nullopt, true, false, std::nullopt, fb).get(), RefCov(a, 1, fd, {}),
                    1e-10);
  EXPECT_ARRAY_NEAR(cov(x, std::nullopt, true, false, std::nullopt, std::nullopt, ab_w).get(),
                    RefCov(a, 1, aw, aw), 1e-10);
  EXPECT_ARRAY_NEAR(cov(x, std::nullopt, true, false, std::nullopt, fb, ab_w).get(),
                    RefCov(a, 1, fa, aw), 1e-10);
  EXPECT_ARRAY_NEAR(cov(x, std::nullopt, true, true, std::nullopt, fb, ab_w).get(),
                    RefCov(a, 0, fa, aw), 1e-10);
  // One variable: 0-d. Integer input: float64.
  const NDArray v = RandomNDArray({11}, DType::kInt32, 33);
  const BlockArray cv = cov(from_ndarray(v, {4}));
  EXPECT_EQ(cv.shape(), Shape{});
  EXPECT_EQ(cv.dtype(), float64);
  EXPECT_ARRAY_NEAR(cv.get(), RefCov(v.astype(float64).reshape({1, 11}), 1, {}, {}), 1e-10);
  // Errors.
  EXPECT_THROW(cov(zeros({2, 2, 2})), ShapeError);
  EXPECT_THROW(cov(x, zeros({2, 8})), ShapeError);
  testing::ExpectThrowWith<DTypeError>(
      [&] { cov(x, std::nullopt, true, false, std::nullopt, ones({9})); }, {"fweights", "integer"});
  testing::ExpectThrowWith<ValueError>(
      [&] { cov(x, std::nullopt, true, false, std::nullopt, full({9}, int64_t{-1})); },
      {"fweights", "negative"});
  testing::ExpectThrowWith<ShapeError>(
      [&] { cov(x, std::nullopt, true, false, std::nullopt, std::nullopt, ones({8})); },
      {"aweights", "9"});
}

TEST_P(StatisticsTest, CorrcoefMatchesReference) {
  const NDArray a = RandomNDArray({5, 8}, DType::kFloat64, 41);
  const NDArray c = RefCov(a, 1, {}, {});
  NDArray r(DType::kFloat64, {5, 5});
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      r.data<double>()[i * 5 + j] =
          c.at<double>({i, j}) / std::sqrt(c.at<double>({i, i})) / std::sqrt(c.at<double>({j, j}));
    }
  }
  const NDArray got = corrcoef(from_ndarray(a, {2, 3})).get();
  EXPECT_ARRAY_NEAR(got, r, 1e-12);
  for (int64_t i = 0; i < 5; ++i) EXPECT_NEAR(got.at<double>({i, i}), 1.0, 1e-15);
  EXPECT_ARRAY_NEAR(corrcoef(from_ndarray(Transpose2(a), {3, 2}), std::nullopt, false).get(), r,
                    1e-12);
  // A constant variable has no correlation: NaN, as NumPy (which also warns).
  const BlockArray k = concatenate({from_ndarray(a, {2, 3}), ones({1, 8})}, 0);
  const NDArray kc = corrcoef(k).get();
  EXPECT_TRUE(std::isnan(kc.at<double>({5, 0})));
  EXPECT_NEAR(kc.at<double>({1, 0}), r.at<double>({1, 0}), 1e-12);
  // One variable: 1.
  EXPECT_DOUBLE_EQ(corrcoef(from_ndarray(RandomNDArray({6}, DType::kFloat64, 2))).item<double>(),
                   1.0);
}

// ---- histogram, bincount, digitize -------------------------------------------------------------

// np.histogram with explicit edges: [e_i, e_i+1) except the closed last bin; NaN and values
// outside ignored.
std::vector<double> RefHistogram(const NDArray& x, const std::vector<double>& edges,
                                 const NDArray* w) {
  std::vector<double> out(edges.size() - 1, 0.0);
  for (int64_t k = 0; k < x.size(); ++k) {
    const double v = x.value_at<double>(k);
    for (size_t i = 0; i + 1 < edges.size(); ++i) {
      const bool last = i + 2 == edges.size();
      if (v >= edges[i] && (v < edges[i + 1] || (last && v == edges[i + 1]))) {
        out[i] += w ? w->value_at<double>(k) : 1.0;
        break;
      }
    }
  }
  return out;
}

std::vector<double> Linspace(double a, double b, int64_t bins) {
  std::vector<double> e;
  const double step = (b - a) / static_cast<double>(bins);
  for (int64_t i = 0; i < bins; ++i) e.push_back(static_cast<double>(i) * step + a);
  e.push_back(b);
  return e;
}

TEST_P(StatisticsTest, HistogramMatchesReference) {
  uint64_t seed = 50;
  for (const auto& l : kLayouts) {
    for (DType dt : {DType::kFloat64, DType::kInt32, DType::kFloat32}) {
      SCOPED_TRACE(shape_str(l.shape) + " " + std::string(dtype_name(dt)));
      const NDArray a = RandomNDArray(l.shape, dt, seed++);
      const BlockArray x = from_ndarray(a, l.block);
      double lo = a.value_at<double>(0), hi = lo;
      for (int64_t k = 0; k < a.size(); ++k) {
        lo = std::min(lo, a.value_at<double>(k));
        hi = std::max(hi, a.value_at<double>(k));
      }
      if (lo == hi) {
        lo -= 0.5;
        hi += 0.5;
      }
      for (int64_t bins : {1, 3, 10}) {
        const std::vector<double> edges = Linspace(lo, hi, bins);
        const Histogram h = histogram(x, bins);
        EXPECT_EQ(h.counts.dtype(), int64);
        EXPECT_ARRAY_NEAR(h.counts.get(), NDArray::from_vector(RefHistogram(a, edges, nullptr)), 0);
        EXPECT_ARRAY_NEAR(h.edges.get(), NDArray::from_vector(edges), 1e-15);
        EXPECT_ARRAY_NEAR(histogram_bin_edges(x, bins).get(), NDArray::from_vector(edges), 1e-15);
      }
      // A range that cuts values off on both sides, and explicit uneven edges.
      const std::vector<double> edges = Linspace(-3, 4, 7);
      EXPECT_ARRAY_NEAR(histogram(x, 7, std::make_pair(-3.0, 4.0)).counts.get(),
                        NDArray::from_vector(RefHistogram(a, edges, nullptr)), 0);
      const std::vector<double> uneven = {-20, -1, 0, 0, 2.5, 9, 9.5};
      EXPECT_ARRAY_NEAR(histogram(x, uneven).counts.get(),
                        NDArray::from_vector(RefHistogram(a, uneven, nullptr)), 0);
      // Weights (laid out in other blocks) and density.
      const NDArray w = RandomNDArray(l.shape, DType::kFloat64, seed++);
      const BlockArray wb = from_ndarray(w);
      const Histogram hw = histogram(x, uneven, wb);
      EXPECT_EQ(hw.counts.dtype(), float64);
      EXPECT_ARRAY_NEAR(hw.counts.get(), NDArray::from_vector(RefHistogram(a, uneven, &w)), 1e-12);
      const std::vector<double> c = RefHistogram(a, edges, nullptr);
      double total = 0;
      for (double v : c) total += v;
      std::vector<double> dens;
      for (size_t i = 0; i < c.size(); ++i)
        dens.push_back(c[i] / (edges[i + 1] - edges[i]) / total);
      EXPECT_ARRAY_NEAR(histogram(x, 7, std::make_pair(-3.0, 4.0), std::nullopt, true).counts.get(),
                        NDArray::from_vector(dens), 1e-12);
    }
  }
}

TEST_P(StatisticsTest, HistogramEdgeCases) {
  // Values on edges: the last bin is closed, the others half-open.
  const BlockArray x = from_ndarray(NDArray::from_vector<double>({0, 1, 2, 3, 3, 1.5}), {4});
  EXPECT_ARRAY_EQ(histogram(x, 3).counts.get(), NDArray::from_vector<int64_t>({1, 2, 3}));
  // NaN: ignored with a range, an error without one.
  const BlockArray xn = from_ndarray(NDArray::from_vector<double>({1, kNaN, 2}), {2});
  EXPECT_ARRAY_EQ(histogram(xn, 2, std::make_pair(0.0, 3.0)).counts.get(),
                  NDArray::from_vector<int64_t>({1, 1}));
  EXPECT_ARRAY_EQ(histogram(xn, std::vector<double>{0, 1.5, 3}).counts.get(),
                  NDArray::from_vector<int64_t>({1, 1}));
  testing::ExpectThrowWith<ValueError>([&] { histogram(xn, 2); }, {"autodetected range", "nan"});
  // Empty: range (0, 1); one value: widened by 0.5.
  const Histogram he = histogram(zeros({0}), 2);
  EXPECT_ARRAY_EQ(he.counts.get(), NDArray::from_vector<int64_t>({0, 0}));
  EXPECT_ARRAY_EQ(he.edges.get(), NDArray::from_vector<double>({0, 0.5, 1}));
  const Histogram h5 = histogram(full({2}, 5.0), 2);
  EXPECT_ARRAY_EQ(h5.counts.get(), NDArray::from_vector<int64_t>({0, 2}));
  EXPECT_ARRAY_EQ(h5.edges.get(), NDArray::from_vector<double>({4.5, 5, 5.5}));
  // Integer weights keep their dtype, as NumPy.
  const Histogram hi = histogram(x, 3, std::nullopt, full({6}, int64_t{2}));
  EXPECT_EQ(hi.counts.dtype(), int64);
  EXPECT_ARRAY_EQ(hi.counts.get(), NDArray::from_vector<int64_t>({2, 4, 6}));
  // Errors.
  EXPECT_THROW(histogram(x, 0), ValueError);
  testing::ExpectThrowWith<ValueError>([&] { histogram(x, 2, std::make_pair(3.0, 1.0)); },
                                       {"range"});
  testing::ExpectThrowWith<ValueError>(
      [&] {
        histogram(x, std::vector<double>{0, 2, 1});
      },
      {"monotonically"});
  EXPECT_THROW(histogram(x, std::vector<double>{1}), ValueError);
  EXPECT_THROW(histogram(x, 3, std::nullopt, ones({5})), ShapeError);
}

TEST_P(StatisticsTest, BincountMatchesReference) {
  std::mt19937_64 rng(61);
  std::vector<int64_t> v(101);
  for (auto& e : v) e = static_cast<int64_t>(rng() % 17);
  const NDArray a = NDArray::from_vector(v);
  const NDArray w = RandomNDArray({101}, DType::kFloat64, 62);
  std::vector<double> want(17, 0.0), want_w(17, 0.0);
  for (size_t k = 0; k < v.size(); ++k) {
    want[static_cast<size_t>(v[k])] += 1;
    want_w[static_cast<size_t>(v[k])] += w.data<double>()[k];
  }
  for (const Shape& block : {Shape{10}, Shape{101}, Shape{33}}) {
    const BlockArray x = from_ndarray(a, block);
    const BlockArray c = bincount(x);
    EXPECT_EQ(c.dtype(), int64);
    EXPECT_ARRAY_EQ(c.get(), NDArray::from_vector(want));
    EXPECT_ARRAY_NEAR(bincount(x, from_ndarray(w, {7})).get(), NDArray::from_vector(want_w), 1e-12);
    std::vector<double> longer = want;
    longer.resize(25, 0.0);
    EXPECT_ARRAY_EQ(bincount(x.astype(int32), std::nullopt, 25).get(),
                    NDArray::from_vector(longer));
    EXPECT_ARRAY_EQ(bincount(x, std::nullopt, 3).get(), NDArray::from_vector(want));
  }
  EXPECT_ARRAY_EQ(bincount(zeros({0}, int64)).get(), NDArray::from_vector<int64_t>({}));
  EXPECT_ARRAY_EQ(bincount(zeros({0}, int64), std::nullopt, 2).get(),
                  NDArray::from_vector<int64_t>({0, 0}));
  EXPECT_ARRAY_EQ(bincount(from_ndarray(NDArray::from_vector<bool>({true, true, false}))).get(),
                  NDArray::from_vector<int64_t>({1, 2}));
  testing::ExpectThrowWith<ValueError>(
      [&] {
        bincount(from_ndarray(NDArray::from_vector<int64_t>({0, -1})));
      },
      {"negative"});
  testing::ExpectThrowWith<DTypeError>([&] { bincount(ones({3})); }, {"float64"});
  EXPECT_THROW(bincount(zeros({2, 2}, int64)), ShapeError);
  EXPECT_THROW(bincount(zeros({2}, int64), std::nullopt, -1), ValueError);
}

TEST_P(StatisticsTest, DigitizeMatchesSearchsorted) {
  const NDArray a = RandomNDArray({7, 5}, DType::kFloat64, 71);
  NDArray an = a;
  an.data<double>()[3] = kNaN;
  const std::vector<double> inc = {-9, -2.5, 0, 0, 3, 8};
  // Reference: count of bins below (right: strictly below) for increasing bins; for decreasing,
  // numpy's len(bins) - searchsorted(reversed bins).
  const auto ref = [&](const std::vector<double>& bins, bool right, bool increasing) {
    NDArray out(DType::kInt64, an.shape());
    for (int64_t k = 0; k < an.size(); ++k) {
      const double v = an.data<double>()[k];
      int64_t c = 0;
      for (double b : bins) {
        const bool below = std::isnan(v) || (right ? b < v : b <= v);
        c += below ? 1 : 0;
      }
      out.data<int64_t>()[k] = increasing ? c : static_cast<int64_t>(bins.size()) - c;
    }
    return out;
  };
  const BlockArray x = from_ndarray(an, {3, 2});
  for (bool right : {false, true}) {
    EXPECT_ARRAY_EQ(digitize(x, from_ndarray(NDArray::from_vector(inc)), right).get(),
                    ref(inc, right, true));
    std::vector<double> dec(inc.rbegin(), inc.rend());
    EXPECT_ARRAY_EQ(digitize(x, from_ndarray(NDArray::from_vector(dec), {4}), right).get(),
                    ref(inc, right, false));
  }
  EXPECT_EQ(digitize(full({}, 1.0), from_ndarray(NDArray::from_vector(inc))).item<int64_t>(), 4);
  testing::ExpectThrowWith<ValueError>(
      [&] {
        digitize(x, from_ndarray(NDArray::from_vector<double>({1, 3, 2})));
      },
      {"monotonically"});
  EXPECT_THROW(digitize(x, zeros({2, 2})), ShapeError);
}

// Every statistics task declares its outputs (the candidates' as an upper bound), and declares
// them right: a node admits a task by those bytes.
TEST(StatisticsDeclaredOutputsTest, TasksDeclareTheBlocksTheirKernelsMake) {
  Context ctx = init({.nodes = 3, .threads_per_node = 1});
  const NDArray a = RandomNDArray({301, 37}, DType::kFloat64, 81);
  const BlockArray x = from_ndarray(a, {40, 8});
  std::vector<BlockArray> keep = {
      median(x),
      quantile(x, {0.1, 0.9}, 0, false, "nearest"),
      nanpercentile(x, 30.0, {0, 1}),
      average(x, 1, x * x),
      cov(x, std::nullopt, false),
      histogram(x, 7, std::nullopt, x).counts,
      bincount(from_ndarray(RandomNDArray({301}, DType::kInt64, 82), {50}) + 50),
      digitize(x, linspace(-5, 5, 4))};
  for (const BlockArray& k : keep) (void)k.get();
  auto* rt = dynamic_cast<engine::EmbeddedRuntime*>(ctx.impl()->runtime.get());
  ASSERT_NE(rt, nullptr);
  rt->WaitIdle();
  int64_t unclaimed = 0, undeclared = 0;
  for (int64_t i = 0; i < rt->num_nodes(); ++i) {
    unclaimed += rt->node(i).unclaimed_outputs();
    undeclared += rt->node(i).undeclared_tasks();
  }
  EXPECT_EQ(unclaimed, 0);
  EXPECT_EQ(undeclared, 0);
}

INSTANTIATE_TEST_SUITE_P(Nodes, StatisticsTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
