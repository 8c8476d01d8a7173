#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <cmath>
#include <limits>
#include <nums/nums.hpp>
#include <random>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using models::Lasso;
using models::LinearRegression;
using models::LogisticRegression;
using models::PoissonRegression;
using models::Ridge;

enum class Family { kGaussian, kLogistic, kPoisson };

// Dense data with known structure: features N(offset_j, scale_j^2), y from `family` around
// eta = X w + 0.3 with a fixed w.
struct Dense {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
};

Dense MakeDense(int64_t n, int64_t d, Family family, uint64_t seed, double signal = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Dense out{Eigen::MatrixXd(n, d), Eigen::VectorXd(n)};
  Eigen::VectorXd w(d);
  for (int64_t j = 0; j < d; ++j) w[j] = signal * (j % 2 ? -0.5 : 0.8) / (1.0 + 0.3 * j);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) out.X(i, j) = 0.5 * j + (1.0 + 0.2 * j) * normal(rng);
  }
  const Eigen::VectorXd eta =
      ((out.X * w).array() + 0.3 - w.dot(out.X.colwise().mean().transpose())).matrix();
  for (int64_t i = 0; i < n; ++i) {
    switch (family) {
      case Family::kGaussian:
        out.y[i] = eta[i] + 0.5 * normal(rng);
        break;
      case Family::kLogistic:
        out.y[i] = std::uniform_real_distribution<double>(0, 1)(rng) < 1 / (1 + std::exp(-eta[i]));
        break;
      case Family::kPoisson:
        out.y[i] = static_cast<double>(std::poisson_distribution<int64_t>(std::exp(eta[i]))(rng));
        break;
    }
  }
  return out;
}

BlockArray Blocked(const Eigen::MatrixXd& m, Shape block) { return from_eigen(m, block); }
BlockArray Blocked(const Eigen::VectorXd& v, int64_t block) {
  return array(std::vector<double>(v.data(), v.data() + v.size()), {}, {block});
}

// Reference GLM fit on dense data: Newton with LLT and step halving until the gradient of the
// penalised objective is negligible. Returns the coefficients, then the intercept if fitted.
Eigen::VectorXd RefGlm(const Dense& data, Family family, double alpha, bool fit_intercept) {
  const int64_t n = data.X.rows(), d = data.X.cols(), p = d + (fit_intercept ? 1 : 0);
  Eigen::MatrixXd a(n, p);
  a.leftCols(d) = data.X;
  if (fit_intercept) a.col(d).setOnes();
  Eigen::VectorXd pen = Eigen::VectorXd::Constant(p, alpha);
  if (fit_intercept) pen[d] = 0;
  const Eigen::VectorXd& y = data.y;
  auto loss = [&](const Eigen::VectorXd& b) {
    const Eigen::ArrayXd eta = (a * b).array();
    const Eigen::ArrayXd l =
        family == Family::kLogistic
            ? Eigen::ArrayXd((eta.max(0) + (-eta.abs()).exp().log1p()) - y.array() * eta)
            : Eigen::ArrayXd(eta.exp() - y.array() * eta);
    return l.sum() + 0.5 * (pen.array() * b.array().square()).sum();
  };
  Eigen::VectorXd b = Eigen::VectorXd::Zero(p);
  for (int it = 0; it < 200; ++it) {
    const Eigen::ArrayXd eta = (a * b).array();
    const Eigen::ArrayXd mu = family == Family::kLogistic ? Eigen::ArrayXd(1 / (1 + (-eta).exp()))
                                                          : Eigen::ArrayXd(eta.exp());
    const Eigen::ArrayXd w = family == Family::kLogistic ? Eigen::ArrayXd(mu * (1 - mu)) : mu;
    const Eigen::VectorXd g =
        a.transpose() * (mu - y.array()).matrix() + (pen.array() * b.array()).matrix();
    if (g.cwiseAbs().maxCoeff() < 1e-11) break;
    Eigen::MatrixXd h = a.transpose() * w.matrix().asDiagonal() * a;
    h.diagonal() += pen;
    const Eigen::VectorXd step = h.llt().solve(-g);
    double t = 1;
    while (loss(b + t * step) > loss(b) && t > 1e-12) t /= 2;
    b += t * step;
  }
  return b;
}

