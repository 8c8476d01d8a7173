// searchsorted, distributed over the values: the insertion index of v in the sorted a is the sum
// over a's blocks a_j of the insertion index of v in a_j (a is sorted, so every block before v's
// place counts whole and every block after it counts nothing). Each (values block, a block)
// count is a task the optimizer places; each values block's counts meet in a sum tree.

#include <string>

#include "nums/creation.hpp"
#include "nums/sorting.hpp"
#include "src/placement.h"

namespace nums {

BlockArray searchsorted(const BlockArray& sorted, const BlockArray& values,
                        const std::string& side) {
  if (sorted.ndim() != 1) {
    throw ValueError("searchsorted: the sorted array must be 1-d, got shape " +
                     shape_str(sorted.shape()));
  }
  if (side != "left" && side != "right") {
    throw ValueError("searchsorted: side must be 'left' or 'right', got '" + side + "'");
  }
  detail::check_same_context(sorted, values, "searchsorted");
  DType common = result_type(sorted.dtype(), values.dtype());
  if (common == DType::kFloat16) common = DType::kFloat32;  // exact, and has sort keys
  detail::reject_complex(sorted, "searchsorted");
  detail::reject_complex(values, "searchsorted");
  const BlockArray a = sorted.astype(common), v = values.astype(common);
  if (a.size() == 0 || v.size() == 0) {
    return zeros(values.shape(), DType::kInt64, values.block_shape());
  }
  const auto& vin = *v.impl();
  const auto& ain = *a.impl();
  auto& ctx = *vin.ctx;
  const ArrayGrid out_grid(v.shape(), v.block_shape(), DType::kInt64);
  const detail::Scalar right{side == "right"};
  detail::BlockPlan plan(ctx);
  std::vector<optimizer::OpId> outputs;
  const int64_t item = itemsize(common);
  for (int64_t i = 0; i < vin.grid.num_blocks(); ++i) {
    const engine::OutputSpec out{DType::kInt64, vin.grid.block_shape_at(vin.grid.entry(i))};
    const optimizer::OpId vleaf =
        plan.Leaf({vin.blocks[static_cast<size_t>(i)]}, shape_size(out.shape) * item);
    std::vector<optimizer::OpId> partials;
    for (int64_t j = 0; j < ain.grid.num_blocks(); ++j) {
      const int64_t alen = ain.grid.block_shape_at(ain.grid.entry(j))[0];
      const optimizer::OpId aleaf = plan.Leaf({ain.blocks[static_cast<size_t>(j)]}, alen * item);
      const detail::StepFn count = [&ctx, out, right](const auto& in, int64_t node) {
        return detail::Refs{
            detail::submit(ctx, "sort.search_count", {(*in[0])[0], (*in[1])[0], right}, node, out)};
      };
      partials.push_back(plan.Binary(vleaf, aleaf, out.nbytes(), count, "searchsorted"));
    }
    outputs.push_back(plan.Reduce(std::move(partials), out.nbytes(),
                                  detail::BinaryStep(ctx, kernels::BinaryOp::kAdd, out),
                                  "searchsorted"));
    plan.Output(outputs.back());
  }
  plan.Run();
  std::vector<detail::ObjectRef> blocks;
  for (auto id : outputs) blocks.push_back(plan.result(id)[0]);
  return detail::make_array(vin.ctx, out_grid, std::move(blocks));
}

}  // namespace nums
