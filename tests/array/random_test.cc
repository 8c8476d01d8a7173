#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include <nums/nums.hpp>

#include "src/kernels/random.h"
#include "src/kernels/random_discrete.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using random::Generator;

// Same dtype, shape and bytes.
::testing::AssertionResult Identical(const NDArray& a, const NDArray& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << dtype_name(a.dtype()) << shape_str(a.shape()) << " vs "
                                         << dtype_name(b.dtype()) << shape_str(b.shape());
  }
  if (std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.nbytes())) != 0) {
    for (int64_t k = 0; k < a.size(); ++k) {
      if (a.value_at<double>(k) != b.value_at<double>(k)) {
        return ::testing::AssertionFailure() << "element " << k << ": " << a.value_at<double>(k)
                                             << " != " << b.value_at<double>(k);
      }
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Differ(const NDArray& a, const NDArray& b) {
  if (a.shape() == b.shape() && a.dtype() == b.dtype() &&
      std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.nbytes())) == 0) {
    return ::testing::AssertionFailure() << "arrays are identical";
  }
  return ::testing::AssertionSuccess();
}

// Runs f, which must throw E with a message containing `needle`.
template <typename E>
::testing::AssertionResult ThrowsWith(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const E& e) {
    if (std::string(e.what()).find(needle) == std::string::npos) {
      return ::testing::AssertionFailure() << "message \"" << e.what() << "\" lacks " << needle;
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another error: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

struct Moments {
  double mean = 0, var = 0, min = 0, max = 0;
};
Moments MomentsOf(const std::vector<double>& v) {
  Moments m;
  m.min = *std::min_element(v.begin(), v.end());
  m.max = *std::max_element(v.begin(), v.end());
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size());
  return m;
}
// Correlation of neighbours v[k], v[k + 1]: catches values repeated or paired within a call.
double Lag1Correlation(const std::vector<double>& v, const Moments& m) {
  double c = 0;
  for (size_t k = 0; k + 1 < v.size(); ++k) c += (v[k] - m.mean) * (v[k + 1] - m.mean);
  return c / static_cast<double>(v.size() - 1) / m.var;
}

// Every kind of draw, as a function of a generator, a shape and a block shape.
using DrawFn = std::function<BlockArray(Generator&, const Shape&, const Shape&)>;
std::vector<std::pair<std::string, DrawFn>> AllDraws() {
  return {
      {"uniform64", [](Generator& g, const Shape& s,
                       const Shape& b) { return g.uniform(s, -1.5, 2.0, float64, b); }},
      {"uniform32", [](Generator& g, const Shape& s,
                       const Shape& b) { return g.uniform(s, 0.0, 10.0, float32, b); }},
      {"normal64",
       [](Generator& g, const Shape& s, const Shape& b) { return g.normal(s, 1, 2, float64, b); }},
      {"normal32",
       [](Generator& g, const Shape& s, const Shape& b) { return g.normal(s, 0, 1, float32, b); }},
      {"integers_small", [](Generator& g, const Shape& s,
                            const Shape& b) { return g.integers(-5, 17, s, int64, b); }},
      {"integers32", [](Generator& g, const Shape& s,
                        const Shape& b) { return g.integers(0, 1000, s, int32, b); }},
      // Range 2^63 + 1: 64-bit lanes, and about half the first draws are rejected and retried.
      {"integers_huge", [](Generator& g, const Shape& s,
                           const Shape& b) { return g.integers(INT64_MIN, 1, s, int64, b); }},
      {"standard_normal32", [](Generator& g, const Shape& s,
                               const Shape& b) { return g.standard_normal(s, float32, b); }},
      {"exponential64", [](Generator& g, const Shape& s,
                           const Shape& b) { return g.exponential(s, 2.5, float64, b); }},
      // Inversion, and PTRS with its rejections (a varying number of words per element).
      {"poisson_small",
       [](Generator& g, const Shape& s, const Shape& b) { return g.poisson(s, 3.5, b); }},
      {"poisson_large",
       [](Generator& g, const Shape& s, const Shape& b) { return g.poisson(s, 250.0, b); }},
      {"binomial_small",
       [](Generator& g, const Shape& s, const Shape& b) { return g.binomial(s, 12, 0.7, b); }},
      {"binomial_large",
       [](Generator& g, const Shape& s, const Shape& b) { return g.binomial(s, 5000, 0.3, b); }},
      {"choice_replace", [](Generator& g, const Shape& s,
                            const Shape& b) { return g.choice(9, s, true, std::nullopt, b); }},
      {"choice_weighted",
       [](Generator& g, const Shape& s, const Shape& b) {
         return g.choice(5, s, true, std::vector<double>{0.1, 0.0, 0.45, 0.25, 0.2}, b);
       }},
      // Without replacement: the population (200) covers the largest draw (17 * 9).
      {"choice_no_replace",
       [](Generator& g, const Shape& s, const Shape& b) {
         return g.choice(200, s, false, std::nullopt, b);
       }},
      {"choice_weighted_no_replace",
       [](Generator& g, const Shape& s, const Shape& b) {
         std::vector<double> p(200);
         for (size_t k = 0; k < p.size(); ++k) p[k] = k % 10 == 3 ? 0.0 : 1.0 + k % 7;
         const double total = std::accumulate(p.begin(), p.end(), 0.0);
         for (double& x : p) x /= total;
         return g.choice(200, s, false, p, b);
       }},
  };
}

// Pearson's chi-square of `values` (non-negative integers) against the pmf: consecutive values
// from 0 pooled until each bin expects at least 5, the last bin taking the whole upper tail.
// Fails when the statistic exceeds its degrees of freedom by more than about 6 standard
// deviations (a p-value far below 1e-6), or on a value outside [0, support_max].
::testing::AssertionResult ChiSquareFits(const std::vector<int64_t>& values,
                                         const std::function<double(int64_t)>& pmf,
                                         int64_t support_max) {
  std::map<int64_t, int64_t> counts;
  for (int64_t v : values) {
    if (v < 0 || v > support_max) {
      return ::testing::AssertionFailure()
             << "value " << v << " outside [0, " << support_max << "]";
    }
    ++counts[v];
  }
  const double n = static_cast<double>(values.size());
  std::vector<double> expected, observed;
  double e = 0, o = 0, cumulative = 0;
  for (int64_t k = 0; k <= support_max && cumulative < 1.0 - 1e-12; ++k) {
    const double pk = pmf(k);
    if (pk == 0.0 && cumulative > 0.5) break;  // past the mode, the pmf underflowed
    cumulative += pk;
    e += n * pk;
    const auto it = counts.find(k);
    o += it == counts.end() ? 0.0 : static_cast<double>(it->second);
    if (e >= 5.0) {
      expected.push_back(e);
      observed.push_back(o);
      e = o = 0;
    }
  }
  // The rest of the support joins the last bin.
  double rest_observed = 0;
  for (const auto& [v, c] : counts) rest_observed += static_cast<double>(c);
  for (double x : observed) rest_observed -= x;
  const double rest_expected = n - std::accumulate(expected.begin(), expected.end(), 0.0);
  if (expected.empty()) {
    return ::testing::AssertionFailure() << "no bin expects 5 values";
  }
  expected.back() += rest_expected;
  observed.back() += rest_observed;
  double chi2 = 0;
  for (size_t b = 0; b < expected.size(); ++b) {
    chi2 += (observed[b] - expected[b]) * (observed[b] - expected[b]) / expected[b];
  }
  const double df = static_cast<double>(expected.size()) - 1.0;
  const double bound = df + 6.0 * std::sqrt(2.0 * df) + 12.0;
  if (chi2 > bound) {
    return ::testing::AssertionFailure() << "chi-square " << chi2 << " over " << df
                                         << " degrees of freedom (bound " << bound << ")";
  }
  return ::testing::AssertionSuccess();
}

double PoissonPmf(double lam, int64_t k) {
  const double kd = static_cast<double>(k);
  return std::exp(-lam + kd * std::log(lam) - std::lgamma(kd + 1.0));
}

// log(n! / (n - k)!) summed term by term: lgamma(n + 1) - lgamma(n - k + 1) would lose about
// 0.01 to cancellation at n = 2^40.
double BinomialPmf(int64_t n, double p, int64_t k) {
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  double falling = 0;
  for (int64_t j = 0; j < k; ++j) falling += std::log(nd - static_cast<double>(j));
  return std::exp(falling - std::lgamma(kd + 1.0) + kd * std::log(p) + (nd - kd) * std::log1p(-p));
}

class RandomTest : public testing::OnNodes {};

TEST_P(RandomTest, SameSeedSameValuesWhateverTheBlockShape) {
  const Shape shape{13, 11};
  for (const auto& [name, fn] : AllDraws()) {
    SCOPED_TRACE(name);
    Generator ref_gen(ctx_, 2024);
    const NDArray ref = fn(ref_gen, shape, {13, 11}).get();
    for (const Shape& bs :
         {Shape{7, 5}, Shape{3, 2}, Shape{1, 5}, Shape{13, 1}, Shape{1, 1}, Shape{}}) {
      Generator g(ctx_, 2024);
      BlockArray a = fn(g, shape, bs);
      if (!bs.empty()) {
        EXPECT_EQ(a.block_shape(), bs);
      }
      EXPECT_TRUE(Identical(a.get(), ref)) << "block shape " << shape_str(bs);
    }
  }
}

TEST_P(RandomTest, ValuesDependOnlyOnTheFlatIndex) {
  // The same 4 * 3 * 7 elements, however the shape and blocks cut them.
  for (const auto& [name, fn] : AllDraws()) {
    SCOPED_TRACE(name);
    Generator g1(ctx_, 5), g2(ctx_, 5), g3(ctx_, 5);
    const NDArray flat = fn(g1, {84}, {9}).get();
    const NDArray cube = fn(g2, {4, 3, 7}, {3, 2, 4}).get();
    const NDArray odd = fn(g3, {1, 2, 1, 42}, {1, 1, 1, 5}).get();
    EXPECT_TRUE(Identical(cube.reshape({84}), flat));
    EXPECT_TRUE(Identical(odd.reshape({84}), flat));
  }
}

TEST_P(RandomTest, BigBlocksMatchSmallOnes) {
  // Blocks past the parallel grain split into ranges that start mid-call.
  Generator g1(ctx_, 77), g2(ctx_, 77);
  const NDArray one = g1.normal({300'001}, 0, 1, float64, {300'001}).get();
  const NDArray many = g2.normal({300'001}, 0, 1, float64, {65'537}).get();
  EXPECT_TRUE(Identical(one, many));
  Generator g3(ctx_, 77), g4(ctx_, 77);
  EXPECT_TRUE(Identical(g3.integers(0, 3, {700, 701}, int32, {700, 701}).get(),
                        g4.integers(0, 3, {700, 701}, int32, {99, 123}).get()));
}

TEST_P(RandomTest, BlocksLiveOnTheirBlockCyclicNodes) {
  Generator g(ctx_, 1);
  BlockArray a = g.uniform({12, 12}, 0, 1, float64, {3, 3});
  const NodeGrid grid = NodeGrid::for_nodes(GetParam());
  const auto nodes = a.block_nodes();
  for (int64_t k = 0; k < a.grid().num_blocks(); ++k) {
    EXPECT_EQ(nodes[static_cast<size_t>(k)], grid.node_of(a.grid().entry(k), a.grid_shape()));
  }
  BlockArray p = g.permutation(40, {7});
  const auto pnodes = p.block_nodes();
  for (int64_t k = 0; k < p.grid().num_blocks(); ++k) {
    EXPECT_EQ(pnodes[static_cast<size_t>(k)], grid.node_of(p.grid().entry(k), p.grid_shape()));
  }
}

TEST_P(RandomTest, GeneratorsWithOneSeedRepeatTheirSequence) {
  Generator a(ctx_, 99), b(ctx_, 99);
  for (const auto& [name, fn] : AllDraws()) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(Identical(fn(a, {50}, {}).get(), fn(b, {50}, {}).get()));
  }
  EXPECT_TRUE(Identical(a.permutation(30).get(), b.permutation(30).get()));
  // The current-context constructor draws the same values.
  Generator c(99);
  EXPECT_EQ(c.seed(), 99u);
  EXPECT_TRUE(Identical(c.uniform({50}, -1.5, 2.0).get(),
                        Generator(ctx_, 99).uniform({50}, -1.5, 2.0).get()));
  // Copies share one sequence.
  Generator d(ctx_, 3);
  Generator d_copy = d;
  const NDArray first = d.normal({20}).get();
  const NDArray second = d_copy.normal({20}).get();
  EXPECT_TRUE(Differ(first, second));
  Generator e(ctx_, 3);
  EXPECT_TRUE(Identical(e.normal({20}).get(), first));
  EXPECT_TRUE(Identical(e.normal({20}).get(), second));
}

