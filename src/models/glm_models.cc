// LinearModel (the fitted state every model shares) and the iteratively fitted GLMs:
// LogisticRegression and PoissonRegression.

#include <algorithm>
#include <cmath>
#include <limits>

#include "nums/creation.hpp"
#include "nums/math.hpp"
#include "nums/models.hpp"
#include "nums/shape.hpp"
#include "nums/sorting.hpp"
#include "src/array_impl.h"
#include "src/models/glm.h"
#include "src/placement.h"

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
  if (vector_coef_error_ != nullptr) throw ValueError(std::string(name_) + vector_coef_error_);
  return coef_;
}

double LinearModel::intercept() const {
  check_fitted();
  if (vector_coef_error_ != nullptr) throw ValueError(std::string(name_) + vector_coef_error_);
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
  return fit_impl(X, y, nullptr);
}

LogisticRegression& LogisticRegression::fit(const BlockArray& X, const BlockArray& y,
                                            const BlockArray& sample_weight) {
  return fit_impl(X, y, &sample_weight);
}

LogisticRegression& LogisticRegression::fit_impl(const BlockArray& X, const BlockArray& y,
                                                 const BlockArray* sample_weight) {
  const std::string where = std::string(name_) + ".fit";
  detail::check_options(options_, name_);
  const std::string& mc = options_.multi_class;
  if (mc != "auto" && mc != "multinomial" && mc != "binary") {
    throw ValueError(where + ": unknown multi_class '" + mc + "' (auto, multinomial or binary)");
  }
  detail::check_xy(X, y, where);
  const int64_t n = X.shape()[0], d = X.shape()[1];
  if (sample_weight != nullptr) {
    nums::detail::check_same_context(X, *sample_weight, where.c_str());
    detail::check_sample_weight(*sample_weight, n, where);
  }
  // The classes are y's distinct values, with each row's class index. Two classes (the common
  // case) come from y's min and max and a check that nothing else occurs: no sort, no scratch
  // beyond a row index; more go through a distributed unique.
  const BlockArray yf = y.astype(float64);
  std::vector<double> classes;
  BlockArray index;
  const double lo = n > 0 ? yf.min().item<double>() : 0.0;
  const double hi = n > 0 ? yf.max().item<double>() : 0.0;
  if (n > 0 && std::isfinite(lo) && std::isfinite(hi) &&
      !((yf != lo) & (yf != hi)).any().item<bool>()) {
    classes = lo == hi ? std::vector<double>{lo} : std::vector<double>{lo, hi};
    index = (yf == hi).astype(float64);
  } else {
    const UniqueResult u = unique(yf, false, true);
    const NDArray values = u.values.get();
    classes.assign(values.data<double>(), values.data<double>() + values.size());
    index = u.inverse.astype(float64);
  }
  const auto k = static_cast<int64_t>(classes.size());
  if (std::any_of(classes.begin(), classes.end(), [](double c) { return !std::isfinite(c); })) {
    const int64_t bad = (~isfinite(yf)).sum().item<int64_t>();
    throw ValueError(where + ": y has " + std::to_string(bad) + " NaN or infinite values");
  }
  if (k < 2 || (k > 2 && mc == "binary")) {
    throw ValueError(where + ": y has " + std::to_string(k) + " class" + (k == 1 ? "" : "es") +
                     (k == 1 ? " (" + std::to_string(classes[0]) + ")" : std::string()) +
                     (mc == "binary" ? "; a binary fit needs exactly 2"
                                     : "; logistic regression needs at least 2"));
  }
  const bool multi = mc == "multinomial" || k > 2;
  const int64_t p1 = d + (options_.fit_intercept ? 1 : 0);
  const int64_t outputs = multi ? k : 1;
  // The last fit's coefficients in the solvers' layout, when they fit this problem.
  Eigen::VectorXd start;
  if (options_.warm_start && fitted_ && multi == multinomial_ && coefs_.rows() == outputs &&
      coefs_.cols() == d) {
    start.resize(outputs * p1);
    for (int64_t r = 0; r < outputs; ++r) {
      start.segment(r * p1, d) = coefs_.row(r).transpose();
      if (options_.fit_intercept) start[r * p1 + d] = intercepts_[r];
    }
  }
  fitted_ = false;
  const detail::RowData data = detail::prepare(
      X, index, multi ? GlmFamily::kGaussian : GlmFamily::kLogistic, name_, sample_weight);
  detail::GlmFit fit = detail::fit_glm(
      data, {.family = GlmFamily::kLogistic, .classes = multi ? k : 0, .start = start}, options_,
      name_);
  coefs_.resize(outputs, d);
  intercepts_ = Eigen::VectorXd::Zero(outputs);
  for (int64_t r = 0; r < outputs; ++r) {
    coefs_.row(r) = fit.beta.segment(r * p1, d).transpose();
    if (options_.fit_intercept) intercepts_[r] = fit.beta[r * p1 + d];
  }
  if (multi) {
    // Adding one value to a column of every class changes no probability: report the
    // representative whose columns sum to 0 (scikit-learn's, from its zero start).
    coefs_.rowwise() -= coefs_.colwise().mean();
    intercepts_.array() -= intercepts_.mean();
  }
  classes_ = std::move(classes);
  label_dtype_ = y.dtype();
  multinomial_ = multi;
  vector_coef_error_ =
      multi ? ": a multinomial model has a coefficient row per class: use coef_matrix() and "
              "intercepts()"
            : nullptr;
  coef_ = coefs_.row(0).transpose();
  intercept_ = intercepts_[0];
  n_iter_ = fit.n_iter;
  converged_ = fit.converged;
  history_ = std::move(fit.history);
  fitted_ = true;
  separable_ = false;
  if (options_.penalty_l2 == 0) {
    // Each row's margin: its class's decision value minus the best other class's (binary: eta
    // signed by the class). All positive on rows that count: the data are separated.
    const BlockArray eta = decision_function(X);
    BlockArray margin;
    if (multi) {
      const BlockArray onehot = index.reshape({n, 1}) == arange(k).astype(float64).reshape({1, k});
      margin = nums::where(onehot, eta, 0.0).sum(1) -
               nums::where(onehot, -std::numeric_limits<double>::infinity(), eta).max(1);
    } else {
      margin = (2.0 * index - 1.0) * eta;
    }
    BlockArray wrong = margin <= 0.0;
    if (sample_weight != nullptr) wrong = wrong & (sample_weight->astype(float64) > 0.0);
    separable_ = !wrong.any().item<bool>();
    if (separable_) converged_ = false;
  }
  return *this;
}

