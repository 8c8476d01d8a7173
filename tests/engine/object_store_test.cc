#include "engine/object_store.h"

#include <gtest/gtest.h>

#include "tests/testing/testing.h"

namespace nums::engine {
namespace {

using nums::testing::MakeBlock;

TEST(ObjectStoreTest, AccountsBytesOfReadyObjects) {
  ObjectStore store(0);
  ObjectId a{1, 1}, b{1, 2};
  store.CreatePending(a);
  EXPECT_EQ(store.bytes_in_use(), 0);
  EXPECT_EQ(store.num_objects(), 1);
  store.Seal(a, MakeBlock({10}));
  EXPECT_EQ(store.bytes_in_use(), 80);
  store.Seal(b, MakeBlock({2, 3}), /*create_if_missing=*/true);
  EXPECT_EQ(store.bytes_in_use(), 80 + 48);
  EXPECT_TRUE(store.Free(a));
  EXPECT_FALSE(store.Free(a));
  EXPECT_EQ(store.bytes_in_use(), 48);
  EXPECT_TRUE(store.Free(b));
  EXPECT_EQ(store.bytes_in_use(), 0);
  EXPECT_EQ(store.num_objects(), 0);
}

TEST(ObjectStoreTest, SealOfFreedPendingObjectIsDropped) {
  ObjectStore store(0);
  ObjectId a{1, 1};
  store.CreatePending(a);
  store.Free(a);
  store.Seal(a, MakeBlock({4}));
  EXPECT_EQ(store.num_objects(), 0);
  EXPECT_EQ(store.bytes_in_use(), 0);
}

TEST(ObjectStoreTest, SubscribersFireOnSealAndImmediatelyWhenReady) {
  ObjectStore store(3);
  ObjectId a{1, 1};
  store.CreatePending(a);
  int fired = 0;
  store.Subscribe(a, [&](const ObjectValue& v) {
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.block.size(), 5);
    ++fired;
  });
  EXPECT_EQ(fired, 0);
  store.Seal(a, MakeBlock({5}));
  EXPECT_EQ(fired, 1);
  store.Subscribe(a, [&](const ObjectValue& v) { fired += v.ok() ? 10 : 100; });
  EXPECT_EQ(fired, 11);
}

TEST(ObjectStoreTest, FailAndUnknownObjectsGiveErrors) {
  ObjectStore store(2);
  ObjectId a{1, 1};
  store.CreatePending(a);
  std::shared_ptr<const ErrorInfo> seen;
  store.Subscribe(a, [&](const ObjectValue& v) { seen = v.error; });
  auto err = std::make_shared<ErrorInfo>(ErrorInfo{ErrorCode::kShape, "bad", "t", 2});
  store.Fail(a, err);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->message, "bad");
  EXPECT_EQ(store.bytes_in_use(), 0);

  std::shared_ptr<const ErrorInfo> missing;
  store.Subscribe(ObjectId{9, 9}, [&](const ObjectValue& v) { missing = v.error; });
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, ErrorCode::kCluster);
  EXPECT_NE(missing->message.find("not on node 2"), std::string::npos);
}

TEST(ObjectStoreTest, FreeWakesWaitersWithError) {
  ObjectStore store(0);
  ObjectId a{1, 1};
  store.CreatePending(a);
  bool failed = false;
  store.Subscribe(a, [&](const ObjectValue& v) { failed = !v.ok(); });
  store.Free(a);
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace nums::engine

namespace nums::engine {
namespace {

TEST(BlockTest, AShapeWhoseSizeOverflowsIsRefusedNotWrapped) {
  // (2^32, 2^32) elements wrap to 0 in int64; (2^62, 3) to a negative count.
  for (const Shape& s : {Shape{int64_t{1} << 32, int64_t{1} << 32}, Shape{int64_t{1} << 62, 3}}) {
    try {
      (void)ShapeSize(s);
      FAIL() << ShapeToString(s);
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(ShapeToString(s)), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)ShapeSize({-1, 4}), ValueError);
  EXPECT_EQ(ShapeSize({3, 0, 5}), 0);
  EXPECT_EQ(ShapeSize({}), 1);
}

}  // namespace
}  // namespace nums::engine