// [X, 1] (or X) and y centred for the least-squares references.
struct Centred {
  Eigen::MatrixXd X;
  Eigen::VectorXd y, xbar;
  double ybar = 0;
};
Centred Centre(const Dense& data, bool fit_intercept) {
  Centred c{data.X, data.y, Eigen::VectorXd::Zero(data.X.cols()), 0};
  if (fit_intercept) {
    c.xbar = data.X.colwise().mean();
    c.ybar = data.y.mean();
    c.X.rowwise() -= c.xbar.transpose();
    c.y.array() -= c.ybar;
  }
  return c;
}

// Lasso reference: cyclic coordinate descent on the centred data with residual updates.
Eigen::VectorXd RefLasso(const Dense& data, double alpha, bool fit_intercept, double& intercept) {
  const Centred c = Centre(data, fit_intercept);
  const int64_t n = c.X.rows(), d = c.X.cols();
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d), r = c.y;
  for (int sweep = 0; sweep < 100000; ++sweep) {
    double change = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double norm2 = c.X.col(j).squaredNorm();
      const double rho = c.X.col(j).dot(r) + norm2 * w[j];
      const double na = n * alpha;
      const double wj = (rho > na ? rho - na : rho < -na ? rho + na : 0.0) / norm2;
      r -= (wj - w[j]) * c.X.col(j);
      change = std::max(change, std::abs(wj - w[j]));
      w[j] = wj;
    }
    if (change < 1e-15) break;
  }
  intercept = c.ybar - c.xbar.dot(w);
  return w;
}

void ExpectCoefNear(const models::LinearModel& m, const Eigen::VectorXd& want, bool fit_intercept,
                    double tol) {
  const int64_t d = m.coef().size();
  ASSERT_EQ(want.size(), d + (fit_intercept ? 1 : 0));
  for (int64_t j = 0; j < d; ++j) EXPECT_NEAR(m.coef()[j], want[j], tol) << "coef " << j;
  EXPECT_NEAR(m.intercept(), fit_intercept ? want[d] : 0.0, tol);
}

class ModelsTest : public testing::OnNodes {};

// 203 rows in blocks of 37 (the last one short); {37, 2} splits X along columns too.
const std::vector<Shape> kBlocks = {{37, 5}, {37, 2}, {203, 5}};

TEST_P(ModelsTest, LogisticRegressionNewtonMatchesDenseReference) {
  const Dense data = MakeDense(203, 5, Family::kLogistic, 1);
  for (const Shape& block : kBlocks) {
    for (bool fi : {true, false}) {
      for (double alpha : {0.0, 2.5}) {
        SCOPED_TRACE(shape_str(block) + (fi ? " intercept" : "") + " alpha " +
                     std::to_string(alpha));
        LogisticRegression lr({.penalty_l2 = alpha, .fit_intercept = fi});
        lr.fit(Blocked(data.X, block), Blocked(data.y, block[0]));
        EXPECT_TRUE(lr.converged());
        EXPECT_LE(lr.history().back().grad_norm, 1e-8);
        ExpectCoefNear(lr, RefGlm(data, Family::kLogistic, alpha, fi), fi, 1e-6);
      }
    }
  }
}

TEST_P(ModelsTest, IrlsAndLbfgsAgreeWithNewton) {
  const Dense data = MakeDense(203, 5, Family::kLogistic, 2);
  const BlockArray X = Blocked(data.X, {37, 5}), y = Blocked(data.y, 37);
  for (double alpha : {0.0, 1.0}) {
    LogisticRegression newton({.penalty_l2 = alpha});
    newton.fit(X, y);
    const Eigen::VectorXd want = RefGlm(data, Family::kLogistic, alpha, true);
    for (const char* solver : {"irls", "lbfgs"}) {
      SCOPED_TRACE(std::string(solver) + " alpha " + std::to_string(alpha));
      LogisticRegression lr({.solver = solver, .max_iter = 1000, .tol = 1e-9, .penalty_l2 = alpha});
      lr.fit(X, y);
      EXPECT_TRUE(lr.converged());
      ExpectCoefNear(lr, want, true, 1e-6);
      EXPECT_LT((lr.coef() - newton.coef()).cwiseAbs().maxCoeff(), 1e-6);
    }
  }
}

