#include "engine/memory_pool.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "engine/block.h"

namespace nums::engine {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(HostPoolTest, LargeBuffersAreReusedBySizeAndTheCacheCounts) {
  HostPool pool("p", 64 * kMiB);
  void* a = pool.Allocate(3 * kMiB);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % (2 * kMiB), 0u) << "huge-page aligned";
  EXPECT_EQ(pool.bytes_allocated(), 4 * kMiB);  // rounded to whole huge pages
  pool.Free(a, 3 * kMiB);
  EXPECT_EQ(pool.live_bytes(), 0);
  EXPECT_EQ(pool.cached_bytes(), 4 * kMiB);
  EXPECT_EQ(pool.bytes_allocated(), 4 * kMiB) << "the reuse cache counts against the capacity";
  void* b = pool.Allocate(3 * kMiB + 100);  // same rounded size
  EXPECT_EQ(a, b);
  EXPECT_EQ(pool.hits(), 1);
  EXPECT_EQ(pool.cached_bytes(), 0);
  void* c = pool.Allocate(8 * kMiB);  // other size: fresh memory
  EXPECT_NE(c, b);
  EXPECT_EQ(pool.peak_bytes(), 12 * kMiB);
  pool.Free(b, 3 * kMiB);
  pool.Free(c, 8 * kMiB);
  pool.Trim();
  EXPECT_EQ(pool.bytes_allocated(), 0);
}

TEST(HostPoolTest, SmallBuffersAreCountedNotCachedAndTheCacheIsCapped) {
  HostPool pool("p", 24 * kMiB);  // cache limited to a quarter: 6 MiB
  void* s = pool.Allocate(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s) % 64, 0u);
  EXPECT_EQ(pool.bytes_allocated(), 1024);
  pool.Free(s, 1000);
  EXPECT_EQ(pool.bytes_allocated(), 0);
  void* a = pool.Allocate(4 * kMiB);
  void* b = pool.Allocate(4 * kMiB);
  pool.Free(a, 4 * kMiB);
  pool.Free(b, 4 * kMiB);  // over the cache's cap: unmapped
  EXPECT_EQ(pool.cached_bytes(), 4 * kMiB);
}

TEST(HostPoolTest, TheCacheIsEmptiedBeforeTheReclaimerIsAsked) {
  HostPool pool("p", 64 * kMiB);
  std::vector<int64_t> asked;
  pool.SetReclaimer(16 * kMiB, [&](int64_t need) { asked.push_back(need); });
  void* a = pool.Allocate(8 * kMiB);
  void* b = pool.Allocate(4 * kMiB);
  pool.Free(b, 4 * kMiB);  // cached: 12 MiB held
  EXPECT_EQ(pool.bytes_allocated(), 12 * kMiB);
  void* c = pool.Allocate(6 * kMiB);  // 18 > 16: the cache goes first, which is enough
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(pool.cached_bytes(), 0);
  void* d = pool.Allocate(4 * kMiB);  // 18 > 16 with nothing cached: the reclaimer is asked
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], 4 * kMiB);
  EXPECT_EQ(pool.bytes_allocated(), 18 * kMiB) << "the pool never refuses what the system gives";
  pool.Free(a, 8 * kMiB);
  pool.Free(c, 6 * kMiB);
  pool.Free(d, 4 * kMiB);
}

TEST(HostPoolTest, TheReclaimerIsNotReentered) {
  auto pool = std::make_shared<HostPool>("p", 64 * kMiB);
  int calls = 0;
  pool->SetReclaimer(2 * kMiB, [&](int64_t) {
    ++calls;
    pool->Free(pool->Allocate(4 * kMiB), 4 * kMiB);  // a reclaimer that allocates (a restore)
  });
  void* a = pool->Allocate(4 * kMiB);
  EXPECT_EQ(calls, 1);
  pool->Free(a, 4 * kMiB);
}

TEST(MemoryPoolTest, BlocksComeFromTheThreadsCurrentPoolAndRecycle) {
  std::shared_ptr<MemoryPool> node = std::make_shared<HostPool>("node 3", 64 * kMiB);
  const void* first;
  {
    MemoryPool::Scope scope(node);
    EXPECT_EQ(MemoryPool::Current().get(), node.get());
    Block a = Block::Allocate(float64, {1 << 19});  // 4 MiB
    EXPECT_EQ(a.buffer()->pool(), node.get());
    EXPECT_EQ(a.device(), Device::kCpu);
    EXPECT_EQ(node->bytes_allocated(), 4 * kMiB);
    first = a.raw();
  }
  EXPECT_EQ(MemoryPool::Current().get(), DriverPool().get()) << "the scope restores the driver's";
  EXPECT_EQ(node->bytes_allocated(), 4 * kMiB) << "cached for reuse";
  Block b = Block::Allocate(float64, {1 << 19}, node);
  EXPECT_EQ(b.raw(), first);
  Block c = Block::Allocate(float64, {4});
  EXPECT_EQ(c.buffer()->pool(), DriverPool().get());
}

TEST(MemoryPoolTest, DeclaredOutputsAreHandedOutToMatchingRequests) {
  std::vector<Block> outputs{Block::Allocate(float64, {2, 3}), Block::Allocate(int64, {5})};
  const void* f = outputs[0].raw();
  const void* i = outputs[1].raw();
  {
    DeclaredOutputs declared(outputs);
    Block other = Block::Allocate(float64, {5});  // no match: fresh
    EXPECT_NE(other.raw(), i);
    Block x = Block::Allocate(int64, {5});
    EXPECT_EQ(x.raw(), i);
    Block y = Block::Allocate(float64, {2, 3});
    EXPECT_EQ(y.raw(), f);
    Block z = Block::Allocate(float64, {2, 3});  // already taken: fresh
    EXPECT_NE(z.raw(), f);
  }
  EXPECT_TRUE(outputs.empty());
  std::vector<Block> unused{Block::Allocate(float64, {7})};
  { DeclaredOutputs declared(unused); }
  ASSERT_EQ(unused.size(), 1u) << "unclaimed outputs stay with the caller";
  Block after = Block::Allocate(float64, {7});
  EXPECT_NE(after.raw(), unused[0].raw()) << "outside the scope nothing is handed out";
}

}  // namespace
}  // namespace nums::engine
