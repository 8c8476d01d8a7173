// The array API spellings and data type functions, and the arranging functions take,
// take_along_axis, put, pad, unstack, broadcast_arrays, matrix_transpose and cumulative_sum,
// against dense references (NumPy's results where a comment names the NumPy call).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <nums/nums.hpp>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::ExpectThrowWith;
using testing::RandomNDArray;

class ArrayApiTest : public testing::OnNodes {};

std::vector<double> V(const BlockArray& x) { return x.get().to_vector<double>(); }

NDArray Ints(std::vector<int64_t> v, Shape shape = {}) {
  return NDArray::from_vector(v, std::move(shape));
}

TEST_P(ArrayApiTest, SpellingsAreTheSameFunctions) {
  const NDArray an = RandomNDArray({5, 7}, float64, 1), bn = RandomNDArray({7}, float64, 2);
  const BlockArray a = from_ndarray(an, {2, 3}), b = from_ndarray(bn, {4});
  const BlockArray unit = clip(a / 10.0, -0.9, 0.9);
  EXPECT_ARRAY_EQ(acos(unit).get(), arccos(unit).get());
  EXPECT_ARRAY_EQ(asin(unit).get(), arcsin(unit).get());
  EXPECT_ARRAY_EQ(atan(a).get(), arctan(a).get());
  EXPECT_ARRAY_EQ(atanh(unit).get(), arctanh(unit).get());
  EXPECT_ARRAY_EQ(asinh(a).get(), arcsinh(a).get());
  EXPECT_ARRAY_EQ(acosh(abs(a) + 1.0).get(), arccosh(abs(a) + 1.0).get());
  EXPECT_ARRAY_EQ(add(a, b).get(), (a + b).get());
  EXPECT_ARRAY_EQ(subtract(2.0, b).get(), (2.0 - b).get());
  EXPECT_ARRAY_EQ(multiply(a, 3).get(), (a * 3).get());
  EXPECT_ARRAY_EQ(divide(a, b).get(), (a / b).get());
  EXPECT_ARRAY_EQ(equal(a, a).get(), (a == a).get());
  EXPECT_ARRAY_EQ(not_equal(a, b).get(), (a != b).get());
  EXPECT_ARRAY_EQ(greater(a, 0.5).get(), (a > 0.5).get());
  EXPECT_ARRAY_EQ(greater_equal(a, b).get(), (a >= b).get());
  EXPECT_ARRAY_EQ(less(a, b).get(), (a < b).get());
  EXPECT_ARRAY_EQ(less_equal(0.0, a).get(), (0.0 <= a).get());
  EXPECT_ARRAY_EQ(atan2(a, b).get(), arctan2(a, b).get());
  EXPECT_ARRAY_EQ(pow(abs(a), b).get(), power(abs(a), b).get());
  const BlockArray i = from_ndarray(RandomNDArray({9}, int64, 3), {4});
  EXPECT_ARRAY_EQ(bitwise_left_shift(i, 3).get(), left_shift(i, 3).get());
  EXPECT_ARRAY_EQ(bitwise_right_shift(i, 2).get(), right_shift(i, 2).get());
  EXPECT_ARRAY_EQ(positive(i).get(), i.get());
  ExpectThrowWith<DTypeError>([&] { positive(i > 0); }, {"positive", "bool"});
  EXPECT_ARRAY_EQ(permute_dims(a, {1, 0}).get(), a.T().get());
  EXPECT_EQ(astype(a, int32).dtype(), int32);
  EXPECT_EQ(asarray(an, float32).dtype(), float32);
  EXPECT_ARRAY_EQ(asarray(an).get(), an);
  EXPECT_EQ(concat({a, a}, std::nullopt).shape(), (Shape{70}));
  EXPECT_EQ(concat({a, a}, 1).shape(), (Shape{5, 14}));
}