TEST_P(ModelsTest, PoissonRegressionMatchesDenseReference) {
  const Dense data = MakeDense(203, 5, Family::kPoisson, 3, 0.4);
  for (const Shape& block : kBlocks) {
    for (const char* solver : {"newton", "irls", "lbfgs"}) {
      SCOPED_TRACE(shape_str(block) + " " + solver);
      PoissonRegression pr({.solver = solver, .max_iter = 1000, .penalty_l2 = 0.5});
      pr.fit(Blocked(data.X, block), Blocked(data.y, block[0]));
      EXPECT_TRUE(pr.converged());
      ExpectCoefNear(pr, RefGlm(data, Family::kPoisson, 0.5, true), true, 1e-6);
    }
  }
  PoissonRegression pr;
  pr.fit(Blocked(data.X, {37, 5}), Blocked(data.y, 37));
  const Eigen::VectorXd mu = ((data.X * pr.coef()).array() + pr.intercept()).exp();
  EXPECT_ARRAY_NEAR(pr.predict(Blocked(data.X, {37, 5})).get(),
                    NDArray::from_vector(std::vector<double>(mu.data(), mu.data() + mu.size())),
                    1e-12);
  // D^2 against its definition on the dense data.
  auto deviance = [&](const Eigen::ArrayXd& m) {
    const Eigen::ArrayXd y = data.y.array();
    return (y > 0).select(y * (y / m).log(), 0.0).sum() - (y - m).sum();
  };
  const double d2 =
      1 - deviance(mu.array()) / deviance(Eigen::ArrayXd::Constant(mu.size(), data.y.mean()));
  EXPECT_NEAR(pr.score(Blocked(data.X, {37, 5}), Blocked(data.y, 37)), d2, 1e-10);
}

TEST_P(ModelsTest, LinearRegressionAndRidgeMatchNormalEquations) {
  const Dense data = MakeDense(203, 5, Family::kGaussian, 4);
  for (const Shape& block : kBlocks) {
    for (bool fi : {true, false}) {
      SCOPED_TRACE(shape_str(block) + (fi ? " intercept" : ""));
      const BlockArray X = Blocked(data.X, block), y = Blocked(data.y, block[0]);
      const Centred c = Centre(data, fi);
      const Eigen::VectorXd ols = c.X.colPivHouseholderQr().solve(c.y);
      LinearRegression lr(fi);
      lr.fit(X, y);
      for (int64_t j = 0; j < 5; ++j) EXPECT_NEAR(lr.coef()[j], ols[j], 1e-8);
      EXPECT_NEAR(lr.intercept(), c.ybar - c.xbar.dot(ols), 1e-8);

      const Eigen::MatrixXd a = c.X.transpose() * c.X + 30.0 * Eigen::MatrixXd::Identity(5, 5);
      const Eigen::VectorXd ridge = a.llt().solve(c.X.transpose() * c.y);
      Ridge rg(30.0, fi);
      rg.fit(X, y);
      for (int64_t j = 0; j < 5; ++j) EXPECT_NEAR(rg.coef()[j], ridge[j], 1e-8);
      EXPECT_NEAR(rg.intercept(), c.ybar - c.xbar.dot(ridge), 1e-8);
      EXPECT_GT((ridge - ols).norm(), 1e-3);  // the penalty did something
    }
  }
}

TEST_P(ModelsTest, LassoMatchesCoordinateDescentReference) {
  const Dense data = MakeDense(203, 5, Family::kGaussian, 5);
  for (const Shape& block : kBlocks) {
    for (bool fi : {true, false}) {
      SCOPED_TRACE(shape_str(block) + (fi ? " intercept" : ""));
      double intercept = 0;
      const Eigen::VectorXd want = RefLasso(data, 0.6, fi, intercept);
      Lasso ls(0.6, fi);
      ls.fit(Blocked(data.X, block), Blocked(data.y, block[0]));
      EXPECT_TRUE(ls.converged());
      for (int64_t j = 0; j < 5; ++j) EXPECT_NEAR(ls.coef()[j], want[j], 1e-6);
      EXPECT_NEAR(ls.intercept(), intercept, 1e-6);
      // alpha is large enough to zero some coefficients, not all.
      EXPECT_GT((ls.coef().array() == 0).count(), 0);
      EXPECT_LT((ls.coef().array() == 0).count(), 5);
    }
  }
}

