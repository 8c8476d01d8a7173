#include "engine/object_ref.h"

#include "engine/task.h"

namespace nums::engine {

ObjectRef::ObjectRef(ObjectId id, NodeId node, std::shared_ptr<const TaskRecord> lineage,
                     std::weak_ptr<ObjectReleaser> owner, Device device, bool device_pinned)
    // Built in place: a temporary State would release the object when it is destroyed.
    : state_(new State{id, node, std::move(lineage), std::move(owner), device, device_pinned}) {
  if (state_->lineage) {
    state_->device = state_->lineage->device;
    state_->device_pinned = state_->lineage->device_pinned;
  }
}

ObjectRef::State::~State() {
  if (auto o = owner.lock()) o->Release(id, node);
}

}  // namespace nums::engine