TEST_P(RandomTest, SeedsAndSuccessiveCallsDiffer) {
  for (const auto& [name, fn] : AllDraws()) {
    SCOPED_TRACE(name);
    Generator a(ctx_, 1), b(ctx_, 2);
    const NDArray a1 = fn(a, {64}, {}).get();
    const NDArray a2 = fn(a, {64}, {}).get();
    EXPECT_TRUE(Differ(a1, a2));
    EXPECT_TRUE(Differ(a1, fn(b, {64}, {}).get()));
  }
  // Seeds that differ only in the high bits.
  Generator hi1(ctx_, uint64_t{1} << 63), hi2(ctx_, 0);
  EXPECT_TRUE(Differ(hi1.uniform({16}).get(), hi2.uniform({16}).get()));
  // An empty call still takes a stream.
  Generator c(ctx_, 8), d(ctx_, 8);
  EXPECT_EQ(c.uniform({0}).size(), 0);
  EXPECT_TRUE(Differ(c.uniform({16}).get(), d.uniform({16}).get()));
}

TEST_P(RandomTest, UniformStatistics) {
  Generator g(ctx_, 11);
  const int64_t n = 1'000'000;
  const std::vector<double> v = g.uniform({1000, 1000}, -2.0, 3.0).get().to_vector<double>();
  const Moments m = MomentsOf(v);
  EXPECT_GE(m.min, -2.0);
  EXPECT_LT(m.max, 3.0);
  EXPECT_LT(m.min, -1.999);
  EXPECT_GT(m.max, 2.999);
  // Standard errors: mean 0.0014, variance 0.0019; tolerances are about 6 of them.
  EXPECT_NEAR(m.mean, 0.5, 0.009);
  EXPECT_NEAR(m.var, 25.0 / 12.0, 0.012);
  EXPECT_NEAR(Lag1Correlation(v, m), 0.0, 0.006);
  std::vector<int64_t> bins(10, 0);
  for (double x : v) ++bins[static_cast<size_t>((x + 2.0) * 2.0)];
  for (int64_t b : bins) EXPECT_NEAR(static_cast<double>(b) / n, 0.1, 0.002);

  // random(): [0, 1); in float32, multiples of 2^-24.
  const NDArray f = g.random({200'000}, float32).get();
  EXPECT_EQ(f.dtype(), float32);
  const float* p = f.data<float>();
  double sum = 0;
  for (int64_t k = 0; k < f.size(); ++k) {
    ASSERT_GE(p[k], 0.0f);
    ASSERT_LT(p[k], 1.0f);
    const float scaled = p[k] * 16777216.0f;
    ASSERT_EQ(scaled, std::floor(scaled));
    sum += p[k];
  }
  EXPECT_NEAR(sum / static_cast<double>(f.size()), 0.5, 0.004);
  const std::vector<double> fv = f.to_vector<double>();
  EXPECT_NEAR(Lag1Correlation(fv, MomentsOf(fv)), 0.0, 0.014);  // se 0.0022
  // float64 values use 53 bits: some are not multiples of 2^-32.
  const NDArray d = g.random({1000}).get();
  int64_t fine = 0;
  for (int64_t k = 0; k < d.size(); ++k) {
    const double scaled = d.value_at<double>(k) * 4294967296.0;
    fine += scaled != std::floor(scaled);
  }
  EXPECT_GT(fine, 900);
  // high < low samples (high, low].
  const Moments r = MomentsOf(g.uniform({10'000}, 5.0, 4.0).get().to_vector<double>());
  EXPECT_GT(r.min, 4.0);
  EXPECT_LE(r.max, 5.0);
  EXPECT_NEAR(r.mean, 4.5, 0.02);
}

TEST_P(RandomTest, NormalStatistics) {
  Generator g(ctx_, 12);
  const int64_t n = 1'000'000;
  const std::vector<double> v = g.normal({n}, 2.0, 3.0).get().to_vector<double>();
  const Moments m = MomentsOf(v);
  // Standard errors: mean 0.003, std 0.0021.
  EXPECT_NEAR(m.mean, 2.0, 0.02);
  EXPECT_NEAR(std::sqrt(m.var), 3.0, 0.015);
  EXPECT_NEAR(Lag1Correlation(v, m), 0.0, 0.006);
  int64_t beyond2 = 0, beyond3 = 0, above = 0;
  double fourth = 0;
  for (double x : v) {
    const double z = (x - 2.0) / 3.0;
    beyond2 += std::abs(z) > 2.0;
    beyond3 += std::abs(z) > 3.0;
    above += z > 0.0;
    fourth += z * z * z * z;
  }
  // P(|Z| > 2) = 0.0455 (se 0.0002), P(|Z| > 3) = 0.0027 (se 0.00005), kurtosis 3 (se 0.005).
  EXPECT_NEAR(static_cast<double>(beyond2) / n, 0.0455, 0.0012);
  EXPECT_NEAR(static_cast<double>(beyond3) / n, 0.0027, 0.0003);
  EXPECT_NEAR(static_cast<double>(above) / n, 0.5, 0.003);
  EXPECT_NEAR(fourth / n, 3.0, 0.04);

  // float32: the float64 values of the same stream, rounded.
  Generator g32(ctx_, 13), g64(ctx_, 13);
  const NDArray f = g32.normal({100'000}, -1.0, 0.5, float32).get();
  const NDArray d = g64.normal({100'000}, -1.0, 0.5, float64).get();
  EXPECT_EQ(f.dtype(), float32);
  EXPECT_TRUE(Identical(f, d.astype(float32)));
  const Moments mf = MomentsOf(f.to_vector<double>());
  EXPECT_NEAR(mf.mean, -1.0, 0.01);
  EXPECT_NEAR(std::sqrt(mf.var), 0.5, 0.01);

  // scale 0 gives loc.
  EXPECT_TRUE(Identical(g.normal({5}, 4.0, 0.0).get(), full({5}, 4.0).get()));
}

TEST_P(RandomTest, IntegersRangeAndFrequencies) {
  Generator g(ctx_, 13);
  const int64_t n = 1'000'000;
  const NDArray a = g.integers(-3, 7, {n}).get();
  EXPECT_EQ(a.dtype(), int64);
  std::map<int64_t, int64_t> counts;
  for (int64_t x : a.to_vector<int64_t>()) ++counts[x];
  ASSERT_EQ(counts.size(), 10u);
  EXPECT_EQ(counts.begin()->first, -3);
  EXPECT_EQ(counts.rbegin()->first, 6);
  // Per-value frequency 0.1, se 0.0003.
  for (const auto& [value, count] : counts) {
    EXPECT_NEAR(static_cast<double>(count) / n, 0.1, 0.002) << "value " << value;
  }

  const NDArray b = g.integers(5, 6, {1000}, int32).get();
  EXPECT_EQ(b.dtype(), int32);
  EXPECT_TRUE(Identical(b, full({1000}, 5, int32).get()));

  // Range 3: frequencies stay 1/3 (a biased modulo over 32 bits would not show it, but a wrong
  // lane or a repeated word would).
  std::vector<int64_t> thirds(3, 0);
  for (int32_t x : g.integers(0, 3, {300'000}, int32).get().to_vector<int32_t>()) {
    ASSERT_GE(x, 0);
    ASSERT_LT(x, 3);
    ++thirds[static_cast<size_t>(x)];
  }
  for (int64_t c : thirds) EXPECT_NEAR(static_cast<double>(c) / 300'000, 1.0 / 3, 0.005);

  // The whole int32 range (2^32 values: 64-bit lanes).
  const auto w =
      g.integers(INT32_MIN, int64_t{INT32_MAX} + 1, {100'000}, int32).get().to_vector<double>();
  const Moments mw = MomentsOf(w);
  EXPECT_LT(mw.min, -2.0e9);
  EXPECT_GT(mw.max, 2.0e9);
  EXPECT_NEAR(mw.mean / 2147483648.0, 0.0, 0.02);

  // Range 3 * 2^62: a quarter of the first draws are rejected. Multiply-shift without the
  // rejection would give (x - low) % 3 == 2 half the time instead of a third.
  const int64_t low = -3 * (int64_t{1} << 61);
  std::vector<int64_t> mod3(3, 0);
  for (int64_t x : g.integers(low, -low, {300'000}).get().to_vector<int64_t>()) {
    ASSERT_GE(x, low);
    ASSERT_LT(x, -low);
    ++mod3[(static_cast<uint64_t>(x) - static_cast<uint64_t>(low)) % 3];
  }
  for (int64_t c : mod3) EXPECT_NEAR(static_cast<double>(c) / 300'000, 1.0 / 3, 0.005);

  // [INT64_MIN, 0]: range 2^63 + 1, about half the first draws are rejected.
  const NDArray h = g.integers(INT64_MIN, 1, {200'000}).get();
  int64_t lower_half = 0;
  for (int64_t x : h.to_vector<int64_t>()) {
    ASSERT_LE(x, 0);
    lower_half += x < INT64_MIN / 2;
  }
  EXPECT_NEAR(static_cast<double>(lower_half) / 200'000, 0.5, 0.006);
}

TEST_P(RandomTest, PermutationIsAShuffle) {
  Generator g(ctx_, 21);
  const NDArray p = g.permutation(1000, {64}).get();
  EXPECT_EQ(p.dtype(), int64);
  EXPECT_EQ(p.shape(), Shape{1000});
  std::vector<int64_t> v = p.to_vector<int64_t>();
  std::vector<int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_NE(v, iota);
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, iota);

  // Independent of the blocking; differs by seed and by call.
  Generator a(ctx_, 21), b(ctx_, 22);
  EXPECT_TRUE(Identical(a.permutation(1000, {7}).get(), p));
  EXPECT_TRUE(Differ(a.permutation(1000).get(), p));
  EXPECT_TRUE(Differ(b.permutation(1000).get(), p));

  EXPECT_EQ(g.permutation(0).size(), 0);
  EXPECT_TRUE(Identical(g.permutation(1).get(), NDArray::from_vector<int64_t>({0})));
}

TEST_P(RandomTest, PermutationOrdersAreEquallyLikely) {
  // 4! orders over 6000 shuffles: 250 each (se 15.5).
  Generator g(ctx_, 31);
  std::map<std::vector<int64_t>, int64_t> counts;
  for (int k = 0; k < 6000; ++k) ++counts[g.permutation(4).get().to_vector<int64_t>()];
  EXPECT_EQ(counts.size(), 24u);
  for (const auto& [order, count] : counts) EXPECT_NEAR(count, 250, 80);
}

TEST_P(RandomTest, PermutationOfRows) {
  const NDArray x = testing::RandomNDArray({23, 6}, float64, 4);
  for (const Shape& bs : {Shape{5, 4}, Shape{23, 6}, Shape{1, 1}}) {
    SCOPED_TRACE(shape_str(bs));
    Generator g(ctx_, 41), ref(ctx_, 41);
    BlockArray px = g.permutation(from_ndarray(x, bs));
    EXPECT_EQ(px.shape(), x.shape());
    EXPECT_EQ(px.block_shape(), bs);
    const std::vector<int64_t> perm = ref.permutation(23).get().to_vector<int64_t>();
    const NDArray got = px.get();
    for (int64_t r = 0; r < 23; ++r) {
      for (int64_t c = 0; c < 6; ++c) {
        ASSERT_EQ(got.at<double>({r, c}), x.at<double>({perm[static_cast<size_t>(r)], c}));
      }
    }
  }
  // 1-d int32 and 3-d bool keep their dtype; the multiset of rows is kept.
  Generator g(ctx_, 42);
  const NDArray v = g.permutation(array<int32_t>({5, 1, 4, 2, 3}, {}, {2})).get();
  EXPECT_EQ(v.dtype(), int32);
  std::vector<int32_t> sorted = v.to_vector<int32_t>();
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int32_t>{1, 2, 3, 4, 5}));
  const NDArray cube = testing::RandomNDArray({4, 3, 2}, bool_, 9);
  const NDArray pc = g.permutation(from_ndarray(cube, {3, 2, 1})).get();
  EXPECT_EQ(pc.dtype(), bool_);
  int64_t trues = 0, want = 0;
  for (int64_t k = 0; k < 24; ++k) {
    trues += pc.value_at<int64_t>(k);
    want += cube.value_at<int64_t>(k);
  }
  EXPECT_EQ(trues, want);
  // Empty arrays stay empty.
  EXPECT_EQ(g.permutation(zeros({0, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(g.permutation(zeros({4, 0})).get().shape(), (Shape{4, 0}));
}

TEST_P(RandomTest, ZeroDimensionalAndEmpty) {
  Generator g(ctx_, 51);
  const NDArray s = g.uniform({}).get();
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_GE(s.item<double>(), 0.0);
  EXPECT_LT(s.item<double>(), 1.0);
  // The 0-d value is element 0 of the stream.
  Generator a(ctx_, 51);
  EXPECT_EQ(a.uniform({3}).get().value_at<double>(0), s.item<double>());
  const int64_t i = g.integers(10, 20).item<int64_t>();
  EXPECT_GE(i, 10);
  EXPECT_LT(i, 20);
  EXPECT_EQ(g.normal({}, 0, 1, float32).get().dtype(), float32);
  EXPECT_EQ(g.normal({0, 5}).get().shape(), (Shape{0, 5}));
  EXPECT_EQ(g.integers(0, 5, {3, 0, 2}, int32).get().size(), 0);
  EXPECT_EQ(g.random({0}).get().size(), 0);
}

TEST_P(RandomTest, ErrorsNameTheBadValue) {
  Generator g(ctx_, 61);
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.uniform({3, -2}); }, "(3, -2)"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.normal({-1}); }, "(-1,)"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.integers(0, 2, {-4}); }, "(-4,)"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.random({2, -7}); }, "(2, -7)"));
  EXPECT_TRUE(ThrowsWith<ShapeError>([&] { g.permutation(-3); }, "-3"));
  EXPECT_TRUE(ThrowsWith<ShapeError>([&] { g.uniform({4, 4}, 0, 1, float64, {2}); }, "(2,)"));
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.uniform({2}, 0, 1, int64); }, "int64"));
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.normal({2}, 0, 1, bool_); }, "bool"));
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.random({2}, int32); }, "int32"));
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.integers(0, 2, {2}, float64); }, "float64"));
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.integers(0, 2, {2}, bool_); }, "bool"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.normal({2}, 0, -0.5); }, "-0.5"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.normal({2}, 0, std::nan("")); }, "nan"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.normal({2}, INFINITY, 1); }, "inf"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.uniform({2}, 0, INFINITY); }, "inf"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.uniform({2}, -1e308, 1e308); }, "high - low"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.integers(5, 5); }, "5"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.integers(7, -2, {3}); }, "-2"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.integers(0, (int64_t{1} << 31) + 1, {3}, int32); },
                                     "2147483649"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.integers(int64_t{INT32_MIN} - 1, 0, {3}, int32); },
                                     "-2147483649"));
  EXPECT_TRUE(ThrowsWith<IndexError>([&] { g.permutation(full({}, 1.0)); }, "dimension 0"));
  // Failed calls take no stream.
  EXPECT_TRUE(Identical(g.uniform({8}).get(), Generator(ctx_, 61).uniform({8}).get()));
}

