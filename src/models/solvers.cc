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

// The objective f(beta) = sum of the family's loss + alpha / 2 ||coef||^2, its gradient and
// Hessian; beta holds the d coefficients then the intercept (when fitted).
class Objective {
 public:
  Objective(const RowData& data, GlmFamily family, const GLMOptions& options)
      : data_(data),
        family_(family),
        alpha_(options.penalty_l2),
        fit_intercept_(options.fit_intercept),
        p_(data.d + (options.fit_intercept ? 1 : 0)) {}

  int64_t p() const { return p_; }
  int64_t passes() const { return passes_; }

  Eval operator()(const Eigen::VectorXd& beta, bool with_hessian) {
    ++passes_;
    const Eigen::VectorXd packed = sum_over_blocks(
        data_, "glm.newton_terms",
        {engine::Scalar{static_cast<int64_t>(family_)},
         engine::Scalar{std::vector<double>(beta.data(), beta.data() + beta.size())},
         engine::Scalar{fit_intercept_}, engine::Scalar{with_hessian}},
        1 + p_ + (with_hessian ? p_ * p_ : 0));
    const auto coef = beta.head(data_.d);
    Eval e;
    e.loss = packed[0] + 0.5 * alpha_ * coef.squaredNorm();
    e.grad = packed.segment(1, p_);
    e.grad.head(data_.d) += alpha_ * coef;
    if (with_hessian) {
      e.hess = Eigen::Map<const RowMajorMatrix>(packed.data() + 1 + p_, p_, p_);
      e.hess.diagonal().head(data_.d).array() += alpha_;
    }
    return e;
  }

 private:
  const RowData& data_;
  GlmFamily family_;
  double alpha_;
  bool fit_intercept_;
  int64_t p_;
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
  Fitter(const RowData& data, GlmFamily family, const GLMOptions& options, const char* model)
      : f_(data, family, options),
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
    Eigen::VectorXd beta = Eigen::VectorXd::Zero(f_.p());
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
    Eigen::VectorXd beta = Eigen::VectorXd::Zero(f_.p());
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

  Objective f_;
  const GLMOptions& options_;
  const char* model_;
  Clock::time_point last_;
  ProgressBar progress_;  // iterations of max_iter, on a terminal
  int64_t passes_seen_ = 0;
  GlmFit fit_;
};

}  // namespace

GlmFit fit_glm(const RowData& data, GlmFamily family, const GLMOptions& options,
               const char* model) {
  return Fitter(data, family, options, model).run();
}

}  // namespace nums::models::detail
