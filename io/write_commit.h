#pragma once
// The driver's side of a write: every block's write task, then one commit step once all have
// acknowledged; on any failure an abort step, once no task still writes, and the error rethrown.

#include <functional>
#include <string>
#include <vector>

#include "engine/block.h"
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

/// How a write ends: `commit` gets every block's acknowledgement (in the grid's row-major
/// order) once all are in; `abort` runs instead after a failure, once no task still writes.
struct WriteEnd {
  std::function<void(const std::vector<engine::Block>& acks)> commit;
  std::function<void()> abort;
};

/// Submits the write task of every block of `x`, in one batch, each on the node that holds the
/// block and on its I/O threads, acknowledging with one block of `ack`; waits for every ack,
/// then commits. On any failure (a task's, or the commit's) aborts and rethrows the error as it
/// was.
void WriteBlocks(Context::Impl& ctx, const BlockArray::Impl& x, const BlockWriteSpec& spec_for,
                 const WriteEnd& end,
                 const engine::OutputSpec& ack = engine::OutputSpec{DType::kInt64, {}});

/// The ending of a write into the temporary file `temp`: rename it over `path`, or remove it.
WriteEnd ReplaceFileEnd(const std::string& temp, const std::string& path);

}  // namespace nums::io
