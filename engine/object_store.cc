#include "engine/object_store.h"

namespace nums::engine {

void ObjectStore::CreatePending(const ObjectId& id) {
  std::lock_guard lock(mu_);
  objects_.try_emplace(id);
}

void ObjectStore::Seal(const ObjectId& id, Block block, bool create_if_missing) {
  std::vector<ObjectCallback> waiters;
  ObjectValue value{std::move(block), nullptr};
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      if (!create_if_missing) return;
      it = objects_.try_emplace(id).first;
    }
    Entry& e = it->second;
    if (e.state == State::kReady) bytes_ -= e.value.block.nbytes();
    e.state = State::kReady;
    e.value = value;
    bytes_ += e.value.block.nbytes();
    waiters.swap(e.waiters);
  }
  for (auto& cb : waiters) cb(value);
}

void ObjectStore::Fail(const ObjectId& id, std::shared_ptr<const ErrorInfo> error) {
  std::vector<ObjectCallback> waiters;
  ObjectValue value{Block(), std::move(error)};
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return;
    Entry& e = it->second;
    if (e.state == State::kReady) bytes_ -= e.value.block.nbytes();
    e.state = State::kFailed;
    e.value = value;
    waiters.swap(e.waiters);
  }
  for (auto& cb : waiters) cb(value);
}

ObjectValue ObjectStore::MissingValue(const ObjectId& id) const {
  auto info = std::make_shared<ErrorInfo>();
  info->code = ErrorCode::kCluster;
  info->message = "object " + id.ToString() + " is not on node " + std::to_string(node_) +
                  " (freed or never created)";
  info->task = ErrorInfo::kMissingObject;
  info->node = node_;
  return {Block(), std::move(info)};
}

void ObjectStore::Subscribe(const ObjectId& id, ObjectCallback cb) {
  ObjectValue now;
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      now = MissingValue(id);
    } else if (it->second.state == State::kPending) {
      it->second.waiters.push_back(std::move(cb));
      return;
    } else {
      now = it->second.value;
    }
  }
  cb(now);
}

int64_t ObjectStore::FreeSession(uint64_t session) {
  std::vector<ObjectId> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : objects_) {
      if (id.hi == session) ids.push_back(id);
    }
  }
  int64_t freed = 0;
  for (const ObjectId& id : ids) freed += Free(id) ? 1 : 0;
  return freed;
}

bool ObjectStore::Free(const ObjectId& id) {
  std::vector<ObjectCallback> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return false;
    if (it->second.state == State::kReady) bytes_ -= it->second.value.block.nbytes();
    waiters.swap(it->second.waiters);
    objects_.erase(it);
  }
  if (!waiters.empty()) {
    ObjectValue missing = MissingValue(id);
    for (auto& cb : waiters) cb(missing);
  }
  return true;
}

std::optional<Block> ObjectStore::TryGet(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.state != State::kReady) return std::nullopt;
  return it->second.value.block;
}

bool ObjectStore::Finished(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  return it == objects_.end() || it->second.state != State::kPending;
}

int64_t ObjectStore::bytes_in_use() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

int64_t ObjectStore::num_objects() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(objects_.size());
}

}  // namespace nums::engine
