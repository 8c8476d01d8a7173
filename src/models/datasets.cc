// Synthetic data for the models: NumS's two Gaussian blobs, one "glm.blobs" task per row block
// on the node that owns the block.

#include <cmath>

#include "nums/models.hpp"
#include "src/array_impl.h"

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
  std::vector<engine::ObjectRef> xb, yb;
  nums::detail::for_each_entry(xg.grid_shape(), [&](const Shape& e) {
    const auto out = nums::detail::submit_n(
        *ctx, "glm.blobs",
        {nums::detail::int_scalar(xg.block_shape_at(e)[0]), nums::detail::int_scalar(cols),
         nums::detail::int_scalar(xg.block_offset(e)[0]), nums::detail::int_scalar(seed),
         engine::Scalar{params}},
        nums::detail::home_node(*ctx, xg, e), 2);
    xb.push_back(out[0]);
    yb.push_back(out[1]);
  });
  return {nums::detail::make_array(ctx, xg, std::move(xb)),
          nums::detail::make_array(ctx, yg, std::move(yb))};
}

}  // namespace nums::models
