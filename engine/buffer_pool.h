#pragma once
// BufferPool: keeps freed large buffers for reuse. Fresh pages are expensive here (first touch of
// a 4 KiB page costs ~10 us, ~4 s per GiB; ~1.7 s with huge pages), while a reused buffer is
// written at memory speed, so blocks of recurring sizes recycle their memory.

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace nums::engine {

class BufferPool {
 public:
  /// Buffers below this size go straight to malloc/free.
  static constexpr int64_t kMinPooledBytes = int64_t{1} << 20;

  /// The process-wide pool, capped at a quarter of physical memory.
  static BufferPool& Global();
  explicit BufferPool(int64_t capacity_bytes) : capacity_(capacity_bytes) {}
  ~BufferPool();

  /// Memory of at least `nbytes` (rounded up by `RoundedSize`), aligned for huge pages when
  /// large; reused when a freed buffer of the same rounded size is cached. Throws bad_alloc.
  void* Acquire(int64_t nbytes);
  /// Returns memory from Acquire(nbytes); cached while the pool has room, freed otherwise.
  void Release(void* p, int64_t nbytes);

  static int64_t RoundedSize(int64_t nbytes);
  int64_t cached_bytes() const;
  int64_t hits() const;
  /// Frees every cached buffer.
  void Trim();

 private:
  const int64_t capacity_;
  mutable std::mutex mu_;  // guards free_, cached_, hits_
  std::map<int64_t, std::vector<void*>> free_;
  int64_t cached_ = 0;
  int64_t hits_ = 0;
};

}  // namespace nums::engine