TEST_P(ModelsTest, NonSeparableDataConvergesQuicklyWithDecreasingLoss) {
  const Dense data = MakeDense(203, 5, Family::kLogistic, 6);
  LogisticRegression lr;
  lr.fit(Blocked(data.X, {37, 5}), Blocked(data.y, 37));
  ASSERT_TRUE(lr.converged());
  EXPECT_LT(lr.n_iter(), 15);
  const auto& h = lr.history();
  ASSERT_EQ(static_cast<int64_t>(h.size()), lr.n_iter() + 1);
  for (size_t k = 1; k < h.size(); ++k) {
    EXPECT_EQ(h[k].iteration, static_cast<int64_t>(k));
    EXPECT_LE(h[k].loss, h[k - 1].loss * (1 + 1e-12));
    EXPECT_GE(h[k].passes, 1);
  }
  EXPECT_NEAR(h[0].loss, 203 * std::log(2.0), 1e-9);  // all-zero start: log 2 per row
  EXPECT_LE(h.back().grad_norm, 1e-8);
}

TEST_P(ModelsTest, SeparableDataConvergesWithL2Penalty) {
  Dense data = MakeDense(203, 5, Family::kLogistic, 7);
  for (int64_t i = 0; i < 203; ++i) data.y[i] = data.X(i, 0) + data.X(i, 1) > 1.0;
  const BlockArray X = Blocked(data.X, {37, 5}), y = Blocked(data.y, 37);
  for (const char* solver : {"newton", "lbfgs"}) {
    SCOPED_TRACE(solver);
    LogisticRegression lr({.solver = solver, .max_iter = 1000, .tol = 1e-9, .penalty_l2 = 0.1});
    lr.fit(X, y);
    EXPECT_TRUE(lr.converged());
    ExpectCoefNear(lr, RefGlm(data, Family::kLogistic, 0.1, true), true, 1e-6);
    EXPECT_EQ(lr.score(X, y), 1.0);
  }
}

TEST_P(ModelsTest, PredictionsMatchTheFittedCoefficients) {
  const Dense data = MakeDense(203, 5, Family::kLogistic, 8);
  const BlockArray X = Blocked(data.X, {37, 2}), y = Blocked(data.y, 50);
  LogisticRegression lr;
  lr.fit(X, y);
  const Eigen::ArrayXd eta = (data.X * lr.coef()).array() + lr.intercept();
  const Eigen::ArrayXd p = 1 / (1 + (-eta).exp());
  const NDArray proba = lr.predict_proba(X).get();
  const NDArray labels = lr.predict(X).get();
  const NDArray linear = lr.decision_function(X).get();
  ASSERT_EQ(proba.shape(), (Shape{203, 2}));
  EXPECT_EQ(labels.dtype(), float64);
  double correct = 0;
  for (int64_t i = 0; i < 203; ++i) {
    EXPECT_NEAR(proba.value_at<double>(2 * i + 1), p[i], 1e-12);
    EXPECT_NEAR(proba.value_at<double>(2 * i), 1 - p[i], 1e-12);
    EXPECT_NEAR(linear.value_at<double>(i), eta[i], 1e-10);
    EXPECT_EQ(labels.value_at<double>(i), p[i] > 0.5 ? 1.0 : 0.0);
    correct += (p[i] > 0.5) == (data.y[i] == 1);
  }
  EXPECT_DOUBLE_EQ(lr.score(X, y), correct / 203);
  EXPECT_GT(lr.score(X, y), 0.6);  // the labels carry signal

  const Dense lin = MakeDense(203, 5, Family::kGaussian, 9);
  LinearRegression ols;
  ols.fit(Blocked(lin.X, {37, 5}), Blocked(lin.y, 37));
  const Eigen::VectorXd pred = (lin.X * ols.coef()).array() + ols.intercept();
  const double r2 =
      1 - (lin.y - pred).squaredNorm() / (lin.y.array() - lin.y.mean()).square().sum();
  EXPECT_NEAR(ols.score(Blocked(lin.X, {37, 5}), Blocked(lin.y, 37)), r2, 1e-12);
}