const std::vector<double>& LogisticRegression::classes() const {
  check_fitted();
  return classes_;
}

bool LogisticRegression::multinomial() const {
  check_fitted();
  return multinomial_;
}

Eigen::MatrixXd LogisticRegression::coef_matrix() const {
  check_fitted();
  return coefs_;
}

Eigen::VectorXd LogisticRegression::intercepts() const {
  check_fitted();
  return intercepts_;
}

bool LogisticRegression::separable() const {
  check_fitted();
  return separable_;
}

namespace {

// "glm.softmax_predict" on each row block of X (mode: 0 decision values, 1 probabilities, 2
// labels), n x K or n.
BlockArray softmax_rows(const BlockArray& X, const Eigen::MatrixXd& coefs,
                        const Eigen::VectorXd& intercepts, bool fit_intercept,
                        const std::vector<double>& classes, int64_t mode, const char* model) {
  const int64_t k = coefs.rows(), d = coefs.cols(), p1 = d + (fit_intercept ? 1 : 0);
  const BlockArray x = detail::full_rows(X, d, (std::string(model) + ".predict").c_str());
  std::vector<double> w(static_cast<size_t>(k * p1));
  for (int64_t r = 0; r < k; ++r) {
    for (int64_t j = 0; j < d; ++j) w[static_cast<size_t>(r * p1 + j)] = coefs(r, j);
    if (fit_intercept) w[static_cast<size_t>(r * p1 + d)] = intercepts[r];
  }
  const auto& in = *x.impl();
  const int64_t rows = x.block_shape()[0];
  const ArrayGrid grid = mode == 2 ? ArrayGrid({x.shape()[0]}, {rows}, float64)
                                   : ArrayGrid({x.shape()[0], k}, {rows, k}, float64);
  using nums::detail::Refs;
  nums::detail::BlockPlan plan(*in.ctx);
  std::vector<optimizer::OpId> ops;
  for (int64_t i = 0; i < grid.grid_shape()[0]; ++i) {
    const int64_t n_i = grid.block_shape_at(mode == 2 ? Shape{i} : Shape{i, 0})[0];
    const engine::OutputSpec out{DType::kFloat64,
                                 mode == 2 ? engine::Shape{n_i} : engine::Shape{n_i, k}};
    auto predict = [&, out](const std::vector<const Refs*>& b, int64_t node) {
      return Refs{nums::detail::submit(
          *in.ctx, "glm.softmax_predict",
          {b[0]->at(0), engine::Scalar{k}, engine::Scalar{w}, engine::Scalar{fit_intercept},
           engine::Scalar{mode}, engine::Scalar{classes}},
          node, out)};
    };
    const optimizer::OpId leaf = plan.Leaf({in.blocks[static_cast<size_t>(i)]}, n_i * d * 8);
    ops.push_back(
        plan.Unary(leaf, out.nbytes(), predict, "glm.softmax_predict", "glm.softmax_predict"));
    plan.Output(ops.back());
  }
  plan.Run();
  std::vector<nums::detail::ObjectRef> blocks;
  for (optimizer::OpId op : ops) blocks.push_back(plan.result(op).at(0));
  return nums::detail::make_array(in.ctx, grid, std::move(blocks));
}

}  // namespace