TEST_P(RandomTest, StandardNormalAndExponential) {
  // standard_normal is normal(0, 1) on the same stream.
  Generator a(ctx_, 70), b(ctx_, 70);
  EXPECT_TRUE(Identical(a.standard_normal({1000}).get(), b.normal({1000}, 0.0, 1.0).get()));
  EXPECT_TRUE(
      Identical(a.standard_normal({7, 3}, float32).get(), b.normal({7, 3}, 0, 1, float32).get()));

  Generator g(ctx_, 71);
  const int64_t n = 1'000'000;
  const double scale = 2.0;
  const std::vector<double> v = g.exponential({n}, scale).get().to_vector<double>();
  const Moments m = MomentsOf(v);
  EXPECT_GE(m.min, 0.0);
  // se(mean) = scale / sqrt(n); se(var) = sqrt(mu4 - sigma^4) / sqrt(n) = sqrt(8) scale^2 / 1000.
  const double sn = std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(m.mean, scale, 6 * scale / sn);
  EXPECT_NEAR(m.var, scale * scale, 6 * std::sqrt(8.0) * scale * scale / sn);
  EXPECT_NEAR(Lag1Correlation(v, m), 0.0, 6 / sn);
  // P(X > scale) = 1/e and P(X > 5 scale) = e^-5: the tail is exponential, not just the mean.
  int64_t above1 = 0, above5 = 0;
  for (double x : v) {
    above1 += x > scale;
    above5 += x > 5 * scale;
  }
  const double p1 = std::exp(-1.0), p5 = std::exp(-5.0);
  EXPECT_NEAR(static_cast<double>(above1) / n, p1, 6 * std::sqrt(p1 * (1 - p1) / n));
  EXPECT_NEAR(static_cast<double>(above5) / n, p5, 6 * std::sqrt(p5 * (1 - p5) / n));

  // float32 is the float64 value rounded; scale 0 gives zeros.
  Generator g32(ctx_, 72), g64(ctx_, 72);
  const NDArray f = g32.exponential({5000}, 0.5, float32).get();
  EXPECT_EQ(f.dtype(), float32);
  EXPECT_TRUE(Identical(f, g64.exponential({5000}, 0.5).get().astype(float32)));
  EXPECT_TRUE(Identical(g.exponential({4}, 0.0).get(), zeros({4}).get()));
}

