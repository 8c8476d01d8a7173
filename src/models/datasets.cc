// Synthetic data for the models: NumS's two Gaussian blobs, one "glm.blobs" task per row block
// on the node that owns the block.

#include <cmath>

#include "nums/models.hpp"
#include "src/array_impl.h"
#include "src/placement.h"

namespace nums::models {

Dataset make_blobs(int64_t rows, int64_t cols, int64_t seed, const BlobsOptions& options) {
  if (rows < 1 || cols < 1) {
    throw ValueError("make_blobs: needs rows >= 1 and cols >= 1, got " + std::to_string(rows) +
                     " x " + std::to_string(cols));
  }
  if (options.block_rows < 0) {
    throw ValueError("make_blobs: block_rows " + std::to_string(options.block_rows) + " < 0");
  }
  if (!(options.std0 >= 0) || !(options.std1 >= 0)) {
    throw ValueError("make_blobs: standard deviations must be >= 0");
  }
  auto ctx = nums::detail::current_context();
  const int64_t block_rows = options.block_rows > 0
                                 ? std::min(options.block_rows, rows)
                                 : default_block_shape({rows, cols}, float64, ctx->cores)[0];
  const ArrayGrid xg({rows, cols}, {block_rows, cols}, float64);
  const ArrayGrid yg({rows}, {block_rows}, float64);
  const std::vector<double> params{options.mean0, options.std0, options.mean1, options.std1};
  // Each row block on its home node, placed as one plan.
  nums::detail::BlockPlan plan(*ctx);
  std::vector<optimizer::OpId> ops;
  nums::detail::for_each_entry(xg.grid_shape(), [&](const Shape& e) {
    const int64_t n = xg.block_shape_at(e)[0];
    std::vector<engine::TaskArg> args{nums::detail::int_scalar(n), nums::detail::int_scalar(cols),
                                      nums::detail::int_scalar(xg.block_offset(e)[0]),
                                      nums::detail::int_scalar(seed), engine::Scalar{params}};
    ops.push_back(plan.OnNode(
        nums::detail::home_node(*ctx, xg, e), {}, n * (cols + 1) * 8,
        [&ctx = *ctx, args = std::move(args)](const std::vector<const nums::detail::Refs*>&,
                                              int64_t node) mutable {  // runs once
          return nums::detail::submit_n(ctx, "glm.blobs", std::move(args), node, 2);
        },
        "glm.blobs"));
    plan.Output(ops.back());
  });
  plan.Run();
  std::vector<engine::ObjectRef> xb, yb;
  for (optimizer::OpId op : ops) {
    xb.push_back(plan.result(op).at(0));
    yb.push_back(plan.result(op).at(1));
  }
  return {nums::detail::make_array(ctx, xg, std::move(xb)),
          nums::detail::make_array(ctx, yg, std::move(yb))};
}

}  // namespace nums::models
