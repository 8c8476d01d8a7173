#include "engine/object_store.h"

#include <algorithm>
#include <exception>

#include "nums/errors.hpp"

namespace nums::engine {

ObjectStore::ObjectStore(NodeId node, std::shared_ptr<HostPool> pool,
                         std::unique_ptr<SpillDirectory> spill)
    : node_(node),
      pool_(
          pool ? std::move(pool)
               : std::make_shared<HostPool>("node " + std::to_string(node), PhysicalMemoryBytes())),
      spill_(std::move(spill)),
      spill_path_(spill_ ? spill_->path() : std::string()) {}

void ObjectStore::CreatePending(const ObjectId& id) {
  std::lock_guard lock(mu_);
  objects_.try_emplace(id);
}

void ObjectStore::Uncount(const Entry& e) {
  if (e.state != State::kReady) return;
  if (e.device) {
    device_ -= e.nbytes;
  } else if (e.resident) {
    resident_ -= e.nbytes;
    if (e.foreign) foreign_ -= e.nbytes;
  } else {
    spilled_ -= e.nbytes;
  }
}

void ObjectStore::Seal(const ObjectId& id, Block block, bool create_if_missing, Remake remake) {
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
    Uncount(e);
    e.state = State::kReady;
    e.value = value;
    e.nbytes = value.block.nbytes();
    e.resident = true;
    e.device = value.block.device() != Device::kCpu;
    e.foreign = !e.device && value.block.buffer() && value.block.buffer()->pool() != pool_.get();
    e.disk.reset();
    e.remake = std::move(remake);
    e.last_use = ++clock_;
    if (e.device) {
      device_ += e.nbytes;
    } else {
      resident_ += e.nbytes;
      if (e.foreign) foreign_ += e.nbytes;
    }
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
    Uncount(e);
    e.state = State::kFailed;
    e.value = value;
    e.resident = false;
    e.disk.reset();
    e.remake = nullptr;
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

void ObjectStore::Subscribe(const ObjectId& id, ObjectCallback cb, bool want_block) {
  ObjectValue now;
  {
    std::unique_lock lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      now = MissingValue(id);
    } else if (it->second.state == State::kPending) {
      it->second.waiters.push_back(std::move(cb));
      return;
    } else if (it->second.state == State::kReady && !it->second.resident && want_block) {
      try {
        now.block = Restore(id, lock);
      } catch (...) {
        now = {Block(), ErrorInfo::FromCurrentException("restore", node_)};
      }
    } else if (want_block) {
      now = it->second.value;
    } else {
      now.error = it->second.value.error;  // a block copy would cost its shape's allocation
    }
  }
  cb(now);
}

Block ObjectStore::Restore(const ObjectId& id, std::unique_lock<std::mutex>& lock) {
  for (;;) {
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.state != State::kReady) {
      throw ClusterError("object " + id.ToString() + " was freed on node " + std::to_string(node_) +
                         " while it was read back");
    }
    Entry& e = it->second;
    if (e.resident) {
      e.last_use = ++clock_;
      return e.value.block;
    }
    if (e.busy) {  // another reader is restoring it
      restored_.wait(lock);
      continue;
    }
    e.busy = true;
    const std::optional<SpillLocation> disk = e.disk;
    const Remake remake = disk ? nullptr : e.remake;
    const DType dtype = e.dtype;
    const Shape shape = e.shape;
    lock.unlock();
    Block block;
    std::exception_ptr failed;
    try {
      // The pool may evict others to make room; this entry is busy and not resident, so safe.
      if (disk) {
        block = Block::Allocate(dtype, shape, pool_);
        if (disk->nbytes > 0) disk->Read(0, disk->nbytes, block.raw());
      } else if (remake) {
        block = remake();
      } else {
        throw ClusterError("object " + id.ToString() + " on node " + std::to_string(node_) +
                           " is neither in memory nor on disk");
      }
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    it = objects_.find(id);
    if (it != objects_.end()) it->second.busy = false;
    restored_.notify_all();
    if (failed) std::rethrow_exception(failed);
    if (it == objects_.end() || it->second.state != State::kReady) continue;  // freed: throws
    Entry& now = it->second;
    // Sealed again meanwhile (a retried put, a recomputed task): the new value wins.
    const bool same_file =
        disk && now.disk && now.disk->file == disk->file && now.disk->offset == disk->offset;
    const bool same_drop = !disk && !now.disk;
    if (now.resident || !(same_file || same_drop)) continue;
    now.value.block = block;
    now.resident = true;
    now.foreign = false;
    now.last_use = ++clock_;
    spilled_ -= now.nbytes;
    resident_ += now.nbytes;
    (disk ? restore_total_ : remade_total_) += now.nbytes;
    return block;
  }
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
  // Destroyed outside the lock: its buffer returns to the pool, its spill file is deleted.
  decltype(objects_)::node_type gone;
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return false;
    Uncount(it->second);
    waiters.swap(it->second.waiters);
    gone = objects_.extract(it);
  }
  if (!waiters.empty()) {
    ObjectValue missing = MissingValue(id);
    for (auto& cb : waiters) cb(missing);
  }
  return true;
}

