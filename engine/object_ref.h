#pragma once
// ObjectRef: the driver's shared handle to one object. When the last copy drops, the object is
// freed on its node. It also carries the object's lineage (the task that made it).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "engine/device.h"
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

/// The releaser a runtime hands its refs: forwards releases to `release` until Detach(), after
/// which they are dropped. Refs hold it weakly and it never owns the runtime, so the runtime is
/// destroyed by its owner's thread, never by a worker dropping the last ref; Detach() waits for
/// releases in flight.
class DetachableReleaser final : public ObjectReleaser {
 public:
  using ReleaseFn = std::function<void(const ObjectId&, NodeId)>;
  explicit DetachableReleaser(ReleaseFn release) : release_(std::move(release)) {}
  void Release(const ObjectId& id, NodeId node) override {
    std::shared_lock lock(mu_);
    if (release_) release_(id, node);
  }
  void Detach() {
    std::unique_lock lock(mu_);
    release_ = nullptr;
  }

 private:
  std::shared_mutex mu_;  // guards release_ against the runtime going away mid-release
  ReleaseFn release_;
};

class ObjectRef {
 public:
  ObjectRef() = default;
  /// `device` and `device_pinned` come from `lineage` when there is one (see TaskSpec).
  ObjectRef(ObjectId id, NodeId node, std::shared_ptr<const TaskRecord> lineage,
            std::weak_ptr<ObjectReleaser> owner, Device device = Device::kCpu,
            bool device_pinned = false);

  const ObjectId& id() const { return state_->id; }
  NodeId node() const { return state_->node; }
  /// The task that produced this object; null for objects that were put.
  const std::shared_ptr<const TaskRecord>& lineage() const { return state_->lineage; }
  /// The device its task was submitted for (kCpu for objects that were put), and whether the
  /// caller kept the object to it (TaskSpec::device_pinned).
  Device device() const { return state_->device; }
  bool device_pinned() const { return state_->device_pinned; }
  explicit operator bool() const { return state_ != nullptr; }
  /// How many copies of this ref live, this one included (0 for a null ref); a snapshot that
  /// other threads may change at once.
  int64_t use_count() const { return state_.use_count(); }

 private:
  struct State;

 public:
  /// A handle that does not keep the object: Lock() gives a ref while some copy of this one
  /// lives, and a null ref after.
  class Weak {
   public:
    ObjectRef Lock() const {
      ObjectRef r;
      r.state_ = state_.lock();
      return r;
    }
    bool expired() const { return state_.expired(); }

   private:
    friend class ObjectRef;
    std::weak_ptr<State> state_;
  };
  Weak weak() const {
    Weak w;
    w.state_ = state_;
    return w;
  }
  friend bool operator==(const ObjectRef& a, const ObjectRef& b) {
    return a.state_ == b.state_ || (a.state_ && b.state_ && a.id() == b.id());
  }

 private:
  struct State {
    ObjectId id;
    NodeId node;
    std::shared_ptr<const TaskRecord> lineage;
    std::weak_ptr<ObjectReleaser> owner;
    Device device = Device::kCpu;
    bool device_pinned = false;
    ~State();
  };
  std::shared_ptr<State> state_;
};

}  // namespace nums::engine
