#pragma once
// The driver's side of a write: wait for every block's acknowledgement, then commit; on any
// failure undo what was written and rethrow.

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

/// How a write becomes visible, or is undone.
struct WriteCommit {
  /// Runs once every block is written: makes the result visible (a rename, metadata last).
  std::function<void()> commit;
  /// Runs on any failure, once no task still writes: removes what was written; must not throw.
  std::function<void()> abort;
};

/// The commit of a file written as `temp`: renamed over `path` (CommitTempFile); on failure the
/// temporary file is removed.
WriteCommit TempFileCommit(const std::string& temp, const std::string& path);

/// Submits the write task of every block of `x`, in one batch, each on the node that holds the
/// block and on its I/O threads, acknowledging with one int64; waits for every ack, then runs
/// `commit.commit`. On any failure (its own included), once no task still writes, runs
/// `commit.abort` and rethrows (a failed task's error as it was).
void WriteBlocks(Context::Impl& ctx, const BlockArray::Impl& x, const BlockWriteSpec& spec_for,
                 const WriteCommit& commit);

}  // namespace nums::io
