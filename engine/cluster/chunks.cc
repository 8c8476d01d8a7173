#include "engine/cluster/chunks.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <thread>

#include "engine/cluster/transport.h"
#include "engine/cluster/wire.h"
#include "engine/gpu.h"

namespace nums::engine::cluster {
namespace {

// One object's outcome, awaited by a handler thread.
struct Outcome {
  std::mutex mu;  // guards value, done
  std::condition_variable cv;
  ObjectValue value;
  bool done = false;
};

}  // namespace

void ServeChunk(ObjectStore& store, const ObjectId& id, int64_t offset, int64_t length,
                int32_t wait_ms, wire::ChunkW& out) {
  if (wait_ms > 0 && !store.Finished(id)) {
    auto outcome = std::make_shared<Outcome>();
    store.Subscribe(
        id,
        [outcome](const ObjectValue& v) {
          std::lock_guard lock(outcome->mu);
          outcome->value = ObjectValue{Block(), v.error};  // waits only: pins nothing
          outcome->done = true;
          outcome->cv.notify_all();
        },
        /*want_block=*/false);
    std::unique_lock lock(outcome->mu);
    outcome->cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return outcome->done; });
  }
  // A spilled object is served from its file: a reader does not bring it back into memory.
  std::optional<ObjectView> view = store.TryView(id);
  if (view) {
    out.state = wire::ObjectState::READY;
    out.meta.dtype = static_cast<int8_t>(view->dtype);
    out.meta.shape = view->shape;
    out.meta.nbytes = view->nbytes;
    const int64_t begin = std::clamp<int64_t>(offset, 0, view->nbytes);
    const int64_t end =
        std::clamp<int64_t>(begin + std::max<int64_t>(length, 0), begin, view->nbytes);
    if (view->block && view->block->device() != Device::kCpu) {
      // Staged through host memory, one chunk at a time.
      out.data.resize(static_cast<size_t>(end - begin));
      CopyToHost(*view->block, begin, end - begin, out.data.data());
    } else if (view->block) {
      out.data.assign(static_cast<const char*>(view->block->raw()) + begin,
                      static_cast<size_t>(end - begin));
    } else {
      out.data.resize(static_cast<size_t>(end - begin));
      if (end > begin) view->disk->Read(begin, end - begin, out.data.data());
    }
    return;
  }
  if (!store.Finished(id)) {
    out.state = wire::ObjectState::PENDING;
    return;
  }
  // Failed or absent: the store reports either as an error value at once.
  auto value = std::make_shared<ObjectValue>();
  store.Subscribe(
      id,
      [value](const ObjectValue& v) {
        *value = ObjectValue{Block(), v.error};
      },
      /*want_block=*/false);
  if (value->ok()) {
    out.state = wire::ObjectState::PENDING;  // sealed just now: the reader asks again
    return;
  }
  out.state = wire::ObjectState::FAILED;
  out.error = ToWire(*value->error);
}

std::optional<ObjectValue> FetchChunked(const ObjectId& id, int32_t wait_ms,
                                        const ChunkReader& read, const ChunkReader* second,
                                        const std::shared_ptr<MemoryPool>& pool) {
  wire::ChunkW chunk;
  read(0, wait_ms, chunk);
  if (chunk.state == wire::ObjectState::PENDING) return std::nullopt;
  if (chunk.state == wire::ObjectState::FAILED) return ObjectValue{Block(), FromWire(chunk.error)};
  Block block = AllocateFor(chunk.meta, pool);
  const int64_t total = block.nbytes();
  const int64_t size = static_cast<int64_t>(chunk.data.size());
  if (size == 0 ? total > 0 : size > total) {
    throw ClusterError("object " + id.ToString() + ": first chunk has " + std::to_string(size) +
                       " bytes of " + std::to_string(total));
  }
  // An empty block has no buffer, and memcpy's pointers must not be null even for 0 bytes.
  if (size > 0) std::memcpy(block.raw(), chunk.data.data(), chunk.data.size());
  // Chunk k covers [k * size, (k + 1) * size); chunks 1, 2, ... go to the readers in turn.
  auto read_chunks = [&](const ChunkReader& reader, int64_t first, int64_t step,
                         const std::atomic<bool>& stop) {
    wire::ChunkW c;
    for (int64_t offset = first * size; offset < total && !stop; offset += step * size) {
      c = wire::ChunkW();
      reader(offset, 0, c);
      if (c.state != wire::ObjectState::READY) {
        throw ClusterError("object " + id.ToString() + " was freed while it was being read");
      }
      if (static_cast<int64_t>(c.data.size()) != std::min(size, total - offset)) {
        throw ClusterError("object " + id.ToString() + ": chunk at offset " +
                           std::to_string(offset) + " has " + std::to_string(c.data.size()) +
                           " bytes of " + std::to_string(total));
      }
      std::memcpy(static_cast<char*>(block.raw()) + offset, c.data.data(), c.data.size());
    }
  };
  if (second != nullptr && total > 2 * size) {
    InTwoHalves([&](int half, const std::atomic<bool>& stop) {
      read_chunks(half == 0 ? read : *second, 1 + half, 2, stop);
    });
  } else {
    read_chunks(read, 1, 1, std::atomic<bool>{false});
  }
  return ObjectValue{std::move(block), nullptr};
}

