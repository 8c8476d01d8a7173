#include <gtest/gtest.h>

#include <functional>
#include <nums/nums.hpp>
#include <string>

#include "tests/testing/reference.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using std::nullopt;
using testing::RandomNDArray;
using testing::Range;
using testing::RefMap;
using testing::RefSelect;
using Lists = std::vector<std::vector<int64_t>>;

class IndexTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    ctx_ = init({.nodes = GetParam(), .threads_per_node = 1});
    x_ = RandomNDArray({7, 6, 5}, float64, 1);
    a_ = from_ndarray(x_, {3, 4, 2});
  }
  Context ctx_{nullptr};
  NDArray x_;
  BlockArray a_;
};

// A copy of `ref` with ref[lists[0][j0], lists[1][j1], ...] = value(j) for every j, in row-major
// order of j (later writes win), cast to ref's dtype.
NDArray RefAssign(const NDArray& ref, const Lists& lists,
                  const std::function<double(const Shape&)>& value) {
  NDArray out = ref.astype(ref.dtype());
  Shape sel;
  for (const auto& l : lists) sel.push_back(static_cast<int64_t>(l.size()));
  for (int64_t k = 0; k < shape_size(sel); ++k) {
    const Shape j = testing::Unravel(k, sel);
    Shape i(j.size());
    for (size_t d = 0; d < j.size(); ++d) i[d] = lists[d][static_cast<size_t>(j[d])];
    const double v = value(j);
    dispatch(out.dtype(), [&](auto t) {
      using T = decltype(t);
      out.data<T>()[testing::Ravel(i, out.shape())] = static_cast<T>(v);
    });
  }
  return out;
}

// Positions (row-major over the mask) of the true elements of `mask`.
std::vector<int64_t> TruePositions(const NDArray& mask) {
  std::vector<int64_t> out;
  for (int64_t k = 0; k < mask.size(); ++k) {
    if (mask.value_at<bool>(k)) out.push_back(k);
  }
  return out;
}

// x[mask] for a mask over x's leading axes: (count, remaining axes...).
NDArray RefMaskRows(const NDArray& x, const NDArray& mask) {
  const std::vector<int64_t> rows = TruePositions(mask);
  Shape rest(x.shape().begin() + mask.ndim(), x.shape().end());
  Shape shape{static_cast<int64_t>(rows.size())};
  shape.insert(shape.end(), rest.begin(), rest.end());
  const NDArray flat = x.reshape(Shape{mask.size(), shape_size(rest)});
  return RefMap(flat, {shape[0], shape_size(rest)},
                [&](const Shape& i) {
                  return Shape{rows[static_cast<size_t>(i[0])], i[1]};
                })
      .reshape(shape);
}

struct Case {
  std::vector<IndexEntry> index;
  Lists lists;  // the selection on each axis of the array
  Shape shape;  // of the result
};

TEST_P(IndexTest, IntegersSlicesAndNewaxisMatchReference) {
  const auto r7 = Range(7), r6 = Range(6), r5 = Range(5);
  const std::vector<Case> cases = {
      {{3}, {{3}, r6, r5}, {6, 5}},
      {{-1}, {{6}, r6, r5}, {6, 5}},
      {{slice(1, 5)}, {{1, 2, 3, 4}, r6, r5}, {4, 6, 5}},
      {{slice(3)}, {{0, 1, 2}, r6, r5}, {3, 6, 5}},
      {{all, 2}, {r7, {2}, r5}, {7, 5}},
      {{slice(nullopt, nullopt, -1)}, {{6, 5, 4, 3, 2, 1, 0}, r6, r5}, {7, 6, 5}},
      {{slice(10, -10, -3), slice(nullopt, nullopt, -2), 4}, {{6, 3, 0}, {5, 3, 1}, {4}}, {3, 3}},
      {{slice(-2, nullopt), slice(-1, -8, -1), slice(1, 5, 3)},
       {{5, 6}, {5, 4, 3, 2, 1, 0}, {1, 4}},
       {2, 6, 2}},
      {{slice(5, 1)}, {{}, r6, r5}, {0, 6, 5}},
      {{slice(2, 5), slice(-1, 10, -1)}, {{2, 3, 4}, {}, r5}, {3, 0, 5}},
      {{newaxis, 2, newaxis, slice(-100, 100, 2)}, {{2}, {0, 2, 4}, r5}, {1, 1, 3, 5}},
      {{all, all, all, newaxis}, {r7, r6, r5}, {7, 6, 5, 1}},
      {{1, 2, 3}, {{1}, {2}, {3}}, {}},
      {{-7, -6, -5}, {{0}, {0}, {0}}, {}},
      {{}, {r7, r6, r5}, {7, 6, 5}},
      {{slice(3, 6), slice(4, 8), slice(0, 4)}, {{3, 4, 5}, {4, 5}, {0, 1, 2, 3}}, {3, 2, 4}},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    const BlockArray r = IndexExpr(a_, cases[k].index);
    EXPECT_EQ(r.dtype(), float64);
    EXPECT_ARRAY_EQ(r.get(), RefSelect(x_, cases[k].lists, cases[k].shape));
  }
  // The call syntax.
  EXPECT_ARRAY_EQ(a_(all, 2).get(), RefSelect(x_, {r7, {2}, r5}, {7, 5}));
  EXPECT_ARRAY_EQ(a_(slice(nullopt, nullopt, -1)).get(),
                  RefSelect(x_, {{6, 5, 4, 3, 2, 1, 0}, r6, r5}, {7, 6, 5}));
  EXPECT_DOUBLE_EQ(a_(1, 2, 3).get().item<double>(), x_.at<double>({1, 2, 3}));
}

