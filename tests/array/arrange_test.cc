#include <gtest/gtest.h>

#include <cstdint>
#include <nums/nums.hpp>
#include <optional>
#include <string>

#include "tests/testing/reference.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefMap;

class ArrangeTest : public testing::OnNodes {};

using testing::Layout;
const std::vector<Layout> kLayouts = {
    {{11}, {4}}, {{7, 5}, {3, 2}}, {{4, 6, 5}, {3, 4, 2}}, {{3, 4}, {3, 4}}, {{9, 1, 3}, {2, 1, 2}},
    {{}, {}},    {{0, 4}, {1, 2}},
};

std::string Name(DType t, const Shape& s) {
  return std::string(dtype_name(t)) + " " + shape_str(s);
}

TEST_P(ArrangeTest, FlipMatchesReference) {
  for (DType dtype : {float64, int32, bool_}) {
    for (const auto& l : kLayouts) {
      const NDArray x = RandomNDArray(l.shape, dtype, 21);
      const BlockArray a = from_ndarray(x, l.block);
      const auto nd = static_cast<int64_t>(l.shape.size());
      std::vector<std::optional<std::vector<int64_t>>> sets{std::nullopt};
      for (int64_t d = 0; d < nd; ++d) sets.push_back(std::vector<int64_t>{d});
      if (nd >= 2) sets.push_back(std::vector<int64_t>{0, -1});
      for (const auto& set : sets) {
        std::vector<bool> flipped(static_cast<size_t>(nd), !set.has_value());
        if (set) {
          for (int64_t d : *set) flipped[static_cast<size_t>(d < 0 ? d + nd : d)] = true;
        }
        SCOPED_TRACE(Name(dtype, l.shape) + (set ? " axes " + shape_str(*set) : " all"));
        const NDArray want = RefMap(x, l.shape, [&](const Shape& i) {
          Shape s = i;
          for (size_t d = 0; d < s.size(); ++d) {
            if (flipped[d]) s[d] = l.shape[d] - 1 - i[d];
          }
          return s;
        });
        const BlockArray f = set ? flip(a, Axes(*set)) : flip(a);
        EXPECT_EQ(f.dtype(), dtype);
        EXPECT_ARRAY_EQ(f.get(), want);
      }
    }
  }
  testing::ExpectThrowWith<IndexError>([] { flip(ones({2, 3}), 2); }, {"flip", "axis 2"});
}

TEST_P(ArrangeTest, RollMatchesReference) {
  for (const auto& l : kLayouts) {
    const NDArray x = RandomNDArray(l.shape, int64, 22);
    const BlockArray a = from_ndarray(x, l.block);
    for (int64_t shift : {0, 1, -2, 3, 13, -25}) {
      SCOPED_TRACE(shape_str(l.shape) + " shift " + std::to_string(shift));
      // Flattened.
      const int64_t n = x.size();
      const NDArray flat = x.reshape({n});
      NDArray want =
          RefMap(flat, {n}, [&](const Shape& i) { return Shape{(((i[0] - shift) % n) + n) % n}; });
      EXPECT_ARRAY_EQ(roll(a, shift).get(), n == 0 ? x : want.reshape(l.shape));
      for (int64_t d = 0; d < static_cast<int64_t>(l.shape.size()); ++d) {
        const int64_t len = l.shape[static_cast<size_t>(d)];
        const NDArray w = RefMap(x, l.shape, [&](const Shape& i) {
          Shape s = i;
          s[static_cast<size_t>(d)] = (((i[static_cast<size_t>(d)] - shift) % len) + len) % len;
          return s;
        });
        const BlockArray r = roll(a, shift, d);
        EXPECT_EQ(r.block_shape(), a.block_shape());
        EXPECT_ARRAY_EQ(r.get(), w);
      }
    }
  }
  // numpy: np.roll(np.arange(10), 2) == [8, 9, 0, 1, ..., 7].
  EXPECT_EQ(roll(arange(0, 10, 1, std::nullopt, {3}), 2).get().to_vector<int64_t>(),
            (std::vector<int64_t>{8, 9, 0, 1, 2, 3, 4, 5, 6, 7}));
  testing::ExpectThrowWith<IndexError>([] { roll(ones({2, 3}), 1, -3); }, {"roll", "axis -3"});
  // numpy: np.roll(np.arange(12).reshape(3, 4), (1, -1), axis=(0, 1)).ravel() ==
  // [9, 10, 11, 8, 1, 2, 3, 0, 5, 6, 7, 4]; np.roll(x, 1, axis=(0, 0)) shifts rows by 2.
  const BlockArray m = arange(0, 12, 1, std::nullopt, {5}).reshape({3, 4}, {2, 3});
  EXPECT_EQ(roll(m, {1, -1}, {0, 1}).get().to_vector<int64_t>(),
            (std::vector<int64_t>{9, 10, 11, 8, 1, 2, 3, 0, 5, 6, 7, 4}));
  EXPECT_EQ(roll(m, {1}, {0, 0}).get().to_vector<int64_t>(),
            (std::vector<int64_t>{4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3}));
  testing::ExpectThrowWith<ValueError>([&] { roll(m, {1, 2}, {0}); }, {"roll", "shifts"});
  testing::ExpectThrowWith<IndexError>(
      [&] { roll(m, std::vector<int64_t>{1}, std::vector<int64_t>{2}); }, {"roll", "axis 2"});
}

