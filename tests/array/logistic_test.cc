// LogisticRegression's scikit-learn semantics: classes of any labels, both probability columns,
// sample weights, multinomial fits, warm starts and separable data. Coefficients are checked
// against scikit-learn run by /usr/bin/python3 where a reference is needed.

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <nums/nums.hpp>
#include <random>
#include <sstream>

#include "tests/io/io_testing.h"
#include "tests/testing/eigen.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using models::LogisticRegression;
using testing::WriteCsv;

// n rows of d features N(0, 1) (feature j scaled by 1 + 0.2 j) and class indices 0 .. k-1 drawn
// from a softmax of fixed linear scores, so that classes overlap (no separation).
struct Data {
  MatrixXd X;
  VectorXd y;  // class indices as doubles
};
Data MakeData(int64_t n, int64_t d, int64_t k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Data out{MatrixXd(n, d), VectorXd(n)};
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) out.X(i, j) = (1.0 + 0.2 * j) * normal(rng);
  }
  for (int64_t i = 0; i < n; ++i) {
    VectorXd score(k);
    for (int64_t c = 0; c < k; ++c) {
      score[c] = 0.2 * c;
      for (int64_t j = 0; j < d; ++j)
        score[c] += 0.6 * std::sin(1.0 + c * 2.1 + j * 0.7) * out.X(i, j);
    }
    const VectorXd pr = (score.array() - score.maxCoeff()).exp().matrix();
    double u = unit(rng) * pr.sum();
    int64_t c = 0;
    while (c + 1 < k && u > pr[c]) u -= pr[c++];
    out.y[i] = static_cast<double>(c);
  }
  return out;
}

BlockArray Rows(const MatrixXd& m, int64_t rows) {
  return from_ndarray(testing::FromEigen(m), {rows, m.cols()});
}
BlockArray Vec(const VectorXd& v, int64_t rows) {
  return array(std::vector<double>(v.data(), v.data() + v.size()), {}, {rows});
}
BlockArray Vec(const VectorXd& v, int64_t rows, DType dtype) { return Vec(v, rows).astype(dtype); }

VectorXd Column(const NDArray& a, int64_t col) {
  const int64_t n = a.shape()[0], cols = a.ndim() == 2 ? a.shape()[1] : 1;
  VectorXd v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = a.value_at<double>(i * cols + col);
  return v;
}

