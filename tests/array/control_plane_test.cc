// The control plane's heap allocations per 1-block elementwise op on the embedded runtime, from
// the API call to completion: counted over many ops (every thread's operator new), so that a
// new allocation on the task path fails here. Timing is measured in
// bench/control_plane_bench.cc, never asserted.

#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include "src/array_impl.h"
#include "tests/testing/allocation_counter.h"

namespace nums {
namespace {

constexpr int kOps = 200;
// Allocations per op reached (bench/RESULTS.md, "A lean control plane": 235, 177, 201, 194, 188
// and 137 before the first pass, 96, 81, 86, 86, 81 and 59 after it), plus half an allocation for
// one-off caches filled during the count (a worker thread's first tile buffer): one more allocation
// per op fails.
struct Limit {
  double fused, unfused;
};
constexpr Limit kBinary{44.5, 45.5};
constexpr Limit kNumber{44.5, 44.5};
constexpr Limit kUnary{41.5, 31.5};

// Mean allocations of one `op`, after a warm-up that fills caches and pools.
template <typename Op>
double AllocationsPerOp(Op op) {
  for (int i = 0; i < 50; ++i) op();
  const int64_t before = testing::AllocationCount();
  for (int i = 0; i < kOps; ++i) op();
  return static_cast<double>(testing::AllocationCount() - before) / kOps;
}

class ControlPlane : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ctx_ = init();
    ctx_.impl()->fuse = GetParam();
    x_ = arange(64).astype(float64);
    y_ = x_ * 2.0;
    x_.wait();
    y_.wait();
  }
  double limit(const Limit& l) const { return GetParam() ? l.fused : l.unfused; }
  Context ctx_{nullptr};
  BlockArray x_, y_;
};

TEST_P(ControlPlane, CounterSeesAllocations) {
  const int64_t before = testing::AllocationCount();
  auto* p = new int(1);
  EXPECT_EQ(testing::AllocationCount() - before, 1);
  delete p;
}

TEST_P(ControlPlane, BinaryOpAllocations) {
  const double n = AllocationsPerOp([&] { (x_ + y_).wait(); });
  RecordProperty("allocations_per_op", std::to_string(n));
  EXPECT_GT(n, 0);
  EXPECT_LE(n, limit(kBinary));
  EXPECT_TRUE(array_equal(x_ + y_, x_ * 3.0));
}

TEST_P(ControlPlane, NumberOperandAllocations) {
  const double n = AllocationsPerOp([&] { (x_ + 1.0).wait(); });
  RecordProperty("allocations_per_op", std::to_string(n));
  EXPECT_LE(n, limit(kNumber));
  EXPECT_EQ((x_ + 1.0).get().value_at<double>(63), 64.0);
}

TEST_P(ControlPlane, UnaryOpAllocations) {
  const double n = AllocationsPerOp([&] { (-x_).wait(); });
  RecordProperty("allocations_per_op", std::to_string(n));
  EXPECT_LE(n, limit(kUnary));
}

INSTANTIATE_TEST_SUITE_P(Fusion, ControlPlane, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Fused" : "Unfused"; });

}  // namespace
}  // namespace nums