TEST_P(ArrayApiTest, ScalarFirstCalls) {
  const NDArray xn = RandomNDArray({6, 5}, float64, 4);
  const BlockArray x = from_ndarray(xn, {4, 2});
  const NDArray rmax = maximum(0.0, x).get(), rmin = minimum(1.5, x).get();
  const NDArray p = power(2.0, x).get(), r = remainder(7.5, x).get(), q = remainder(x, 2.5).get();
  for (int64_t k = 0; k < xn.size(); ++k) {
    const double v = xn.value_at<double>(k);
    EXPECT_EQ(rmax.value_at<double>(k), std::max(0.0, v));
    EXPECT_EQ(rmin.value_at<double>(k), std::min(1.5, v));
    EXPECT_DOUBLE_EQ(p.value_at<double>(k), std::pow(2.0, v));
    // Python's modulo: the sign of the divisor.
    const double m = std::fmod(7.5, v);
    EXPECT_DOUBLE_EQ(r.value_at<double>(k), m != 0 && (m < 0) != (v < 0) ? m + v : m);
    const double m2 = std::fmod(v, 2.5);
    EXPECT_DOUBLE_EQ(q.value_at<double>(k), m2 < 0 ? m2 + 2.5 : m2);
  }
  // Weak scalars keep the array's dtype: power(2, int32 array) is int32.
  const BlockArray e = arange(0, 10, 1, int32);
  EXPECT_EQ(power(2, e).dtype(), int32);
  EXPECT_EQ(power(2, e).get().to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}));
  EXPECT_EQ(maximum(3, e).dtype(), int32);
  EXPECT_EQ(power(2.0, e).dtype(), float64);
}

TEST_P(ArrayApiTest, DataTypeFunctions) {
  EXPECT_TRUE(can_cast(int32, float64));
  EXPECT_FALSE(can_cast(int32, float32));
  EXPECT_FALSE(can_cast(int64, int32));
  EXPECT_TRUE(can_cast(bool_, int32));
  EXPECT_FALSE(can_cast(float64, float32));
  EXPECT_TRUE(can_cast(float32, float64));
  EXPECT_EQ(result_type({int32, float32}), float64);
  EXPECT_EQ(result_type({bool_, int32, int64}), int64);
  EXPECT_THROW(result_type({}), ValueError);
  EXPECT_TRUE(isdtype(int32, "integral"));
  EXPECT_TRUE(isdtype(float32, "real floating"));
  EXPECT_FALSE(isdtype(bool_, "numeric"));
  EXPECT_TRUE(isdtype(bool_, "bool"));
  EXPECT_FALSE(isdtype(int64, "unsigned integer"));
  ExpectThrowWith<ValueError>([] { isdtype(int32, "integer"); }, {"integer"});
  const FloatInfo f = finfo(float32);
  EXPECT_EQ(f.bits, 32);
  EXPECT_EQ(f.eps, std::ldexp(1.0, -23));
  EXPECT_EQ(f.smallest_normal, std::ldexp(1.0, -126));
  EXPECT_EQ(finfo(float64).max, std::numeric_limits<double>::max());
  EXPECT_EQ(finfo(float64).min, -std::numeric_limits<double>::max());
  EXPECT_EQ(iinfo(int32).min, -2147483648LL);
  EXPECT_EQ(iinfo(int64).bits, 64);
  ExpectThrowWith<DTypeError>([] { finfo(int32); }, {"finfo", "int32"});
  ExpectThrowWith<DTypeError>([] { iinfo(bool_); }, {"iinfo", "bool"});
}

// What the namespace reports of itself agrees with what it has (the standard's
// __array_namespace_info__).
TEST_P(ArrayApiTest, NamespaceInfo) {
  const NamespaceInfo info = array_namespace_info();
  const auto caps = info.capabilities();
  EXPECT_TRUE(caps.at("boolean indexing"));
  EXPECT_TRUE(caps.at("data-dependent shapes"));
  EXPECT_EQ(info.default_device(), "cpu");
  EXPECT_EQ(info.devices(), std::vector<std::string>{"cpu"});
  const auto d = info.default_dtypes();
  EXPECT_EQ(d.real_floating, float64);
  EXPECT_EQ(d.integral, int64);
  EXPECT_EQ(d.indexing, int64);
  EXPECT_EQ(d.complex_floating, complex128);
  // The defaults are what creation gives.
  EXPECT_EQ(zeros({2}).dtype(), d.real_floating);
  EXPECT_EQ(arange(3).dtype(), d.integral);
  const auto all = info.dtypes();
  EXPECT_EQ(all.size(), 13u);
  for (const auto& [name, t] : all) EXPECT_EQ(dtype_name(t), name);
  const auto floats = info.dtypes("real floating");
  EXPECT_EQ(floats.size(), 3u);
  EXPECT_EQ(info.dtypes("unsigned integer").size(), 4u);
  EXPECT_EQ(floats.at("float32"), float32);
  EXPECT_EQ(info.dtypes("bool").size(), 1u);
  EXPECT_EQ(info.dtypes("complex floating").size(), 1u);
  EXPECT_EQ(info.dtypes("numeric").size(), 12u);
  ExpectThrowWith<ValueError>([&] { info.dtypes("integer"); }, {"integer"});
}