TEST_P(RandomTest, PoissonMatchesItsPmf) {
  Generator g(ctx_, 81);
  const int64_t n = 200'000;
  // Both sides of the inversion / PTRS switch at 10, and far into PTRS.
  for (double lam : {0.05, 1.0, 3.5, 9.99, 10.0, 47.3, 1500.0}) {
    SCOPED_TRACE("lam " + std::to_string(lam));
    const NDArray a = g.poisson({n}, lam, {n / 3 + 1}).get();
    ASSERT_EQ(a.dtype(), int64);
    const std::vector<int64_t> v = a.to_vector<int64_t>();
    EXPECT_TRUE(ChiSquareFits(
        v, [&](int64_t k) { return PoissonPmf(lam, k); }, std::numeric_limits<int64_t>::max()));
    std::vector<double> d(v.begin(), v.end());
    const Moments m = MomentsOf(d);
    EXPECT_NEAR(m.mean, lam, 6 * std::sqrt(lam / n));
  }
  // A huge mean: the mean within 6 standard errors, the spread about sqrt(lam).
  const double lam = 4e9;
  const std::vector<double> big = g.poisson({100'000}, lam).get().to_vector<double>();
  const Moments m = MomentsOf(big);
  EXPECT_NEAR(m.mean, lam, 6 * std::sqrt(lam / 1e5));
  EXPECT_NEAR(std::sqrt(m.var), std::sqrt(lam), 0.02 * std::sqrt(lam));
  // lam 0 gives zeros.
  EXPECT_TRUE(Identical(g.poisson({6}, 0.0).get(), zeros({6}, int64).get()));
}

TEST_P(RandomTest, BinomialMatchesItsPmf) {
  Generator g(ctx_, 91);
  const int64_t draws = 200'000;
  struct Case {
    int64_t n;
    double p;
  };
  // Inversion (n min(p, 1-p) < 10), BTRS above, and p > 1/2 (drawn as n - Binomial(n, 1 - p)).
  for (const Case& c :
       {Case{1, 0.5}, Case{10, 0.3}, Case{15, 0.9}, Case{1000, 0.004}, Case{40, 0.25},
        Case{100, 0.5}, Case{5000, 0.3}, Case{300, 0.93}, Case{int64_t{1} << 40, 1e-11}}) {
    SCOPED_TRACE("n " + std::to_string(c.n) + " p " + std::to_string(c.p));
    const std::vector<int64_t> v =
        g.binomial({draws}, c.n, c.p, {draws / 4 + 3}).get().to_vector<int64_t>();
    EXPECT_TRUE(ChiSquareFits(
        v, [&](int64_t k) { return BinomialPmf(c.n, c.p, k); }, c.n));
    std::vector<double> d(v.begin(), v.end());
    const Moments m = MomentsOf(d);
    const double mean = static_cast<double>(c.n) * c.p;
    EXPECT_NEAR(m.mean, mean, 6 * std::sqrt(mean * (1 - c.p) / draws));
  }
  // Degenerate cases.
  EXPECT_TRUE(Identical(g.binomial({5}, 0, 0.4).get(), zeros({5}, int64).get()));
  EXPECT_TRUE(Identical(g.binomial({5}, 7, 0.0).get(), zeros({5}, int64).get()));
  EXPECT_TRUE(Identical(g.binomial({5}, 7, 1.0).get(), full({5}, 7, int64).get()));
}

TEST_P(RandomTest, ChoiceWithReplacement) {
  Generator g(ctx_, 101);
  const int64_t n = 300'000;
  // Uniform over 0 .. 5: integers on the same stream.
  Generator ref(ctx_, 101);
  const NDArray u = g.choice(6, {n}).get();
  EXPECT_TRUE(Identical(u, ref.integers(0, 6, {n}).get()));
  std::vector<int64_t> counts(6, 0);
  for (int64_t x : u.to_vector<int64_t>()) ++counts[static_cast<size_t>(x)];
  for (int64_t c : counts) {
    EXPECT_NEAR(static_cast<double>(c) / n, 1.0 / 6, 6 * std::sqrt(5.0 / 36 / n));
  }

  // Weighted: frequencies follow p, zero weights never come out.
  const std::vector<double> p{0.1, 0.0, 0.6, 0.05, 0.25};
  const NDArray w = g.choice(5, {n}, true, p, {n / 7}).get();
  std::vector<int64_t> wc(5, 0);
  for (int64_t x : w.to_vector<int64_t>()) {
    ASSERT_GE(x, 0);
    ASSERT_LT(x, 5);
    ++wc[static_cast<size_t>(x)];
  }
  EXPECT_EQ(wc[1], 0);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_NEAR(static_cast<double>(wc[k]) / n, p[k], 6 * std::sqrt(p[k] * (1 - p[k]) / n) + 1e-12)
        << "value " << k;
  }
  // p as a blocked BlockArray (dyadic weights: its cumsum is exact in any blocking) gives the
  // same samples as p as a vector; a trailing zero weight is never chosen.
  const std::vector<double> q{0.25, 0.0, 0.5, 0.25, 0.0};
  Generator g1(ctx_, 5), g2(ctx_, 5);
  const NDArray from_vec = g1.choice(5, {40, 50}, true, q).get();
  const NDArray from_arr = g2.choice(5, {40, 50}, true, array<double>(q, {}, {2})).get();
  EXPECT_TRUE(Identical(from_vec, from_arr));
  for (int64_t x : from_vec.to_vector<int64_t>()) ASSERT_TRUE(x == 0 || x == 2 || x == 3) << x;
  // One element with all the weight.
  EXPECT_TRUE(Identical(g.choice(3, {20}, true, std::vector<double>{0, 0, 1}).get(),
                        full({20}, 2, int64).get()));

  // From an array: its elements, as take of the positions.
  const BlockArray a = array<double>({1.5, -2.0, 7.25, 9.0}, {}, {3});
  Generator ga(ctx_, 102), gi(ctx_, 102);
  const NDArray picked = g.choice(a, {4, 5}).get();
  EXPECT_EQ(picked.shape(), (Shape{4, 5}));
  EXPECT_EQ(picked.dtype(), float64);
  const NDArray by_array = ga.choice(a, {30}, true, std::vector<double>{0.5, 0, 0, 0.5}).get();
  const NDArray by_index = gi.choice(4, {30}, true, std::vector<double>{0.5, 0, 0, 0.5}).get();
  for (int64_t k = 0; k < 30; ++k) {
    const double want = a.get().value_at<double>(by_index.value_at<int64_t>(k));
    ASSERT_EQ(by_array.value_at<double>(k), want);
  }
}

TEST_P(RandomTest, ChoiceWithoutReplacement) {
  // Uniform: the first samples of the permutation on the same stream.
  Generator g(ctx_, 111), ref(ctx_, 111);
  const NDArray c = g.choice(50, {4, 5}, false, std::nullopt, {3, 2}).get();
  const std::vector<int64_t> perm = ref.permutation(50).get().to_vector<int64_t>();
  EXPECT_EQ(c.to_vector<int64_t>(), std::vector<int64_t>(perm.begin(), perm.begin() + 20));
  // The whole population is a permutation.
  std::vector<int64_t> all_of = g.choice(30, {30}, false).get().to_vector<int64_t>();
  std::sort(all_of.begin(), all_of.end());
  std::vector<int64_t> iota(30);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(all_of, iota);

  // Weighted: distinct, no zero weight, and successive sampling's law: the first pick is k with
  // probability p_k, the second is 1 with probability sum_{i != 1} p_i p_1 / (1 - p_i).
  const std::vector<double> p{0.5, 0.25, 0.125, 0.125, 0.0};
  const int trials = 4000;
  std::vector<int64_t> first(5, 0);
  int64_t second_is_1 = 0;
  for (int t = 0; t < trials; ++t) {
    const std::vector<int64_t> s = g.choice(5, {2}, false, p).get().to_vector<int64_t>();
    ASSERT_NE(s[0], s[1]);
    ASSERT_NE(s[0], 4);
    ASSERT_NE(s[1], 4);
    ++first[static_cast<size_t>(s[0])];
    second_is_1 += s[1] == 1;
  }
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_NEAR(static_cast<double>(first[k]) / trials, p[k],
                6 * std::sqrt(p[k] * (1 - p[k]) / trials));
  }
  const double p2 = 0.5 * 0.25 / 0.5 + 2 * 0.125 * 0.25 / 0.875;
  EXPECT_NEAR(static_cast<double>(second_is_1) / trials, p2, 6 * std::sqrt(p2 * (1 - p2) / trials));
  // All the nonzero weights: every one of them once. p as a BlockArray is gathered.
  std::vector<int64_t> nz =
      g.choice(5, {4}, false, array<double>(p, {}, {2})).get().to_vector<int64_t>();
  std::sort(nz.begin(), nz.end());
  EXPECT_EQ(nz, (std::vector<int64_t>{0, 1, 2, 3}));
  // From an array.
  const BlockArray a = array<int32_t>({10, 20, 30, 40, 50}, {}, {2});
  std::vector<int32_t> got = g.choice(a, {5}, false).get().to_vector<int32_t>();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int32_t>{10, 20, 30, 40, 50}));
}

