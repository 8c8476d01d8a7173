#pragma once
/// nums::models: generalised linear models fitted on distributed data, with a scikit-learn-like
/// interface (fit / predict / score, coef / intercept).
///
/// X is an n x d array of samples (rows) and features; y a 1-d array of its n rows. Any dtype is
/// accepted and computed in float64. X is used as a tall-skinny array: its rows stay split into
/// blocks where they live and each block holds all columns (an X split along columns is re-blocked
/// to full rows once per fit). Each iteration runs one fused task per row block, sums the partial
/// results in a pairwise tree and solves a small d x d system on the driver: X is never gathered.
///
/// Every fit checks, before or with its first pass: X 2-d and y 1-d of X's rows (ShapeError
/// naming both shapes), n >= 1 and d >= 1 (ValueError), NaN or infinity in X or y (ValueError),
/// and labels the model does not accept (ValueError). predict / score / coef before fit throw
/// ValueError; predict on an X with another number of features throws ShapeError.

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "nums/block_array.hpp"

namespace nums::models {

/// One step of a fit, as kept in history() and printed with `verbose`.
struct IterationInfo {
  int64_t iteration = 0;  ///< 0: the starting point; k: after the k-th update
  double loss = 0;        ///< the objective, penalty included
  double grad_norm = 0;   ///< max |gradient of the objective| (what the stopping rule tests)
  double seconds = 0;     ///< wall time of this step: distributed passes plus the driver's solve
  int64_t passes = 0;     ///< passes over X this step took (line-search trials included)
};

/// Options of the iteratively fitted GLMs (LogisticRegression, PoissonRegression).
struct GLMOptions {
  /// "newton": Newton's method with a backtracking (Armijo) line search on the full step;
  /// "irls": iteratively reweighted least squares, i.e. undamped Newton written as the weighted
  /// normal equations for the new coefficients (fastest when it converges, no safeguard);
  /// "lbfgs": limited-memory BFGS (10 pairs) with a backtracking line search, which needs only
  /// gradients (no d x d Hessian per block). Anything else: ValueError at fit.
  std::string solver = "newton";
  int64_t max_iter = 100;  ///< at most this many updates (>= 0; ValueError otherwise)
  double tol = 1e-8;       ///< stop when max |gradient| <= tol (NumS's rule)
  /// alpha >= 0: adds alpha / 2 * ||coef||^2 to the objective (the intercept is not penalised).
  double penalty_l2 = 0;
  bool fit_intercept = true;
  bool verbose = false;  ///< print each iteration (loss, gradient norm, seconds) to stderr
  /// Start the next fit from this model's last coefficients when their shape fits (same number
  /// of features, classes and intercept); from zero otherwise (scikit-learn's warm_start).
  bool warm_start = false;
  /// LogisticRegression only: "auto" (binary for 2 classes, multinomial for more: scikit-learn's
  /// default with lbfgs), "multinomial" (softmax over K >= 2 classes) or "binary" (exactly 2
  /// classes). Anything else: ValueError at fit.
  std::string multi_class = "auto";
};

/// What every fitted linear model has: coefficients, intercept and how the fit went.
class LinearModel {
 public:
  virtual ~LinearModel() = default;
  /// The d coefficients. ValueError before fit, and for a multinomial LogisticRegression (use
  /// coef_matrix()).
  const Eigen::VectorXd& coef() const;
  /// The intercept (0 when not fitted with one). ValueError before fit, and for a multinomial
  /// LogisticRegression (use intercepts()).
  double intercept() const;
  /// Updates the fit made (sweeps for Lasso; 1 for the closed-form models). ValueError before fit.
  int64_t n_iter() const;
  /// Whether the stopping rule was met (false when max_iter stopped the fit).
  bool converged() const;
  /// One entry per step, starting with the initial point (closed-form models: one entry, at the
  /// solution). ValueError before fit.
  const std::vector<IterationInfo>& history() const;
  /// Whether fit has succeeded (a fit that threw leaves the model unfitted).
  bool is_fitted() const { return fitted_; }
  /// The linear predictor X coef + intercept, float64 of X's rows, blocked like X's rows
  /// (a multinomial LogisticRegression gives n x K: one column per class).
  virtual BlockArray decision_function(const BlockArray& X) const;

 protected:
  explicit LinearModel(const char* name) : name_(name) {}
  void check_fitted() const;

