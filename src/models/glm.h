#pragma once
// The models' internals: data checked and laid out for the GLM kernels, the one distributed sum
// every model's iterations use, predictions, and the iterative solvers.

#include <Eigen/Core>
#include <memory>
#include <vector>

#include "engine/task.h"
#include "nums/models.hpp"
#include "src/context_impl.h"
#include "src/kernels/glm_ops.h"

namespace nums::models::detail {

/// X and y of a fit as the GLM kernels take them: X's row blocks (float64, all d columns each)
/// and y's matching row blocks (float64), each y block on its X block's node so that every
/// iteration's task reads only local data.
struct RowData {
  std::shared_ptr<Context::Impl> ctx;
  int64_t n = 0, d = 0;
  std::vector<engine::ObjectRef> x, y;
  ArrayGrid grid;  ///< X's: n x d in row blocks
};

/// ShapeError unless X is 2-d and y 1-d of X's rows, ValueError for an X without rows or columns
/// or arrays of two contexts; `where` starts the messages.
void check_xy(const BlockArray& X, const BlockArray& y, const std::string& where);

/// ShapeError unless `w` is 1-d of n values; ValueError naming the count of negative or
/// non-finite weights, or when they sum to 0. One reduction pass.
void check_sample_weight(const BlockArray& w, int64_t n, const std::string& what);

/// Checks X and y for `model` (ShapeError, ValueError: see models.hpp), lays them out, and runs
/// one "glm.check" pass: non-finite values, and labels outside `family`'s support. With
/// `sample_weight` (checked by the caller), each y block becomes n_i x 2: labels, then weights.
RowData prepare(const BlockArray& X, const BlockArray& y, kernels::GlmFamily family,
                const char* model, const BlockArray* sample_weight = nullptr);

/// X as float64 with all columns in each block (re-blocked only when split along columns).
/// ShapeError unless X is 2-d with `d` columns (any number when d < 0).
BlockArray full_rows(const BlockArray& X, int64_t d, const char* model);

/// The distributed sum: runs `kernel` on every row block (inputs [x_i, y_i], then `scalars`),
/// each returning one 1-d float64 block of `length` values; adds them in a pairwise tree of
/// "array.binary" add tasks and fetches the total with one Get. The optimizer places every task
/// (the context's policy), so the tree adds the partials of one node there first.
Eigen::VectorXd sum_over_blocks(const RowData& data, const char* kernel,
                                const std::vector<engine::Scalar>& scalars, int64_t length);

/// "glm.predict" on each row block of X: the family's mean of X coef + intercept, or 0/1 labels.
BlockArray predict_rows(const BlockArray& X, kernels::GlmFamily family, const Eigen::VectorXd& coef,
                        double intercept, bool labels, const char* model);

/// A GLM fit: coefficients with the intercept last (when fitted), and how it went.
struct GlmFit {
  Eigen::VectorXd beta;
  bool converged = false;
  int64_t n_iter = 0;
  std::vector<IterationInfo> history;
};

/// ValueError naming the option for an unknown solver, max_iter < 0, or a negative or non-finite
/// tol or penalty_l2. Called before any task is sent.
void check_options(const GLMOptions& options, const char* model);

/// What a fit minimises: `family`'s loss, or with classes > 0 the multinomial loss over that many
/// classes (y holds class indices; "glm.softmax_terms"), plus the L2 penalty of the options.
struct GlmProblem {
  kernels::GlmFamily family = kernels::GlmFamily::kLogistic;
  int64_t classes = 0;
  /// The coefficients to start from (GlmFit::beta's layout); empty: all zero.
  Eigen::VectorXd start;
};

/// Fits `problem` on prepared data with options.solver. beta holds, per output (1, or `classes`
/// rows one after the other), the d coefficients then the intercept when fitted.
GlmFit fit_glm(const RowData& data, const GlmProblem& problem, const GLMOptions& options,
               const char* model);

}  // namespace nums::models::detail
