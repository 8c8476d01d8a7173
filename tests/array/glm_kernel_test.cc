// "glm.newton_terms" against a plain reference (std::exp, std::log1p, the sums written out) for
// every family, feature counts on and off the kernel's 8-column tiles, chunk-crossing row counts,
// and linear predictors out to where e^-|eta| underflows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/kernel_registry.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/glm_ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::Scalar;

struct Reference {
  double loss = 0;
  std::vector<double> g;  // p
  std::vector<double> h;  // p x p
};

// The packed terms written out row by row in long double.
Reference Expected(GlmFamily family, const std::vector<double>& x, const std::vector<double>& y,
                   int64_t n, int64_t d, const std::vector<double>& coef, bool intercept) {
  const int64_t p = d + (intercept ? 1 : 0);
  std::vector<long double> g(static_cast<size_t>(p)), h(static_cast<size_t>(p * p));
  long double loss = 0;
  for (int64_t r = 0; r < n; ++r) {
    std::vector<long double> xa(static_cast<size_t>(p), 1.0L);
    long double eta = 0;
    for (int64_t j = 0; j < d; ++j) {
      xa[static_cast<size_t>(j)] = x[static_cast<size_t>(r * d + j)];
      eta += xa[static_cast<size_t>(j)] * coef[static_cast<size_t>(j)];
    }
    if (intercept) eta += coef[static_cast<size_t>(d)];
    const long double yr = y[static_cast<size_t>(r)];
    long double v = 0, w = 0;
    switch (family) {
      case GlmFamily::kGaussian:
        v = eta - yr;
        w = 1;
        loss += 0.5L * v * v;
        break;
      case GlmFamily::kLogistic: {
        const long double sp = 1 / (1 + std::exp(-eta)), sn = 1 / (1 + std::exp(eta));
        v = (1 - yr) * sp - yr * sn;
        w = sp * sn;
        const long double l = std::log1p(std::exp(-std::fabs(eta)));
        loss += (1 - yr) * (std::max(eta, 0.0L) + l) + yr * (std::max(-eta, 0.0L) + l);
        break;
      }
      case GlmFamily::kPoisson:
        v = std::exp(eta) - yr;
        w = std::exp(eta);
        loss += std::exp(eta) - yr * eta;
        break;
    }
    for (int64_t i = 0; i < p; ++i) {
      g[static_cast<size_t>(i)] += v * xa[static_cast<size_t>(i)];
      for (int64_t j = 0; j < p; ++j) {
        h[static_cast<size_t>(i * p + j)] +=
            w * xa[static_cast<size_t>(i)] * xa[static_cast<size_t>(j)];
      }
    }
  }
  return {static_cast<double>(loss), std::vector<double>(g.begin(), g.end()),
          std::vector<double>(h.begin(), h.end())};
}

void ExpectClose(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-11 * std::max(1.0, std::abs(want))) << what;
}