TEST_P(IndexTest, OneDZeroDAndEmptyArrays) {
  const BlockArray y = arange(0, 10, 1, int64, {4});
  EXPECT_EQ(BlockArray(y(slice(nullopt, nullopt, -3))).get().to_vector<int64_t>(),
            (std::vector<int64_t>{9, 6, 3, 0}));
  EXPECT_EQ(BlockArray(y(slice(2, 9, 3))).get().to_vector<int64_t>(),
            (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(BlockArray(y(-3)).item<int64_t>(), 7);
  const BlockArray z = from_ndarray(NDArray::scalar(4.5));
  EXPECT_EQ(BlockArray(z()).shape(), Shape{});
  EXPECT_DOUBLE_EQ(BlockArray(z()).item<double>(), 4.5);
  EXPECT_EQ(BlockArray(z(newaxis)).shape(), (Shape{1}));
  EXPECT_EQ(BlockArray(z(newaxis, newaxis)).get().to_vector<double>(), (std::vector<double>{4.5}));
  const BlockArray e = zeros({0, 4}, float64, {1, 2});
  EXPECT_EQ(BlockArray(e(all, 1)).shape(), (Shape{0}));
  EXPECT_EQ(BlockArray(e(slice(nullopt, nullopt, -1))).shape(), (Shape{0, 4}));
  EXPECT_EQ(BlockArray(e(all, slice(1, 3))).get().shape(), (Shape{0, 2}));
  testing::ExpectThrowWith<IndexError>([&] { e(0); }, {"index 0", "axis 0", "size 0"});
}

TEST_P(IndexTest, IndexErrorsAtTheCall) {
  testing::ExpectThrowWith<IndexError>([&] { a_(7); }, {"index 7", "axis 0", "size 7"});
  testing::ExpectThrowWith<IndexError>([&] { a_(0, -7); }, {"index -7", "axis 1", "size 6"});
  testing::ExpectThrowWith<IndexError>([&] { a_(0, 0, 0, 0); },
                                       {"3-dimensional", "4 were indexed"});
  testing::ExpectThrowWith<IndexError>([&] { a_(newaxis, 0, 0, 0, all); }, {"4 were indexed"});
  testing::ExpectThrowWith<ValueError>([&] { a_(slice(0, 5, 0)); }, {"step cannot be zero"});
  testing::ExpectThrowWith<IndexError>(
      [&] {
        a_(std::vector<int64_t>{0, 7});
      },
      {"index 7", "axis 0"});
  testing::ExpectThrowWith<IndexError>([&] { a_(all, std::vector<int64_t>{-7}); },
                                       {"index -7", "axis 1"});
  testing::ExpectThrowWith<IndexError>([&] { a_(array<int64_t>({1, 9})); }, {"index 9", "size 7"});
  testing::ExpectThrowWith<IndexError>([&] { a_(array<double>({1.0})); },
                                       {"integer or boolean", "float64"});
  testing::ExpectThrowWith<IndexError>(
      [&] {
        a_(std::vector<int64_t>{0, 1}, std::vector<int64_t>{0, 1, 2});
      },
      {"shape mismatch", "broadcast together", "(2,) (3,)"});
  testing::ExpectThrowWith<IndexError>(
      [&] { a_(std::vector<int64_t>{0}, std::vector<int64_t>{9}); }, {"index 9", "axis 1"});
  testing::ExpectThrowWith<ValueError>([&] { a_(ones({7}, bool_), std::vector<int64_t>{0}); },
                                       {"only one"});
  testing::ExpectThrowWith<IndexError>(
      [&] {
        a_(ones({7, 5}, bool_));
      },
      {"axis 1", "size of axis is 6", "boolean axis is 5"});
  testing::ExpectThrowWith<IndexError>([&] { a_(all, ones({7}, bool_)); }, {"axis 1"});
  testing::ExpectThrowWith<ValueError>([&] { a_(from_ndarray(NDArray::scalar(true))); }, {"0-d"});
  testing::ExpectThrowWith<IndexError>([] { from_ndarray(NDArray::scalar(1.0))(0); },
                                       {"0-dimensional"});
}

TEST_P(IndexTest, IntegerListsAndArraysMatchReference) {
  const auto r7 = Range(7), r6 = Range(6), r5 = Range(5);
  const std::vector<Case> cases = {
      {{std::vector<int64_t>{3, 0, 3, -1}}, {{3, 0, 3, 6}, r6, r5}, {4, 6, 5}},
      {{all, std::vector<int64_t>{5, 0, 2, 3, 1}}, {r7, {5, 0, 2, 3, 1}, r5}, {7, 5, 5}},
      {{std::vector<int64_t>{}}, {{}, r6, r5}, {0, 6, 5}},
      {{all, 2, std::vector<int64_t>{4, 0}}, {r7, {2}, {4, 0}}, {7, 2}},
      {{newaxis, std::vector<int64_t>{1, 2}}, {{1, 2}, r6, r5}, {1, 2, 6, 5}},
      {{slice(nullopt, nullopt, -2), std::vector<int64_t>{1, 1}, 3},
       {{6, 4, 2, 0}, {1, 1}, {3}},
       {4, 2}},
      {{array<int64_t>({1, -2, 0}, {}, {2})}, {{1, 5, 0}, r6, r5}, {3, 6, 5}},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    const BlockArray r = IndexExpr(a_, cases[k].index);
    EXPECT_ARRAY_EQ(r.get(), RefSelect(x_, cases[k].lists, cases[k].shape));
  }
  // An integer apart from the list: NumPy puts the list's axis first.
  const std::vector<int64_t> idx{4, 4, 0};
  EXPECT_ARRAY_EQ(a_(2, all, idx).get(), RefMap(x_, {3, 6}, [&](const Shape& i) {
                    return Shape{2, i[1], idx[static_cast<size_t>(i[0])]};
                  }));
  // A 2-d int32 index array along axis 1.
  const std::vector<int32_t> idx2{4, 0, 1, 4};
  EXPECT_ARRAY_EQ(a_(all, array<int32_t>(idx2, {2, 2}, {1, 2})).get(),
                  RefMap(x_, {7, 2, 2, 5}, [&](const Shape& i) {
                    return Shape{i[0], idx2[static_cast<size_t>(i[1] * 2 + i[2])], i[3]};
                  }));
  // A 0-d index array drops the axis like an integer.
  EXPECT_ARRAY_EQ(a_(all, all, from_ndarray(NDArray::scalar<int64_t>(-1))).get(),
                  RefSelect(x_, {r7, r6, {4}}, {7, 6}));
}

// Several integer lists or arrays in one index broadcast together and select element-wise
// (NumPy's rule): their result axes take the first one's place when the advanced entries
// (integers included) are side by side, else they go first.
TEST_P(IndexTest, SeveralIntegerArraysBroadcastTogether) {
  const std::vector<int64_t> p{0, 2, 6}, q{1, 3, 5};
  auto at = [](const std::vector<int64_t>& v, int64_t i) { return v[static_cast<size_t>(i)]; };
  EXPECT_ARRAY_EQ(a_(p, q).get(), RefMap(x_, {3, 5}, [&](const Shape& i) {
                    return Shape{at(p, i[0]), at(q, i[0]), i[1]};
                  }));
  const std::vector<int64_t> c{0, -1}, d{4, 1};
  EXPECT_ARRAY_EQ(a_(all, c, d).get(), RefMap(x_, {7, 2}, [&](const Shape& i) {
                    return Shape{i[0], at(c, i[1]) < 0 ? 5 : at(c, i[1]), at(d, i[1])};
                  }));
  // Apart (a slice between): the broadcast axes go first.
  const std::vector<int64_t> r{1, 2}, t{3, 4};
  EXPECT_ARRAY_EQ(a_(r, slice(1, 5), t).get(), RefMap(x_, {2, 4}, [&](const Shape& i) {
                    return Shape{at(r, i[0]), i[1] + 1, at(t, i[0])};
                  }));
  // A column against a row: a (2, 3) grid of pairs.
  const std::vector<int64_t> rows{0, 3}, cols{1, 2, -1};
  EXPECT_ARRAY_EQ(a_(array<int64_t>(rows, {2, 1}), array<int64_t>(cols)).get(),
                  RefMap(x_, {2, 3, 5}, [&](const Shape& i) {
                    const int64_t col = at(cols, i[1]);
                    return Shape{at(rows, i[0]), col < 0 ? col + 6 : col, i[2]};
                  }));
  // An integer among them counts as one of them: side by side, in place.
  EXPECT_ARRAY_EQ(a_(std::vector<int64_t>{6, 0}, std::vector<int64_t>{5, 0}, -1).get(),
                  RefMap(x_, {2}, [&](const Shape& i) {
                    return Shape{i[0] == 0 ? 6 : 0, i[0] == 0 ? 5 : 0, 4};
                  }));
  EXPECT_ARRAY_EQ(a_(p, 1, std::vector<int64_t>{4, 0, 2}).get(),
                  RefMap(x_, {3}, [&](const Shape& i) {
                    return Shape{at(p, i[0]), 1, i[0] == 0 ? 4 : i[0] == 1 ? 0 : 2};
                  }));
  // Apart through an integer and a newaxis: first.
  EXPECT_ARRAY_EQ(a_(r, newaxis, all, t).get(), RefMap(x_, {2, 1, 6}, [&](const Shape& i) {
                    return Shape{at(r, i[0]), i[2], at(t, i[0])};
                  }));
  // A length-1 list broadcasts against the others; empty lists give an empty result.
  EXPECT_ARRAY_EQ(a_(std::vector<int64_t>{4}, q).get(), RefMap(x_, {3, 5}, [&](const Shape& i) {
                    return Shape{4, at(q, i[0]), i[1]};
                  }));
  EXPECT_EQ(a_(std::vector<int64_t>{}, std::vector<int64_t>{}).get().shape(), (Shape{0, 5}));
  // Assignment through several of them is refused, leaving the array as it was.
  testing::ExpectThrowWith<ValueError>([&] { a_(p, q) = 1.0; }, {"several", "not supported"});
  EXPECT_ARRAY_EQ(a_.get(), x_);
}

TEST_P(IndexTest, MasksMatchReference) {
  const NDArray x2 = RandomNDArray({7, 6}, float64, 2);
  const BlockArray a2 = from_ndarray(x2, {3, 4});
  NDArray m(bool_, x2.shape());
  for (int64_t k = 0; k < x2.size(); ++k) m.data<bool>()[k] = x2.value_at<double>(k) > 0;
  EXPECT_ARRAY_EQ(BlockArray(a2(a2 > 0.0)).get(), RefMaskRows(x2.reshape({42}), m.reshape({42})));
  // A mask blocked unlike the array.
  const NDArray mb = RandomNDArray({7, 6}, bool_, 3);
  EXPECT_ARRAY_EQ(BlockArray(a2(from_ndarray(mb, {2, 5}))).get(),
                  RefMaskRows(x2.reshape({42}), mb.reshape({42})));
  // Masks of leading axes.
  const NDArray m7 = RandomNDArray({7}, bool_, 4);
  EXPECT_ARRAY_EQ(BlockArray(a2(from_ndarray(m7, {4}))).get(), RefMaskRows(x2, m7));
  EXPECT_ARRAY_EQ(BlockArray(a_(from_ndarray(m7, {2}))).get(), RefMaskRows(x_, m7));
  const NDArray m76 = RandomNDArray({7, 6}, bool_, 5);
  EXPECT_ARRAY_EQ(BlockArray(a_(from_ndarray(m76, {5, 5}))).get(), RefMaskRows(x_, m76));
  // All false, all true.
  EXPECT_EQ(BlockArray(a2(zeros({7, 6}, bool_))).shape(), (Shape{0}));
  EXPECT_EQ(BlockArray(a_(zeros({7}, bool_))).shape(), (Shape{0, 6, 5}));
  EXPECT_ARRAY_EQ(BlockArray(a2(ones({7, 6}, bool_))).get(), x2.reshape({42}));
  // A mask on a middle axis stays in place; apart from an integer it goes first.
  const NDArray m6 = RandomNDArray({6}, bool_, 6);
  const std::vector<int64_t> sel6 = TruePositions(m6);
  const auto n6 = static_cast<int64_t>(sel6.size());
  EXPECT_ARRAY_EQ(BlockArray(a_(all, from_ndarray(m6, {4}))).get(),
                  RefMap(x_, {7, n6, 5}, [&](const Shape& i) {
                    return Shape{i[0], sel6[static_cast<size_t>(i[1])], i[2]};
                  }));
  const NDArray m5 = RandomNDArray({5}, bool_, 7);
  const std::vector<int64_t> sel5 = TruePositions(m5);
  EXPECT_ARRAY_EQ(BlockArray(a_(0, all, from_ndarray(m5))).get(),
                  RefMap(x_, {static_cast<int64_t>(sel5.size()), 6}, [&](const Shape& i) {
                    return Shape{0, i[1], sel5[static_cast<size_t>(i[0])]};
                  }));
  // 1-d.
  const BlockArray y = arange(0, 10, 1, int64, {4});
  EXPECT_EQ(BlockArray(y(y % 3 == 0)).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 3, 6, 9}));
}