void InTwoHalves(const std::function<void(int half, const std::atomic<bool>& stop)>& work) {
  std::atomic<bool> stop{false};
  std::exception_ptr failed;
  std::thread helper([&] {
    try {
      work(1, stop);
    } catch (...) {
      failed = std::current_exception();
      stop = true;
    }
  });
  try {
    work(0, stop);
  } catch (...) {
    stop = true;
    helper.join();
    throw;
  }
  helper.join();
  if (failed) std::rethrow_exception(failed);
}

void IncomingObjects::Add(ObjectStore& store, const ObjectId& id, const wire::BlockMetaW& meta,
                          int64_t offset, const std::string& data) {
  std::shared_ptr<Partial> p;
  {
    std::lock_guard lock(mu_);
    auto it = partial_.find(id);
    if (it != partial_.end()) p = it->second;
  }
  if (!p) {  // the first chunk: allocated (perhaps spilling) without the lock
    auto fresh = std::make_shared<Partial>();
    fresh->block = AllocateFor(meta, store.pool());
    fresh->arrived.resize(static_cast<size_t>(
        std::max<int64_t>(1, (fresh->block.nbytes() + kChunkBytes - 1) / kChunkBytes)));
    std::lock_guard lock(mu_);
    p = partial_.try_emplace(id, std::move(fresh)).first->second;  // a racing first chunk wins
  }
  auto forget = [&] {  // called with mu_ held
    auto it = partial_.find(id);
    if (it != partial_.end() && it->second == p) partial_.erase(it);
  };
  const auto n = static_cast<int64_t>(data.size());
  {
    std::lock_guard lock(mu_);
    const int64_t k = offset / kChunkBytes;
    const bool fits = offset >= 0 && offset % kChunkBytes == 0 &&
                      k < static_cast<int64_t>(p->arrived.size()) &&
                      n == std::min(kChunkBytes, p->block.nbytes() - offset) &&
                      !p->arrived[static_cast<size_t>(k)];
    if (!fits) {
      forget();
      throw ValueError("put of object " + id.ToString() + ": chunk of " + std::to_string(n) +
                       " bytes at offset " + std::to_string(offset) +
                       " does not fit its chunks (or came twice)");
    }
    p->arrived[static_cast<size_t>(k)] = true;
  }
  // Chunks are disjoint: each copies into its own bytes without the lock.
  if (n > 0) std::memcpy(static_cast<char*>(p->block.raw()) + offset, data.data(), data.size());
  Block done;
  {
    std::lock_guard lock(mu_);
    p->received += n;
    if (p->received < p->block.nbytes()) return;
    done = p->block;
    forget();
  }
  store.Seal(id, std::move(done), /*create_if_missing=*/true);
}

int64_t IncomingObjects::DropSession(uint64_t session) {
  std::vector<std::shared_ptr<Partial>> gone;  // their blocks are released outside the lock
  std::lock_guard lock(mu_);
  for (auto it = partial_.begin(); it != partial_.end();) {
    if (it->first.hi == session) {
      gone.push_back(std::move(it->second));
      it = partial_.erase(it);
    } else {
      ++it;
    }
  }
  return static_cast<int64_t>(gone.size());
}

}  // namespace nums::engine::cluster