std::optional<Block> ObjectStore::TryGet(const ObjectId& id) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.state != State::kReady) return std::nullopt;
  if (!it->second.resident) return Restore(id, lock);
  it->second.last_use = ++clock_;
  return it->second.value.block;
}

std::optional<ObjectView> ObjectStore::TryView(const ObjectId& id) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.state != State::kReady) return std::nullopt;
  if (!it->second.resident && !it->second.disk) {  // dropped: made again for the reader
    Block block = Restore(id, lock);
    ObjectView view{block.dtype(), block.shape(), block.nbytes(), block, std::nullopt};
    return view;
  }
  const Entry& e = it->second;
  ObjectView view{e.dtype, e.shape, e.nbytes, std::nullopt, e.disk};
  if (e.resident) {
    view.dtype = e.value.block.dtype();
    view.shape = e.value.block.shape();
    view.block = e.value.block;
  }
  return view;
}

bool ObjectStore::Finished(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  return it == objects_.end() || it->second.state != State::kPending;
}

bool ObjectStore::Ready(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.state == State::kReady;
}

int64_t ObjectStore::ResidentBytes(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.state != State::kReady || !it->second.resident) return -1;
  return it->second.nbytes;
}

int64_t ObjectStore::SpilledBytes(const ObjectId& id) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.state != State::kReady || it->second.resident) return 0;
  return it->second.nbytes;
}

int64_t ObjectStore::Pin(std::span<const ObjectId> ids) {
  if (ids.empty()) return 0;
  std::lock_guard lock(mu_);
  int64_t spilled = 0;
  for (const ObjectId& id : ids) {
    auto it = objects_.find(id);
    if (it == objects_.end()) continue;
    ++it->second.pins;
    if (it->second.state == State::kReady && !it->second.resident) spilled += it->second.nbytes;
  }
  return spilled;
}

namespace {
void DropUse(std::vector<int64_t>& uses, int64_t position) {
  auto at = std::find(uses.begin(), uses.end(), position);
  if (at != uses.end()) uses.erase(at);
}
}  // namespace

void ObjectStore::Unpin(std::span<const ObjectId> ids, int64_t position) {
  if (ids.empty()) return;
  std::lock_guard lock(mu_);
  for (const ObjectId& id : ids) {
    auto it = objects_.find(id);
    if (it == objects_.end()) continue;
    if (it->second.pins > 0) --it->second.pins;
    DropUse(it->second.uses, position);
  }
}

void ObjectStore::AddUse(const ObjectId& id, int64_t position) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) it->second.uses.push_back(position);
}

void ObjectStore::RemoveUses(std::span<const ObjectId> ids, int64_t position) {
  if (ids.empty()) return;
  std::lock_guard lock(mu_);
  for (const ObjectId& id : ids) {
    auto it = objects_.find(id);
    if (it != objects_.end()) DropUse(it->second.uses, position);
  }
}

namespace {
// Objects below this size are written together: one file (one descriptor) per batch.
constexpr int64_t kMinBatchBytes = int64_t{16} << 20;
}  // namespace

