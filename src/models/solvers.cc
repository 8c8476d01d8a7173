// Iterative GLM solvers. Each objective evaluation is one distributed pass ("glm.newton_terms" on
// every row block, summed pairwise; see row_data.cc); the driver adds the L2 penalty and does the
// p x p work (p = d + intercept): an LDLT solve for newton / irls, the two-loop recursion for
// lbfgs, and the line searches.

#include <Eigen/Cholesky>
#include <chrono>
#include <cmath>
#include <deque>
#include <iostream>

#include "nums/progress.hpp"
#include "src/models/glm.h"

namespace nums::models::detail {

using kernels::GlmFamily;

void check_options(const GLMOptions& o, const char* model) {
  const std::string where = std::string(model) + ": ";
  if (o.solver != "newton" && o.solver != "irls" && o.solver != "lbfgs") {
    throw ValueError(where + "unknown solver '" + o.solver + "' (newton, irls or lbfgs)");
  }
  if (o.max_iter < 0) throw ValueError(where + "max_iter " + std::to_string(o.max_iter) + " < 0");
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) {
    throw ValueError(where + "tol " + std::to_string(o.tol) + " is not a finite value >= 0");
  }
  if (!(o.penalty_l2 >= 0) || !std::isfinite(o.penalty_l2)) {
    throw ValueError(where + "penalty_l2 " + std::to_string(o.penalty_l2) +
                     " is not a finite value >= 0");
  }
}

namespace {

using Clock = std::chrono::steady_clock;
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The penalised objective at a point.
struct Eval {
  double loss = 0;
  Eigen::VectorXd grad;
  Eigen::MatrixXd hess;  // empty unless asked for
  double grad_max() const { return grad.cwiseAbs().maxCoeff(); }
};

// The objective f(beta) = sum of the (weighted) loss + alpha / 2 ||coef||^2, its gradient and
// Hessian; beta holds, per output, the d coefficients then the intercept (when fitted).
class Objective {
 public:
  Objective(const RowData& data, const GlmProblem& problem, const GLMOptions& options)
      : data_(data),
        problem_(problem),
        alpha_(options.penalty_l2),
        fit_intercept_(options.fit_intercept),
        p1_(data.d + (options.fit_intercept ? 1 : 0)),
        p_(p1_ * std::max<int64_t>(1, problem.classes)),
        penalised_(Eigen::VectorXd::Zero(p_)) {
    for (int64_t k = 0; k < p_; k += p1_) penalised_.segment(k, data.d).setOnes();
  }

  int64_t p() const { return p_; }
  int64_t passes() const { return passes_; }

  Eval operator()(const Eigen::VectorXd& beta, bool with_hessian) {
    ++passes_;
    const std::vector<double> b(beta.data(), beta.data() + beta.size());
    const int64_t length = 1 + p_ + (with_hessian ? p_ * p_ : 0);
    const Eigen::VectorXd packed =
        problem_.classes > 0
            ? sum_over_blocks(data_, "glm.softmax_terms",
                              {engine::Scalar{problem_.classes}, engine::Scalar{b},
                               engine::Scalar{fit_intercept_}, engine::Scalar{with_hessian}},
                              length)
            : sum_over_blocks(
                  data_, "glm.newton_terms",
                  {engine::Scalar{static_cast<int64_t>(problem_.family)}, engine::Scalar{b},
                   engine::Scalar{fit_intercept_}, engine::Scalar{with_hessian}},
                  length);
    Eval e;
    e.loss = packed[0] + 0.5 * alpha_ * (penalised_.array() * beta.array().square()).sum();
    e.grad = packed.segment(1, p_);
    e.grad.array() += alpha_ * penalised_.array() * beta.array();
    if (with_hessian) {
      e.hess = Eigen::Map<const RowMajorMatrix>(packed.data() + 1 + p_, p_, p_);
      e.hess.diagonal().array() += alpha_ * penalised_.array();
      if (problem_.classes > 0) add_null_directions(e.hess);
    }
    return e;
  }