TEST_P(ArrayApiTest, TakeMatchesReference) {
  const NDArray an = RandomNDArray({4, 5, 3}, float64, 5);
  for (const Shape& block : {Shape{4, 5, 3}, Shape{3, 2, 2}, Shape{1, 1, 1}}) {
    SCOPED_TRACE(shape_str(block));
    const BlockArray a = from_ndarray(an, block);
    // np.take(a, [[0, 4], [-1, 2]], axis=1)
    const NDArray got = take(a, array<int64_t>({0, 4, -1, 2}, {2, 2}), 1).get();
    ASSERT_EQ(got.shape(), (Shape{4, 2, 2, 3}));
    const int64_t pos[] = {0, 4, 4, 2};
    for (int64_t i = 0; i < 4; ++i) {
      for (int64_t j = 0; j < 4; ++j) {
        for (int64_t k = 0; k < 3; ++k) {
          EXPECT_EQ(got.at<double>({i, j / 2, j % 2, k}), an.at<double>({i, pos[j], k}));
        }
      }
    }
    // Without an axis: the flattened array.
    const NDArray flat = take(a, std::vector<int64_t>{5, -1, 0}).get();
    EXPECT_EQ(flat.to_vector<double>(),
              (std::vector<double>{an.value_at<double>(5), an.value_at<double>(59),
                                   an.value_at<double>(0)}));
    // A 0-d index drops the axis, an empty one empties it.
    EXPECT_EQ(take(a, array<int64_t>({2}, {1}).reshape({}), 2).shape(), (Shape{4, 5}));
    EXPECT_EQ(take(a, std::vector<int64_t>{}, 0).shape(), (Shape{0, 5, 3}));
  }
  const BlockArray a = from_ndarray(an);
  ExpectThrowWith<IndexError>([&] { take(a, std::vector<int64_t>{5}, 1).get(); }, {"5"});
  EXPECT_THROW(take(a, std::vector<int64_t>{0}, 3), IndexError);
}

TEST_P(ArrayApiTest, TakeAlongAxisMatchesReference) {
  const NDArray an = RandomNDArray({3, 4, 5}, float64, 6);
  const NDArray idx_n = RandomNDArray({3, 6, 5}, int64, 7);  // in [-50, 50)
  std::vector<int64_t> idx_v = idx_n.to_vector<int64_t>();
  for (auto& v : idx_v) v = ((v % 8) + 8) % 8 - 4;  // in [-4, 4)
  const NDArray idx = Ints(idx_v, {3, 6, 5});
  for (const Shape& block : {Shape{3, 4, 5}, Shape{2, 3, 2}}) {
    SCOPED_TRACE(shape_str(block));
    const NDArray got =
        take_along_axis(from_ndarray(an, block), from_ndarray(idx, {2, 4, 3}), 1).get();
    ASSERT_EQ(got.shape(), (Shape{3, 6, 5}));
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 6; ++j) {
        for (int64_t k = 0; k < 5; ++k) {
          int64_t p = idx.at<int64_t>({i, j, k});
          if (p < 0) p += 4;
          EXPECT_EQ(got.at<double>({i, j, k}), an.at<double>({i, p, k}));
        }
      }
    }
  }
  // Broadcasting off the axis: np.take_along_axis(a, [[[1]], [[0]], [[3]]], 1) -> (3, 1, 5).
  const NDArray b =
      take_along_axis(from_ndarray(an), array<int64_t>({1, 0, 3}, {3, 1, 1}), 1).get();
  ASSERT_EQ(b.shape(), (Shape{3, 1, 5}));
  EXPECT_EQ(b.at<double>({2, 0, 4}), an.at<double>({2, 3, 4}));
  // The argsort idiom on a 1-d array without an axis.
  EXPECT_EQ(
      take_along_axis(arange(10.0), array<int64_t>({9, 0}), std::nullopt).get().to_vector<double>(),
      (std::vector<double>{9, 0}));
  ExpectThrowWith<ValueError>([&] { take_along_axis(from_ndarray(an), array<int64_t>({1}), 1); },
                              {"same number"});
  ExpectThrowWith<IndexError>(
      [&] {
        take_along_axis(from_ndarray(an), array<int64_t>({4}, {1, 1, 1}), 1);
      },
      {"4", "axis 1", "size 4"});
}

