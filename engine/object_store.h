#pragma once
// ObjectStore: the objects one node holds, pending (its task has not run), ready or failed, in
// two tiers: memory (from the node's pool) and the node's spill directory. A ready object is in
// memory, on disk, or both (a restored object keeps its file, so evicting it again costs no
// write). Whoever holds an object's Block pins it: only blocks the store alone holds are spilled.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/block.h"
#include "engine/error_info.h"
#include "engine/eviction_policy.h"
#include "engine/memory_pool.h"
#include "engine/object_id.h"
#include "engine/spill_directory.h"

namespace nums::engine {

/// An object's outcome: a block, or the error that prevented it.
struct ObjectValue {
  Block block;
  std::shared_ptr<const ErrorInfo> error;
  bool ok() const { return error == nullptr; }
};

using ObjectCallback = std::function<void(const ObjectValue&)>;

/// A ready object as it is now: its metadata, and its bytes in memory or in a spill file.
struct ObjectView {
  DType dtype = DType::kFloat64;
  Shape shape;
  int64_t nbytes = 0;
  std::optional<Block> block;         ///< set when in memory
  std::optional<SpillLocation> disk;  ///< set when a spill file holds it
};

struct StoreStats {
  int64_t objects = 0;
  int64_t resident_bytes = 0;       ///< ready objects' bytes in host memory
  int64_t device_bytes = 0;         ///< ready objects' bytes in GPU memory (never spilled)
  int64_t spilled_bytes = 0;        ///< ready objects' bytes not in memory (on disk, or dropped)
  int64_t spill_bytes_total = 0;    ///< ever written to spill files
  int64_t restore_bytes_total = 0;  ///< ever read back from them
  int64_t dropped_bytes_total = 0;  ///< ever dropped to be remade instead of written
  int64_t remade_bytes_total = 0;   ///< ever remade after they were dropped
};

/// What one driver session's objects take on a node.
struct SessionUsage {
  uint64_t session = 0;  ///< the `hi` of its object ids
  int64_t objects = 0;   ///< pending, ready and failed
  int64_t resident_bytes = 0;
  int64_t spilled_bytes = 0;
};

class ObjectStore {
 public:
  /// Makes a dropped object again (runs its task once more); throws what the task throws.
  using Remake = std::function<Block()>;

  /// `pool` is the node's memory (a pool of its own when null); `spill` its spill directory
  /// (none: nothing is ever spilled).
  explicit ObjectStore(NodeId node, std::shared_ptr<HostPool> pool = nullptr,
                       std::unique_ptr<SpillDirectory> spill = nullptr);

  /// Registers an object a task will produce. Subscribers wait until Seal or Fail.
  void CreatePending(const ObjectId& id);
  /// Stores a ready object (creating it if needed). A result for an object freed while pending is
  /// dropped. With `remake`, the object is cheap to make again: under memory pressure its bytes
  /// are dropped, not written, and `remake` brings them back when it is read.
  void Seal(const ObjectId& id, Block block, bool create_if_missing = false,
            Remake remake = nullptr);
  /// Marks the object failed; subscribers receive the error.
  void Fail(const ObjectId& id, std::shared_ptr<const ErrorInfo> error);
  /// Calls `cb` once the object is ready or failed: at once (on this thread) if it already is. An
  /// unknown or freed id gets an error value. A spilled object is restored first, unless
  /// `want_block` is false: then `cb` learns only that it is ready (an empty block).
  void Subscribe(const ObjectId& id, ObjectCallback cb, bool want_block = true);
  /// Drops the object and its spill file; returns whether it was present. Callbacks still waiting
  /// get an error.
  bool Free(const ObjectId& id);
  /// Frees every object of driver session `session` (ids whose `hi` it is); returns how many.
  int64_t FreeSession(uint64_t session);
  /// The block if the object is ready, read back into memory if it was spilled (the caller's
  /// Block pins it). Throws IOError when its spill file cannot be read.
  std::optional<Block> TryGet(const ObjectId& id);
  /// The ready object without reading it back from a spill file: peers read a spilled object
  /// from its file. A dropped object (no file) is remade first.
  std::optional<ObjectView> TryView(const ObjectId& id);
  /// Whether the object is ready, failed or absent (anything but pending); never waits.
  bool Finished(const ObjectId& id) const;
  /// Whether the object is ready (in memory, on disk, or dropped to be remade); never waits.
  bool Ready(const ObjectId& id) const;
  /// Bytes of the ready object when it is in memory; -1 when it is pending, failed, absent or
  /// on disk only.
  int64_t ResidentBytes(const ObjectId& id) const;
  /// Bytes of the ready object that are on disk only (0 when in memory, absent or pending).
  int64_t SpilledBytes(const ObjectId& id) const;

