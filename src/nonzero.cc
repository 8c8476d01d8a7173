// nonzero and its relatives, from distributed pieces: the mask x != 0 selects from an index
// range blocked like it (each block compressed where it lives once the driver knows each mask
// block's count), and per-axis indices come from the flat ones by elementwise arithmetic.

#include <string>

#include "nums/creation.hpp"
#include "nums/indexing.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "nums/sorting.hpp"
#include "src/array_impl.h"

namespace nums {

BlockArray flatnonzero(const BlockArray& x) {
  const BlockArray flat = x.ndim() == 1 ? x : x.reshape({x.size()});
  if (flat.size() == 0) return zeros({0}, DType::kInt64);
  const BlockArray mask = flat != 0;
  const BlockArray positions = arange(0, flat.size(), 1, DType::kInt64, mask.block_shape());
  return positions(mask);
}

std::vector<BlockArray> nonzero(const BlockArray& x) {
  if (x.ndim() == 0) {
    throw ValueError(
        "nonzero: calling nonzero on 0d arrays is not allowed (use atleast_1d(x) first)");
  }
  const BlockArray flat = flatnonzero(x);
  if (x.ndim() == 1) return {flat};
  std::vector<BlockArray> out;
  int64_t stride = x.size();
  for (int64_t d = 0; d < x.ndim(); ++d) {
    const int64_t len = x.shape()[static_cast<size_t>(d)];
    if (flat.size() == 0) {
      out.push_back(zeros({0}, DType::kInt64));
      continue;
    }
    stride /= len;  // the product of the later axes' lengths (none is 0: flat is not empty)
    BlockArray q = stride == 1 ? flat : floor_divide(flat, stride);
    out.push_back(d == 0 ? q : q % len);
  }
  return out;
}

BlockArray argwhere(const BlockArray& x) {
  if (x.ndim() == 0) {
    const int64_t rows = count_nonzero(x).item<int64_t>();
    return zeros({rows, 0}, DType::kInt64);
  }
  const std::vector<BlockArray> idx = nonzero(x);
  if (idx[0].size() == 0) return zeros({0, x.ndim()}, DType::kInt64);
  return stack(idx, 1);
}

BlockArray count_nonzero(const BlockArray& x, Axes axes, bool keepdims) {
  return (x != 0).astype(DType::kInt64).sum(std::move(axes), keepdims);
}

}  // namespace nums