int64_t ObjectStore::Spill(int64_t need) {
  if (need <= 0) return 0;
  need = std::max(need, std::min(kMinBatchBytes, pool_->capacity() / 16));
  std::lock_guard spilling(spill_mu_);
  std::vector<Eviction> victims;
  std::vector<const Buffer*> buffers;  // per victim: the bytes chosen (a re-sealed entry differs)
  std::vector<Block> to_write;         // these copies pin the victims until they are on disk
  std::vector<ObjectId> written;
  {
    std::lock_guard lock(mu_);
    std::vector<EvictionCandidate> candidates;
    for (const auto& [id, e] : objects_) {
      // Device memory is a tier of its own: spilling it to disk is not this store's to do.
      if (e.state != State::kReady || !e.resident || e.device || e.busy || e.nbytes == 0 ||
          e.pins > 0) {
        continue;
      }
      EvictionCandidate c;
      c.id = id;
      c.bytes = e.nbytes;
      c.pinned = e.value.block.buffer().use_count() > 1;
      c.on_disk = e.disk.has_value();
      c.recomputable = e.remake != nullptr;
      c.consumers = static_cast<int64_t>(e.uses.size());
      c.next_use = e.uses.empty() ? EvictionCandidate::kNever
                                  : *std::min_element(e.uses.begin(), e.uses.end());
      c.last_use = e.last_use;
      if (!c.on_disk && !c.recomputable && !spill_) continue;  // nowhere to write it
      candidates.push_back(c);
    }
    victims = policy_.Choose(std::move(candidates), need);
    for (const Eviction& v : victims) {
      buffers.push_back(objects_.at(v.id).value.block.buffer().get());
      if (v.action == EvictAction::kWrite) {
        to_write.push_back(objects_.at(v.id).value.block);
        written.push_back(v.id);
      }
    }
  }
  // Small objects share a file; a large one gets its own, so that its file goes with it. When
  // the disk fills up, what was written still counts; the error is rethrown at the end.
  std::vector<std::optional<SpillLocation>> locations(to_write.size());
  std::vector<SpillDirectory::Piece> small;
  std::vector<size_t> small_at;
  std::exception_ptr failed;
  for (size_t i = 0; i < to_write.size() && !failed; ++i) {
    const SpillDirectory::Piece piece{to_write[i].raw(), to_write[i].nbytes()};
    if (piece.nbytes < kMinBatchBytes) {
      small.push_back(piece);
      small_at.push_back(i);
      continue;
    }
    try {
      locations[i] = spill_->Write(std::span(&piece, 1))[0];
    } catch (const Error&) {
      failed = std::current_exception();
    }
  }
  if (!small.empty() && !failed) {
    try {
      const auto written_small = spill_->Write(small);
      for (size_t k = 0; k < small_at.size(); ++k) locations[small_at[k]] = written_small[k];
    } catch (const Error&) {
      failed = std::current_exception();
    }
  }
  to_write.clear();
  int64_t freed = 0;
  std::vector<Block> dropped;  // released outside the lock
  {
    std::lock_guard lock(mu_);
    auto same = [&](std::unordered_map<ObjectId, Entry, ObjectIdHash>::iterator it,
                    const Buffer* chosen) {
      return it != objects_.end() && it->second.state == State::kReady && it->second.resident &&
             it->second.value.block.buffer().get() == chosen;
    };
    size_t w = 0;
    for (size_t i = 0; i < victims.size(); ++i) {
      if (victims[i].action != EvictAction::kWrite) continue;
      auto it = objects_.find(written[w]);
      if (locations[w] && same(it, buffers[i])) {
        it->second.disk = *locations[w];
        spill_total_ += locations[w]->nbytes;
      }
      ++w;
    }
    for (size_t i = 0; i < victims.size(); ++i) {
      auto it = objects_.find(victims[i].id);
      if (!same(it, buffers[i])) continue;
      Entry& e = it->second;
      // A reader that took the block meanwhile keeps it in memory (its file stays for later).
      if ((!e.disk && !e.remake) || e.pins > 0 || e.value.block.buffer().use_count() > 1) {
        continue;
      }
      if (!e.disk) dropped_total_ += e.nbytes;
      e.dtype = e.value.block.dtype();  // kept for the restore; a resident block has its own
      e.shape = e.value.block.shape();
      dropped.push_back(std::move(e.value.block));
      e.value.block = Block();
      e.resident = false;
      resident_ -= e.nbytes;
      if (e.foreign) foreign_ -= e.nbytes;
      spilled_ += e.nbytes;
      freed += e.nbytes;
    }
  }
  if (failed && freed < need) std::rethrow_exception(failed);
  return freed;
}

int64_t ObjectStore::bytes_in_use() const {
  std::lock_guard lock(mu_);
  return resident_;
}

int64_t ObjectStore::foreign_bytes() const {
  std::lock_guard lock(mu_);
  return foreign_;
}

int64_t ObjectStore::num_objects() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(objects_.size());
}

StoreStats ObjectStore::stats() const {
  std::lock_guard lock(mu_);
  return {static_cast<int64_t>(objects_.size()),
          resident_,
          device_,
          spilled_,
          spill_total_,
          restore_total_,
          dropped_total_,
          remade_total_};
}

std::vector<SessionUsage> ObjectStore::UsageBySession() const {
  std::unordered_map<uint64_t, SessionUsage> by;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : objects_) {
      SessionUsage& u = by[id.hi];
      u.session = id.hi;
      ++u.objects;
      if (e.state != State::kReady) continue;
      (e.resident ? u.resident_bytes : u.spilled_bytes) += e.nbytes;
    }
  }
  std::vector<SessionUsage> out;
  out.reserve(by.size());
  for (auto& [session, u] : by) out.push_back(u);
  return out;
}

}  // namespace nums::engine