// Runs `script` with X.csv, y.csv, w.csv (when given), coef.csv and intercept.csv of the model in
// the working directory; the script asserts.
void ExpectSklearnAgrees(const MatrixXd& X, const VectorXd& y, const VectorXd* w,
                         const LogisticRegression& lr, const std::string& script) {
  testing::TempDir dir;
  WriteCsv(X, dir.file("X.csv"));
  WriteCsv(y, dir.file("y.csv"));
  if (w != nullptr) WriteCsv(*w, dir.file("w.csv"));
  WriteCsv(lr.coef_matrix(), dir.file("coef.csv"));
  WriteCsv(lr.intercepts(), dir.file("intercept.csv"));
  const std::string prelude = R"(import numpy as np
from sklearn.linear_model import LogisticRegression
X = np.loadtxt('X.csv', delimiter=',', ndmin=2)
y = np.loadtxt('y.csv', delimiter=',')
coef = np.loadtxt('coef.csv', delimiter=',', ndmin=2)
intercept = np.loadtxt('intercept.csv', delimiter=',', ndmin=1)
)";
  const testing::PythonResult r = testing::RunPython(prelude + script, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

class LogisticTest : public testing::OnNodes {};

const std::vector<std::string> kSolvers = {"newton", "irls", "lbfgs"};

TEST_P(LogisticTest, ClassesAreTheSortedLabelsWhateverTheirValuesAndDType) {
  const Data data = MakeData(203, 4, 2, 1);
  LogisticRegression ref({.penalty_l2 = 0.5});
  ref.fit(Rows(data.X, 37), Vec(data.y, 37));
  ASSERT_EQ(ref.classes(), (std::vector<double>{0, 1}));
  // The larger label is the positive class: 7 where y = 1 and 3 where y = 0, and -1 / 1.
  const VectorXd y37 = (3 + 4 * data.y.array()).matrix();
  const VectorXd ypm = (2 * data.y.array() - 1).matrix();
  for (const auto& [labels, dtype] : std::vector<std::pair<VectorXd, DType>>{
           {y37, int64}, {y37, float64}, {ypm, int32}, {data.y, bool_}}) {
    LogisticRegression lr({.penalty_l2 = 0.5});
    const BlockArray y = Vec(labels, 50, dtype);
    lr.fit(Rows(data.X, 37), y);
    EXPECT_EQ(lr.classes(), (std::vector<double>{labels.minCoeff(), labels.maxCoeff()}));
    EXPECT_FALSE(lr.multinomial());
    EXPECT_LT((lr.coef() - ref.coef()).cwiseAbs().maxCoeff(), 1e-10);
    EXPECT_NEAR(lr.intercept(), ref.intercept(), 1e-10);
    const NDArray pred = lr.predict(Rows(data.X, 37)).get();
    EXPECT_EQ(pred.dtype(), dtype);
    const VectorXd eta = (data.X * lr.coef()).array() + lr.intercept();
    for (int64_t i = 0; i < 203; ++i) {
      EXPECT_EQ(pred.value_at<double>(i), eta[i] > 0 ? labels.maxCoeff() : labels.minCoeff());
    }
    EXPECT_DOUBLE_EQ(lr.score(Rows(data.X, 37), y), ref.score(Rows(data.X, 37), Vec(data.y, 37)));
  }
}

TEST_P(LogisticTest, PredictProbaHasAColumnPerClass) {
  const Data data = MakeData(150, 3, 2, 2);
  LogisticRegression lr;
  lr.fit(Rows(data.X, 40), Vec(data.y, 40));
  const NDArray proba = lr.predict_proba(Rows(data.X, 40)).get();
  ASSERT_EQ(proba.shape(), (Shape{150, 2}));
  const VectorXd eta = (data.X * lr.coef()).array() + lr.intercept();
  const VectorXd p1 = Column(proba, 1), p0 = Column(proba, 0);
  for (int64_t i = 0; i < 150; ++i) {
    EXPECT_NEAR(p1[i], 1 / (1 + std::exp(-eta[i])), 1e-12);
    EXPECT_NEAR(p0[i] + p1[i], 1.0, 1e-15);
  }
}

TEST_P(LogisticTest, IntegerSampleWeightsEqualDuplicatedRows) {
  for (int64_t k : {2, 3}) {
    const Data data = MakeData(120, 3, k, 3 + k);
    VectorXd w(120);
    for (int64_t i = 0; i < 120; ++i) w[i] = static_cast<double>(i % 4);  // 0 drops the row
    const int64_t m = static_cast<int64_t>(w.sum());
    MatrixXd xd(m, 3);
    VectorXd yd(m);
    for (int64_t i = 0, r = 0; i < 120; ++i) {
      for (int64_t c = 0; c < w[i]; ++c, ++r) {
        xd.row(r) = data.X.row(i);
        yd[r] = data.y[i];
      }
    }
    for (const std::string& solver : kSolvers) {
      SCOPED_TRACE(solver + ", " + std::to_string(k) + " classes");
      const models::GLMOptions o{.solver = solver, .max_iter = 500, .tol = 1e-10};
      LogisticRegression weighted(o), duplicated(o);
      weighted.fit(Rows(data.X, 25), Vec(data.y, 25), Vec(w, 30));
      duplicated.fit(Rows(xd, 40), Vec(yd, 40));
      EXPECT_TRUE(weighted.converged());
      EXPECT_LT((weighted.coef_matrix() - duplicated.coef_matrix()).cwiseAbs().maxCoeff(), 1e-6);
      EXPECT_LT((weighted.intercepts() - duplicated.intercepts()).cwiseAbs().maxCoeff(), 1e-6);
      EXPECT_NEAR(weighted.history().front().loss, duplicated.history().front().loss, 1e-9);
    }
  }
}

TEST_P(LogisticTest, WeightedBinaryFitMatchesScikitLearn) {
  const Data data = MakeData(180, 4, 2, 9);
  VectorXd w(180);
  for (int64_t i = 0; i < 180; ++i) w[i] = 0.25 + std::fmod(i * 0.37, 2.0);
  const VectorXd labels = (3 + 4 * data.y.array()).matrix();  // classes 3 and 7
  for (const std::string& solver : kSolvers) {
    SCOPED_TRACE(solver);
    LogisticRegression lr({.solver = solver, .max_iter = 500, .tol = 1e-11, .penalty_l2 = 0.5});
    lr.fit(Rows(data.X, 45), Vec(labels, 45), Vec(w, 60));
    ASSERT_EQ(lr.coef_matrix().rows(), 1);
    ExpectSklearnAgrees(data.X, labels, &w, lr, R"(
w = np.loadtxt('w.csv', delimiter=',')
m = LogisticRegression(C=2.0, tol=1e-12, max_iter=100000).fit(X, y, sample_weight=w)
assert list(m.classes_) == [3, 7], m.classes_
assert np.allclose(m.coef_, coef, rtol=0, atol=1e-5), (m.coef_, coef)
assert np.allclose(m.intercept_, intercept, rtol=0, atol=1e-5), (m.intercept_, intercept)
)");
  }
}

TEST_P(LogisticTest, MultinomialMatchesScikitLearn) {
  const Data data = MakeData(240, 4, 3, 10);
  const VectorXd labels = (10 * data.y.array() - 5).matrix();  // classes -5, 5, 15
  VectorXd w(240);
  for (int64_t i = 0; i < 240; ++i) w[i] = 0.5 + (i % 3);
  for (const std::string& solver : kSolvers) {
    for (bool weighted : {false, true}) {
      SCOPED_TRACE(solver + (weighted ? " weighted" : ""));
      // Automatic: more than 2 classes fit the multinomial model.
      LogisticRegression lr({.solver = solver, .max_iter = 500, .tol = 1e-11, .penalty_l2 = 0.5});
      if (weighted) {
        lr.fit(Rows(data.X, 70), Vec(labels, 70), Vec(w, 70));
      } else {
        lr.fit(Rows(data.X, 70), Vec(labels, 70));
      }
      EXPECT_TRUE(lr.converged());
      ASSERT_TRUE(lr.multinomial());
      EXPECT_EQ(lr.classes(), (std::vector<double>{-5, 5, 15}));
      ASSERT_EQ(lr.coef_matrix().rows(), 3);
      ASSERT_EQ(lr.coef_matrix().cols(), 4);
      ExpectSklearnAgrees(
          data.X, labels, weighted ? &w : nullptr, lr,
          std::string(weighted ? "w = np.loadtxt('w.csv', delimiter=',')\n" : "w = None\n") +
              R"(
# newton-cg: scikit-learn's lbfgs stops on its relative loss change near 1e-5 from the optimum.
m = LogisticRegression(C=2.0, multi_class='multinomial', solver='newton-cg', tol=1e-8,
                       max_iter=1000)
m.fit(X, y, sample_weight=w)
assert list(m.classes_) == [-5, 5, 15], m.classes_
assert np.allclose(m.coef_, coef, rtol=0, atol=1e-5), (m.coef_, coef)
assert np.allclose(m.intercept_, intercept, rtol=0, atol=1e-5), (m.intercept_, intercept)
)");
    }
  }
}

TEST_P(LogisticTest, MultinomialPredictionsAreTheMostProbableClass) {
  const Data data = MakeData(200, 3, 4, 11);
  const BlockArray X = Rows(data.X, 33);
  LogisticRegression lr({.penalty_l2 = 1.0});
  lr.fit(X, Vec(data.y, 50, int64));
  ASSERT_EQ(lr.classes().size(), 4u);
  EXPECT_THROW(lr.coef(), ValueError);
  EXPECT_THROW(lr.intercept(), ValueError);
  const MatrixXd eta =
      (data.X * lr.coef_matrix().transpose()).rowwise() + lr.intercepts().transpose();
  const NDArray proba = lr.predict_proba(X).get();
  const NDArray pred = lr.predict(X).get();
  const NDArray dec = lr.decision_function(X).get();
  ASSERT_EQ(proba.shape(), (Shape{200, 4}));
  EXPECT_EQ(pred.dtype(), int64);
  const MatrixXd pm = testing::ToEigen(proba);
  EXPECT_LT((testing::ToEigen(dec) - eta).cwiseAbs().maxCoeff(), 1e-10);
  // Columns (coefficients and intercepts) sum to 0 over the classes.
  EXPECT_LT(lr.coef_matrix().colwise().sum().cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT(std::abs(lr.intercepts().sum()), 1e-10);
  double correct = 0;
  for (int64_t i = 0; i < 200; ++i) {
    EXPECT_NEAR(pm.row(i).sum(), 1.0, 1e-12);
    const VectorXd e = eta.row(i).transpose();
    const VectorXd want = (e.array() - e.maxCoeff()).exp() / (e.array() - e.maxCoeff()).exp().sum();
    EXPECT_LT((pm.row(i).transpose() - want).cwiseAbs().maxCoeff(), 1e-12);
    Eigen::Index best = 0;
    e.maxCoeff(&best);
    EXPECT_EQ(pred.value_at<double>(i), static_cast<double>(best));
    correct += best == static_cast<Eigen::Index>(data.y[i]);
  }
  EXPECT_DOUBLE_EQ(lr.score(X, Vec(data.y, 50)), correct / 200);
}

TEST_P(LogisticTest, MultinomialOnTwoClassesIsTheBinaryModelWithHalfThePenalty) {
  // With W's rows w0, w1 the model depends on w1 - w0 only; at the optimum w0 = -w1, so the
  // penalty alpha (|w0|^2 + |w1|^2) / 2 is (alpha / 2) |w1 - w0|^2 / 2.
  const Data data = MakeData(160, 3, 2, 12);
  LogisticRegression multi({.penalty_l2 = 0.8, .multi_class = "multinomial"});
  LogisticRegression binary({.penalty_l2 = 0.4});
  multi.fit(Rows(data.X, 60), Vec(data.y, 60));
  binary.fit(Rows(data.X, 60), Vec(data.y, 60));
  ASSERT_TRUE(multi.multinomial());
  const MatrixXd w = multi.coef_matrix();
  ASSERT_EQ(w.rows(), 2);
  EXPECT_LT((w.row(1) - w.row(0) - binary.coef().transpose()).cwiseAbs().maxCoeff(), 1e-7);
  EXPECT_NEAR(multi.intercepts()[1] - multi.intercepts()[0], binary.intercept(), 1e-7);
  const MatrixXd pm = testing::ToEigen(multi.predict_proba(Rows(data.X, 60)).get());
  const MatrixXd pb = testing::ToEigen(binary.predict_proba(Rows(data.X, 60)).get());
  EXPECT_LT((pm - pb).cwiseAbs().maxCoeff(), 1e-7);
}

TEST_P(LogisticTest, MultinomialFitDoesNotDependOnTheBlocking) {
  const Data data = MakeData(210, 5, 3, 13);
  LogisticRegression a({.penalty_l2 = 0.3}), b({.penalty_l2 = 0.3});
  a.fit(Rows(data.X, 210), Vec(data.y, 210));
  b.fit(from_ndarray(testing::FromEigen(data.X), {31, 2}), Vec(data.y, 17));
  EXPECT_LT((a.coef_matrix() - b.coef_matrix()).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_LT((a.intercepts() - b.intercepts()).cwiseAbs().maxCoeff(), 1e-9);
}

TEST_P(LogisticTest, WarmStartContinuesFromTheLastFit) {
  const Data data = MakeData(203, 4, 3, 14);
  const BlockArray X = Rows(data.X, 37);
  for (int64_t k : {2, 3}) {
    SCOPED_TRACE(std::to_string(k) + " classes");
    const BlockArray y = Vec(k == 2 ? VectorXd((data.y.array() > 0).cast<double>()) : data.y, 37);
    LogisticRegression cold({.solver = "lbfgs", .max_iter = 3, .penalty_l2 = 0.5});
    LogisticRegression warm(
        {.solver = "lbfgs", .max_iter = 3, .penalty_l2 = 0.5, .warm_start = true});
    cold.fit(X, y);
    warm.fit(X, y);
    const double after_first = warm.history().back().loss;
    EXPECT_EQ(warm.coef_matrix(), cold.coef_matrix());
    cold.fit(X, y);
    warm.fit(X, y);
    // The cold fit starts again from zero; the warm one where the first fit stopped.
    EXPECT_NEAR(cold.history().front().loss, 203 * std::log(static_cast<double>(k)), 1e-9);
    EXPECT_NEAR(warm.history().front().loss, after_first, 1e-9 * after_first);
    EXPECT_LT(warm.history().back().loss, after_first);
    // Once converged, a warm refit has nothing left to do.
    LogisticRegression done({.max_iter = 100, .penalty_l2 = 0.5, .warm_start = true});
    done.fit(X, y);
    ASSERT_TRUE(done.converged());
    const MatrixXd w = done.coef_matrix();
    done.fit(X, y);
    EXPECT_EQ(done.n_iter(), 0);
    EXPECT_LT((done.coef_matrix() - w).cwiseAbs().maxCoeff(), 1e-14);
    // Another number of features: the start is zero again.
    done.fit(Rows(MatrixXd(data.X.leftCols(3)), 37), y);
    EXPECT_NEAR(done.history().front().loss, 203 * std::log(static_cast<double>(k)), 1e-9);
  }
}

TEST_P(LogisticTest, SeparableDataAreFlaggedWithoutAPenalty) {
  Data data = MakeData(150, 3, 2, 15);
  for (int64_t i = 0; i < 150; ++i) data.y[i] = data.X(i, 0) - 0.5 * data.X(i, 1) > 0.2;
  const BlockArray X = Rows(data.X, 40), y = Vec(data.y, 40);
  for (const std::string& solver : kSolvers) {
    SCOPED_TRACE(solver);
    LogisticRegression lr({.solver = solver, .max_iter = 50});
    lr.fit(X, y);
    EXPECT_TRUE(lr.separable());
    EXPECT_FALSE(lr.converged());
    LogisticRegression penalised({.solver = solver, .max_iter = 200, .penalty_l2 = 0.1});
    penalised.fit(X, y);
    EXPECT_FALSE(penalised.separable());
    EXPECT_TRUE(penalised.converged());
  }
  // Overlapping classes: a finite optimum, no flag.
  const Data overlap = MakeData(150, 3, 2, 16);
  LogisticRegression lr;
  lr.fit(Rows(overlap.X, 40), Vec(overlap.y, 40));
  EXPECT_FALSE(lr.separable());
  EXPECT_TRUE(lr.converged());
  // Rows of weight 0 do not count: row 0, a copy of row 1 with the other label, weighs nothing.
  Data one = data;
  one.X.row(0) = one.X.row(1);
  one.y[0] = 1 - one.y[1];
  VectorXd w = VectorXd::Ones(150);
  LogisticRegression with_row({.max_iter = 50});
  with_row.fit(Rows(one.X, 40), Vec(one.y, 40));
  EXPECT_FALSE(with_row.separable());
  w[0] = 0;
  LogisticRegression without_row({.max_iter = 50});
  without_row.fit(Rows(one.X, 40), Vec(one.y, 40), Vec(w, 40));
  EXPECT_TRUE(without_row.separable());
  // Three classes, each on its own side of two lines.
  Data three = data;
  for (int64_t i = 0; i < 150; ++i) {
    three.y[i] = data.X(i, 0) < -0.5 ? 0 : (data.X(i, 0) < 0.5 ? 1 : 2);
  }
  LogisticRegression multi({.max_iter = 50});
  multi.fit(Rows(three.X, 40), Vec(three.y, 40));
  EXPECT_TRUE(multi.multinomial());
  EXPECT_TRUE(multi.separable());
  EXPECT_FALSE(multi.converged());
}

INSTANTIATE_TEST_SUITE_P(Nodes, LogisticTest, ::testing::Values(1, 3));

TEST(LogisticErrorTest, BadLabelsWeightsAndOptionsAreRejected) {
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  const Data data = MakeData(40, 3, 2, 17);
  const BlockArray X = Rows(data.X, 15), y = Vec(data.y, 15);
  LogisticRegression lr;
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(X, Vec(VectorXd::Constant(40, 3.0), 15)); },
                                       {"y has 1 class (3"});
  VectorXd three = data.y;
  three[5] = 2;
  LogisticRegression binary({.multi_class = "binary"});
  testing::ExpectThrowWith<ValueError>([&] { binary.fit(X, Vec(three, 15)); },
                                       {"y has 3 classes", "exactly 2"});
  EXPECT_FALSE(binary.is_fitted());
  testing::ExpectThrowWith<ValueError>(
      [&] { LogisticRegression({.multi_class = "ovr"}).fit(X, y); }, {"multi_class 'ovr'"});
  VectorXd nan = data.y;
  nan[3] = std::numeric_limits<double>::quiet_NaN();
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(X, Vec(nan, 15)); }, {"y has 1 NaN"});

  // Weights: 1-d of X's rows, finite, >= 0, not all 0.
  testing::ExpectThrowWith<ShapeError>([&] { lr.fit(X, y, Vec(VectorXd::Ones(39), 15)); },
                                       {"sample_weight of shape (39,)", "(40,)"});
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        lr.fit(X, y, ones({40, 1}));
      },
      {"sample_weight of shape (40, 1)"});
  VectorXd w = VectorXd::Ones(40);
  w[2] = -1;
  w[9] = -0.5;
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(X, y, Vec(w, 15)); }, {"2 negative"});
  w[2] = std::numeric_limits<double>::infinity();
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(X, y, Vec(w, 15)); },
                                       {"1 NaN or infinite and 1 negative"});
  testing::ExpectThrowWith<ValueError>([&] { lr.fit(X, y, zeros({40})); }, {"sums to 0"});
  EXPECT_FALSE(lr.is_fitted());
  testing::ExpectThrowWith<ValueError>([&] { lr.classes(); }, {"not fitted"});
  testing::ExpectThrowWith<ValueError>([&] { lr.separable(); }, {"not fitted"});
  testing::ExpectThrowWith<ValueError>([&] { lr.predict_proba(X); }, {"not fitted"});
}

}  // namespace
}  // namespace nums
