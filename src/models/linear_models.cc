// The models fitted from the Gram matrix: LinearRegression, Ridge and Lasso.
//
// One distributed pass ("glm.newton_terms" of the Gaussian family at coef = 0, summed pairwise)
// gives X_aug^T X_aug, X_aug^T y and y^T y with X_aug = [X, 1]; the driver centres them
// (G = X^T X - n xbar xbar^T, c = X^T y - n xbar ybar) so that the unpenalised intercept drops
// out, solves the d x d problem and sets intercept = ybar - xbar . coef.

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <chrono>
#include <cmath>

#include "nums/math.hpp"
#include "nums/models.hpp"
#include "src/models/glm.h"

namespace nums::models {

using kernels::GlmFamily;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

void GramModel::fit_gram(const BlockArray& X, const BlockArray& y) {
  fitted_ = false;
  const auto start = Clock::now();
  const detail::RowData data = detail::prepare(X, y, GlmFamily::kGaussian, name_);
  const int64_t d = data.d, p = d + (fit_intercept_ ? 1 : 0);
  const Eigen::VectorXd packed = detail::sum_over_blocks(
      data, "glm.newton_terms",
      {engine::Scalar{static_cast<int64_t>(GlmFamily::kGaussian)},
       engine::Scalar{std::vector<double>{}}, engine::Scalar{fit_intercept_}, engine::Scalar{true}},
      1 + p + p * p);
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> h(
      packed.data() + 1 + p, p, p);
  Eigen::MatrixXd g = h.topLeftCorner(d, d);
  Eigen::VectorXd c = -packed.segment(1, d);
  double yty = 2 * packed[0];
  Eigen::VectorXd xbar = Eigen::VectorXd::Zero(d);
  double ybar = 0;
  if (fit_intercept_) {
    const double n = static_cast<double>(data.n);
    xbar = h.col(d).head(d) / n;
    ybar = -packed[1 + d] / n;
    g -= n * xbar * xbar.transpose();
    c -= n * ybar * xbar;
    yty -= n * ybar * ybar;
  }
  const double pass_seconds = seconds_since(start);
  history_.clear();
  solve(g, c, yty, data.n);
  intercept_ = fit_intercept_ ? ybar - xbar.dot(coef_) : 0.0;
  history_[0].seconds += pass_seconds;
  fitted_ = true;
}

BlockArray GramModel::predict(const BlockArray& X) const { return decision_function(X); }

double GramModel::score(const BlockArray& X, const BlockArray& y) const {
  check_fitted();
  if (X.ndim() != 2 || y.ndim() != 1 || y.shape()[0] != X.shape()[0]) {
    throw ShapeError(std::string(name_) + ".score: X of shape " + shape_str(X.shape()) +
                     " and y of shape " + shape_str(y.shape()) + " do not fit");
  }
  const BlockArray t = y.astype(float64);
  const BlockArray r = t - predict(X);
  const BlockArray dev = t - t.mean();
  return 1 - (r * r).sum().item<double>() / (dev * dev).sum().item<double>();
}

LinearRegression::LinearRegression(bool fit_intercept)
    : GramModel("LinearRegression", fit_intercept) {}

LinearRegression& LinearRegression::fit(const BlockArray& X, const BlockArray& y) {
  fit_gram(X, y);
  return *this;
}

void LinearRegression::solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty,
                             int64_t) {
  coef_ = g.completeOrthogonalDecomposition().solve(c);
  // ||y - X w||^2 = y.y - 2 w.c + w.G w, gradient 2 (G w - c).
  const Eigen::VectorXd gw = g * coef_;
  history_ = {
      {1, yty - 2 * coef_.dot(c) + coef_.dot(gw), 2 * (gw - c).cwiseAbs().maxCoeff(), 0, 1}};
  n_iter_ = 1;
  converged_ = true;
}

Ridge::Ridge(double alpha, bool fit_intercept) : GramModel("Ridge", fit_intercept), alpha_(alpha) {
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    throw ValueError("Ridge: alpha " + std::to_string(alpha) + " is not a finite value >= 0");
  }
}

Ridge& Ridge::fit(const BlockArray& X, const BlockArray& y) {
  fit_gram(X, y);
  return *this;
}

void Ridge::solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty, int64_t) {
  Eigen::MatrixXd a = g;
  a.diagonal().array() += alpha_;
  coef_ = alpha_ > 0 ? Eigen::VectorXd(a.ldlt().solve(c))
                     : Eigen::VectorXd(a.completeOrthogonalDecomposition().solve(c));
  const Eigen::VectorXd aw = a * coef_;
  history_ = {
      {1, yty - 2 * coef_.dot(c) + coef_.dot(aw), 2 * (aw - c).cwiseAbs().maxCoeff(), 0, 1}};
  n_iter_ = 1;
  converged_ = true;
}

Lasso::Lasso(double alpha, bool fit_intercept, int64_t max_iter, double tol)
    : GramModel("Lasso", fit_intercept), alpha_(alpha), max_iter_(max_iter), tol_(tol) {
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    throw ValueError("Lasso: alpha " + std::to_string(alpha) + " is not a finite value >= 0");
  }
  if (max_iter < 0) throw ValueError("Lasso: max_iter " + std::to_string(max_iter) + " < 0");
  if (!(tol >= 0) || !std::isfinite(tol)) {
    throw ValueError("Lasso: tol " + std::to_string(tol) + " is not a finite value >= 0");
  }
}

Lasso& Lasso::fit(const BlockArray& X, const BlockArray& y) {
  fit_gram(X, y);
  return *this;
}

// Cyclic coordinate descent on f(w) = (y.y - 2 w.c + w.G w) / (2n) + alpha ||w||_1, keeping
// q = G w up to date: w_j = S(c_j - (q_j - G_jj w_j), n alpha) / G_jj with S the soft threshold.
void Lasso::solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty, int64_t n_rows) {
  auto last = Clock::now();
  const int64_t d = c.size();
  const double n = static_cast<double>(n_rows);
  const double na = n * alpha_;
  // A (numerically) constant feature has a zero centred column: its coefficient stays 0.
  const double tiny = 1e-12 * std::max(1.0, g.diagonal().maxCoeff());
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d), q = Eigen::VectorXd::Zero(d);
  converged_ = false;
  auto record = [&](int64_t sweep) {
    const Eigen::VectorXd grad = (q - c) / n;
    double worst = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double sub = w[j] != 0 ? grad[j] + alpha_ * (w[j] > 0 ? 1 : -1)
                                   : std::max(std::abs(grad[j]) - alpha_, 0.0);
      worst = std::max(worst, std::abs(sub));
    }
    const double loss = (yty - 2 * w.dot(c) + w.dot(q)) / (2 * n) + alpha_ * w.lpNorm<1>();
    history_.push_back({sweep, loss, worst, seconds_since(last), sweep == 0 ? 1 : 0});
    last = Clock::now();
    return worst;
  };
  int64_t sweep = 0;
  while (true) {
    if (record(sweep) <= tol_) {
      converged_ = true;
      break;
    }
    if (sweep >= max_iter_) break;
    for (int64_t j = 0; j < d; ++j) {
      const double gjj = g(j, j);
      if (gjj <= tiny) continue;
      const double rho = c[j] - (q[j] - gjj * w[j]);
      const double wj = (rho > na ? rho - na : rho < -na ? rho + na : 0.0) / gjj;
      if (wj != w[j]) {
        q += (wj - w[j]) * g.col(j);
        w[j] = wj;
      }
    }
    ++sweep;
  }
  coef_ = w;
  n_iter_ = sweep;
}

}  // namespace nums::models
