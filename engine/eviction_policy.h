#pragma once
// EvictionPolicy: which objects a node's object store spills out of memory when it needs room.
// A pure function of what the store reports (no I/O, no locks), so it is tested step by step.
//
// The rules:
//  - A pinned object (a reader holds its bytes) is never chosen, nor is one of zero bytes: evicting
//    it frees nothing.
//  - An object with a copy in a spill file, or one cheap to remake from its lineage, is dropped;
//    any other is written to a spill file first.
//  - Objects no queued task reads go first, since evicting them delays no task: the free-to-drop
//    ones first, then the least recently used, then the larger (fewer victims), then by id.
//  - Then objects queued tasks do read, the one needed latest first (Belady's rule: it leaves
//    memory for the longest time), then free-to-drop first, fewer consumers, older, then by id.
//  - Victims are taken in that order until their bytes reach the need, and the order depends only
//    on the candidates, not on the order they are given in.

#include <cstdint>
#include <vector>

#include "engine/object_id.h"

namespace nums::engine {

/// What the store knows of one object held in memory, for choosing what to evict.
struct EvictionCandidate {
  static constexpr int64_t kNever = INT64_MAX;
  ObjectId id;
  int64_t bytes = 0;
  bool pinned = false;        ///< a reader holds its bytes: never a victim
  bool on_disk = false;       ///< a copy is already in a spill file: dropping it writes nothing
  bool recomputable = false;  ///< cheap to remake from its lineage (a constant, a file block)
  int64_t consumers = 0;      ///< queued tasks on this node that read it
  int64_t next_use = kNever;  ///< queue position of the first of them; smaller runs sooner
  int64_t last_use = 0;       ///< logical time it was last read or made; smaller is older
};

enum class EvictAction : uint8_t { kDrop, kWrite };  ///< drop the bytes, or write them first

/// One victim: which object, how many bytes it frees, and how.
struct Eviction {
  ObjectId id;
  int64_t bytes = 0;
  EvictAction action = EvictAction::kWrite;
};

/// Picks spill victims by the rules above; stateless, so one instance may serve every store.
class EvictionPolicy {
 public:
  /// The victims to evict, in order, until their bytes reach `need` (every unpinned candidate
  /// when they do not). need <= 0 chooses none.
  std::vector<Eviction> Choose(std::vector<EvictionCandidate> candidates, int64_t need) const;

 private:
  /// Whether `a` is evicted before `b`: a strict weak order over the candidates.
  static bool EvictsBefore(const EvictionCandidate& a, const EvictionCandidate& b);
};

}  // namespace nums::engine