TEST_P(RandomTest, ShuffleInPlace) {
  const NDArray x = testing::RandomNDArray({17, 3}, float64, 6);
  for (const Shape& bs : {Shape{4, 2}, Shape{17, 3}, Shape{1, 1}}) {
    SCOPED_TRACE(shape_str(bs));
    Generator g(ctx_, 121), ref(ctx_, 121);
    BlockArray a = from_ndarray(x, bs);
    const BlockArray alias = a;  // shares a's blocks, as a Python reference would
    g.shuffle(a);
    EXPECT_EQ(a.shape(), x.shape());
    EXPECT_EQ(a.block_shape(), bs);
    const NDArray want = ref.permutation(from_ndarray(x, bs)).get();
    EXPECT_TRUE(Identical(a.get(), want));
    EXPECT_TRUE(Identical(alias.get(), want));
    EXPECT_TRUE(Differ(a.get(), x));
  }
  Generator g(ctx_, 122);
  BlockArray v = arange(10);
  g.shuffle(v);
  std::vector<int64_t> sorted = v.get().to_vector<int64_t>();
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, arange(10).get().to_vector<int64_t>());
  BlockArray empty = zeros({0, 2});
  g.shuffle(empty);
  EXPECT_EQ(empty.shape(), (Shape{0, 2}));
  BlockArray scalar = full({}, 1.0);
  EXPECT_TRUE(ThrowsWith<IndexError>([&] { g.shuffle(scalar); }, "dimension 0"));
}