TEST(GlmKernelTest, NewtonTermsMatchTheReference) {
  engine::KernelRegistry registry;
  RegisterCpuKernels(registry);
  const auto* fn = registry.Find("glm.newton_terms", engine::Device::kCpu);
  ASSERT_NE(fn, nullptr);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (GlmFamily family : {GlmFamily::kLogistic, GlmFamily::kGaussian, GlmFamily::kPoisson}) {
    for (int64_t d : {1, 3, 8, 13, 32, 37}) {
      for (bool intercept : {false, true}) {
        const int64_t n = 1300;  // chunks of 512 rows and a partial one
        Block xb = Block::Allocate(DType::kFloat64, {n, d});
        Block yb = Block::Allocate(DType::kFloat64, {n});
        std::vector<double> x(static_cast<size_t>(n * d)), y(static_cast<size_t>(n));
        for (auto& v : x) v = unit(rng);
        // Logistic: some rows with |eta| out to 900 (e^-|eta| underflows past 708).
        const double spread = family == GlmFamily::kLogistic ? 900.0 / static_cast<double>(d) : 0.5;
        for (int64_t r = 0; r < n; r += 7) {
          for (int64_t j = 0; j < d; ++j) x[static_cast<size_t>(r * d + j)] *= spread;
        }
        for (int64_t r = 0; r < n; ++r) {
          y[static_cast<size_t>(r)] =
              family == GlmFamily::kGaussian ? unit(rng) : static_cast<double>(r % 3 == 0);
        }
        std::copy(x.begin(), x.end(), xb.data<double>());
        std::copy(y.begin(), y.end(), yb.data<double>());
        std::vector<double> coef(static_cast<size_t>(d + (intercept ? 1 : 0)));
        for (auto& c : coef) c = family == GlmFamily::kLogistic ? 1.0 : 0.3 * unit(rng);
        const Reference want = Expected(family, x, y, n, d, coef, intercept);
        for (bool loss : {true, false}) {
          std::vector<Block> inputs{xb, yb};
          std::vector<Scalar> scalars{static_cast<int64_t>(family), coef, intercept, true, loss};
          const engine::KernelContext ctx{inputs, scalars, 1, 0, nullptr, {}};
          const Block out = (*fn)(ctx).at(0);
          const int64_t p = d + (intercept ? 1 : 0);
          ASSERT_EQ(out.size(), 1 + p + p * p);
          const double* o = out.data<double>();
          const std::string what = "family " + std::to_string(static_cast<int>(family)) + " d " +
                                   std::to_string(d) + " intercept " + std::to_string(intercept);
          if (loss) {
            ExpectClose(o[0], want.loss, what + " loss");
          } else {
            EXPECT_EQ(o[0], 0.0) << what;
          }
          for (int64_t i = 0; i < p; ++i)
            ExpectClose(o[1 + i], want.g[static_cast<size_t>(i)], what + " g");
          for (int64_t k = 0; k < p * p; ++k) {
            ExpectClose(o[1 + p + k], want.h[static_cast<size_t>(k)],
                        what + " H " + std::to_string(k));
          }
        }
      }
    }
  }
}

TEST(GlmKernelTest, SampleWeightsActAsRepeatedRows) {
  engine::KernelRegistry registry;
  RegisterCpuKernels(registry);
  const auto* fn = registry.Find("glm.newton_terms", engine::Device::kCpu);
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> unit(-1, 1);
  const int64_t n = 700, d = 5;
  std::vector<double> x(static_cast<size_t>(n * d)), y(static_cast<size_t>(n)), xr, yr;
  for (auto& v : x) v = unit(rng);
  Block xb = Block::Allocate(DType::kFloat64, {n, d});
  Block yw = Block::Allocate(DType::kFloat64, {n, 2});
  std::copy(x.begin(), x.end(), xb.data<double>());
  for (int64_t r = 0; r < n; ++r) {
    y[static_cast<size_t>(r)] = static_cast<double>(r % 3 == 0);
    const int64_t w = r % 4;  // 0 drops the row
    yw.data<double>()[2 * r] = y[static_cast<size_t>(r)];
    yw.data<double>()[2 * r + 1] = static_cast<double>(w);
    for (int64_t c = 0; c < w; ++c) {
      xr.insert(xr.end(), x.begin() + r * d, x.begin() + (r + 1) * d);
      yr.push_back(y[static_cast<size_t>(r)]);
    }
  }
  const std::vector<double> coef{0.3, -0.2, 0.5, 0.1, -0.4, 0.2};
  for (GlmFamily family : {GlmFamily::kLogistic, GlmFamily::kGaussian, GlmFamily::kPoisson}) {
    const Reference want = Expected(family, xr, yr, static_cast<int64_t>(yr.size()), d, coef, true);
    std::vector<Block> inputs{xb, yw};
    std::vector<Scalar> scalars{static_cast<int64_t>(family), coef, true, true};
    const Block out = (*fn)(engine::KernelContext{inputs, scalars, 1, 0, nullptr, {}}).at(0);
    const int64_t p = d + 1;
    ASSERT_EQ(out.size(), 1 + p + p * p);
    const double* o = out.data<double>();
    ExpectClose(o[0], want.loss, "loss");
    for (int64_t i = 0; i < p; ++i) ExpectClose(o[1 + i], want.g[static_cast<size_t>(i)], "g");
    for (int64_t k = 0; k < p * p; ++k) {
      ExpectClose(o[1 + p + k], want.h[static_cast<size_t>(k)], "H");
    }
  }
}