TEST_P(ArrayApiTest, PutWritesInPlace) {
  // x = np.arange(10.); np.put(x, [0, 3, -1, 3], [7, 8]) -> values repeat, the last write wins
  BlockArray x = arange(10.0).rechunk({3});
  const BlockArray alias = x;
  put(x, std::vector<int64_t>{0, 3, -1, 3}, array<double>({7, 8}));
  const std::vector<double> want = {7, 1, 2, 8, 4, 5, 6, 7, 8, 7};
  EXPECT_EQ(x.get().to_vector<double>(), want);
  EXPECT_EQ(alias.get().to_vector<double>(), want);
  // 2-d, values cast to the array's dtype.
  BlockArray m = zeros({3, 4}, int32, {2, 3});
  put(m, std::vector<int64_t>{1, 11}, array<double>({2.7, -1.2}));
  EXPECT_EQ(m.dtype(), int32);
  EXPECT_EQ(m.get().at<int64_t>({0, 1}), 2);
  EXPECT_EQ(m.get().at<int64_t>({2, 3}), -1);
  ExpectThrowWith<ValueError>([&] { put(m, std::vector<int64_t>{0}, zeros({0})); }, {"empty"});
  EXPECT_THROW(put(m, std::vector<int64_t>{12}, array<double>({1})), IndexError);
}

