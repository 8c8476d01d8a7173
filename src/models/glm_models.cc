// LinearModel (the fitted state every model shares) and the iteratively fitted GLMs:
// LogisticRegression and PoissonRegression.

#include "nums/math.hpp"
#include "nums/models.hpp"
#include "src/models/glm.h"

namespace nums::models {

using kernels::GlmFamily;

void LinearModel::check_fitted() const {
  if (!fitted_) {
    throw ValueError(std::string(name_) +
                     " is not fitted yet: call fit(X, y) before using the model");
  }
}

const Eigen::VectorXd& LinearModel::coef() const {
  check_fitted();
  return coef_;
}

double LinearModel::intercept() const {
  check_fitted();
  return intercept_;
}

int64_t LinearModel::n_iter() const {
  check_fitted();
  return n_iter_;
}

bool LinearModel::converged() const {
  check_fitted();
  return converged_;
}

const std::vector<IterationInfo>& LinearModel::history() const {
  check_fitted();
  return history_;
}

BlockArray LinearModel::decision_function(const BlockArray& X) const {
  check_fitted();
  return detail::predict_rows(X, GlmFamily::kGaussian, coef_, intercept_, false, name_);
}

namespace {

// Fits `family` and stores the result in the model's fields.
void fit_iterative(const BlockArray& X, const BlockArray& y, GlmFamily family,
                   const GLMOptions& options, const char* model, Eigen::VectorXd& coef,
                   double& intercept, int64_t& n_iter, bool& converged,
                   std::vector<IterationInfo>& history) {
  detail::check_options(options, model);
  const detail::RowData data = detail::prepare(X, y, family, model);
  detail::GlmFit fit = detail::fit_glm(data, family, options, model);
  coef = fit.beta.head(data.d);
  intercept = options.fit_intercept ? fit.beta[data.d] : 0.0;
  n_iter = fit.n_iter;
  converged = fit.converged;
  history = std::move(fit.history);
}

// y as float64 of X's rows, for scores; ShapeError naming both shapes otherwise.
BlockArray score_target(const BlockArray& X, const BlockArray& y, const char* model) {
  if (X.ndim() != 2 || y.ndim() != 1 || y.shape()[0] != X.shape()[0]) {
    throw ShapeError(std::string(model) + ".score: X of shape " + shape_str(X.shape()) +
                     " and y of shape " + shape_str(y.shape()) + " do not fit");
  }
  return y.astype(float64);
}

}  // namespace

LogisticRegression::LogisticRegression(Options options)
    : LinearModel("LogisticRegression"), options_(std::move(options)) {}

LogisticRegression& LogisticRegression::fit(const BlockArray& X, const BlockArray& y) {
  fitted_ = false;
  fit_iterative(X, y, GlmFamily::kLogistic, options_, name_, coef_, intercept_, n_iter_, converged_,
                history_);
  fitted_ = true;
  return *this;
}

BlockArray LogisticRegression::predict_proba(const BlockArray& X) const {
  check_fitted();
  return detail::predict_rows(X, GlmFamily::kLogistic, coef_, intercept_, false, name_);
}

BlockArray LogisticRegression::predict(const BlockArray& X) const {
  check_fitted();
  return detail::predict_rows(X, GlmFamily::kLogistic, coef_, intercept_, true, name_);
}

double LogisticRegression::score(const BlockArray& X, const BlockArray& y) const {
  check_fitted();
  const BlockArray t = score_target(X, y, name_);
  return (predict(X) == t).mean().item<double>();
}

PoissonRegression::PoissonRegression(Options options)
    : LinearModel("PoissonRegression"), options_(std::move(options)) {}

PoissonRegression& PoissonRegression::fit(const BlockArray& X, const BlockArray& y) {
  fitted_ = false;
  fit_iterative(X, y, GlmFamily::kPoisson, options_, name_, coef_, intercept_, n_iter_, converged_,
                history_);
  fitted_ = true;
  return *this;
}

BlockArray PoissonRegression::predict(const BlockArray& X) const {
  check_fitted();
  return detail::predict_rows(X, GlmFamily::kPoisson, coef_, intercept_, false, name_);
}

double PoissonRegression::score(const BlockArray& X, const BlockArray& y) const {
  check_fitted();
  const BlockArray t = score_target(X, y, name_);
  // Deviance 2 sum [y log(y / mu) - y + mu] (y log y = 0 at y = 0) of the model and of the
  // constant model mu = mean(y).
  const BlockArray mu = predict(X);
  const BlockArray ylogy = where(t > 0, t * log(where(t > 0, t, 1.0)), 0.0);
  const double dev = (ylogy - t * log(mu) - t + mu).sum().item<double>();
  const double ybar = t.mean().item<double>();
  const double dev0 = (ylogy - t * std::log(ybar) - t + ybar).sum().item<double>();
  return 1 - dev / dev0;
}

}  // namespace nums::models