TEST_P(ArrangeTest, MoveaxisMatchesNumPy) {
  const NDArray x = RandomNDArray({3, 4, 5}, float64, 23);
  const BlockArray a = from_ndarray(x, {2, 3, 2});
  // numpy: np.moveaxis(np.zeros((3, 4, 5)), 0, -1).shape == (4, 5, 3); (-1, 0): (5, 3, 4).
  const BlockArray m = moveaxis(a, 0, -1);
  EXPECT_EQ(m.shape(), (Shape{4, 5, 3}));
  EXPECT_ARRAY_EQ(m.get(), RefMap(x, {4, 5, 3}, [](const Shape& i) {
                    return Shape{i[2], i[0], i[1]};
                  }));
  EXPECT_EQ(moveaxis(a, -1, 0).shape(), (Shape{5, 3, 4}));
  // np.moveaxis(x, [0, 1], [-1, -2]).shape == (5, 4, 3).
  const BlockArray m2 = moveaxis(a, {0, 1}, {-1, -2});
  EXPECT_EQ(m2.shape(), (Shape{5, 4, 3}));
  EXPECT_ARRAY_EQ(m2.get(), RefMap(x, {5, 4, 3}, [](const Shape& i) {
                    return Shape{i[2], i[1], i[0]};
                  }));
  testing::ExpectThrowWith<ValueError>(
      [&] {
        moveaxis(a, {0, 1}, {0});
      },
      {"moveaxis", "same number"});
  testing::ExpectThrowWith<ValueError>(
      [&] {
        moveaxis(a, {0, 0}, {1, 2});
      },
      {"moveaxis", "repeated"});
  testing::ExpectThrowWith<IndexError>([&] { moveaxis(a, 3, 0); }, {"moveaxis", "axis 3"});
}

TEST_P(ArrangeTest, BroadcastToMatchesReference) {
  struct Case {
    Shape shape, block, to;
  };
  const std::vector<Case> cases = {
      {{5}, {2}, {3, 5}},
      {{3, 1}, {2, 1}, {3, 4}},
      {{1, 4, 1}, {1, 3, 1}, {2, 4, 3}},
      {{}, {}, {2, 3}},
      {{}, {}, {}},
      {{1}, {1}, {0}},
      {{2, 1}, {1, 1}, {4, 2, 0}},
      {{7, 5}, {3, 2}, {7, 5}},
  };
  for (DType dtype : {float64, int32, bool_}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(Name(dtype, c.shape) + " to " + shape_str(c.to));
      const NDArray x = RandomNDArray(c.shape, dtype, 24);
      const BlockArray b = broadcast_to(from_ndarray(x, c.block), c.to);
      EXPECT_EQ(b.dtype(), dtype);
      const size_t pad = c.to.size() - c.shape.size();
      EXPECT_ARRAY_EQ(b.get(), RefMap(x, c.to, [&](const Shape& i) {
                        Shape s(c.shape.size());
                        for (size_t d = 0; d < s.size(); ++d)
                          s[d] = c.shape[d] == 1 ? 0 : i[d + pad];
                        return s;
                      }));
    }
  }
  // Output blocks line up with x's blocks on the axes x keeps.
  const BlockArray row = from_ndarray(RandomNDArray({1, 9}, float64, 32), {1, 4});
  EXPECT_EQ(broadcast_to(row, {5, 9}).block_shape()[1], 4);
  EXPECT_EQ(broadcast_to(row, {2, 5, 9}).block_shape()[2], 4);
  testing::ExpectThrowWith<ShapeError>([] { broadcast_to(ones({3}), {4}); },
                                       {"broadcast_to", "(3,)", "(4,)"});
  testing::ExpectThrowWith<ShapeError>([] { broadcast_to(ones({2, 3}), {3}); }, {"broadcast_to"});
  testing::ExpectThrowWith<ValueError>([] { broadcast_to(ones({1}), {-1}); }, {"broadcast_to"});
}