TEST_P(ModelsTest, IntegerAndBoolInputsAreCastToFloat) {
  Dense data = MakeDense(101, 3, Family::kLogistic, 10);
  data.X = data.X.array().round();
  NDArray xi = NDArray(int64, {101, 3});
  for (int64_t i = 0; i < 101; ++i) {
    for (int64_t j = 0; j < 3; ++j) xi.data<int64_t>()[i * 3 + j] = std::llround(data.X(i, j));
  }
  NDArray ybool(bool_, {101});
  for (int64_t i = 0; i < 101; ++i) ybool.data<bool>()[i] = data.y[i] == 1;
  LogisticRegression lr;
  lr.fit(from_ndarray(xi, {20, 3}), from_ndarray(ybool, {30}));
  ExpectCoefNear(lr, RefGlm(data, Family::kLogistic, 0, true), true, 1e-6);
}

TEST_P(ModelsTest, MakeBlobsIsDeterministicWhateverTheBlocking) {
  const auto a = models::make_blobs(301, 5, 42, {.block_rows = 64});
  const auto b = models::make_blobs(301, 5, 42, {.block_rows = 301});
  const auto c = models::make_blobs(301, 5, 43, {.block_rows = 64});
  EXPECT_EQ(a.X.grid_shape(), (Shape{5, 1}));
  EXPECT_ARRAY_EQ(a.X.get(), b.X.get());
  EXPECT_ARRAY_EQ(a.y.get(), b.y.get());
  EXPECT_NE(a.X.to_eigen(), c.X.to_eigen());
  const Eigen::MatrixXd X = a.X.to_eigen(), y = a.y.to_eigen();
  double n1 = y.sum(), sum0 = 0, sum1 = 0;
  for (int64_t i = 0; i < 301; ++i) (y(i, 0) == 1 ? sum1 : sum0) += X.row(i).sum();
  EXPECT_GT(n1, 100);
  EXPECT_LT(n1, 201);
  EXPECT_NEAR(sum0 / ((301 - n1) * 5), 10, 0.5);
  EXPECT_NEAR(sum1 / (n1 * 5), 30, 1.0);
  // Overlapping blobs are not separable: the unpenalised fit converges to the dense optimum.
  const auto o = models::make_blobs(300, 3, 7, {.mean1 = 11, .std1 = 2, .block_rows = 70});
  LogisticRegression lr;
  lr.fit(o.X, o.y);
  EXPECT_TRUE(lr.converged());
  ExpectCoefNear(lr, RefGlm({o.X.to_eigen(), o.y.to_eigen().col(0)}, Family::kLogistic, 0, true),
                 true, 1e-6);
}

TEST_P(ModelsTest, MaxIterStopsTheFit) {
  const Dense data = MakeDense(203, 5, Family::kLogistic, 11);
  LogisticRegression lr({.max_iter = 1});
  lr.fit(Blocked(data.X, {37, 5}), Blocked(data.y, 37));
  EXPECT_EQ(lr.n_iter(), 1);
  EXPECT_FALSE(lr.converged());
  EXPECT_EQ(lr.history().size(), 2u);
  LogisticRegression zero({.max_iter = 0});
  zero.fit(Blocked(data.X, {37, 5}), Blocked(data.y, 37));
  EXPECT_EQ(zero.coef(), Eigen::VectorXd::Zero(5));
}

TEST_P(ModelsTest, PoissonWarmStartContinuesFromTheLastFit) {
  const Dense data = MakeDense(203, 5, Family::kPoisson, 21);
  const BlockArray X = Blocked(data.X, {37, 5}), y = Blocked(data.y, 37);
  PoissonRegression warm({.max_iter = 2, .warm_start = true}), cold({.max_iter = 2});
  warm.fit(X, y);
  cold.fit(X, y);
  const double after_first = warm.history().back().loss;
  warm.fit(X, y);
  cold.fit(X, y);
  EXPECT_NEAR(warm.history().front().loss, after_first, 1e-9 * std::abs(after_first));
  EXPECT_LT(warm.history().back().loss, after_first);
  EXPECT_NEAR(cold.history().front().loss, 203.0, 1e-9);  // e^0 - y * 0 per row
}