TEST_P(ArrayApiTest, PadModesMatchNumPy) {
  const BlockArray a = arange(6).reshape({2, 3}, {1, 2});
  using W = std::vector<std::array<int64_t, 2>>;
  const W w = {{1, 2}, {3, 1}};
  auto rows = [](const BlockArray& x) {
    const NDArray g = x.get();
    std::vector<std::vector<int64_t>> out(static_cast<size_t>(g.shape()[0]));
    for (int64_t i = 0; i < g.shape()[0]; ++i) {
      for (int64_t j = 0; j < g.shape()[1]; ++j) out[i].push_back(g.at<int64_t>({i, j}));
    }
    return out;
  };
  using R = std::vector<std::vector<int64_t>>;
  // np.pad(np.arange(6).reshape(2, 3), ((1, 2), (3, 1)), mode)
  EXPECT_EQ(rows(pad(a, w, "reflect")), (R{{4, 5, 4, 3, 4, 5, 4},
                                           {1, 2, 1, 0, 1, 2, 1},
                                           {4, 5, 4, 3, 4, 5, 4},
                                           {1, 2, 1, 0, 1, 2, 1},
                                           {4, 5, 4, 3, 4, 5, 4}}));
  EXPECT_EQ(rows(pad(a, w, "symmetric")), (R{{2, 1, 0, 0, 1, 2, 2},
                                             {2, 1, 0, 0, 1, 2, 2},
                                             {5, 4, 3, 3, 4, 5, 5},
                                             {5, 4, 3, 3, 4, 5, 5},
                                             {2, 1, 0, 0, 1, 2, 2}}));
  EXPECT_EQ(rows(pad(a, w, "wrap")), (R{{3, 4, 5, 3, 4, 5, 3},
                                        {0, 1, 2, 0, 1, 2, 0},
                                        {3, 4, 5, 3, 4, 5, 3},
                                        {0, 1, 2, 0, 1, 2, 0},
                                        {3, 4, 5, 3, 4, 5, 3}}));
  EXPECT_EQ(rows(pad(a, w, "edge")), (R{{0, 0, 0, 0, 1, 2, 2},
                                        {0, 0, 0, 0, 1, 2, 2},
                                        {3, 3, 3, 3, 4, 5, 5},
                                        {3, 3, 3, 3, 4, 5, 5},
                                        {3, 3, 3, 3, 4, 5, 5}}));
  // np.pad(np.arange(6).reshape(2, 3), 1, constant_values=9)
  EXPECT_EQ(rows(pad(a, 1, "constant", 9)),
            (R{{9, 9, 9, 9, 9}, {9, 0, 1, 2, 9}, {9, 3, 4, 5, 9}, {9, 9, 9, 9, 9}}));
  // Pads wider than the axis continue the pattern: np.pad([1, 2, 3], (7, 8), mode).
  const BlockArray v = array<int64_t>({1, 2, 3}, {}, {2});
  EXPECT_EQ(pad(v, W{{7, 8}}, "reflect").get().to_vector<int64_t>(),
            (std::vector<int64_t>{2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}));
  EXPECT_EQ(pad(v, W{{7, 8}}, "symmetric").get().to_vector<int64_t>(),
            (std::vector<int64_t>{1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 2}));
  EXPECT_EQ(pad(v, W{{7, 8}}, "wrap").get().to_vector<int64_t>(),
            (std::vector<int64_t>{3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2}));
  // np.pad([5], (2, 3), 'reflect') repeats the one value.
  EXPECT_EQ(pad(array<int64_t>({5}), W{{2, 3}}, "reflect").get().to_vector<int64_t>(),
            (std::vector<int64_t>(6, 5)));
  EXPECT_EQ(pad(a, 0).get().to_vector<int64_t>(), a.get().to_vector<int64_t>());
  EXPECT_EQ(pad(zeros({0, 2}), 1).shape(), (Shape{2, 4}));
  ExpectThrowWith<ValueError>([&] { pad(zeros({0, 2}), 1, "edge"); }, {"empty axis 0", "edge"});
  ExpectThrowWith<ValueError>([&] { pad(a, 1, "mean"); }, {"mean"});
  ExpectThrowWith<ValueError>([&] { pad(a, -1); }, {"negative"});
  ExpectThrowWith<ValueError>([&] { pad(a, W{{1, 1}, {1, 1}, {1, 1}}); }, {"3", "(2, 3)"});
}

TEST_P(ArrayApiTest, UnstackBroadcastArraysMatrixTranspose) {
  const NDArray an = RandomNDArray({3, 4, 2}, float64, 8);
  const BlockArray a = from_ndarray(an, {2, 3, 1});
  const auto parts = unstack(a, 1);
  ASSERT_EQ(parts.size(), 4u);
  for (int64_t j = 0; j < 4; ++j) {
    const NDArray p = parts[static_cast<size_t>(j)].get();
    ASSERT_EQ(p.shape(), (Shape{3, 2}));
    EXPECT_EQ(p.at<double>({2, 1}), an.at<double>({2, j, 1}));
  }
  EXPECT_ARRAY_EQ(stack(unstack(a, -1), -1).get(), an);
  EXPECT_THROW(unstack(array<double>({1}).reshape({}), 0), IndexError);

  const auto b = broadcast_arrays({a, array<double>({1, 2}), zeros({4, 1})});
  for (const BlockArray& x : b) EXPECT_EQ(x.shape(), (Shape{3, 4, 2}));
  EXPECT_EQ(b[1].get().at<double>({2, 3, 1}), 2.0);
  ExpectThrowWith<ShapeError>([&] { broadcast_arrays({a, zeros({3})}); }, {"(3, 4, 2)", "(3,)"});

  const NDArray t = matrix_transpose(a).get();
  ASSERT_EQ(t.shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(t.at<double>({1, 1, 3}), an.at<double>({1, 3, 1}));
  EXPECT_THROW(matrix_transpose(array<double>({1, 2})), ValueError);
}

TEST_P(ArrayApiTest, CumulativeSum) {
  const BlockArray a = arange(12).reshape({3, 4}, {2, 3});
  // np.cumulative_sum(a, axis=1, include_initial=True)
  const NDArray c = cumulative_sum(a, 1, true).get();
  ASSERT_EQ(c.shape(), (Shape{3, 5}));
  EXPECT_EQ(c.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 1, 3, 6, 0, 4, 9, 15, 22, 0, 8, 17, 27, 38}));
  EXPECT_EQ(cumulative_sum(a, -2).get().at<int64_t>({2, 3}), 3 + 7 + 11);
  EXPECT_EQ(cumulative_sum(arange(4)).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 3, 6}));
  ExpectThrowWith<ValueError>([&] { cumulative_sum(a); }, {"axis", "(3, 4)"});
}