// Each write goes to a fresh array; a handle sharing it sees the write, a copy made before does
// not.
TEST_P(IndexTest, BasicAndListWritesMatchReference) {
  const auto r7 = Range(7), r6 = Range(6), r5 = Range(5);
  const NDArray y265 = RandomNDArray({2, 6, 5}, int32, 10);
  const NDArray row5 = RandomNDArray({5}, float64, 11);
  const NDArray y43 = RandomNDArray({4, 3}, float64, 12);
  const NDArray y3163 = RandomNDArray({3, 1, 6, 3}, float64, 13);
  const NDArray y1165 = RandomNDArray({1, 1, 6, 5}, float64, 14);
  const NDArray y365 = RandomNDArray({3, 6, 5}, float64, 15);
  const NDArray y26 = RandomNDArray({2, 6}, float64, 16);
  const NDArray y2265 = RandomNDArray({2, 2, 6, 5}, float64, 17);
  const NDArray y2165 = RandomNDArray({2, 1, 6, 5}, float64, 18);
  struct Write {
    std::vector<IndexEntry> index;
    std::function<void(IndexExpr)> assign;
    Lists lists;
    std::function<double(const Shape&)> value;  // of the selection position j
  };
  auto put = [](const NDArray& v, Shape s = {}) {
    return [v, s](IndexExpr e) { e = from_ndarray(v, s); };
  };
  const std::vector<Write> writes = {
      {{slice(0, 2)},
       put(y265, {1, 4, 2}),
       {{0, 1}, r6, r5},
       [&](const Shape& j) {
         return y265.at<double>({j[0], j[1], j[2]});
       }},
      {{all, 3},
       put(row5, {2}),
       {r7, {3}, r5},
       [&](const Shape& j) { return row5.at<double>({j[2]}); }},
      {{slice(nullopt, nullopt, -2), slice(5, 0, -2), 1},
       put(y43, {3, 2}),
       {{6, 4, 2, 0}, {5, 3, 1}, {1}},
       [&](const Shape& j) {
         return y43.at<double>({j[0], j[1]});
       }},
      {{1}, [](IndexExpr e) { e = 5.0; }, {{1}, r6, r5}, [](const Shape&) { return 5.0; }},
      {{slice(1, 6, 2), newaxis, all, slice(3)},
       put(y3163),
       {{1, 3, 5}, r6, {0, 1, 2}},
       [&](const Shape& j) {
         return y3163.at<double>({j[0], 0, j[1], j[2]});
       }},
      {{}, put(NDArray::scalar(7.0)), {r7, r6, r5}, [](const Shape&) { return 7.0; }},
      {{2},
       put(y1165),
       {{2}, r6, r5},
       [&](const Shape& j) {
         return y1165.at<double>({0, 0, j[1], j[2]});
       }},
      {{std::vector<int64_t>{3, 0, 3}},
       put(y365, {2, 4, 5}),
       {{3, 0, 3}, r6, r5},
       [&](const Shape& j) {
         return y365.at<double>({j[0], j[1], j[2]});
       }},
      {{all, std::vector<int64_t>{5, -5}},
       [](IndexExpr e) { e = 1; },
       {r7, {5, 1}, r5},
       [](const Shape&) { return 1.0; }},
      {{2, all, std::vector<int64_t>{4, 0}},
       put(y26),
       {{2}, r6, {4, 0}},
       [&](const Shape& j) {
         return y26.at<double>({j[2], j[1]});
       }},
      {{array<int64_t>({4, 0, 1, 4}, {2, 2})},
       put(y2265, {1, 2, 3, 2}),
       {{4, 0, 1, 4}, r6, r5},
       [&](const Shape& j) {
         return y2265.at<double>({j[0] / 2, j[0] % 2, j[1], j[2]});
       }},
      {{array<int64_t>({4, 0, 1, 4}, {2, 2})},
       put(y2165),
       {{4, 0, 1, 4}, r6, r5},
       [&](const Shape& j) {
         return y2165.at<double>({j[0] / 2, 0, j[1], j[2]});
       }},
  };
  for (size_t k = 0; k < writes.size(); ++k) {
    SCOPED_TRACE("write " + std::to_string(k));
    BlockArray a = from_ndarray(x_, {3, 4, 2});
    const BlockArray alias = a;
    const BlockArray before = a.copy();
    writes[k].assign(IndexExpr(a, writes[k].index));
    const NDArray want = RefAssign(x_, writes[k].lists, writes[k].value);
    EXPECT_ARRAY_EQ(a.get(), want);
    EXPECT_ARRAY_EQ(alias.get(), want);
    EXPECT_ARRAY_EQ(before.get(), x_);
    EXPECT_EQ(a.block_shape(), (Shape{3, 4, 2}));
  }
}