// The multinomial loss written out in long double: sum_r s_r (logsumexp(eta_r) - eta_r[y_r]).
long double SoftmaxLoss(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<double>& s, int64_t n, int64_t d, int64_t k,
                        const std::vector<double>& w, bool intercept) {
  const int64_t p = d + (intercept ? 1 : 0);
  long double loss = 0;
  for (int64_t r = 0; r < n; ++r) {
    std::vector<long double> eta(static_cast<size_t>(k));
    long double m = -1e300L, sum = 0;
    for (int64_t c = 0; c < k; ++c) {
      long double e = intercept ? w[static_cast<size_t>(c * p + d)] : 0.0L;
      for (int64_t j = 0; j < d; ++j) {
        e += static_cast<long double>(w[static_cast<size_t>(c * p + j)]) *
             x[static_cast<size_t>(r * d + j)];
      }
      eta[static_cast<size_t>(c)] = e;
      m = std::max(m, e);
    }
    for (long double e : eta) sum += std::exp(e - m);
    loss += s[static_cast<size_t>(r)] *
            (m + std::log(sum) - eta[static_cast<size_t>(y[static_cast<size_t>(r)])]);
  }
  return loss;
}

TEST(GlmKernelTest, SoftmaxTermsMatchDifferencesOfTheLoss) {
  engine::KernelRegistry registry;
  RegisterCpuKernels(registry);
  const auto* fn = registry.Find("glm.softmax_terms", engine::Device::kCpu);
  ASSERT_NE(fn, nullptr);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  const int64_t n = 90, d = 3, k = 3;
  std::vector<double> x(static_cast<size_t>(n * d)), y(static_cast<size_t>(n)),
      s(static_cast<size_t>(n));
  for (auto& v : x) v = 2 * unit(rng);
  Block xb = Block::Allocate(DType::kFloat64, {n, d});
  Block yw = Block::Allocate(DType::kFloat64, {n, 2});
  std::copy(x.begin(), x.end(), xb.data<double>());
  for (int64_t r = 0; r < n; ++r) {
    y[static_cast<size_t>(r)] = static_cast<double>(r % k);
    s[static_cast<size_t>(r)] = 0.5 + static_cast<double>(r % 5);
    yw.data<double>()[2 * r] = y[static_cast<size_t>(r)];
    yw.data<double>()[2 * r + 1] = s[static_cast<size_t>(r)];
  }
  for (bool intercept : {false, true}) {
    const int64_t p = d + (intercept ? 1 : 0), kp = k * p;
    std::vector<double> w(static_cast<size_t>(kp));
    for (auto& v : w) v = unit(rng);
    auto terms = [&](const std::vector<double>& at) {
      std::vector<Block> inputs{xb, yw};
      std::vector<Scalar> scalars{k, at, intercept, true};
      return (*fn)(engine::KernelContext{inputs, scalars, 1, 0, nullptr, {}}).at(0);
    };
    const Block out = terms(w);
    ASSERT_EQ(out.size(), 1 + kp + kp * kp);
    const double* o = out.data<double>();
    ExpectClose(o[0], static_cast<double>(SoftmaxLoss(x, y, s, n, d, k, w, intercept)), "loss");
    const double h = 1e-5;
    for (int64_t i = 0; i < kp; ++i) {
      std::vector<double> up = w, down = w;
      up[static_cast<size_t>(i)] += h;
      down[static_cast<size_t>(i)] -= h;
      const long double fd = (SoftmaxLoss(x, y, s, n, d, k, up, intercept) -
                              SoftmaxLoss(x, y, s, n, d, k, down, intercept)) /
                             (2 * h);
      EXPECT_NEAR(o[1 + i], static_cast<double>(fd), 1e-6) << "g " << i;
      // Column i of the Hessian: the difference of the kernel's gradients.
      const Block bu = terms(up), bd = terms(down);
      for (int64_t j = 0; j < kp; ++j) {
        const double col = (bu.data<double>()[1 + j] - bd.data<double>()[1 + j]) / (2 * h);
        EXPECT_NEAR(o[1 + kp + j * kp + i], col, 1e-5) << "H " << j << ", " << i;
      }
    }
  }
}

}  // namespace
}  // namespace nums::kernels
