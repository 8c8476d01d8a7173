#include "engine/buffer_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <new>

namespace nums::engine {
namespace {
constexpr int64_t kHugePage = int64_t{2} << 20;
constexpr int64_t kSmallAlign = 64;
}  // namespace

BufferPool& BufferPool::Global() {
  static BufferPool* pool = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const int64_t phys = pages > 0 && page > 0 ? int64_t{pages} * page : int64_t{8} << 30;
    return new BufferPool(phys / 4);  // never destroyed: blocks may be freed during exit
  }();
  return *pool;
}

BufferPool::~BufferPool() { Trim(); }

int64_t BufferPool::RoundedSize(int64_t nbytes) {
  const int64_t n = nbytes < 1 ? 1 : nbytes;
  const int64_t align = n >= kHugePage         ? kHugePage
                        : n >= kMinPooledBytes ? (64 << 10)
                                               : kSmallAlign;
  return (n + align - 1) / align * align;
}

void* BufferPool::Acquire(int64_t nbytes) {
  const int64_t size = RoundedSize(nbytes);
  if (size >= kMinPooledBytes) {
    std::lock_guard lock(mu_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cached_ -= size;
      ++hits_;
      return p;
    }
  }
  const int64_t align = size >= kHugePage ? kHugePage : kSmallAlign;
  void* p = std::aligned_alloc(static_cast<size_t>(align), static_cast<size_t>(size));
  if (p == nullptr) throw std::bad_alloc();
  if (align == kHugePage) madvise(p, static_cast<size_t>(size), MADV_HUGEPAGE);
  return p;
}

void BufferPool::Release(void* p, int64_t nbytes) {
  const int64_t size = RoundedSize(nbytes);
  if (size >= kMinPooledBytes) {
    std::lock_guard lock(mu_);
    if (cached_ + size <= capacity_) {
      free_[size].push_back(p);
      cached_ += size;
      return;
    }
  }
  std::free(p);
}

int64_t BufferPool::cached_bytes() const {
  std::lock_guard lock(mu_);
  return cached_;
}

int64_t BufferPool::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

void BufferPool::Trim() {
  std::lock_guard lock(mu_);
  for (auto& [size, list] : free_) {
    for (void* p : list) std::free(p);
  }
  free_.clear();
  cached_ = 0;
}

}  // namespace nums::engine