TEST_P(ArrangeTest, VstackHstack) {
  const NDArray a = RandomNDArray({4}, float64, 25), b = RandomNDArray({4}, int32, 26);
  const BlockArray va = from_ndarray(a, {3}), vb = from_ndarray(b, {2});
  // numpy: np.vstack([a, b]).shape == (2, 4), float64; np.hstack([a, b]).shape == (8,).
  const BlockArray v = vstack({va, vb});
  EXPECT_EQ(v.shape(), (Shape{2, 4}));
  EXPECT_EQ(v.dtype(), float64);
  const NDArray bf = b.astype(float64);
  const NDArray vg = v.get();
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(vg.at<double>({0, j}), a.at<double>({j}));
    EXPECT_EQ(vg.at<double>({1, j}), bf.at<double>({j}));
  }
  const NDArray hg = hstack({va, vb}).get();
  ASSERT_EQ(hg.shape(), (Shape{8}));
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(hg.at<double>({j}), a.at<double>({j}));
    EXPECT_EQ(hg.at<double>({4 + j}), bf.at<double>({j}));
  }
  // 2-d: hstack joins columns, vstack rows; 0-d stacks as (1, 1) / (1,).
  const NDArray m = RandomNDArray({3, 2}, int64, 27), n = RandomNDArray({3, 5}, int64, 28);
  const NDArray h2 = hstack({from_ndarray(m, {2, 1}), from_ndarray(n, {2, 2})}).get();
  ASSERT_EQ(h2.shape(), (Shape{3, 7}));
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      EXPECT_EQ(h2.at<int64_t>({i, j}), j < 2 ? m.at<int64_t>({i, j}) : n.at<int64_t>({i, j - 2}));
    }
  }
  EXPECT_EQ(vstack({full({}, 1), full({}, 2)}).get().to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(vstack({full({}, 1), full({}, 2)}).shape(), (Shape{2, 1}));
  EXPECT_EQ(hstack({full({}, 1), full({}, 2)}).shape(), (Shape{2}));
  testing::ExpectThrowWith<ValueError>([] { vstack({}); }, {"vstack"});
  testing::ExpectThrowWith<ValueError>([] { hstack({}); }, {"hstack"});
  testing::ExpectThrowWith<ShapeError>(
      [] {
        vstack({ones({3}), ones({4})});
      },
      {"(1, 3)", "(1, 4)"});
}

TEST_P(ArrangeTest, ArraySplitUnevenAsNumPy) {
  // numpy: [len(p) for p in np.array_split(np.arange(10), 3)] == [4, 3, 3];
  // np.array_split(np.arange(2), 4) gives lengths [1, 1, 0, 0].
  const NDArray x = RandomNDArray({10, 3}, float64, 29);
  const BlockArray a = from_ndarray(x, {3, 2});
  for (int64_t sections : {1, 3, 4, 10, 12}) {
    SCOPED_TRACE(sections);
    const auto parts = array_split(a, sections);
    ASSERT_EQ(parts.size(), static_cast<size_t>(sections));
    int64_t at = 0;
    for (size_t k = 0; k < parts.size(); ++k) {
      const int64_t len = 10 / sections + (static_cast<int64_t>(k) < 10 % sections ? 1 : 0);
      ASSERT_EQ(parts[k].shape(), (Shape{len, 3}));
      EXPECT_ARRAY_EQ(parts[k].get(), RefMap(x, {len, 3}, [&](const Shape& i) {
                        return Shape{at + i[0], i[1]};
                      }));
      at += len;
    }
  }
  const auto cols = array_split(a, 2, 1);
  EXPECT_EQ(cols[0].shape(), (Shape{10, 2}));
  EXPECT_EQ(cols[1].shape(), (Shape{10, 1}));
  const auto small = array_split(arange(0, 2, 1, std::nullopt, {1}), 4);
  EXPECT_EQ(small[0].shape(), (Shape{1}));
  EXPECT_EQ(small[3].shape(), (Shape{0}));
  EXPECT_EQ(array_split(a, std::vector<int64_t>{2, 7}).size(), 3u);
  testing::ExpectThrowWith<ValueError>([&] { array_split(a, 0); }, {"array_split", "0"});
  testing::ExpectThrowWith<IndexError>([&] { array_split(a, 2, 2); }, {"array_split", "axis 2"});
}

