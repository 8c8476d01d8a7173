// IncomingObjects: a put's chunks assembled into one object, and the puts a dead driver left
// unfinished freed with its session.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/cluster/chunks.h"
#include "engine/cluster/transport.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {
namespace {

wire::BlockMetaW Meta(int64_t n) {
  wire::BlockMetaW m;
  m.dtype = static_cast<int8_t>(DType::kFloat64);
  m.shape = {n};
  m.nbytes = n * 8;
  return m;
}

std::string Bytes(int64_t n, char fill) { return std::string(static_cast<size_t>(n), fill); }

TEST(IncomingObjectsTest, ChunksInAnyOrderMakeOneObject) {
  auto pool = std::make_shared<HostPool>("test", int64_t{1} << 30);
  ObjectStore store(0, pool);
  IncomingObjects in;
  const int64_t n = (kChunkBytes * 2 + 64) / 8;  // three chunks, the last short
  const ObjectId id{5, 1};
  in.Add(store, id, Meta(n), 2 * kChunkBytes, Bytes(64, 'c'));
  in.Add(store, id, Meta(n), 0, Bytes(kChunkBytes, 'a'));
  EXPECT_FALSE(store.TryGet(id).has_value());
  in.Add(store, id, Meta(n), kChunkBytes, Bytes(kChunkBytes, 'b'));
  const auto b = store.TryGet(id);
  ASSERT_TRUE(b.has_value());
  const char* raw = static_cast<const char*>(b->raw());
  EXPECT_EQ(raw[0], 'a');
  EXPECT_EQ(raw[kChunkBytes], 'b');
  EXPECT_EQ(raw[2 * kChunkBytes + 63], 'c');
  EXPECT_THROW(in.Add(store, ObjectId{5, 2}, Meta(n), 3, Bytes(8, 'x')), ValueError);
}

TEST(IncomingObjectsTest, ADeadDriversUnfinishedPutsAreFreed) {
  auto pool = std::make_shared<HostPool>("test", int64_t{1} << 30);
  ObjectStore store(0, pool);
  IncomingObjects in;
  const int64_t n = (kChunkBytes * 4) / 8;
  in.Add(store, ObjectId{9, 1}, Meta(n), 0, Bytes(kChunkBytes, 'a'));
  in.Add(store, ObjectId{9, 2}, Meta(n), 0, Bytes(kChunkBytes, 'a'));
  in.Add(store, ObjectId{8, 1}, Meta(n), 0, Bytes(kChunkBytes, 'a'));
  pool->Trim();
  const int64_t held = pool->bytes_allocated();
  EXPECT_GE(held, 3 * n * 8);
  EXPECT_EQ(in.DropSession(9), 2);
  pool->Trim();
  EXPECT_LE(pool->bytes_allocated(), held - 2 * n * 8) << "the partial blocks went back";
  EXPECT_EQ(in.DropSession(9), 0);
  EXPECT_EQ(in.DropSession(8), 1);
}

}  // namespace
}  // namespace nums::engine::cluster
