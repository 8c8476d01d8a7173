#include "engine/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "engine/block.h"

namespace nums::engine {
namespace {

TEST(BufferPoolTest, LargeBuffersAreReusedBySize) {
  BufferPool pool(int64_t{64} << 20);
  void* a = pool.Acquire(3 << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % (2 << 20), 0u) << "huge-page aligned";
  pool.Release(a, 3 << 20);
  EXPECT_EQ(pool.cached_bytes(), 4 << 20);  // rounded to whole huge pages
  void* b = pool.Acquire((3 << 20) + 100);  // same rounded size
  EXPECT_EQ(a, b);
  EXPECT_EQ(pool.hits(), 1);
  EXPECT_EQ(pool.cached_bytes(), 0);
  void* c = pool.Acquire(8 << 20);  // other size: fresh memory
  EXPECT_NE(c, b);
  pool.Release(b, 3 << 20);
  pool.Release(c, 8 << 20);
  pool.Trim();
  EXPECT_EQ(pool.cached_bytes(), 0);
}

TEST(BufferPoolTest, SmallBuffersAreNotCachedAndCapacityIsKept) {
  BufferPool pool(int64_t{6} << 20);
  void* s = pool.Acquire(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s) % 64, 0u);
  pool.Release(s, 1000);
  EXPECT_EQ(pool.cached_bytes(), 0);
  void* a = pool.Acquire(4 << 20);
  void* b = pool.Acquire(4 << 20);
  pool.Release(a, 4 << 20);
  pool.Release(b, 4 << 20);  // over capacity: freed
  EXPECT_EQ(pool.cached_bytes(), 4 << 20);
}

TEST(BufferPoolTest, BlocksRecycleTheirMemory) {
  const int64_t hits = BufferPool::Global().hits();
  const void* first;
  {
    Block a = Block::Allocate(float64, {1 << 19});  // 4 MiB
    first = a.raw();
  }
  Block b = Block::Allocate(float64, {1 << 19});
  EXPECT_EQ(b.raw(), first);
  EXPECT_EQ(BufferPool::Global().hits(), hits + 1);
}

}  // namespace
}  // namespace nums::engine
