#include <gtest/gtest.h>

#include "engine/lease_table.h"

namespace nums::engine {
namespace {

using namespace std::chrono_literals;
using Clock = LeaseTable::Clock;

TEST(LeaseTableTest, ALeaseEndsWhenItIsNotRenewed) {
  LeaseTable t;
  const Clock::time_point t0{};
  EXPECT_TRUE(t.Renew(7, t0, 10s));
  EXPECT_TRUE(t.Expire(t0 + 9s).empty());
  EXPECT_TRUE(t.Renew(7, t0 + 9s, 10s));  // renewed: now good until t0 + 19 s
  EXPECT_TRUE(t.Expire(t0 + 18s).empty());
  EXPECT_FALSE(t.Expired(7));
  EXPECT_EQ(t.Expire(t0 + 19s), std::vector<uint64_t>{7});
  EXPECT_TRUE(t.Expired(7));
  EXPECT_TRUE(t.Expire(t0 + 30s).empty());  // reported once
  EXPECT_EQ(t.num_live(), 0);
}

TEST(LeaseTableTest, AnEndedSessionCannotBeRenewed) {
  LeaseTable t;
  const Clock::time_point t0{};
  t.Renew(1, t0, 1s);
  t.Expire(t0 + 2s);
  EXPECT_FALSE(t.Renew(1, t0 + 3s, 10s));
  EXPECT_TRUE(t.Expired(1));
  EXPECT_TRUE(t.Expire(t0 + 100s).empty());
}

TEST(LeaseTableTest, AClosedConnectionEndsTheLeaseAfterTheGraceUnlessRenewed) {
  LeaseTable t;
  const Clock::time_point t0{};
  t.Renew(1, t0, 60s);
  t.Renew(2, t0, 60s);
  t.Disconnected(1, t0 + 1s, 3s);
  t.Disconnected(2, t0 + 1s, 3s);
  t.Renew(2, t0 + 2s, 60s);  // driver 2 came back on a new connection
  EXPECT_TRUE(t.Expire(t0 + 3s).empty());
  EXPECT_EQ(t.Expire(t0 + 4s), std::vector<uint64_t>{1});
  EXPECT_FALSE(t.Expired(2));
  // A close never lengthens a lease, and one of a session never seen does nothing.
  t.Disconnected(3, t0 + 4s, 3s);
  EXPECT_FALSE(t.Expired(3));
  EXPECT_EQ(t.num_live(), 1);
}

TEST(LeaseTableTest, SessionsNeverSeenNeverExpire) {
  LeaseTable t;
  EXPECT_FALSE(t.Expired(42));
  EXPECT_TRUE(t.Expire(Clock::now() + 1000h).empty());
}

}  // namespace
}  // namespace nums::engine