TEST_P(IndexTest, WritesCastToTheArrayDtype) {
  BlockArray b = array<int64_t>({1, 2, 3, 4, 5}, {}, {2});
  b(slice(0, 2)) = 2.7;
  b(slice(3, nullopt)) = array<double>({-1.9, 8.5});
  EXPECT_EQ(b.get().to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 3, -1, 8}));
  b(b > 2) = 0;
  EXPECT_EQ(b.get().to_vector<int64_t>(), (std::vector<int64_t>{2, 2, 0, -1, 0}));
  BlockArray z = from_ndarray(NDArray::scalar(1.5));
  z() = 3;
  EXPECT_DOUBLE_EQ(z.item<double>(), 3.0);
  BlockArray f = zeros({4}, bool_, {3});
  f(std::vector<int64_t>{1, 3}) = 2.5;
  EXPECT_EQ(f.get().to_vector<bool>(), (std::vector<bool>{false, true, false, true}));
}

TEST_P(IndexTest, ExpressionAssignmentCopiesValues) {
  BlockArray a = from_ndarray(x_, {3, 4, 2});
  const BlockArray row1 = a(1);
  a(0) = a(1);
  a(1) = 0.0;
  const auto r6 = Range(6), r5 = Range(5);
  EXPECT_ARRAY_EQ(BlockArray(a(0)).get(), RefSelect(x_, {{1}, r6, r5}, {6, 5}));
  EXPECT_ARRAY_EQ(row1.get(), RefSelect(x_, {{1}, r6, r5}, {6, 5}));
  EXPECT_EQ(BlockArray(a(1)).sum().item<double>(), 0.0);
  // Reversing in place reads the old blocks.
  BlockArray v = arange(0, 9, 1, int64, {4});
  v(all) = v(slice(nullopt, nullopt, -1));
  EXPECT_EQ(v.get().to_vector<int64_t>(), (std::vector<int64_t>{8, 7, 6, 5, 4, 3, 2, 1, 0}));
}

