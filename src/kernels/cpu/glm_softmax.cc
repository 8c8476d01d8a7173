// Multinomial (softmax) logistic regression kernels: per-block loss, gradient and Hessian, and
// predictions.
//
// A row block X_i (n_i x d) with class indices y_r in [0, K) and weights s_r, coefficients W
// (K x p, row k = [w_k, b_k], p = d + intercept), eta_r = W x_aug_r and P_r = softmax(eta_r):
//   loss = sum_r s_r (logsumexp(eta_r) - eta_r[y_r])
//   g_k  = sum_r s_r (P_rk - [y_r = k]) x_aug_r
//   H_kl = sum_r s_r P_rk ([k = l] - P_rl) x_aug_r x_aug_r^T
// K is small (classes), so the K (K + 1) / 2 weighted Gram products are done by Eigen per block.

#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "src/kernels/cpu/kernels.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// eta = [X, 1] W^T (n x K) for coefficients W (K x p, row-major).
Eigen::MatrixXd Decision(const Block& x, const std::vector<double>& coef, int64_t k,
                         bool fit_intercept, const char* kernel) {
  const int64_t n = x.shape()[0], d = x.shape()[1], p = d + (fit_intercept ? 1 : 0);
  if (x.dtype() != DType::kFloat64 || x.ndim() != 2) {
    throw ShapeError(std::string(kernel) + ": needs a float64 2-d X block, got " +
                     engine::ShapeToString(x.shape()));
  }
  if (k < 1 || static_cast<int64_t>(coef.size()) != k * p) {
    throw ShapeError(std::string(kernel) + ": " + std::to_string(coef.size()) +
                     " coefficients for " + std::to_string(k) + " classes of " + std::to_string(p) +
                     " terms");
  }
  const Eigen::Map<const RowMajor> xm(x.data<double>(), n, d);
  const Eigen::Map<const RowMajor> w(coef.data(), k, p);
  Eigen::MatrixXd eta = xm * w.leftCols(d).transpose();
  if (fit_intercept) eta.rowwise() += w.col(d).transpose();
  return eta;
}

// Row-wise softmax of eta in place; returns each row's logsumexp.
Eigen::VectorXd Softmax(Eigen::MatrixXd& eta) {
  Eigen::VectorXd lse(eta.rows());
  for (int64_t r = 0; r < eta.rows(); ++r) {
    const double m = eta.row(r).maxCoeff();
    const double s = (eta.row(r).array() - m).exp().sum();
    lse[r] = m + std::log(s);
    eta.row(r) = (eta.row(r).array() - lse[r]).exp();
  }
  return lse;
}

}  // namespace

void RegisterSoftmaxKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [X_i (n x d float64), y_i (n float64 class indices in [0, K), or n x 2: indices and
  // sample weights)]; scalars [K, coef (K x p row-major, p = d + fit_intercept), fit_intercept,
  // with_hessian]. Output: one float64 block [loss, gradient (K p), Hessian (K p x K p row-major,
  // when with_hessian)] summed over the block's rows (file comment).
  registry.Register("glm.softmax_terms", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const Block& y = ctx.inputs[1];
    const int64_t k = ctx.scalar<int64_t>(0);
    const auto& coef = ctx.scalar<std::vector<double>>(1);
    const bool fit_intercept = ctx.scalar<bool>(2);
    const bool with_hessian = ctx.scalar<bool>(3);
    Eigen::MatrixXd prob = Decision(x, coef, k, fit_intercept, "glm.softmax_terms");
    const int64_t n = x.shape()[0], d = x.shape()[1], p = d + (fit_intercept ? 1 : 0);
    if (y.dtype() != DType::kFloat64 || y.shape()[0] != n || y.ndim() > 2 ||
        (y.ndim() == 2 && y.shape()[1] != 2)) {
      throw ShapeError("glm.softmax_terms: a y block of shape " + engine::ShapeToString(y.shape()) +
                       " for " + std::to_string(n) + " rows");
    }
    const double* py = y.data<double>();
    const int64_t ystride = y.ndim() == 2 ? 2 : 1;
    Eigen::VectorXd sw = Eigen::VectorXd::Ones(n);
    if (ystride == 2) {
      for (int64_t r = 0; r < n; ++r) sw[r] = py[2 * r + 1];
    }
    Eigen::MatrixXd eta = prob;
    const Eigen::VectorXd lse = Softmax(prob);
    // resid = s (P - onehot(y)), the gradient of the loss over eta.
    Eigen::MatrixXd resid = prob;
    double loss = 0;
    for (int64_t r = 0; r < n; ++r) {
      const auto c = static_cast<int64_t>(py[r * ystride]);
      if (c < 0 || c >= k) {
        throw ValueError("glm.softmax_terms: class index " + std::to_string(py[r * ystride]) +
                         " outside [0, " + std::to_string(k) + ")");
      }
      loss += sw[r] * (lse[r] - eta(r, c));
      resid(r, c) -= 1;
      resid.row(r) *= sw[r];
    }
    const int64_t kp = k * p;
    Block out = Block::Allocate(DType::kFloat64, {1 + kp + (with_hessian ? kp * kp : 0)});
    double* o = out.data<double>();
    o[0] = loss;
    const Eigen::Map<const RowMajor> xm(x.data<double>(), n, d);
    Eigen::Map<RowMajor> g(o + 1, k, p);
    g.leftCols(d) = resid.transpose() * xm;
    if (fit_intercept) g.col(d) = resid.colwise().sum().transpose();
    if (!with_hessian) return std::vector<Block>{out};
    Eigen::Map<RowMajor> h(o + 1 + kp, kp, kp);
    Eigen::MatrixXd xa(n, p);
    xa.leftCols(d) = xm;
    if (fit_intercept) xa.col(d).setOnes();
    for (int64_t a = 0; a < k; ++a) {
      for (int64_t b = a; b < k; ++b) {
        Eigen::VectorXd wr = -(prob.col(a).array() * prob.col(b).array()).matrix();
        if (a == b) wr += prob.col(a);
        wr.array() *= sw.array();
        const Eigen::MatrixXd block = xa.transpose() * wr.asDiagonal() * xa;
        h.block(a * p, b * p, p, p) = block;
        if (a != b) h.block(b * p, a * p, p, p) = block.transpose();
      }
    }
    return std::vector<Block>{out};
  });
  // inputs [X_i]; scalars [K, coef (K x p row-major), fit_intercept, mode, classes (K doubles)].
  // mode 0: the decision values eta (n x K); 1: probabilities softmax(eta) (n x K); 2: the label
  // classes[argmax_k eta] of each row (n; the first of equal maxima).
  registry.Register("glm.softmax_predict", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const int64_t k = ctx.scalar<int64_t>(0);
    const auto& coef = ctx.scalar<std::vector<double>>(1);
    const bool fit_intercept = ctx.scalar<bool>(2);
    const int64_t mode = ctx.scalar<int64_t>(3);
    const auto& classes = ctx.scalar<std::vector<double>>(4);
    Eigen::MatrixXd eta = Decision(x, coef, k, fit_intercept, "glm.softmax_predict");
    const int64_t n = x.shape()[0];
    if (mode == 2) {
      if (static_cast<int64_t>(classes.size()) != k) {
        throw ShapeError("glm.softmax_predict: " + std::to_string(classes.size()) +
                         " class labels for " + std::to_string(k) + " classes");
      }
      Block out = Block::Allocate(DType::kFloat64, {n});
      for (int64_t r = 0; r < n; ++r) {
        Eigen::Index c = 0;
        eta.row(r).maxCoeff(&c);
        out.data<double>()[r] = classes[static_cast<size_t>(c)];
      }
      return std::vector<Block>{out};
    }
    if (mode == 1) Softmax(eta);
    Block out = Block::Allocate(DType::kFloat64, {n, k});
    Eigen::Map<RowMajor>(out.data<double>(), n, k) = eta;
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
