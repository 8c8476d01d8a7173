#pragma once
// Objects in chunks: a holder serves [offset, offset + length) of a block; a reader assembles
// the block from consecutive chunks into one buffer allocated once; a receiver of Put assembles
// incoming chunks.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cluster/gen/nums_types.h"
#include "engine/object_store.h"

namespace nums::engine::cluster {

/// Fills `out` with the state of `id` in `store` after waiting up to `wait_ms` for it to finish,
/// and, when ready, with bytes [offset, offset + length) of its block.
void ServeChunk(ObjectStore& store, const ObjectId& id, int64_t offset, int64_t length,
                int32_t wait_ms, wire::ChunkW& out);

/// Reads chunk `offset` of an object (waiting up to `wait_ms`) into `out`.
using ChunkReader = std::function<void(int64_t offset, int32_t wait_ms, wire::ChunkW& out)>;
/// The object's value read chunk by chunk, or nullopt while it is still pending after `wait_ms`.
/// With `second` (a reader over another connection), chunks after the first are read two at a
/// time, one on each, so that the holder copies one while this side copies the other.
/// The block comes from `pool`. Throws ClusterError when the object disappears or the chunks
/// disagree.
std::optional<ObjectValue> FetchChunked(const ObjectId& id, int32_t wait_ms,
                                        const ChunkReader& read, const ChunkReader* second,
                                        const std::shared_ptr<MemoryPool>& pool);

/// Runs `work(0, stop)` here and `work(1, stop)` on a second thread (the two halves of a
/// transfer, each on its own connection); when one throws, `stop` turns true so that the other
/// can give up. Rethrows the first error once both have returned.
void InTwoHalves(const std::function<void(int half, const std::atomic<bool>& stop)>& work);

/// Objects being put chunk by chunk into one node.
class IncomingObjects {
 public:
  /// Adds `data` at `offset`, chunk k of kChunkBytes (the last may be shorter), in any order;
  /// seals the object into `store` once every chunk came. Throws ValueError for a chunk that
  /// does not fit the object's chunks or came twice.
  /// The block is allocated and the chunk copied outside the lock, so a put that makes the node
  /// spill does not stall the others.
  void Add(ObjectStore& store, const ObjectId& id, const wire::BlockMetaW& meta, int64_t offset,
           const std::string& data);
  /// Drops the unfinished puts of driver session `session` (a driver that died midway); returns
  /// how many.
  int64_t DropSession(uint64_t session);

 private:
  struct Partial {
    Block block;
    int64_t received = 0;       // guarded by mu_
    std::vector<bool> arrived;  // guarded by mu_; per chunk
  };
  std::mutex mu_;  // guards partial_ and each Partial's counters
  std::unordered_map<ObjectId, std::shared_ptr<Partial>, ObjectIdHash> partial_;
};

}  // namespace nums::engine::cluster
