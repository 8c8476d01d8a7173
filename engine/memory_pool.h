#pragma once
// MemoryPool: where every block's bytes come from. A pool belongs to one node and one device and
// counts everything it holds, its reuse cache included, against that node's capacity. The pool
// only counts and recycles; the node decides what fits (admission) and what to spill.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/device.h"

namespace nums::engine {

class MemoryPool {
 public:
  virtual ~MemoryPool() = default;
  /// At least `nbytes` (>= 0) of uninitialised memory, 64-byte aligned (2 MiB aligned when
  /// large). Throws OutOfMemoryError naming the pool when the system has no memory left.
  virtual void* Allocate(int64_t nbytes) = 0;
  /// Returns memory from Allocate(nbytes).
  virtual void Free(void* p, int64_t nbytes) = 0;
  /// Bytes held: live allocations and the reuse cache.
  virtual int64_t bytes_allocated() const = 0;
  virtual int64_t capacity() const = 0;
  virtual Device device() const = 0;
  /// Which device of its kind (the CUDA device number of a GPU pool; 0 for host memory).
  virtual int ordinal() const { return 0; }
  virtual const std::string& name() const = 0;

  /// The pool that blocks allocated on this thread come from: a node's while it runs one of its
  /// tasks or receives an object, the driver's otherwise.
  static const std::shared_ptr<MemoryPool>& Current();
  /// Makes `*pool` (null: the driver's) the thread's current pool; returns the previous one.
  /// For threads that enter and leave a node's arena; tasks use Scope.
  static const std::shared_ptr<MemoryPool>* Exchange(const std::shared_ptr<MemoryPool>* pool);
  /// Makes `pool` the thread's current pool while alive; `pool` must outlive the scope.
  class Scope {
   public:
    explicit Scope(const std::shared_ptr<MemoryPool>& pool);
    Scope(std::shared_ptr<MemoryPool>&&) = delete;  // a temporary would dangle
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    const std::shared_ptr<MemoryPool>* previous_;
  };
};

/// A node's host memory. Freed buffers of 1 MiB and more are cached by size for reuse (fresh
/// pages cost ~10 us per 4 KiB page here to touch, reused ones nothing); the cache is emptied
/// before the pool grows past its high-water mark, and the node's reclaimer (spilling) is asked
/// for room before that mark is crossed.
class HostPool final : public MemoryPool {
 public:
  static constexpr int64_t kMinCachedBytes = int64_t{1} << 20;

  HostPool(std::string name, int64_t capacity_bytes);
  ~HostPool() override;

  void* Allocate(int64_t nbytes) override;
  void Free(void* p, int64_t nbytes) override;
  int64_t bytes_allocated() const override;
  int64_t capacity() const override { return capacity_; }
  Device device() const override { return Device::kCpu; }
  const std::string& name() const override { return name_; }

  /// `reclaim(need)` is called, with no lock held and never re-entered on a thread, before an
  /// allocation of `need` bytes takes bytes_allocated() past `high_water`; it may free memory
  /// (spill) or do nothing. A null `reclaim` detaches it.
  void SetReclaimer(int64_t high_water, std::function<void(int64_t need)> reclaim);

  /// What Allocate(nbytes) takes from the pool (the rounding of the cache's size classes).
  static int64_t RoundedSize(int64_t nbytes);
  int64_t live_bytes() const;
  int64_t cached_bytes() const;
  int64_t peak_bytes() const;
  int64_t hits() const;
  /// Frees every cached buffer.
  void Trim();

 private:
  /// A cached buffer of exactly `size` bytes, counted as live; null when none.
  void* TakeCached(int64_t size);
  /// Frees cached buffers until `bytes` more fit under the high-water mark (or none is left).
  void TrimFor(int64_t bytes);

  const std::string name_;
  const int64_t capacity_;
  std::atomic<int64_t> high_water_;
  mutable std::mutex mu_;  // guards reclaim_, free_, live_, cached_, peak_, hits_
  std::shared_ptr<const std::function<void(int64_t)>> reclaim_;
  std::map<int64_t, std::vector<void*>> free_;
  int64_t live_ = 0;
  int64_t cached_ = 0;
  int64_t peak_ = 0;
  int64_t hits_ = 0;
};

/// The driver process's pool: capacity is the machine's physical memory.
const std::shared_ptr<MemoryPool>& DriverPool();
/// Physical memory of this machine in bytes (8 GiB when unknown).
int64_t PhysicalMemoryBytes();

}  // namespace nums::engine