 private:
  // The multinomial loss does not change when one value is added to a column (a feature, or the
  // intercept) of every class's row, so its Hessian is singular along those directions u_j; the
  // gradient is orthogonal to them wherever no penalty holds that column. Adding c u_j u_j^T
  // there makes the Hessian definite and the Newton step free of any component along u_j.
  void add_null_directions(Eigen::MatrixXd& h) const {
    const double c = std::max(1.0, h.diagonal().cwiseAbs().mean());
    const int64_t k = problem_.classes;
    for (int64_t j = 0; j < p1_; ++j) {
      if (j < data_.d && alpha_ > 0) continue;
      for (int64_t a = 0; a < k; ++a) {
        for (int64_t b = 0; b < k; ++b) h(a * p1_ + j, b * p1_ + j) += c;
      }
    }
  }

  const RowData& data_;
  const GlmProblem& problem_;
  double alpha_;
  bool fit_intercept_;
  int64_t p1_;  // terms of one output: d, and the intercept when fitted
  int64_t p_;
  Eigen::VectorXd penalised_;  // 1 at the coefficients, 0 at the intercepts
  int64_t passes_ = 0;
};

// Armijo's sufficient decrease, or no measurable change of the loss: near the optimum a step's
// decrease drops below the loss's rounding, and rejecting it would stall the fit.
bool acceptable(const Eval& cand, const Eval& cur, double t, double slope) {
  if (!std::isfinite(cand.loss) || !cand.grad.allFinite()) return false;
  return cand.loss <= cur.loss + 1e-4 * t * slope ||
         cand.loss <= cur.loss + 1e-13 * std::abs(cur.loss);
}

constexpr int kMaxHalvings = 30;
constexpr size_t kLbfgsMemory = 10;

class Fitter {
 public:
  Fitter(const RowData& data, const GlmProblem& problem, const GLMOptions& options,
         const char* model)
      : f_(data, problem, options),
        start_(problem.start),
        options_(options),
        model_(model),
        last_(Clock::now()),
        // Verbose lines and a bar would overwrite each other.
        progress_(std::string(model) + " " + options.solver, options.max_iter,
                  {.mode = options.verbose ? ProgressOptions::Mode::kOff
                                           : ProgressOptions::Mode::kAuto}) {}

  GlmFit run() {
    GlmFit fit = options_.solver == "lbfgs" ? lbfgs() : newton(options_.solver == "irls");
    progress_.finish();
    return fit;
  }

 private:
  void record(int64_t iteration, const Eval& e) {
    const auto now = Clock::now();
    IterationInfo info{iteration, e.loss, e.grad_max(),
                       std::chrono::duration<double>(now - last_).count(),
                       f_.passes() - passes_seen_};
    last_ = now;
    passes_seen_ = f_.passes();
    if (options_.verbose) {
      std::cerr << model_ << " " << options_.solver << " iter " << info.iteration << ": loss "
                << info.loss << ", max|grad| " << info.grad_norm << ", " << info.seconds << " s\n";
    }
    fit_.history.push_back(info);
    progress_.set(iteration);
  }

  // Newton on the full step with backtracking, or (irls) the weighted normal equations for the
  // new point: (X^T W X + alpha I') beta_new = X^T W z, z = eta + (y - mu) / w, whose right side
  // is H beta - g in terms of the penalised gradient g and Hessian H; no line search.
  GlmFit newton(bool irls) {
    Eigen::VectorXd beta = start();
    Eval cur = f_(beta, true);
    record(0, cur);
    while (true) {
      if (cur.grad_max() <= options_.tol) {
        fit_.converged = true;
        break;
      }
      if (fit_.n_iter >= options_.max_iter) break;
      const Eigen::LDLT<Eigen::MatrixXd> ldlt(cur.hess);
      Eigen::VectorXd next;
      Eval cand;
      if (irls) {
        next = ldlt.solve(cur.hess * beta - cur.grad);
        if (!next.allFinite()) break;
        cand = f_(next, true);
        if (!std::isfinite(cand.loss) || !cand.grad.allFinite()) break;
      } else {
        const Eigen::VectorXd step = ldlt.solve(-cur.grad);
        if (!step.allFinite()) break;
        const double slope = cur.grad.dot(step);
        double t = 1;
        bool accepted = false;
        for (int k = 0; k < kMaxHalvings && !accepted; ++k, t /= 2) {
          next = beta + t * step;
          cand = f_(next, true);
          accepted = acceptable(cand, cur, t, slope);
        }
        if (!accepted) break;
      }
      beta = std::move(next);
      cur = std::move(cand);
      record(++fit_.n_iter, cur);
    }
    fit_.beta = std::move(beta);
    return std::move(fit_);
  }