  const char* name_;
  /// Set when coef() / intercept() do not apply to the fitted model: why, for their ValueError.
  const char* vector_coef_error_ = nullptr;
  bool fitted_ = false;
  bool converged_ = false;
  Eigen::VectorXd coef_;
  double intercept_ = 0;
  int64_t n_iter_ = 0;
  std::vector<IterationInfo> history_;
};

/// Logistic regression with scikit-learn's semantics. Binary: minimises
/// sum_i s_i [log(1 + e^eta_i) - t_i eta_i] + penalty_l2 / 2 * ||coef||^2 with
/// eta = X coef + intercept, t_i = 1 where y_i is classes()[1] and 0 where it is classes()[0],
/// and s_i the sample weights (1 without). Multinomial (K classes): minimises
/// sum_i s_i [logsumexp(eta_i) - eta_i[c_i]] + penalty_l2 / 2 * ||W||^2 with eta_i = W x_i + b
/// (K values), c_i the index of y_i in classes(). scikit-learn's C = 1 / penalty_l2; the
/// intercepts are not penalised. Every solver (newton, irls, lbfgs) fits both.
///
/// Labels are any values (of any dtype, compared as float64): classes() are y's distinct values
/// in ascending order. Fewer than 2 classes, or other than 2 with multi_class = "binary", is a
/// ValueError naming the count; y with NaN or infinity is a ValueError.
///
/// Separable data: without a penalty, when the fitted hyperplanes classify every row with a
/// positive weight strictly right, no finite optimum exists (the loss falls towards 0 as the
/// coefficients grow). Such a fit sets separable() and leaves converged() false, and its
/// coefficients are only where the solver stopped; use penalty_l2 > 0 for a unique optimum.
///
/// Besides the solver's passes, a fit runs one distributed unique of y (the classes and each
/// row's class index) and, without a penalty, one pass for the separability check.
class LogisticRegression : public LinearModel {
 public:
  using Options = GLMOptions;
  explicit LogisticRegression(Options options = {});

  /// Fits on X (n x d) and labels y (n); returns *this. Throws as described in the file comment
  /// and the class comment, and ValueError for a bad option.
  LogisticRegression& fit(const BlockArray& X, const BlockArray& y);
  /// Fits with a weight per row: `sample_weight` 1-d of n values, finite and >= 0 (ShapeError,
  /// ValueError naming the count of bad values, ValueError when all are 0). An integer weight
  /// acts as that many copies of the row.
  LogisticRegression& fit(const BlockArray& X, const BlockArray& y,
                          const BlockArray& sample_weight);
  /// The class labels, ascending (scikit-learn's classes_). ValueError before fit.
  const std::vector<double>& classes() const;
  /// Whether the model is multinomial (softmax over classes()), else binary.
  bool multinomial() const;
  /// The coefficients as scikit-learn's coef_: 1 x d for a binary model (classes()[1]'s), K x d
  /// for a multinomial one (also for K = 2, where scikit-learn reports row 1 alone). ValueError
  /// before fit.
  Eigen::MatrixXd coef_matrix() const;
  /// The intercepts as scikit-learn's intercept_: 1 value (binary) or K (multinomial; they sum to
  /// 0, as do the columns of coef_matrix(), since adding one value to all classes changes nothing).
  Eigen::VectorXd intercepts() const;
  /// P(class | x) for each row: float64 n x K (K = 2 for a binary model), column k for
  /// classes()[k]; the rows sum to 1.
  BlockArray predict_proba(const BlockArray& X) const;
  /// The predicted class label of each row (the most probable class; a binary model predicts
  /// classes()[1] where P > 1/2), of y's dtype at fit.
  BlockArray predict(const BlockArray& X) const;
  /// Accuracy: the fraction of rows where predict(X) equals y.
  double score(const BlockArray& X, const BlockArray& y) const;
  /// An unpenalised fit on data it separates (see the class comment). ValueError before fit.
  bool separable() const;
  /// The options given at construction.
  const Options& options() const { return options_; }
  BlockArray decision_function(const BlockArray& X) const override;

 private:
  LogisticRegression& fit_impl(const BlockArray& X, const BlockArray& y,
                               const BlockArray* sample_weight);
  Options options_;
  std::vector<double> classes_;
  DType label_dtype_ = float64;
  Eigen::MatrixXd coefs_;       // rows: 1 (binary) or K (multinomial)
  Eigen::VectorXd intercepts_;  // 1 or K
  bool multinomial_ = false;
  bool separable_ = false;
};

/// Poisson regression with the log link: minimises sum_i [e^eta_i - y_i eta_i] +
/// penalty_l2 / 2 * ||coef||^2 with eta = X coef + intercept. y must be >= 0 (counts or rates;
/// ValueError otherwise).
class PoissonRegression : public LinearModel {
 public:
  using Options = GLMOptions;
  explicit PoissonRegression(Options options = {});

