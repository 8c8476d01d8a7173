#pragma once
// ObjectStore: the objects one node holds, pending (its task has not run), ready or failed, with
// byte accounting and completion callbacks.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/block.h"
#include "engine/error_info.h"
#include "engine/object_id.h"

namespace nums::engine {

/// An object's outcome: a block, or the error that prevented it.
struct ObjectValue {
  Block block;
  std::shared_ptr<const ErrorInfo> error;
  bool ok() const { return error == nullptr; }
};

using ObjectCallback = std::function<void(const ObjectValue&)>;

class ObjectStore {
 public:
  explicit ObjectStore(NodeId node) : node_(node) {}

  /// Registers an object a task will produce. Subscribers wait until Seal or Fail.
  void CreatePending(const ObjectId& id);
  /// Stores a ready object (creating it if needed). A result for an object freed while pending is
  /// dropped.
  void Seal(const ObjectId& id, Block block, bool create_if_missing = false);
  /// Marks the object failed; subscribers receive the error.
  void Fail(const ObjectId& id, std::shared_ptr<const ErrorInfo> error);
  /// Calls `cb` once the object is ready or failed: at once (on this thread) if it already is. An
  /// unknown or freed id gets an error value.
  void Subscribe(const ObjectId& id, ObjectCallback cb);
  /// Drops the object; returns whether it was present. Callbacks still waiting get an error.
  bool Free(const ObjectId& id);
  /// Frees every object of driver session `session` (ids whose `hi` it is); returns how many.
  int64_t FreeSession(uint64_t session);
  /// The block if the object is ready.
  std::optional<Block> TryGet(const ObjectId& id) const;
  /// Whether the object is ready, failed or absent (anything but pending); never waits.
  bool Finished(const ObjectId& id) const;

  int64_t bytes_in_use() const;
  int64_t num_objects() const;

 private:
  enum class State : uint8_t { kPending, kReady, kFailed };
  struct Entry {
    State state = State::kPending;
    ObjectValue value;
    std::vector<ObjectCallback> waiters;
  };
  ObjectValue MissingValue(const ObjectId& id) const;

  const NodeId node_;
  mutable std::mutex mu_;  // guards objects_ and bytes_
  std::unordered_map<ObjectId, Entry, ObjectIdHash> objects_;
  int64_t bytes_ = 0;
};

}  // namespace nums::engine