  // L-BFGS: the direction from the two-loop recursion over the last pairs (s, y), scaled by
  // s.y / y.y of the newest; the first direction is -g / ||g||. Backtracking as in newton.
  GlmFit lbfgs() {
    Eigen::VectorXd beta = start();
    Eval cur = f_(beta, false);
    record(0, cur);
    std::deque<std::pair<Eigen::VectorXd, Eigen::VectorXd>> pairs;
    while (true) {
      if (cur.grad_max() <= options_.tol) {
        fit_.converged = true;
        break;
      }
      if (fit_.n_iter >= options_.max_iter) break;
      Eigen::VectorXd dir = -cur.grad;
      std::vector<double> rho(pairs.size()), a(pairs.size());
      for (size_t k = pairs.size(); k-- > 0;) {
        rho[k] = 1 / pairs[k].second.dot(pairs[k].first);
        a[k] = rho[k] * pairs[k].first.dot(dir);
        dir -= a[k] * pairs[k].second;
      }
      if (pairs.empty()) {
        dir /= cur.grad.norm();
      } else {
        dir *= pairs.back().first.dot(pairs.back().second) / pairs.back().second.squaredNorm();
      }
      for (size_t k = 0; k < pairs.size(); ++k) {
        dir += (a[k] - rho[k] * pairs[k].second.dot(dir)) * pairs[k].first;
      }
      double slope = cur.grad.dot(dir);
      if (!(slope < 0)) {  // not a descent direction: forget the pairs
        pairs.clear();
        dir = -cur.grad / cur.grad.norm();
        slope = cur.grad.dot(dir);
      }
      double t = 1;
      bool accepted = false;
      Eigen::VectorXd next;
      Eval cand;
      for (int k = 0; k < kMaxHalvings && !accepted; ++k, t /= 2) {
        next = beta + t * dir;
        cand = f_(next, false);
        accepted = acceptable(cand, cur, t, slope);
      }
      if (!accepted) break;
      Eigen::VectorXd s = next - beta;
      Eigen::VectorXd y = cand.grad - cur.grad;
      if (s.dot(y) > 1e-12 * s.norm() * y.norm()) {
        pairs.emplace_back(std::move(s), std::move(y));
        if (pairs.size() > kLbfgsMemory) pairs.pop_front();
      }
      beta = std::move(next);
      cur = std::move(cand);
      record(++fit_.n_iter, cur);
    }
    fit_.beta = std::move(beta);
    return std::move(fit_);
  }

  // The starting point: the problem's (a warm start) or zero.
  Eigen::VectorXd start() const {
    return start_.size() == f_.p() ? start_ : Eigen::VectorXd::Zero(f_.p());
  }

  Objective f_;
  Eigen::VectorXd start_;
  const GLMOptions& options_;
  const char* model_;
  Clock::time_point last_;
  ProgressBar progress_;  // iterations of max_iter, on a terminal
  int64_t passes_seen_ = 0;
  GlmFit fit_;
};

}  // namespace

GlmFit fit_glm(const RowData& data, const GlmProblem& problem, const GLMOptions& options,
               const char* model) {
  return Fitter(data, problem, options, model).run();
}

}  // namespace nums::models::detail
