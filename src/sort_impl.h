#pragma once
// The distributed sort the sorting and set functions share: a 1-d sample sort of keys that can
// carry an int64 payload (the keys' global indices, or another array) along.

#include "src/array_impl.h"

namespace nums::detail {

/// What sort_1d carries with the keys and what it returns.
struct SortSpec {
  enum class Payload : int64_t { kNone = 0, kIndices = 1, kArray = 2 };
  bool descending = false;
  /// -0.0 takes 0.0's key (ties in index order; the values come back as 0.0).
  bool merge_zeros = false;
  Payload payload = Payload::kNone;
  bool want_values = true;
  bool want_payload = false;
};

struct SortOutput {
  BlockArray values;   ///< the keys sorted (when asked for)
  BlockArray payload;  ///< the payload in the keys' sorted order (when asked for)
};

/// Sorts the 1-d `keys` (size > 0) stably with a sample sort: each block draws a sample, one task
/// picks the splitters, each block is cut into buckets where it lives, each bucket is sorted by a
/// task that pulls its pieces from the nodes holding them, and the sorted buckets are joined into
/// blocks of keys' block shape. `payload` (int64, keys' shape) goes with kArray. Waits for the
/// bucket sizes.
SortOutput sort_1d(const BlockArray& keys, const BlockArray* payload, const SortSpec& spec);

}  // namespace nums::detail
