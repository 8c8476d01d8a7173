#include "engine/memory_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "nums/errors.hpp"

namespace nums::engine {
namespace {

constexpr int64_t kHugePage = int64_t{2} << 20;
constexpr int64_t kSmallAlign = 64;

thread_local const std::shared_ptr<MemoryPool>* current_pool = nullptr;
thread_local bool reclaiming = false;

// Large buffers are mapped, not malloc'd: glibc keeps freed heap memory mapped, and the node's
// resident memory must follow what its pool holds.
void* MapAligned(int64_t size) {
  const auto len = static_cast<size_t>(size + kHugePage);
  void* raw = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + len, used_end = aligned + static_cast<uintptr_t>(size);
  if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
  void* p = reinterpret_cast<void*>(aligned);
  if (size >= kHugePage) madvise(p, static_cast<size_t>(size), MADV_HUGEPAGE);
  return p;
}

void Release(void* p, int64_t size) {
  if (size >= HostPool::kMinCachedBytes) {
    munmap(p, static_cast<size_t>(size));
  } else {
    std::free(p);
  }
}

}  // namespace

std::string_view DeviceName(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

const std::shared_ptr<MemoryPool>& MemoryPool::Current() {
  return current_pool ? *current_pool : DriverPool();
}

// A pointer, not a copy: a scope per task must cost no atomic reference counting.
MemoryPool::Scope::Scope(const std::shared_ptr<MemoryPool>& pool) : previous_(current_pool) {
  current_pool = &pool;
}

MemoryPool::Scope::~Scope() { current_pool = previous_; }

const std::shared_ptr<MemoryPool>* MemoryPool::Exchange(const std::shared_ptr<MemoryPool>* pool) {
  const std::shared_ptr<MemoryPool>* previous = current_pool;
  current_pool = pool;
  return previous;
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? int64_t{pages} * page : int64_t{8} << 30;
}

const std::shared_ptr<MemoryPool>& DriverPool() {
  // Never destroyed: blocks may be freed during exit.
  static auto* pool =
      new std::shared_ptr<MemoryPool>(std::make_shared<HostPool>("driver", PhysicalMemoryBytes()));
  return *pool;
}

HostPool::HostPool(std::string name, int64_t capacity_bytes)
    : name_(std::move(name)), capacity_(capacity_bytes), high_water_(capacity_bytes) {}

HostPool::~HostPool() { Trim(); }

void HostPool::SetReclaimer(int64_t high_water, std::function<void(int64_t)> reclaim) {
  std::lock_guard lock(mu_);
  high_water_ = high_water;
  reclaim_ =
      reclaim ? std::make_shared<const std::function<void(int64_t)>>(std::move(reclaim)) : nullptr;
}

int64_t HostPool::RoundedSize(int64_t nbytes) {
  const int64_t n = std::max<int64_t>(nbytes, 1);
  const int64_t align = n >= kHugePage         ? kHugePage
                        : n >= kMinCachedBytes ? (64 << 10)
                                               : kSmallAlign;
  return (n + align - 1) / align * align;
}

void* HostPool::Allocate(int64_t nbytes) {
  if (nbytes < 0) throw ValueError("pool " + name_ + ": negative size " + std::to_string(nbytes));
  const int64_t size = RoundedSize(nbytes);
  if (void* p = TakeCached(size)) return p;
  if (bytes_allocated() + size > high_water_) {
    TrimFor(size);
    std::shared_ptr<const std::function<void(int64_t)>> reclaim;
    {
      std::lock_guard lock(mu_);
      reclaim = reclaim_;
    }
    if (reclaim && !reclaiming && bytes_allocated() + size > high_water_) {
      reclaiming = true;
      try {
        (*reclaim)(size);
      } catch (...) {
        reclaiming = false;
        throw;
      }
      reclaiming = false;
      // What the reclaimer freed may sit in the cache: reuse it, or give it back.
      if (void* p = TakeCached(size)) return p;
      TrimFor(size);
    }
  }
  void* p = size >= kMinCachedBytes
                ? MapAligned(size)
                : std::aligned_alloc(static_cast<size_t>(kSmallAlign), static_cast<size_t>(size));
  if (p == nullptr) {
    throw OutOfMemoryError("pool " + name_ + ": the system refused " + std::to_string(size) +
                           " bytes (pool holds " + std::to_string(bytes_allocated()) + " of " +
                           std::to_string(capacity_) + ")");
  }
  std::lock_guard lock(mu_);
  live_ += size;
  peak_ = std::max(peak_, live_ + cached_);
  return p;
}

void* HostPool::TakeCached(int64_t size) {
  if (size < kMinCachedBytes) return nullptr;
  std::lock_guard lock(mu_);
  auto it = free_.find(size);
  if (it == free_.end() || it->second.empty()) return nullptr;
  void* p = it->second.back();
  it->second.pop_back();
  cached_ -= size;
  live_ += size;
  ++hits_;
  return p;
}

void HostPool::Free(void* p, int64_t nbytes) {
  const int64_t size = RoundedSize(nbytes);
  {
    std::lock_guard lock(mu_);
    live_ -= size;
    // The cache counts against the node's memory: keep it to a quarter of the capacity.
    if (size >= kMinCachedBytes && cached_ + size <= capacity_ / 4 &&
        live_ + cached_ + size <= high_water_) {
      free_[size].push_back(p);
      cached_ += size;
      return;
    }
  }
  Release(p, size);
}

void HostPool::TrimFor(int64_t bytes) {
  std::vector<std::pair<void*, int64_t>> drop;
  {
    std::lock_guard lock(mu_);
    for (auto it = free_.begin(); it != free_.end() && live_ + cached_ + bytes > high_water_;) {
      while (!it->second.empty() && live_ + cached_ + bytes > high_water_) {
        drop.emplace_back(it->second.back(), it->first);
        it->second.pop_back();
        cached_ -= it->first;
      }
      it = it->second.empty() ? free_.erase(it) : std::next(it);
    }
  }
  for (auto [p, size] : drop) Release(p, size);
}

int64_t HostPool::bytes_allocated() const {
  std::lock_guard lock(mu_);
  return live_ + cached_;
}

int64_t HostPool::live_bytes() const {
  std::lock_guard lock(mu_);
  return live_;
}

int64_t HostPool::cached_bytes() const {
  std::lock_guard lock(mu_);
  return cached_;
}

int64_t HostPool::peak_bytes() const {
  std::lock_guard lock(mu_);
  return peak_;
}

int64_t HostPool::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

void HostPool::Trim() {
  std::vector<std::pair<void*, int64_t>> drop;
  {
    std::lock_guard lock(mu_);
    for (auto& [size, list] : free_) {
      for (void* p : list) drop.emplace_back(p, size);
    }
    free_.clear();
    cached_ = 0;
  }
  for (auto [p, size] : drop) Release(p, size);
}

}  // namespace nums::engine
