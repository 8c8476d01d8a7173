#pragma once
// ObjectRef: the driver's shared handle to one object. When the last copy drops, the object is
// freed on its node. It also carries the object's lineage (the task that made it).

#include <cstdint>
#include <memory>

#include "engine/object_id.h"

namespace nums::engine {

using NodeId = int64_t;
struct TaskRecord;

/// Receives the release of an object whose last ref dropped (implemented by a Runtime).
class ObjectReleaser {
 public:
  virtual ~ObjectReleaser() = default;
  virtual void Release(const ObjectId& id, NodeId node) = 0;
};

class ObjectRef {
 public:
  ObjectRef() = default;
  ObjectRef(ObjectId id, NodeId node, std::shared_ptr<const TaskRecord> lineage,
            std::weak_ptr<ObjectReleaser> owner);

  const ObjectId& id() const { return state_->id; }
  NodeId node() const { return state_->node; }
  /// The task that produced this object; null for objects that were put.
  const std::shared_ptr<const TaskRecord>& lineage() const { return state_->lineage; }
  explicit operator bool() const { return state_ != nullptr; }
  friend bool operator==(const ObjectRef& a, const ObjectRef& b) {
    return a.state_ == b.state_ || (a.state_ && b.state_ && a.id() == b.id());
  }

 private:
  struct State {
    ObjectId id;
    NodeId node;
    std::shared_ptr<const TaskRecord> lineage;
    std::weak_ptr<ObjectReleaser> owner;
    ~State();
  };
  std::shared_ptr<State> state_;
};

}  // namespace nums::engine
