#pragma once
// The driver's side of a write: wait for every block's acknowledgement, then commit; on any
// failure remove the temporary file and rethrow.

#include <functional>
#include <string>
#include <vector>

#include "engine/object_ref.h"
#include "engine/task.h"
#include "nums/block_array.hpp"
#include "nums/context.hpp"

namespace nums::io {

/// The array behind `x`; ValueError naming `op` for a default-constructed handle.
const BlockArray::Impl& ArrayOf(const BlockArray& x, const char* op);

/// The write task of one block: `entry` of the grid, `block` its ref. The caller fills the
/// kernel, its arguments, the name and scratch bytes; WriteBlocks the rest.
using BlockWriteSpec =
    std::function<engine::TaskSpec(const Shape& entry, const engine::ObjectRef& block)>;

/// Submits the write task of every block of `x`, in one batch, each on the node that holds the
/// block and on its I/O threads, acknowledging with one int64; waits for every ack, then renames
/// `temp` over `path`. On any failure, once no task still writes to `temp`, removes it and
/// rethrows (a failed task's error as it was).
void WriteBlocks(Context::Impl& ctx, const BlockArray::Impl& x, const std::string& temp,
                 const std::string& path, const BlockWriteSpec& spec_for);

}  // namespace nums::io
