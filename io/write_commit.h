#pragma once
// The driver's side of a write: wait for every block's acknowledgement, then commit; on any
// failure remove the temporary file and rethrow.

#include <functional>
#include <string>
#include <vector>

#include "engine/object_ref.h"
#include "nums/block_array.hpp"
#include "nums/context.hpp"

namespace nums::io {

/// The array behind `x`; ValueError naming `op` for a default-constructed handle.
const BlockArray::Impl& ArrayOf(const BlockArray& x, const char* op);

/// Cleanup when submitting the block writes failed: waits (quietly) for the acks already sent,
/// so that no task still writes to `temp`, then removes it. Never throws.
void AbortWrite(Context::Impl& ctx, const std::vector<engine::ObjectRef>& acks,
                const std::string& temp) noexcept;

/// Waits until every ack is finished (so no block task still writes to `temp`), then: if one
/// failed, removes `temp` and rethrows that task's error; otherwise runs `commit` (which makes
/// `temp` visible as the final file), removing `temp` should it throw.
void FinishWrite(Context::Impl& ctx, const std::vector<engine::ObjectRef>& acks,
                 const std::string& temp, const std::function<void()>& commit);

}  // namespace nums::io