TEST_P(ArrayApiTest, CrossAndLinalgNames) {
  const NDArray an = RandomNDArray({4, 3}, float64, 10), bn = RandomNDArray({3}, float64, 11);
  const BlockArray a = from_ndarray(an, {3, 2}), b = from_ndarray(bn, {2});
  const NDArray c = cross(a, b).get();
  ASSERT_EQ(c.shape(), (Shape{4, 3}));
  for (int64_t i = 0; i < 4; ++i) {
    const double u[3] = {an.at<double>({i, 0}), an.at<double>({i, 1}), an.at<double>({i, 2})};
    const double v[3] = {bn.at<double>({0}), bn.at<double>({1}), bn.at<double>({2})};
    EXPECT_DOUBLE_EQ(c.at<double>({i, 0}), u[1] * v[2] - u[2] * v[1]);
    EXPECT_DOUBLE_EQ(c.at<double>({i, 1}), u[2] * v[0] - u[0] * v[2]);
    EXPECT_DOUBLE_EQ(c.at<double>({i, 2}), u[0] * v[1] - u[1] * v[0]);
  }
  // Along the first axis: np.cross(a.T, b[:, None], axis=0) == np.cross(a, b).T
  EXPECT_ARRAY_EQ(linalg::cross(a.T(), b.reshape({3, 1}), 0).get(), cross(a, b).T().get());
  // Integers stay integers.
  EXPECT_EQ(cross(array<int64_t>({1, 0, 0}), array<int64_t>({0, 1, 0})).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 1}));
  ExpectThrowWith<ValueError>([&] { cross(a, zeros({2})); }, {"cross", "length 3", "(2,)"});

  const BlockArray m = from_ndarray(RandomNDArray({2, 4, 4}, float64, 12), {1, 3, 2});
  EXPECT_ARRAY_EQ(linalg::diagonal(m, 1).get(), diagonal(m, 1, -2, -1).get());
  EXPECT_ARRAY_EQ(linalg::trace(m).get(), trace(m, 0, -2, -1).get());
  EXPECT_ARRAY_EQ(linalg::matrix_transpose(m).get(), swapaxes(m, 1, 2).get());
  EXPECT_ARRAY_EQ(linalg::matmul(a.T(), a).get(), matmul(a.T(), a).get());
  EXPECT_ARRAY_EQ(linalg::outer(b, b).get(), outer(b, b).get());
  EXPECT_ARRAY_EQ(linalg::tensordot(a, b, 1).get(), tensordot(a, b, 1).get());
}

TEST_P(ArrayApiTest, BraceListsMeanWhatNumPyMeans) {
  // np.split(x, [3]) and np.array_split(x, [2, 5]): a brace list is indices, not a count.
  const BlockArray x = arange(8.0).rechunk({3});
  const auto parts = split(x, {3});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(V(parts[0]), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(parts[1].shape(), (Shape{5}));
  const auto uneven = array_split(x, {2, 5});
  ASSERT_EQ(uneven.size(), 3u);
  EXPECT_EQ(V(uneven[2]), (std::vector<double>{5, 6, 7}));
  EXPECT_EQ(split(x, 2).size(), 2u);  // a number is still sections
  // rng.integers(10, {3}) is NumPy's integers(10, size=3).
  random::Generator rng(ctx_, 5);
  const BlockArray r = rng.integers(10, {3});
  EXPECT_EQ(r.shape(), (Shape{3}));
  for (int64_t v : r.get().to_vector<int64_t>()) {
    EXPECT_GE(v, 0);
    EXPECT_LT(v, 10);
  }
  EXPECT_EQ(rng.integers(10, {2, 2}, int32).dtype(), int32);
}

INSTANTIATE_TEST_SUITE_P(Nodes, ArrayApiTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
