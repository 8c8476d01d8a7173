#pragma once
// Helpers shared by shape manipulation and indexing.

#include <cstdint>
#include <optional>
#include <vector>

#include "src/array_impl.h"

namespace nums::detail {

/// Python's slice of a length-n axis: the first index and the number of elements.
/// ValueError for a step of 0.
struct SliceRange {
  int64_t start, step, count;
};
SliceRange normalize_slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                           std::optional<int64_t> step, int64_t n);

/// x seen with `shape`, which differs from x's shape only by axes of length 1 (inserted or
/// removed): one zero-copy task per block, no data moves.
BlockArray regrid_unit_axes(const BlockArray& x, const Shape& shape);

/// Blocks laid end to end along `axis` and re-blocked into `grid`. Slab s holds, row-major over
/// grid's grid shape without `axis`, blocks `lengths[s]` long along `axis` and shaped as grid's
/// blocks along the other axes. A block that is exactly an output block is reused (it must then
/// have grid's dtype); other output blocks are gathered (converting the dtype).
BlockArray join_slabs(const std::shared_ptr<Context::Impl>& ctx, const ArrayGrid& grid,
                      int64_t axis, const std::vector<int64_t>& lengths,
                      const std::vector<std::vector<ObjectRef>>& slabs);

}  // namespace nums::detail