TEST_P(RandomTest, NewDrawsZeroDimensionalAndEmpty) {
  Generator g(ctx_, 131);
  EXPECT_EQ(g.standard_normal({}).get().shape(), Shape{});
  EXPECT_GE(g.exponential({}).item<double>(), 0.0);
  const NDArray p = g.poisson({}, 4.0).get();
  EXPECT_EQ(p.shape(), Shape{});
  EXPECT_EQ(p.dtype(), int64);
  const int64_t b = g.binomial({}, 10, 0.5).item<int64_t>();
  EXPECT_GE(b, 0);
  EXPECT_LE(b, 10);
  const NDArray c = g.choice(7).get();  // NumPy's size=None: one sample, here 0-d
  EXPECT_EQ(c.shape(), Shape{});
  EXPECT_GE(c.item<int64_t>(), 0);
  EXPECT_LT(c.item<int64_t>(), 7);
  EXPECT_EQ(g.poisson({0, 4}, 100.0).get().shape(), (Shape{0, 4}));
  EXPECT_EQ(g.binomial({3, 0}, 5, 0.5).get().size(), 0);
  EXPECT_EQ(g.exponential({0}).get().size(), 0);
  // No samples from an empty population; every call still takes a stream.
  Generator e(ctx_, 132), f(ctx_, 132);
  const NDArray none = e.choice(0, {0, 3}).get();
  EXPECT_EQ(none.shape(), (Shape{0, 3}));
  EXPECT_EQ(none.dtype(), int64);
  EXPECT_EQ(e.choice(zeros({0}), {0}, false).size(), 0);
  f.uniform({2});
  f.uniform({2});
  EXPECT_TRUE(Identical(e.uniform({8}).get(), f.uniform({8}).get()));
}