  /// Fits on X (n x d) and y (n, >= 0); returns *this.
  PoissonRegression& fit(const BlockArray& X, const BlockArray& y);
  /// The predicted mean exp(X coef + intercept) of each row, float64.
  BlockArray predict(const BlockArray& X) const;
  /// D^2, the fraction of Poisson deviance explained (1 is perfect; scikit-learn's score).
  double score(const BlockArray& X, const BlockArray& y) const;
  /// The options given at construction.
  const Options& options() const { return options_; }

 private:
  Options options_;
};

/// The models fitted from the Gram matrix: one distributed pass computes X^T X, X^T y and y^T y
/// (with the intercept column), and the driver solves the d x d problem.
class GramModel : public LinearModel {
 public:
  virtual ~GramModel() = default;
  /// Predicted y: X coef + intercept, float64.
  BlockArray predict(const BlockArray& X) const;
  /// R^2, the coefficient of determination (1 is perfect; scikit-learn's score).
  double score(const BlockArray& X, const BlockArray& y) const;

 protected:
  GramModel(const char* name, bool fit_intercept)
      : LinearModel(name), fit_intercept_(fit_intercept) {}
  /// The Gram terms of centred data (centred when fitting an intercept), then solve(...) on them.
  void fit_gram(const BlockArray& X, const BlockArray& y);
  /// Finds coef_ from the centred Gram matrix `g` (d x d), `c` = Xc^T yc and n; fills history_.
  virtual void solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty, int64_t n) = 0;

  bool fit_intercept_;
};

/// Ordinary least squares: minimises ||y - X coef - intercept||^2. With collinear features the
/// minimum-norm coefficients are returned (a complete orthogonal decomposition of X^T X).
class LinearRegression : public GramModel {
 public:
  explicit LinearRegression(bool fit_intercept = true);
  /// Fits on X (n x d) and y (n); returns *this.
  LinearRegression& fit(const BlockArray& X, const BlockArray& y);

 private:
  void solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty, int64_t n) override;
};

/// Ridge regression: minimises ||y - X coef - intercept||^2 + alpha ||coef||^2 (scikit-learn's
/// objective); alpha >= 0 (ValueError otherwise).
class Ridge : public GramModel {
 public:
  explicit Ridge(double alpha = 1.0, bool fit_intercept = true);
  /// Fits on X (n x d) and y (n); returns *this.
  Ridge& fit(const BlockArray& X, const BlockArray& y);
  /// The penalty weight given at construction.
  double alpha() const { return alpha_; }

 private:
  void solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty, int64_t n) override;
  double alpha_;
};

/// Lasso: minimises 1 / (2n) ||y - X coef - intercept||^2 + alpha ||coef||_1 (scikit-learn's
/// objective) by cyclic coordinate descent on the Gram matrix, which is computed in one
/// distributed pass; the sweeps run on the driver and cost O(d^2) each, whatever n is. Stops when
/// the largest minimum-norm subgradient is <= tol, or after max_iter sweeps. alpha >= 0,
/// max_iter >= 0 (ValueError otherwise).
class Lasso : public GramModel {
 public:
  explicit Lasso(double alpha = 1.0, bool fit_intercept = true, int64_t max_iter = 1000,
                 double tol = 1e-10);
  /// Fits on X (n x d) and y (n); returns *this.
  Lasso& fit(const BlockArray& X, const BlockArray& y);
  /// The penalty weight given at construction.
  double alpha() const { return alpha_; }

 private:
  void solve(const Eigen::MatrixXd& g, const Eigen::VectorXd& c, double yty, int64_t n) override;
  double alpha_;
  int64_t max_iter_;
  double tol_;
};

/// A synthetic binary classification set, NumS's standard: each row's class is 0 or 1 with
/// probability 1/2 and its features are independent normals, N(mean0, std0^2) for class 0 and
/// N(mean1, std1^2) for class 1.
struct BlobsOptions {
  double mean0 = 10, std0 = 2;  ///< class 0's feature distribution
  double mean1 = 30, std1 = 4;  ///< class 1's feature distribution
  int64_t block_rows = 0;       ///< rows per block; 0: the default block shape of an n x d float64
};

/// X (rows x cols float64, all columns in each block) and y (rows float64, 0 or 1).
struct Dataset {
  BlockArray X, y;
};

/// Generates a BlobsOptions data set block-parallel on the current context (each block where it
/// lives). The values depend only on `seed` (not on the blocking or the number of nodes).
/// ValueError for rows < 1, cols < 1, block_rows < 0 or a negative std.
Dataset make_blobs(int64_t rows, int64_t cols, int64_t seed, const BlobsOptions& options = {});

}  // namespace nums::models