INSTANTIATE_TEST_SUITE_P(Nodes, ModelsTest, ::testing::Values(1, 3, 4));

TEST(ModelsErrorTest, BadInputsAreRejected) {
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  const Dense data = MakeDense(40, 3, Family::kLogistic, 12);
  const BlockArray X = Blocked(data.X, {15, 3}), y = Blocked(data.y, 15);
  LogisticRegression lr;
  testing::ExpectThrowWith<ShapeError>(
      [&] { lr.fit(X, Blocked(Eigen::VectorXd(data.y.head(30)), 15)); }, {"(40, 3)", "(30,)"});
  testing::ExpectThrowWith<ShapeError>([&] { lr.fit(y, y); }, {"(40,)"});
  testing::ExpectThrowWith<ShapeError>([&] { lr.fit(X, X); }, {"(40, 3)"});
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(zeros({0, 3}), zeros({0})); }, {"(0, 3)"});

  Eigen::VectorXd labels = data.y;
  labels[7] = 2;
  LogisticRegression binary({.multi_class = "binary"});
  testing::ExpectThrowWith<ValueError>([&] { binary.fit(X, Blocked(labels, 15)); },
                                       {"y has 3 classes"});
  labels[7] = 0.5;
  testing::ExpectThrowWith<ValueError>([&] { binary.fit(X, Blocked(labels, 15)); },
                                       {"y has 3 classes"});
  Eigen::MatrixXd bad = data.X;
  bad(33, 1) = std::numeric_limits<double>::quiet_NaN();
  testing::ExpectThrowWith<ValueError>(
      [&] {
        lr.fit(Blocked(bad, {15, 3}), y);
      },
      {"X has 1 and y has 0"});
  Eigen::VectorXd ybad = data.y;
  ybad[39] = std::numeric_limits<double>::infinity();
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(X, Blocked(ybad, 15)); }, {"y has 1 NaN"});
  Eigen::VectorXd counts = data.y;
  counts[3] = -1;
  PoissonRegression pr;
  testing::ExpectThrowWith<ValueError>([&] { pr.fit(X, Blocked(counts, 15)); }, {"negative"});
  testing::ExpectThrowWith<ValueError>([&] { Ridge(0).fit(X, Blocked(ybad, 15)); }, {"NaN"});
  EXPECT_FALSE(pr.is_fitted());

  for (const models::GLMOptions& o :
       {models::GLMOptions{.solver = "sgd"}, models::GLMOptions{.max_iter = -1},
        models::GLMOptions{.tol = -1}, models::GLMOptions{.penalty_l2 = -0.5},
        models::GLMOptions{.penalty_l2 = std::numeric_limits<double>::quiet_NaN()}}) {
    EXPECT_THROW(LogisticRegression(o).fit(X, y), ValueError);
  }
  EXPECT_THROW(Ridge(-1), ValueError);
  EXPECT_THROW(Lasso(-1), ValueError);
  EXPECT_THROW(Lasso(1, true, -1), ValueError);

  // Before fit: a clear error naming the model.
  testing::ExpectThrowWith<ValueError>([&] { lr.predict(X); },
                                       {"LogisticRegression is not fitted"});
  testing::ExpectThrowWith<ValueError>([&] { lr.coef(); }, {"not fitted"});
  testing::ExpectThrowWith<ValueError>([&] { LinearRegression().predict(X); },
                                       {"LinearRegression"});
  testing::ExpectThrowWith<ValueError>([&] { Lasso().score(X, y); }, {"Lasso"});
  EXPECT_THROW(pr.predict(X), Error);

  // After fit: predictions need the fitted number of features.
  lr.fit(X, y);
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        lr.predict(Blocked(Eigen::MatrixXd(data.X.leftCols(2)), {15, 2}));
      },
      {"(40, 2)", "3 features"});
  testing::ExpectThrowWith<ShapeError>(
      [&] { lr.score(X, Blocked(Eigen::VectorXd(data.y.head(30)), 15)); }, {"(40, 3)", "(30,)"});
  EXPECT_THROW(models::make_blobs(0, 3, 1), ValueError);
  EXPECT_THROW(models::make_blobs(10, 3, 1, {.block_rows = -1}), ValueError);
}

}  // namespace
}  // namespace nums