TEST_P(RandomTest, NewDrawsErrorsNameTheBadValue) {
  Generator g(ctx_, 141);
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.standard_normal({2}, int64); }, "int64"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.standard_normal({-2}); }, "(-2,)"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.exponential({2}, -1.5); }, "-1.5"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.exponential({2}, std::nan("")); }, "nan"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.exponential({2}, INFINITY); }, "inf"));
  EXPECT_TRUE(ThrowsWith<DTypeError>([&] { g.exponential({2}, 1.0, int32); }, "int32"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.poisson({2}, -0.25); }, "-0.25"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.poisson({2}, std::nan("")); }, "nan"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.poisson({2}, 2e10); }, "2e+10"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.poisson({2}, INFINITY); }, "inf"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.poisson({3, -1}); }, "(3, -1)"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.binomial({2}, -3, 0.5); }, "-3"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.binomial({2}, 3, 1.5); }, "1.5"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.binomial({2}, 3, -0.1); }, "-0.1"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.binomial({2}, 3, std::nan("")); }, "nan"));
  // choice
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.choice(-2, {3}); }, "-2"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.choice(0, {3}); },
                                     "a cannot be empty unless no samples are taken"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.choice(zeros({0}), {1}); },
                                     "a cannot be empty unless no samples are taken"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(zeros({2, 2}), {1});
      },
      "a must be 1-dimensional"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(5, {2, 3}, false);
      },
      "(6) than the population (5)"));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g.choice(5, {-1}); }, "(-1,)"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, std::vector<double>{0.5, 0.5});
      },
      "same size"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, std::vector<double>{0.5, 0.7, -0.2});
      },
      "-0.2"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, false, std::vector<double>{0.5, 0.5, std::nan("")});
      },
      "NaN"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, std::vector<double>{0.5, 0.2, 0.2});
      },
      "sum to 1 (sum 0.9)"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, array<double>({0.5, 0.2, 0.2}));
      },
      "sum to 1"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, array<double>({0.5, 0.5, -0.0, 0.0}));
      },
      "same size"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, array<double>({0.5, -0.5, 1.0}));
      },
      "-0.5"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {2}, true, array<double>({0.5, NAN, 0.5}));
      },
      "NaN"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(4, {2}, true, array<double>({0.25, 0.25, 0.25, 0.25}, {2, 2}));
      },
      "p must be 1-dimensional"));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        g.choice(3, {3}, false, std::vector<double>{0.5, 0.5, 0.0});
      },
      "fewer non-zero entries in p (2) than size (3)"));
  EXPECT_TRUE(ThrowsWith<ShapeError>(
      [&] {
        g.choice(5, {4, 4}, true, std::nullopt, {2});
      },
      "(2,)"));
  // The tolerance on the sum is NumPy's sqrt(eps).
  EXPECT_NO_THROW(g.choice(2, {2}, true, std::vector<double>{0.5, 0.5 + 1e-9}));
  // Failed calls take no stream (the successful one above took one).
  Generator ref(ctx_, 141);
  ref.choice(2, {2}, true, std::vector<double>{0.5, 0.5 + 1e-9});
  EXPECT_TRUE(Identical(g.uniform({8}).get(), ref.uniform({8}).get()));
}

