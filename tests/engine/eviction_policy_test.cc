#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "engine/eviction_policy.h"

namespace nums::engine {
namespace {

ObjectId Id(uint64_t lo) { return {1, lo}; }

// An object no queued task reads, held only in memory.
EvictionCandidate Unread(uint64_t lo, int64_t bytes, int64_t last_use) {
  EvictionCandidate c;
  c.id = Id(lo);
  c.bytes = bytes;
  c.last_use = last_use;
  return c;
}

// An object `consumers` queued tasks read, the first at queue position `next_use`.
EvictionCandidate Read(uint64_t lo, int64_t bytes, int64_t consumers, int64_t next_use) {
  EvictionCandidate c;
  c.id = Id(lo);
  c.bytes = bytes;
  c.consumers = consumers;
  c.next_use = next_use;
  return c;
}

std::vector<uint64_t> Ids(const std::vector<Eviction>& victims) {
  std::vector<uint64_t> ids;
  for (const Eviction& v : victims) ids.push_back(v.id.lo);
  return ids;
}

using V = std::vector<uint64_t>;

TEST(EvictionPolicyTest, NeedZeroOrLessChoosesNone) {
  const EvictionPolicy p;
  const std::vector<EvictionCandidate> cs = {Unread(1, 100, 0), Unread(2, 100, 1)};
  EXPECT_TRUE(p.Choose(cs, 0).empty());
  EXPECT_TRUE(p.Choose(cs, -5).empty());
  EXPECT_TRUE(p.Choose({}, 100).empty());
}

TEST(EvictionPolicyTest, APinnedObjectIsNeverChosenEvenWhenItIsTheOnlyOne) {
  const EvictionPolicy p;
  EvictionCandidate only = Unread(1, 1000, 0);
  only.pinned = true;
  EXPECT_TRUE(p.Choose({only}, 10).empty());

  // The pinned one is the best victim by every other rule; it is skipped, not reordered.
  only.on_disk = true;
  EXPECT_EQ(Ids(p.Choose({only, Unread(2, 10, 5), Read(3, 10, 1, 7)}, 10'000)), (V{2, 3}));
}

TEST(EvictionPolicyTest, ObjectsOfNoBytesAreNeverChosen) {
  const EvictionPolicy p;
  EXPECT_EQ(Ids(p.Choose({Unread(1, 0, 0), Unread(2, -4, 0), Unread(3, 8, 9)}, 100)), (V{3}));
}

TEST(EvictionPolicyTest, StopsAsSoonAsTheChosenBytesReachTheNeed) {
  const EvictionPolicy p;
  const std::vector<EvictionCandidate> cs = {Unread(1, 40, 0), Unread(2, 40, 1), Unread(3, 40, 2)};
  EXPECT_EQ(Ids(p.Choose(cs, 1)), (V{1}));
  EXPECT_EQ(Ids(p.Choose(cs, 40)), (V{1}));  // exactly reached: no second victim
  EXPECT_EQ(Ids(p.Choose(cs, 41)), (V{1, 2}));
  EXPECT_EQ(Ids(p.Choose(cs, 80)), (V{1, 2}));
  EXPECT_EQ(Ids(p.Choose(cs, 81)), (V{1, 2, 3}));
}

TEST(EvictionPolicyTest, NotEnoughCandidatesReturnsEveryUnpinnedOne) {
  const EvictionPolicy p;
  EvictionCandidate pinned = Unread(2, 500, 0);
  pinned.pinned = true;
  const auto victims = p.Choose({Unread(1, 10, 3), pinned, Read(3, 20, 1, 4)}, 1'000'000);
  EXPECT_EQ(Ids(victims), (V{1, 3}));
  EXPECT_EQ(victims[0].bytes, 10);
  EXPECT_EQ(victims[1].bytes, 20);
}

TEST(EvictionPolicyTest, ObjectsNoQueuedTaskReadsGoBeforeObjectsThatOneReads) {
  const EvictionPolicy p;
  // The read one is older, larger, on disk and needed last: none of that lets it go first.
  EvictionCandidate read = Read(1, 1000, 1, EvictionCandidate::kNever - 1);
  read.on_disk = true;
  read.last_use = -100;
  EXPECT_EQ(Ids(p.Choose({read, Unread(2, 10, 50)}, 5)), (V{2}));
  EXPECT_EQ(Ids(p.Choose({read, Unread(2, 10, 50)}, 11)), (V{2, 1}));
}

TEST(EvictionPolicyTest, AmongReadObjectsTheOneNeededLastGoesFirst) {
  const EvictionPolicy p;
  // Belady: next_use decides before consumers, recency or the cost of writing.
  EvictionCandidate soon = Read(1, 10, 1, 2);
  soon.on_disk = true;
  soon.last_use = 0;
  EvictionCandidate later = Read(2, 10, 9, 30);
  later.last_use = 100;
  EvictionCandidate latest = Read(3, 10, 5, 70);
  latest.last_use = 200;
  EXPECT_EQ(Ids(p.Choose({soon, later, latest}, 1000)), (V{3, 2, 1}));
  EXPECT_EQ(Ids(p.Choose({soon, later, latest}, 10)), (V{3}));
}

TEST(EvictionPolicyTest, ReadObjectsNeededAtOnceBreakTiesByDropThenConsumersThenAgeThenId) {
  const EvictionPolicy p;
  // All are first needed at queue position 5.
  EvictionCandidate write_few = Read(1, 10, 1, 5);
  EvictionCandidate drop_many = Read(2, 10, 8, 5);
  drop_many.recomputable = true;
  EvictionCandidate write_many_old = Read(3, 10, 4, 5);
  write_many_old.last_use = 1;
  EvictionCandidate write_many_new = Read(4, 10, 4, 5);
  write_many_new.last_use = 9;
  EvictionCandidate write_many_new_b = Read(5, 10, 4, 5);
  write_many_new_b.last_use = 9;
  EXPECT_EQ(
      Ids(p.Choose({write_many_new_b, write_many_new, write_many_old, drop_many, write_few}, 1000)),
      (V{2, 1, 3, 4, 5}));
}

TEST(EvictionPolicyTest, AmongUnreadObjectsFreeToDropGoesBeforeHavingToWrite) {
  const EvictionPolicy p;
  EvictionCandidate on_disk = Unread(1, 10, 90);
  on_disk.on_disk = true;
  EvictionCandidate recomputable = Unread(2, 10, 80);
  recomputable.recomputable = true;
  const EvictionCandidate oldest_in_memory = Unread(3, 10, 0);
  EXPECT_EQ(Ids(p.Choose({oldest_in_memory, on_disk, recomputable}, 1000)), (V{2, 1, 3}));
  EXPECT_EQ(Ids(p.Choose({oldest_in_memory, on_disk, recomputable}, 20)), (V{2, 1}));
}

TEST(EvictionPolicyTest, AmongUnreadObjectsLeastRecentlyUsedThenLargerThenIdGoesFirst) {
  const EvictionPolicy p;
  const std::vector<EvictionCandidate> cs = {Unread(1, 10, 7), Unread(2, 10, 3), Unread(3, 50, 7),
                                             Unread(4, 10, 7), Unread(5, 10, 5)};
  EXPECT_EQ(Ids(p.Choose(cs, 1000)), (V{2, 5, 3, 1, 4}));
}

TEST(EvictionPolicyTest, AnObjectIsDroppedWhenOnDiskOrRecomputableElseWritten) {
  const EvictionPolicy p;
  EvictionCandidate on_disk = Unread(1, 10, 0);
  on_disk.on_disk = true;
  EvictionCandidate recomputable = Read(2, 10, 1, 3);
  recomputable.recomputable = true;
  EvictionCandidate both = Unread(3, 10, 1);
  both.on_disk = true;
  both.recomputable = true;
  const EvictionCandidate memory_only = Unread(4, 10, 2);
  const EvictionCandidate memory_only_read = Read(5, 10, 1, 9);
  const auto victims = p.Choose({memory_only_read, memory_only, both, recomputable, on_disk}, 1000);
  ASSERT_EQ(Ids(victims), (V{1, 3, 4, 5, 2}));
  EXPECT_EQ(victims[0].action, EvictAction::kDrop);
  EXPECT_EQ(victims[1].action, EvictAction::kDrop);
  EXPECT_EQ(victims[2].action, EvictAction::kWrite);
  EXPECT_EQ(victims[3].action, EvictAction::kWrite);
  EXPECT_EQ(victims[4].action, EvictAction::kDrop);
}

TEST(EvictionPolicyTest, TheOrderOfTheInputDoesNotChangeTheOutput) {
  const EvictionPolicy p;
  std::vector<EvictionCandidate> cs;
  // Many ties on purpose: few distinct last_use, next_use and sizes; ids differ in hi too.
  for (uint64_t i = 0; i < 40; ++i) {
    EvictionCandidate c;
    c.id = {i % 3, 100 - i};
    c.bytes = static_cast<int64_t>(1 + i % 4);
    c.on_disk = i % 5 == 0;
    c.recomputable = i % 7 == 0;
    c.pinned = i % 11 == 0;
    c.consumers = static_cast<int64_t>(i % 3);
    c.next_use = c.consumers == 0 ? EvictionCandidate::kNever : static_cast<int64_t>(i % 4);
    c.last_use = static_cast<int64_t>(i % 6);
    cs.push_back(c);
  }
  const auto reference = p.Choose(cs, 60);
  ASSERT_GT(reference.size(), 10u);
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(cs.begin(), cs.end(), rng);
    const auto victims = p.Choose(cs, 60);
    ASSERT_EQ(victims.size(), reference.size());
    for (size_t i = 0; i < victims.size(); ++i) {
      EXPECT_EQ(victims[i].id, reference[i].id) << "round " << round << " victim " << i;
      EXPECT_EQ(victims[i].bytes, reference[i].bytes);
      EXPECT_EQ(victims[i].action, reference[i].action);
    }
  }
}

// A store of five objects that evicts, pins one, and evicts again, as the object store would.
TEST(EvictionPolicyTest, ASmallStoreEvictsStepByStep) {
  const EvictionPolicy p;
  EvictionCandidate a = Unread(1, 100, 10);  // old, only in memory
  EvictionCandidate b = Unread(2, 60, 20);
  b.on_disk = true;                          // free to drop
  EvictionCandidate c = Unread(3, 80, 30);   // newest unread
  EvictionCandidate d = Read(4, 120, 2, 3);  // needed soon
  EvictionCandidate e = Read(5, 50, 1, 40);  // needed late
  e.recomputable = true;
  std::vector<EvictionCandidate> store = {a, b, c, d, e};

  auto remove = [&store](const std::vector<Eviction>& victims) {
    for (const Eviction& v : victims) {
      std::erase_if(store, [&v](const EvictionCandidate& x) { return x.id == v.id; });
    }
  };

  // Step 1: 120 bytes: b (free to drop) then a (oldest of the rest) reach 160.
  auto step1 = p.Choose(store, 120);
  ASSERT_EQ(Ids(step1), (V{2, 1}));
  EXPECT_EQ(step1[0].action, EvictAction::kDrop);
  EXPECT_EQ(step1[1].action, EvictAction::kWrite);
  remove(step1);
  ASSERT_EQ(store.size(), 3u);

  // Step 2: a reader pins c, the only unread object left; the read ones go, Belady first.
  store[0].pinned = true;
  ASSERT_EQ(store[0].id, Id(3));
  auto step2 = p.Choose(store, 60);
  ASSERT_EQ(Ids(step2), (V{5, 4}));
  EXPECT_EQ(step2[0].action, EvictAction::kDrop);
  EXPECT_EQ(step2[1].action, EvictAction::kWrite);
  remove(step2);

  // Step 3: only the pinned c is left: nothing can be freed.
  ASSERT_EQ(store.size(), 1u);
  EXPECT_TRUE(p.Choose(store, 1).empty());

  // Step 4: the reader lets go; c is chosen and, held only in memory, written.
  store[0].pinned = false;
  auto step4 = p.Choose(store, 1);
  ASSERT_EQ(Ids(step4), (V{3}));
  EXPECT_EQ(step4[0].bytes, 80);
  EXPECT_EQ(step4[0].action, EvictAction::kWrite);
}

}  // namespace
}  // namespace nums::engine