TEST_P(IndexTest, MaskWritesMatchReference) {
  const NDArray x2 = RandomNDArray({7, 6}, float64, 20);
  auto fresh = [&] { return from_ndarray(x2, {3, 4}); };
  const NDArray mb = RandomNDArray({7, 6}, bool_, 21);
  const std::vector<int64_t> on = TruePositions(mb);
  const auto count = static_cast<int64_t>(on.size());
  {
    BlockArray a = fresh();
    const BlockArray alias = a;
    a(a > 0.0) = 1.0;
    NDArray want = x2.astype(float64);
    for (int64_t k = 0; k < want.size(); ++k) {
      if (want.data<double>()[k] > 0) want.data<double>()[k] = 1.0;
    }
    EXPECT_ARRAY_EQ(alias.get(), want);
  }
  {  // one value per true element
    BlockArray a = fresh();
    const NDArray v = RandomNDArray({count}, float64, 22);
    a(from_ndarray(mb, {2, 5})) = from_ndarray(v, {3});
    NDArray want = x2.astype(float64);
    for (size_t k = 0; k < on.size(); ++k) {
      want.data<double>()[on[k]] = v.data<double>()[k];
    }
    EXPECT_ARRAY_EQ(a.get(), want);
  }
  const NDArray m7 = RandomNDArray({7}, bool_, 23);
  const std::vector<int64_t> rows = TruePositions(m7);
  const auto nrows = static_cast<int64_t>(rows.size());
  {  // a row for every selected row (a where)
    BlockArray a = fresh();
    const NDArray row = RandomNDArray({6}, float64, 24);
    a(from_ndarray(m7, {2})) = from_ndarray(row);
    EXPECT_ARRAY_EQ(a.get(), RefAssign(x2, {rows, Range(6)},
                                       [&](const Shape& j) { return row.at<double>({j[1]}); }));
  }
  {  // rows of their own, and a column broadcast along the rows
    BlockArray a = fresh();
    const NDArray v = RandomNDArray({nrows, 6}, float64, 25);
    a(from_ndarray(m7, {4})) = from_ndarray(v, {2, 4});
    EXPECT_ARRAY_EQ(a.get(), RefAssign(x2, {rows, Range(6)}, [&](const Shape& j) {
                      return v.at<double>({j[0], j[1]});
                    }));
    BlockArray c = fresh();
    const NDArray col = RandomNDArray({nrows, 1}, float64, 26);
    c(from_ndarray(m7)) = from_ndarray(col);
    EXPECT_ARRAY_EQ(c.get(), RefAssign(x2, {rows, Range(6)}, [&](const Shape& j) {
                      return col.at<double>({j[0], 0});
                    }));
  }
  {  // 3-d with a 2-d mask: rows of the last axis
    BlockArray a = from_ndarray(x_, {3, 4, 2});
    const NDArray m = RandomNDArray({7, 6}, bool_, 27);
    const std::vector<int64_t> sel = TruePositions(m);
    const NDArray v = RandomNDArray({static_cast<int64_t>(sel.size()), 5}, float64, 28);
    a(from_ndarray(m, {5, 5})) = from_ndarray(v, {3, 3});
    NDArray want = x_.astype(float64);
    for (size_t k = 0; k < sel.size(); ++k) {
      for (int64_t c = 0; c < 5; ++c) {
        want.data<double>()[sel[k] * 5 + c] = v.at<double>({static_cast<int64_t>(k), c});
      }
    }
    EXPECT_ARRAY_EQ(a.get(), want);
  }
  {  // nothing selected; an empty array
    BlockArray a = fresh();
    a(zeros({7, 6}, bool_)) = zeros({0});
    EXPECT_ARRAY_EQ(a.get(), x2);
    BlockArray e = zeros({0, 3});
    e(zeros({0}, bool_)) = ones({0, 3});
    e(zeros({0}, bool_)) = 1.0;
    EXPECT_EQ(e.get().shape(), (Shape{0, 3}));
  }
  BlockArray a = fresh();
  const BlockArray m = from_ndarray(mb);
  testing::ExpectThrowWith<ShapeError>(
      [&] { a(m) = ones({count + 1}); },
      {"(" + std::to_string(count + 1) + ",)", std::to_string(count)});
  testing::ExpectThrowWith<ShapeError>([&] { a(from_ndarray(m7)) = ones({6, 2}); }, {"(6, 2)"});
  testing::ExpectThrowWith<ValueError>([&] { a(from_ndarray(m7), slice(1, 3)) = 1.0; },
                                       {"mask alone"});
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        a(slice(0, 2)) = ones({3, 6});
      },
      {"(3, 6)", "(2, 6)"});
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        a(std::vector<int64_t>{1, 2}) = ones({3});
      },
      {"(3,)", "(2, 6)"});
  EXPECT_ARRAY_EQ(a.get(), x2);
}

