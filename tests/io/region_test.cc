// The runs a block's region is read and written in, against an element-by-element reference.

#include "io/region.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

int64_t Flat(const Shape& shape, const Shape& index) {
  int64_t f = 0;
  for (size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + index[d];
  return f;
}

// Random shapes, regions and destinations: every element of the region is copied exactly once,
// to the right place, in runs that are contiguous in both arrays.
TEST(Region, RunsCopyEveryElementOnceToItsPlace) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t nd = rng() % 5;
    Shape src(nd), dst(nd), so(nd), dof(nd), count(nd);
    for (size_t d = 0; d < nd; ++d) {
      count[d] = static_cast<int64_t>(rng() % 4);
      so[d] = static_cast<int64_t>(rng() % 3);
      dof[d] = static_cast<int64_t>(rng() % 3);
      src[d] = so[d] + count[d] + static_cast<int64_t>(rng() % 2);
      dst[d] = dof[d] + count[d] + static_cast<int64_t>(rng() % 2);
    }
    std::vector<int64_t> src_values(static_cast<size_t>(shape_size(src)));
    for (size_t i = 0; i < src_values.size(); ++i) src_values[i] = static_cast<int64_t>(i) + 1;
    std::vector<int64_t> got(static_cast<size_t>(shape_size(dst)), 0);
    io::ForEachRunBetween(src, so, dst, dof, count, [&](int64_t s, int64_t t, int64_t n) {
      ASSERT_GT(n, 0);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[static_cast<size_t>(t + i)], 0) << "written twice";
        got[static_cast<size_t>(t + i)] = src_values[static_cast<size_t>(s + i)];
      }
    });
    std::vector<int64_t> want(got.size(), 0);
    const int64_t n = shape_size(count);
    for (int64_t k = 0; k < n; ++k) {
      const Shape idx = Unravel(k, count);
      Shape si(nd), di(nd);
      for (size_t d = 0; d < nd; ++d) {
        si[d] = so[d] + idx[d];
        di[d] = dof[d] + idx[d];
      }
      want[static_cast<size_t>(Flat(dst, di))] = src_values[static_cast<size_t>(Flat(src, si))];
    }
    ASSERT_EQ(got, want) << "src " << shape_str(src) << " at " << shape_str(so) << " dst "
                         << shape_str(dst) << " at " << shape_str(dof) << " count "
                         << shape_str(count);
  }
}

TEST(Region, FullRowsCoalesceIntoOneRun) {
  int runs = 0;
  io::ForEachRun({10, 6, 4}, {3, 0, 0}, {5, 6, 4}, [&](int64_t s, int64_t t, int64_t n) {
    ++runs;
    EXPECT_EQ(s, 3 * 24);
    EXPECT_EQ(t, 0);
    EXPECT_EQ(n, 120);
  });
  EXPECT_EQ(runs, 1);
  runs = 0;
  io::ForEachRun({10, 6}, {2, 1}, {3, 4}, [&](int64_t, int64_t, int64_t n) {
    ++runs;
    EXPECT_EQ(n, 4);
  });
  EXPECT_EQ(runs, 3);
}

TEST(Region, ReverseAxesTransposesEveryRank) {
  // src (2, 3, 4) row-major -> dst (4, 3, 2) with dst[i][j][k] = src[k][j][i].
  std::vector<int64_t> src(24), dst(24);
  for (int64_t i = 0; i < 24; ++i) src[static_cast<size_t>(i)] = i;
  io::ReverseAxes(src.data(), {2, 3, 4}, 8, dst.data());
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t k = 0; k < 2; ++k) {
        EXPECT_EQ(dst[static_cast<size_t>(i * 6 + j * 2 + k)], k * 12 + j * 4 + i);
      }
    }
  }
  std::vector<int32_t> s2 = {1, 2, 3, 4, 5, 6}, d2(6);
  io::ReverseAxes(s2.data(), {2, 3}, 4, d2.data());
  EXPECT_EQ(d2, (std::vector<int32_t>{1, 4, 2, 5, 3, 6}));
}

}  // namespace
}  // namespace nums::testing
