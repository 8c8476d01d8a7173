// Data layout, checks, the distributed sum and predictions shared by every model.
//
// Layout: X's row block i (n_i x d) lives on node k_i; y's row block i is copied to k_i once per
// fit, so each iteration sends only the coefficients (d doubles) to each node and brings back one
// packed partial per block, summed pairwise across nodes: O(d^2 log(blocks)) bytes per iteration.

#include "src/array_impl.h"
#include "src/models/glm.h"

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
  BlockArray x = X.astype(float64);
  if (x.grid_shape()[1] > 1) x = x.rechunk({x.block_shape()[0], x.shape()[1]});
  return x;
}

RowData prepare(const BlockArray& X, const BlockArray& y, GlmFamily family, const char* model) {
  const std::string where = std::string(model) + ".fit";
  if (X.ndim() != 2 || y.ndim() != 1 || y.shape()[0] != X.shape()[0]) {
    throw ShapeError(where + ": X of shape " + shape_str(X.shape()) + " and y of shape " +
                     shape_str(y.shape()) + " do not fit (X must be 2-d and y 1-d of X's rows)");
  }
  nums::detail::check_same_context(X, y, where.c_str());
  if (X.shape()[0] == 0 || X.shape()[1] == 0) {
    throw ValueError(where + ": X of shape " + shape_str(X.shape()) +
                     " needs at least one row and one feature");
  }
  const BlockArray x = full_rows(X, -1, where.c_str());
  const BlockArray yb = y.astype(float64).rechunk({x.block_shape()[0]});
  RowData data{x.impl()->ctx, x.shape()[0], x.shape()[1], x.impl()->blocks, {}};
  for (size_t i = 0; i < data.x.size(); ++i) {
    const ObjectRef& yi = yb.impl()->blocks[i];
    const int64_t node = data.x[i].node();
    data.y.push_back(
        yi.node() == node ? yi : nums::detail::submit(*data.ctx, "engine.identity", {yi}, node));
  }
  const Eigen::VectorXd bad =
      sum_over_blocks(data, "glm.check", {engine::Scalar{static_cast<int64_t>(family)}});
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
                                const std::vector<engine::Scalar>& scalars) {
  auto& ctx = *data.ctx;
  std::vector<ObjectRef> level;
  level.reserve(data.x.size());
  for (size_t i = 0; i < data.x.size(); ++i) {
    std::vector<TaskArg> args{data.x[i], data.y[i]};
    for (const auto& s : scalars) args.emplace_back(s);
    level.push_back(nums::detail::submit(ctx, kernel, std::move(args), data.x[i].node()));
  }
  const TaskArg add = nums::detail::int_scalar(static_cast<int64_t>(kernels::BinaryOp::kAdd));
  while (level.size() > 1) {
    std::vector<ObjectRef> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(nums::detail::submit(ctx, "array.binary", {level[i], level[i + 1], add},
                                          level[i].node()));
    }
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  const engine::Block total = ctx.runtime->Get(level[0]);
  return Eigen::Map<const Eigen::VectorXd>(total.data<double>(), total.size());
}

BlockArray predict_rows(const BlockArray& X, GlmFamily family, const Eigen::VectorXd& coef,
                        double intercept, bool labels, const char* model) {
  const BlockArray x = full_rows(X, coef.size(), (std::string(model) + ".predict").c_str());
  const std::vector<double> w(coef.data(), coef.data() + coef.size());
  const auto& in = *x.impl();
  std::vector<ObjectRef> blocks;
  for (const ObjectRef& b : in.blocks) {
    blocks.push_back(
        nums::detail::submit(*in.ctx, "glm.predict",
                             {b, nums::detail::int_scalar(static_cast<int64_t>(family)),
                              engine::Scalar{w}, engine::Scalar{intercept}, engine::Scalar{labels}},
                             b.node()));
  }
  return nums::detail::make_array(in.ctx, ArrayGrid({x.shape()[0]}, {x.block_shape()[0]}, float64),
                                  std::move(blocks));
}

}  // namespace nums::models::detail