TEST_P(IndexTest, EllipsisExpandsToWholeAxes) {
  // a[..., 2] == a[:, :, 2]; a[1, ...] == a[1]; a[..., 1, newaxis, 0] == a[:, 1, newaxis, 0]
  EXPECT_ARRAY_EQ(BlockArray(a_(ellipsis, 2)).get(), BlockArray(a_(all, all, 2)).get());
  EXPECT_ARRAY_EQ(BlockArray(a_(1, ellipsis)).get(), BlockArray(a_(1)).get());
  EXPECT_ARRAY_EQ(BlockArray(a_(ellipsis, 1, newaxis, 0)).get(),
                  BlockArray(a_(all, 1, newaxis, 0)).get());
  EXPECT_EQ(BlockArray(a_(ellipsis, 1, newaxis, 0)).shape(), (Shape{7, 1}));
  // An ellipsis that stands for no axis, and one with a list.
  EXPECT_ARRAY_EQ(BlockArray(a_(0, 1, ellipsis, 2)).get(), BlockArray(a_(0, 1, 2)).get());
  EXPECT_ARRAY_EQ(BlockArray(a_(ellipsis, std::vector<int64_t>{4, 0})).get(),
                  BlockArray(a_(all, all, std::vector<int64_t>{4, 0})).get());
  // Writes through it.
  BlockArray b = a_.copy();
  b(ellipsis, 0) = 5.0;
  NDArray want = x_.astype(float64);
  for (int64_t i = 0; i < 7; ++i) {
    for (int64_t j = 0; j < 6; ++j) want.data<double>()[(i * 6 + j) * 5] = 5.0;
  }
  EXPECT_ARRAY_EQ(b.get(), want);
  testing::ExpectThrowWith<IndexError>([&] { a_(ellipsis, 0, ellipsis); }, {"single ellipsis"});
  EXPECT_THROW(a_(0, 0, 0, ellipsis, 0), IndexError);
}

