// Data layout, checks, the distributed sum and predictions shared by every model.
//
// Layout: X's row block i (n_i x d) lives on node k_i; y's row block i is copied to k_i once per
// fit, so each iteration sends only the coefficients (d doubles) to each node and brings back one
// packed partial per block, summed pairwise across nodes: O(d^2 log(blocks)) bytes per iteration.

#include <cmath>

#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"
#include "src/models/glm.h"
#include "src/placement.h"

namespace nums::models::detail {

using kernels::GlmFamily;
using nums::detail::ObjectRef;
using nums::detail::TaskArg;

BlockArray full_rows(const BlockArray& X, int64_t d, const char* model) {
  if (X.ndim() != 2 || (d >= 0 && X.shape()[1] != d)) {
    throw ShapeError(std::string(model) + ": X of shape " + shape_str(X.shape()) +
                     (d >= 0 ? " does not have the " + std::to_string(d) + " features of the fit"
                             : std::string(" is not 2-d")));
  }
  nums::detail::reject_complex(X, model);
  BlockArray x = X.astype(float64);
  if (x.grid_shape()[1] > 1) x = x.rechunk({x.block_shape()[0], x.shape()[1]});
  return x;
}

void check_xy(const BlockArray& X, const BlockArray& y, const std::string& where) {
  if (X.ndim() != 2 || y.ndim() != 1 || y.shape()[0] != X.shape()[0]) {
    throw ShapeError(where + ": X of shape " + shape_str(X.shape()) + " and y of shape " +
                     shape_str(y.shape()) + " do not fit (X must be 2-d and y 1-d of X's rows)");
  }
  nums::detail::check_same_context(X, y, where.c_str());
  if (X.shape()[0] == 0 || X.shape()[1] == 0) {
    throw ValueError(where + ": X of shape " + shape_str(X.shape()) +
                     " needs at least one row and one feature");
  }
}

void check_sample_weight(const BlockArray& w, int64_t n, const std::string& what) {
  if (w.ndim() != 1 || w.shape()[0] != n) {
    throw ShapeError(what + ": sample_weight of shape " + shape_str(w.shape()) +
                     " does not fit X's rows: expected (" + std::to_string(n) + ",)");
  }
  const BlockArray wf = w.astype(float64);
  // NaN marks a bad weight, so that one pass finds the sum and whether any is bad.
  const double sum = nums::where(isfinite(wf) & (wf >= 0.0), wf, NAN).sum().item<double>();
  if (std::isnan(sum)) {
    const auto bad = [&](const BlockArray& m) { return std::to_string(m.sum().item<int64_t>()); };
    throw ValueError(what + ": sample_weight has " + bad(~isfinite(wf)) + " NaN or infinite and " +
                     bad(wf < 0.0) + " negative values (weights must be finite and >= 0)");
  }
  if (sum == 0) throw ValueError(what + ": sample_weight sums to 0: no row to fit");
}

RowData prepare(const BlockArray& X, const BlockArray& y, GlmFamily family, const char* model,
                const BlockArray* sample_weight) {
  const std::string where = std::string(model) + ".fit";
  check_xy(X, y, where);
  const BlockArray x = full_rows(X, -1, where.c_str());
  const BlockArray yb = sample_weight == nullptr
                            ? y.astype(float64).rechunk({x.block_shape()[0]})
                            : stack({y.astype(float64), sample_weight->astype(float64)}, 1)
                                  .rechunk({x.block_shape()[0], 2});
  RowData data{x.impl()->ctx, x.shape()[0], x.shape()[1], x.impl()->blocks, {}, x.grid()};
  // A y block elsewhere than its X block is copied there; the copies placed as one plan.
  using nums::detail::Refs;
  auto& ctx = *data.ctx;
  nums::detail::BlockPlan plan(ctx);
  std::vector<std::pair<size_t, optimizer::OpId>> copies;
  data.y = yb.impl()->blocks;
  for (size_t i = 0; i < data.x.size(); ++i) {
    const ObjectRef& yi = data.y[i];
    const int64_t node = data.x[i].node();
    if (yi.node() == node) continue;
    const int64_t bytes =
        data.grid.block_shape_at({static_cast<int64_t>(i), 0})[0] * (yb.ndim() == 2 ? 2 : 1) * 8;
    const optimizer::OpId copy = plan.OnNode(
        node, {plan.Leaf({yi}, bytes)}, bytes,
        [&ctx](const std::vector<const Refs*>& in, int64_t node) {
          return Refs{nums::detail::submit(ctx, "engine.identity", {in[0]->at(0)}, node)};
        },
        "engine.identity");
    plan.Output(copy);
    copies.emplace_back(i, copy);
  }
  if (!copies.empty()) plan.Run();
  for (const auto& [i, copy] : copies) data.y[i] = plan.result(copy).at(0);
  const Eigen::VectorXd bad =
      sum_over_blocks(data, "glm.check", {engine::Scalar{static_cast<int64_t>(family)}}, 3);
  if (bad[0] > 0 || bad[1] > 0) {
    throw ValueError(where + ": X has " + std::to_string(static_cast<int64_t>(bad[0])) +
                     " and y has " + std::to_string(static_cast<int64_t>(bad[1])) +
                     " NaN or infinite values");
  }
  if (bad[2] > 0) {
    throw ValueError(
        where + ": y has " + std::to_string(static_cast<int64_t>(bad[2])) +
        (family == GlmFamily::kLogistic ? " labels other than 0 and 1" : " negative values"));
  }
  return data;
}

Eigen::VectorXd sum_over_blocks(const RowData& data, const char* kernel,
                                const std::vector<engine::Scalar>& scalars, int64_t length) {
  using nums::detail::Refs;
  auto& ctx = *data.ctx;
  nums::detail::BlockPlan plan(ctx);
  const engine::OutputSpec partial{DType::kFloat64, {length}};
  const int64_t partial_bytes = partial.nbytes();
  auto run_kernel = [&ctx, kernel, &scalars, partial](const std::vector<const Refs*>& in,
                                                      int64_t node) {
    std::vector<TaskArg> args{in[0]->at(0), in[1]->at(0)};
    for (const auto& s : scalars) args.emplace_back(s);
    return Refs{nums::detail::submit(ctx, kernel, std::move(args), node, partial)};
  };
  const nums::detail::StepFn add = nums::detail::BinaryStep(ctx, kernels::BinaryOp::kAdd, partial);
  std::vector<optimizer::OpId> partials;
  for (size_t i = 0; i < data.x.size(); ++i) {
    const int64_t rows = data.grid.block_shape_at({static_cast<int64_t>(i), 0})[0];
    const optimizer::OpId x = plan.Leaf({data.x[i]}, rows * data.d * 8);
    const optimizer::OpId y = plan.Leaf({data.y[i]}, rows * 8);
    partials.push_back(plan.Binary(x, y, partial_bytes, run_kernel, kernel));
  }
  const optimizer::OpId total = plan.Reduce(std::move(partials), partial_bytes, add, "add");
  plan.Output(total);
  plan.Run();
  const engine::Block sum = ctx.runtime->Get(plan.result(total).at(0));
  return Eigen::Map<const Eigen::VectorXd>(sum.data<double>(), sum.size());
}

BlockArray predict_rows(const BlockArray& X, GlmFamily family, const Eigen::VectorXd& coef,
                        double intercept, bool labels, const char* model) {
  const BlockArray x = full_rows(X, coef.size(), (std::string(model) + ".predict").c_str());
  const std::vector<double> w(coef.data(), coef.data() + coef.size());
  const auto& in = *x.impl();
  using nums::detail::Refs;
  nums::detail::BlockPlan plan(*in.ctx);
  const ArrayGrid grid({x.shape()[0]}, {x.block_shape()[0]}, float64);
  std::vector<optimizer::OpId> ops;
  for (int64_t i = 0; i < grid.num_blocks(); ++i) {
    const int64_t rows = grid.block_shape_at({i})[0];
    auto predict = [&, rows](const std::vector<const Refs*>& b, int64_t node) {
      return Refs{nums::detail::submit(
          *in.ctx, "glm.predict",
          {b[0]->at(0), nums::detail::int_scalar(static_cast<int64_t>(family)), engine::Scalar{w},
           engine::Scalar{intercept}, engine::Scalar{labels}},
          node, engine::OutputSpec{DType::kFloat64, {rows}})};
    };
    const optimizer::OpId leaf =
        plan.Leaf({in.blocks[static_cast<size_t>(i)]}, rows * x.shape()[1] * 8);
    ops.push_back(plan.Unary(leaf, rows * 8, predict, "glm.predict"));
    plan.Output(ops.back());
  }
  plan.Run();
  std::vector<ObjectRef> blocks;
  for (optimizer::OpId op : ops) blocks.push_back(plan.result(op).at(0));
  return nums::detail::make_array(in.ctx, grid, std::move(blocks));
}

}  // namespace nums::models::detail
