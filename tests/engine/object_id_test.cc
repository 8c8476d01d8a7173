#include "engine/object_id.h"

#include <gtest/gtest.h>

#include <thread>
#include <unordered_set>
#include <vector>

namespace nums::engine {
namespace {

TEST(ObjectIdTest, GeneratorIsUniqueAcrossThreads) {
  ObjectIdGenerator gen;
  std::vector<std::vector<ObjectId>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&gen, &out] {
      for (int i = 0; i < 10000; ++i) out.push_back(gen.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::unordered_set<ObjectId, ObjectIdHash> all;
  for (auto& v : per_thread) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 40000u);
  EXPECT_EQ(all.count(ObjectId{}), 0u);
}

TEST(ObjectIdTest, SessionsDiffer) {
  ObjectIdGenerator a, b;
  EXPECT_NE(a.session(), 0u);
  EXPECT_NE(a.session(), b.session());
  EXPECT_NE(a.Next(), b.Next());
}

TEST(ObjectIdTest, ToStringIs32HexDigits) {
  ObjectId id{0x1, 0xabcdef};
  EXPECT_EQ(id.ToString(), std::string("0000000000000001") + "0000000000abcdef");
  EXPECT_TRUE(ObjectId{}.IsNil());
  EXPECT_FALSE(id.IsNil());
}

}  // namespace
}  // namespace nums::engine