  /// Keeps the objects in memory (or on disk, if spilled) until Unpin: an admitted task's
  /// inputs must not be spilled before it reads them. Unknown ids are ignored. Returns the
  /// bytes of those that are spilled (what reading them back will take).
  int64_t Pin(std::span<const ObjectId> ids);
  /// Unpins the objects and drops the queued use at `position` (AddUse) of each; a negative
  /// position keeps their uses (the task still waits).
  void Unpin(std::span<const ObjectId> ids, int64_t position);

  /// A queued task at queue position `position` will read the object: the eviction policy
  /// spills what is needed last. Unknown ids are ignored.
  void AddUse(const ObjectId& id, int64_t position);
  /// Drops the queued use at `position` of each of the objects.
  void RemoveUses(std::span<const ObjectId> ids, int64_t position);

  /// Evicts unpinned objects (writing those not yet on disk, several to one file) until `need`
  /// bytes of memory are freed or nothing more can go; returns the bytes freed. Throws IOError
  /// when the spill disk refuses a write and too little could be freed; what was written before
  /// is spilled, the rest stays in memory unchanged.
  int64_t Spill(int64_t need);
  bool can_spill() const { return spill_ != nullptr; }

  int64_t bytes_in_use() const;  ///< ready objects' bytes in memory
  /// Ready objects' bytes in memory that other pools count (blocks put without a copy): the
  /// node's memory is its pool's bytes plus these.
  int64_t foreign_bytes() const;
  int64_t num_objects() const;
  StoreStats stats() const;
  /// The objects held per driver session, in no particular order (one pass over the store).
  std::vector<SessionUsage> UsageBySession() const;
  const std::shared_ptr<HostPool>& pool() const { return pool_; }
  /// The spill directory's path ("" without one).
  const std::string& spill_path() const { return spill_path_; }

 private:
  enum class State : uint8_t { kPending, kReady, kFailed };
  struct Entry {
    State state = State::kPending;
    ObjectValue value;              // the block is empty while the object is on disk only
    DType dtype = DType::kFloat64;  // dtype and shape are kept here only while spilled
    Shape shape;
    int64_t nbytes = 0;
    bool resident = false;
    bool foreign = false;  // its bytes came from another pool (a put in the embedded cluster)
    bool device = false;   // its bytes are in GPU memory: counted in device_, never spilled
    bool busy = false;     // being written or read back
    std::optional<SpillLocation> disk;
    Remake remake;  // set when the object may be dropped and made again instead of written
    std::vector<int64_t> uses;  // queue positions of local tasks that will read it (few)
    int64_t pins = 0;           // admitted tasks about to read it: not spilled meanwhile
    int64_t last_use = 0;
    std::vector<ObjectCallback> waiters;
  };
  ObjectValue MissingValue(const ObjectId& id) const;
  /// Drops `e`'s bytes from the counters (it leaves the ready state).
  void Uncount(const Entry& e);
  /// Reads a spilled object back, or remakes a dropped one; `lock` is released meanwhile.
  Block Restore(const ObjectId& id, std::unique_lock<std::mutex>& lock);

  const NodeId node_;
  const std::shared_ptr<HostPool> pool_;
  const std::unique_ptr<SpillDirectory> spill_;
  const std::string spill_path_;
  const EvictionPolicy policy_{};
  std::mutex spill_mu_;               // one eviction at a time: they would choose the same victims
  mutable std::mutex mu_;             // guards objects_, the byte counters and clock_
  std::condition_variable restored_;  // signalled when a busy entry is no longer busy
  std::unordered_map<ObjectId, Entry, ObjectIdHash> objects_;
  int64_t resident_ = 0;
  int64_t foreign_ = 0;  // resident bytes counted by other pools
  int64_t device_ = 0;   // ready objects' bytes in GPU memory
  int64_t spilled_ = 0;
  int64_t spill_total_ = 0;
  int64_t restore_total_ = 0;
  int64_t dropped_total_ = 0;
  int64_t remade_total_ = 0;
  int64_t clock_ = 0;
};

}  // namespace nums::engine