BlockArray LogisticRegression::decision_function(const BlockArray& X) const {
  check_fitted();
  if (!multinomial_) return LinearModel::decision_function(X);
  return softmax_rows(X, coefs_, intercepts_, options_.fit_intercept, classes_, 0, name_);
}

BlockArray LogisticRegression::predict_proba(const BlockArray& X) const {
  check_fitted();
  if (multinomial_) {
    return softmax_rows(X, coefs_, intercepts_, options_.fit_intercept, classes_, 1, name_);
  }
  const BlockArray p1 =
      detail::predict_rows(X, GlmFamily::kLogistic, coef_, intercept_, false, name_);
  return stack({1.0 - p1, p1}, 1);
}

BlockArray LogisticRegression::predict(const BlockArray& X) const {
  check_fitted();
  if (multinomial_) {
    return softmax_rows(X, coefs_, intercepts_, options_.fit_intercept, classes_, 2, name_)
        .astype(label_dtype_);
  }
  const BlockArray positive =
      detail::predict_rows(X, GlmFamily::kLogistic, coef_, intercept_, true, name_);
  return where(positive > 0.5, classes_[1], classes_[0]).astype(label_dtype_);
}

double LogisticRegression::score(const BlockArray& X, const BlockArray& y) const {
  check_fitted();
  const BlockArray t = score_target(X, y, name_);
  return (predict(X).astype(float64) == t).mean().item<double>();
}

PoissonRegression::PoissonRegression(Options options)
    : LinearModel("PoissonRegression"), options_(std::move(options)) {}

PoissonRegression& PoissonRegression::fit(const BlockArray& X, const BlockArray& y) {
  detail::check_options(options_, name_);
  Eigen::VectorXd start;
  if (options_.warm_start && fitted_ && X.ndim() == 2 && coef_.size() == X.shape()[1]) {
    start = coef_;
    if (options_.fit_intercept) {
      start.conservativeResize(coef_.size() + 1);
      start[coef_.size()] = intercept_;
    }
  }
  fitted_ = false;
  const detail::RowData data = detail::prepare(X, y, GlmFamily::kPoisson, name_);
  detail::GlmFit fit =
      detail::fit_glm(data, {.family = GlmFamily::kPoisson, .start = start}, options_, name_);
  coef_ = fit.beta.head(data.d);
  intercept_ = options_.fit_intercept ? fit.beta[data.d] : 0.0;
  n_iter_ = fit.n_iter;
  converged_ = fit.converged;
  history_ = std::move(fit.history);
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