INSTANTIATE_TEST_SUITE_P(Nodes, RandomTest, ::testing::Values(1, 3, 4));

TEST(RandomNodesTest, SameValuesOnOneThreeAndFourNodes) {
  std::vector<NDArray> ref;
  for (int64_t nodes : {1, 3, 4}) {
    Context ctx = init({.nodes = nodes, .threads_per_node = 1});
    Generator g(ctx, 7);
    std::vector<NDArray> got;
    for (const auto& [name, fn] : AllDraws()) got.push_back(fn(g, {17, 9}, {4, 4}).get());
    got.push_back(g.permutation(100, {9}).get());
    got.push_back(
        g.permutation(from_ndarray(testing::RandomNDArray({10, 3}, int64, 2), {3, 2})).get());
    BlockArray s = from_ndarray(testing::RandomNDArray({11, 2}, float64, 3), {4, 1});
    g.shuffle(s);
    got.push_back(s.get());
    got.push_back(g.choice(array<double>({3, 1, 4, 1, 5, 9, 2, 6}, {}, {3}), {5, 3}).get());
    got.push_back(g.choice(40, {6}, true, arange(40.0) / 780.0).get());
    if (ref.empty()) {
      ref = got;
      continue;
    }
    for (size_t k = 0; k < ref.size(); ++k) {
      EXPECT_TRUE(Identical(got[k], ref[k])) << "draw " << k << " on " << nodes << " nodes";
    }
  }
}

TEST(RandomDiscreteTest, LogFactorialRatioIsExactForSmallAndHugeArguments) {
  for (double a = 0; a < 200; a += 3) {
    for (double b = 0; b < 200; b += 5) {
      const double want = std::lgamma(a + 1) - std::lgamma(b + 1);
      ASSERT_NEAR(kernels::LogFactorialRatio(a, b), want, 1e-11 * (1 + std::abs(want)))
          << a << " " << b;
    }
  }
  // n! / (n - 20)! at n = 2^40, against the sum of its 20 logarithms.
  const double n = 1099511627776.0;
  double falling = 0;
  for (int j = 0; j < 20; ++j) falling += std::log(n - j);
  EXPECT_NEAR(kernels::LogFactorialRatio(n, n - 20), falling, 1e-12 * falling);
  EXPECT_NEAR(kernels::LogFactorialRatio(n - 20, n), -falling, 1e-12 * falling);
}

TEST(RandomPhiloxTest, MatchesRandom123KnownAnswers) {
  // Random123's kat_vectors: philox4x64 10 rounds, zero counter and key.
  const kernels::PhiloxWords w = kernels::PhiloxAt(0, 0, 0, 0);
  EXPECT_EQ(w.v[0], 0x16554d9eca36314cULL);
  EXPECT_EQ(w.v[1], 0xdb20fe9d672d0fdcULL);
  EXPECT_EQ(w.v[2], 0xd7e772cee186176bULL);
  EXPECT_EQ(w.v[3], 0x7e68b68aec7ba23bULL);
  // Lanes: 32-bit lane 2l is the low half of word l.
  EXPECT_EQ(kernels::Lane<uint32_t>(w, 2), 0x672d0fdcu);
  EXPECT_EQ(kernels::Lane<uint32_t>(w, 3), 0xdb20fe9du);
  EXPECT_EQ(kernels::Uniform53(~uint64_t{0}), 1.0 - 0x1.0p-53);
  EXPECT_EQ(kernels::Uniform53OpenLow(0), 0x1.0p-53);
}

}  // namespace
}  // namespace nums
