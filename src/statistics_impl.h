#pragma once
// What the statistics functions share: fetching small results to the driver, counted, so that
// tests can check that a selection never gathers the array it selects from.

#include <vector>

#include "engine/block.h"
#include "nums/block_array.hpp"
#include "src/array_impl.h"

namespace nums::detail {

/// Bytes the statistics functions have fetched to the driver in this process so far.
int64_t statistics_driver_bytes();
/// The blocks of `refs` on the driver, their bytes added to statistics_driver_bytes().
std::vector<engine::Block> fetch_blocks(Context::Impl& ctx, const std::vector<ObjectRef>& refs);
/// x.get(), its bytes added to statistics_driver_bytes().
NDArray fetch(const BlockArray& x);
/// A (blocks.size(), width) array whose row i is the (1, width) block blocks[i], summed over its
/// rows by a reduction tree: per-block partials (histograms, counts) combined on the cluster.
BlockArray sum_rows(std::shared_ptr<Context::Impl> ctx, std::vector<ObjectRef> blocks,
                    int64_t width, DType dtype);

}  // namespace nums::detail