TEST_P(IndexTest, BraceListsAndVectorsOfAnyIntegerType) {
  const NDArray want = BlockArray(a_(std::vector<int64_t>{3, 0, 3})).get();
  EXPECT_ARRAY_EQ(BlockArray(a_({3, 0, 3})).get(), want);
  EXPECT_ARRAY_EQ(BlockArray(a_(std::vector<int>{3, 0, 3})).get(), want);
  EXPECT_ARRAY_EQ(BlockArray(a_(all, std::vector<int32_t>{-1, 2})).get(),
                  BlockArray(a_(all, std::vector<int64_t>{5, 2})).get());
  EXPECT_THROW(a_({7}), IndexError);
}

TEST_P(IndexTest, CompoundAssignmentThroughAnIndex) {
  BlockArray b = a_.copy();
  const BlockArray alias = b;
  b(slice(0, 2)) += 1;
  b(all, std::vector<int64_t>{1, 3}, 0) *= 2.0;
  b(b > 5.0) -= 5.0;
  b(slice(std::nullopt, std::nullopt, 3), 1) /= from_ndarray(RandomNDArray({5}, float64, 9)) + 20.0;
  NDArray want = x_.astype(float64);
  const NDArray div = RandomNDArray({5}, float64, 9);
  double* w = want.data<double>();
  auto at = [&](int64_t i, int64_t j, int64_t k) -> double& { return w[(i * 6 + j) * 5 + k]; };
  for (int64_t i = 0; i < 7; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      for (int64_t k = 0; k < 5; ++k) {
        if (i < 2) at(i, j, k) += 1;
        if ((j == 1 || j == 3) && k == 0) at(i, j, k) *= 2.0;
        if (at(i, j, k) > 5.0) at(i, j, k) -= 5.0;
        if (i % 3 == 0 && j == 1) at(i, j, k) /= div.value_at<double>(k) + 20.0;
      }
    }
  }
  EXPECT_ARRAY_NEAR(b.get(), want, 1e-15);
  EXPECT_ARRAY_EQ(alias.get(), b.get());
  // The cast rule of the in-place operators.
  BlockArray n = arange(6).reshape({2, 3});
  n(0) += 2;
  EXPECT_EQ(n.get().to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 4, 3, 4, 5}));
  testing::ExpectThrowWith<DTypeError>([&] { n(1) += 2.5; }, {"+=", "same_kind"});
  EXPECT_THROW(n(0) += zeros({4}), ShapeError);
}

INSTANTIATE_TEST_SUITE_P(Nodes, IndexTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