TEST_P(ArrangeTest, TileMatchesReference) {
  struct Case {
    Shape shape, block;
    std::vector<int64_t> reps;
  };
  const std::vector<Case> cases = {
      {{3}, {2}, {2}},
      {{3}, {2}, {2, 2}},
      {{2, 3}, {1, 2}, {3}},
      {{2, 3}, {2, 2}, {2, 1}},
      {{2, 3}, {1, 3}, {1, 2, 2}},
      {{}, {}, {3}},
      {{}, {}, {}},
      {{3}, {2}, {0}},
      {{0, 2}, {1, 2}, {2, 2}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(shape_str(c.shape) + " reps " + shape_str(c.reps));
    const NDArray x = RandomNDArray(c.shape, int32, 30);
    const size_t nd = std::max(c.shape.size(), c.reps.size());
    Shape xs(nd - c.shape.size(), 1), r(nd - c.reps.size(), 1);
    xs.insert(xs.end(), c.shape.begin(), c.shape.end());
    r.insert(r.end(), c.reps.begin(), c.reps.end());
    Shape out(nd);
    for (size_t d = 0; d < nd; ++d) out[d] = xs[d] * r[d];
    const NDArray xp = x.reshape(xs);
    const BlockArray t = tile(from_ndarray(x, c.block), c.reps);
    EXPECT_EQ(t.dtype(), int32);
    EXPECT_ARRAY_EQ(t.get(), RefMap(xp, out, [&](const Shape& i) {
                      Shape s(nd);
                      for (size_t d = 0; d < nd; ++d) s[d] = i[d] % xs[d];
                      return s;
                    }));
  }
  testing::ExpectThrowWith<ValueError>([] { tile(ones({2}), {-1}); }, {"tile", "-1"});
}

TEST_P(ArrangeTest, RepeatMatchesReference) {
  for (const auto& l : kLayouts) {
    const NDArray x = RandomNDArray(l.shape, float32, 31);
    const BlockArray a = from_ndarray(x, l.block);
    for (int64_t r : {0, 1, 3}) {
      SCOPED_TRACE(shape_str(l.shape) + " repeats " + std::to_string(r));
      const NDArray flat = x.reshape({x.size()});
      const BlockArray f = repeat(a, r);
      EXPECT_EQ(f.dtype(), float32);
      EXPECT_ARRAY_EQ(
          f.get(), RefMap(flat, {x.size() * r}, [&](const Shape& i) { return Shape{i[0] / r}; }));
      for (int64_t d = 0; d < static_cast<int64_t>(l.shape.size()); ++d) {
        Shape out = l.shape;
        out[static_cast<size_t>(d)] *= r;
        EXPECT_ARRAY_EQ(repeat(a, r, d).get(), RefMap(x, out, [&](const Shape& i) {
                          Shape s = i;
                          s[static_cast<size_t>(d)] /= r;
                          return s;
                        }));
      }
    }
  }
  // numpy: np.repeat([[1, 2], [3, 4]], 2, axis=0) == [[1, 2], [1, 2], [3, 4], [3, 4]].
  const BlockArray m = array<int64_t>({1, 2, 3, 4}, {2, 2}, {1, 1});
  EXPECT_EQ(repeat(m, 2, 0).get().to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 1, 2, 3, 4, 3, 4}));
  testing::ExpectThrowWith<ValueError>([] { repeat(ones({2}), -1); }, {"repeat", "-1"});
  testing::ExpectThrowWith<IndexError>([] { repeat(ones({2}), 2, 1); }, {"repeat", "axis 1"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, ArrangeTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
