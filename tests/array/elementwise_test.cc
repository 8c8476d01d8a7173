#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nums/nums.hpp>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefBinary;
using testing::RefUnary;

class ElementwiseTest : public testing::OnNodes {};

TEST_P(ElementwiseTest, ArithmeticMatchesReferenceWithBroadcasting) {
  struct Case {
    Shape a, ab, b, bb;
  };
  const std::vector<Case> cases = {
      {{7, 5}, {3, 2}, {7, 5}, {3, 2}},        // same blocking
      {{7, 5}, {3, 2}, {7, 5}, {4, 5}},        // different blocking: b is re-blocked
      {{7, 5}, {3, 2}, {5}, {2}},              // row vector
      {{7, 1}, {2, 1}, {1, 5}, {1, 3}},        // outer-product broadcast
      {{4, 3, 5}, {3, 2, 2}, {3, 1}, {2, 1}},  // 3-d against 2-d
      {{6}, {4}, {}, {}},                      // 0-d operand
      {{0, 3}, {1, 2}, {3}, {2}},              // empty
  };
  for (const auto& c : cases) {
    NDArray x = RandomNDArray(c.a, float64, 1), y = RandomNDArray(c.b, float64, 2);
    BlockArray a = from_ndarray(x, c.ab), b = from_ndarray(y, c.bb);
    SCOPED_TRACE(shape_str(c.a) + " op " + shape_str(c.b));
    EXPECT_ARRAY_NEAR((a + b).get(), RefBinary(x, y, float64, std::plus<double>()), 1e-15);
    EXPECT_ARRAY_NEAR((a - b).get(), RefBinary(x, y, float64, std::minus<double>()), 1e-15);
    EXPECT_ARRAY_NEAR((b * a).get(), RefBinary(y, x, float64, std::multiplies<double>()), 1e-15);
    EXPECT_ARRAY_NEAR((a / b).get(), RefBinary(x, y, float64, std::divides<double>()), 1e-15);
    EXPECT_ARRAY_EQ((a < b).get(), RefBinary(x, y, bool_, std::less<double>()));
  }
}

TEST_P(ElementwiseTest, TypePromotionFollowsNumPy) {
  EXPECT_EQ(result_type(int32, int64), int64);
  EXPECT_EQ(result_type(int32, float32), float64);
  EXPECT_EQ(result_type(bool_, float32), float32);
  EXPECT_EQ(result_type(float32, float64), float64);
  EXPECT_EQ(result_type(bool_, int32), int32);
  BlockArray i32 = ones({3}, int32), f32 = ones({3}, float32), b = ones({3}, bool_);
  EXPECT_EQ((i32 + i32).dtype(), int32);
  EXPECT_EQ((i32 + f32).dtype(), float64);
  EXPECT_EQ((i32 / i32).dtype(), float64);
  EXPECT_EQ((f32 / f32).dtype(), float32);
  EXPECT_EQ((b + b).dtype(), bool_);  // a logical or, as NumPy
  EXPECT_EQ((i32 < f32).dtype(), bool_);
  // Numbers are weak: they do not widen the array's dtype.
  EXPECT_EQ((i32 + 1).dtype(), int32);
  EXPECT_EQ((f32 * 2.5).dtype(), float32);
  EXPECT_EQ((i32 * 2.5).dtype(), float64);
  EXPECT_EQ((b + 1).dtype(), int64);
  EXPECT_EQ((2 - i32).get().to_vector<int32_t>(), (std::vector<int32_t>{1, 1, 1}));
  EXPECT_EQ((i32 / 2).get().to_vector<double>(), (std::vector<double>{0.5, 0.5, 0.5}));
}

TEST_P(ElementwiseTest, IntegerSemantics) {
  BlockArray a = array<int64_t>({7, -7, 7, -7, 5}, {}, {2});
  BlockArray b = array<int64_t>({3, 3, -3, -3, 0}, {}, {3});
  // Python's modulo takes the divisor's sign; x % 0 is 0 as in NumPy.
  EXPECT_EQ((a % b).get().to_vector<int64_t>(), (std::vector<int64_t>{1, 2, -2, -1, 0}));
  NDArray fm = (a.astype(float64) % b.astype(float64)).get();
  EXPECT_EQ(fm.at<double>({1}), 2.0);
  EXPECT_EQ(fm.at<double>({2}), -2.0);
  EXPECT_EQ(power(array<int64_t>({2, 3, -2}), 3).get().to_vector<int64_t>(),
            (std::vector<int64_t>{8, 27, -8}));
  EXPECT_THROW(power(array<int64_t>({2}), -1).get(), ValueError);
  EXPECT_EQ((array<int64_t>({6, 5}) & array<int64_t>({3, 4})).get().to_vector<int64_t>(),
            (std::vector<int64_t>{2, 4}));
  EXPECT_EQ((~array<int32_t>({0, -1})).get().to_vector<int32_t>(), (std::vector<int32_t>{-1, 0}));
  EXPECT_THROW(ones({2}) & ones({2}), DTypeError);
  EXPECT_THROW(~ones({2}), DTypeError);
  EXPECT_THROW(-ones({2}, bool_), DTypeError);
  // NumPy's sign has no bool loop.
  EXPECT_THROW(sign(ones({2}, bool_)), DTypeError);
  EXPECT_EQ(sign(array<int32_t>({-4, 0, 9})).get().to_vector<int32_t>(),
            (std::vector<int32_t>{-1, 0, 1}));
}

TEST_P(ElementwiseTest, ComparisonsAndLogic) {
  NDArray x = RandomNDArray({9, 4}, int64, 3);
  BlockArray a = from_ndarray(x, {4, 3});
  EXPECT_ARRAY_EQ((a > 0).get(), RefUnary(x, bool_, [](double v) { return v > 0; }));
  EXPECT_ARRAY_EQ((a == 0).get(), RefUnary(x, bool_, [](double v) { return v == 0; }));
  EXPECT_ARRAY_EQ((a != a).get(), NDArray(bool_, {9, 4}));
  BlockArray p = a > 0, q = a < 10;
  EXPECT_ARRAY_EQ((p && q).get(), RefUnary(x, bool_, [](double v) { return v > 0 && v < 10; }));
  EXPECT_ARRAY_EQ((p || q).get(), NDArray::from_vector(std::vector<bool>(36, true), {9, 4}));
  EXPECT_ARRAY_EQ((!p).get(), RefUnary(x, bool_, [](double v) { return v <= 0; }));
  EXPECT_ARRAY_EQ((p & q).get(), (p && q).get());
  EXPECT_ARRAY_EQ((p ^ q).get(), logical_xor(p, q).get());
  EXPECT_ARRAY_EQ(logical_and(a, a).get(), RefUnary(x, bool_, [](double v) { return v != 0; }));
}

TEST_P(ElementwiseTest, MathFunctions) {
  NDArray x = RandomNDArray({5, 6}, float64, 4);
  BlockArray a = from_ndarray(x, {2, 4});
  BlockArray pos = abs(a) + 0.5;
  NDArray xp = RefUnary(x, float64, [](double v) { return std::abs(v) + 0.5; });
  auto check = [&](const BlockArray& got, const NDArray& in, double (*f)(double)) {
    EXPECT_ARRAY_NEAR(got.get(), RefUnary(in, float64, f), 1e-14);
  };
  check(exp(a), x, [](double v) { return std::exp(v); });
  check(log(pos), xp, [](double v) { return std::log(v); });
  check(log1p(pos), xp, [](double v) { return std::log1p(v); });
  check(sqrt(pos), xp, [](double v) { return std::sqrt(v); });
  check(sin(a), x, [](double v) { return std::sin(v); });
  check(cos(a), x, [](double v) { return std::cos(v); });
  check(tanh(a), x, [](double v) { return std::tanh(v); });
  check(sigmoid(a), x, [](double v) { return 1 / (1 + std::exp(-v)); });
  check(sign(a), x, [](double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; });
  check(-a, x, [](double v) { return -v; });
  check(negative(a), x, [](double v) { return -v; });
  // sigmoid does not overflow at the extremes.
  NDArray s = sigmoid(array<double>({-1000, 1000})).get();
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{0.0, 1.0}));
  // Float functions of integers compute in float64.
  EXPECT_EQ(sqrt(array<int64_t>({4, 9})).dtype(), float64);
  EXPECT_EQ(abs(array<int32_t>({-4})).dtype(), int32);
  EXPECT_ARRAY_NEAR(power(pos, 1.5).get(),
                    RefUnary(xp, float64, [](double v) { return std::pow(v, 1.5); }), 1e-14);
}

TEST_P(ElementwiseTest, NanInfMaximumMinimumClip) {
  const double nan = std::nan(""), inf = INFINITY;
  BlockArray a = array<double>({1, nan, inf, -3, 2}, {}, {2});
  EXPECT_ARRAY_EQ(isnan(a).get(), NDArray::from_vector(std::vector<bool>{0, 1, 0, 0, 0}));
  EXPECT_ARRAY_EQ(isfinite(a).get(), NDArray::from_vector(std::vector<bool>{1, 0, 0, 1, 1}));
  BlockArray b = array<double>({0, 0, 0, 0, 5});
  EXPECT_ARRAY_EQ(maximum(a, b).get(),
                  NDArray::from_vector(std::vector<double>{1, nan, inf, 0, 5}));
  EXPECT_ARRAY_EQ(minimum(a, b).get(), NDArray::from_vector(std::vector<double>{0, nan, 0, -3, 2}));
  EXPECT_ARRAY_EQ(clip(a, -1, 1.5).get(),
                  NDArray::from_vector(std::vector<double>{1, nan, 1.5, -1, 1.5}));
  EXPECT_EQ(clip(array<int64_t>({-5, 5}), 0, 3).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 3}));
}

TEST_P(ElementwiseTest, Where) {
  NDArray x = RandomNDArray({6, 5}, float64, 5);
  BlockArray a = from_ndarray(x, {4, 2});
  NDArray want = RefUnary(x, float64, [](double v) { return v > 0 ? v : 0.0; });
  EXPECT_ARRAY_EQ(where(a > 0, a, 0.0).get(), want);
  EXPECT_ARRAY_EQ(where(a > 0, a, zeros({5})).get(), want);
  NDArray ints = where(a > 0, 1, 0).get();
  EXPECT_EQ(ints.dtype(), int64);
  EXPECT_ARRAY_EQ(ints, RefUnary(x, int64, [](double v) { return v > 0 ? 1.0 : 0.0; }));
  // Masked assignment the NumPy way: y[y > 0] = 1.
  BlockArray y = where(a > 0, 1.0, a);
  EXPECT_ARRAY_EQ(y.get(), RefUnary(x, float64, [](double v) { return v > 0 ? 1.0 : v; }));
  EXPECT_THROW(where(ones({3}) > 0, ones({4}), 0.0), ShapeError);
}

TEST_P(ElementwiseTest, InPlaceOperatorsKeepDtypeAndUpdateSharedHandles) {
  BlockArray a = arange(0, 6, 1, int32, {4});
  BlockArray alias = a;
  a += 1;
  a *= 2;
  EXPECT_EQ(a.dtype(), int32);
  EXPECT_EQ(alias.get().to_vector<int32_t>(), (std::vector<int32_t>{2, 4, 6, 8, 10, 12}));
  a -= arange(0, 6, 1, int64);  // int64 into int32: same kind, allowed
  EXPECT_EQ(a.get().to_vector<int32_t>(), (std::vector<int32_t>{2, 3, 4, 5, 6, 7}));
  BlockArray m = ones({2, 3});
  EXPECT_THROW(m += ones({4, 2, 3}), ShapeError);
  BlockArray f32 = ones({3}, float32);
  f32 *= ones({3}, float64) * 2.5;  // float64 into float32: same kind
  EXPECT_EQ(f32.get().to_vector<float>(), (std::vector<float>{2.5f, 2.5f, 2.5f}));
}

TEST_P(ElementwiseTest, InPlaceOperatorsRejectUnsafeCasts) {
  // NumPy: UFuncTypeError, "Cannot cast ufunc 'add' output from float64 to int32 with casting
  // rule 'same_kind'"; the array is left as it was.
  BlockArray a = arange(0, 4, 1, int32);
  testing::ExpectThrowWith<DTypeError>([&] { a += 2.5; }, {"+=", "float64", "int32", "same_kind"});
  EXPECT_THROW(a /= 2, DTypeError);  // true division gives float64
  EXPECT_THROW(a *= ones({4}), DTypeError);
  EXPECT_EQ(a.dtype(), int32);
  EXPECT_EQ(a.get().to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3}));
  BlockArray b = ones({2}, bool_);
  EXPECT_THROW(b += 1, DTypeError);  // bool + int -> int64, not castable to bool
  // Two bools: - raises, + is a logical or and * a logical and (bool results, as NumPy).
  testing::ExpectThrowWith<DTypeError>([&] { b -= ones({2}, bool_); }, {"subtract", "bool"});
  const BlockArray t = array<bool>({true, false}), u = array<bool>({true, true});
  b = t;
  b += array<bool>({false, false});
  EXPECT_EQ(b.dtype(), bool_);
  EXPECT_EQ((t + u).dtype(), bool_);
  EXPECT_EQ((t + u).get().to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ((t * u).get().to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ((t * array<bool>({false, false})).get().to_vector<bool>(),
            (std::vector<bool>{false, false}));
  EXPECT_EQ(b.get().to_vector<bool>(), (std::vector<bool>{true, false}));
  BlockArray f = ones({2}, float32);
  f /= 4;  // float results stay allowed
  EXPECT_EQ(f.get().to_vector<float>(), (std::vector<float>{0.25f, 0.25f}));
}

TEST_P(ElementwiseTest, IntegerScalarsOutOfTheArrayDtypeRaise) {
  // NumPy 2 (NEP 50): a Python int takes the array's integer dtype and must fit it.
  const int64_t big = int64_t{1} << 40;
  BlockArray i32 = array<int32_t>({1, -2, 3}, {}, {2});
  testing::ExpectThrowWith<ValueError>([&] { i32 + big; }, {"1099511627776", "int32"});
  EXPECT_THROW(i32 * big, ValueError);
  EXPECT_THROW(big - i32, ValueError);
  EXPECT_THROW(i32 + int64_t{2147483648}, ValueError);
  EXPECT_THROW(i32 - int64_t{-2147483649}, ValueError);
  EXPECT_THROW(maximum(i32, big), ValueError);
  EXPECT_THROW(i32 += big, ValueError);
  // An unsigned number above int64's maximum fits no dtype here.
  EXPECT_THROW(array<int64_t>({1}) + std::numeric_limits<uint64_t>::max(), ValueError);
  EXPECT_EQ((array<int64_t>({1}) + uint64_t{5}).item<int64_t>(), 6);
  // The int32 bounds themselves fit.
  EXPECT_EQ((i32 * 0 + int64_t{2147483647}).get().to_vector<int32_t>(),
            (std::vector<int32_t>(3, 2147483647)));
  EXPECT_EQ((i32 * 0 + int64_t{-2147483648}).dtype(), int32);
  // Other arrays take the number without loss: int64, floats, and bool (which becomes int64).
  EXPECT_EQ((array<int64_t>({1}) + big).item<int64_t>(), big + 1);
  EXPECT_EQ((ones({1}, bool_) + big).item<int64_t>(), big + 1);
  EXPECT_EQ((ones({1}, float32) + big).dtype(), float32);
  EXPECT_EQ((i32 + 2.5).dtype(), float64);
  // Comparisons are exact instead (NumPy 2 special-cases them).
  EXPECT_EQ((i32 < big).get().to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ((i32 == big).get().to_vector<bool>(), (std::vector<bool>{false, false, false}));
  EXPECT_EQ((-big < i32).get().to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ((i32 >= -big).dtype(), bool_);
  EXPECT_EQ((i32 != 3).get().to_vector<bool>(), (std::vector<bool>{true, true, false}));
}

TEST_P(ElementwiseTest, AstypeAndErrors) {
  NDArray x = RandomNDArray({5, 4}, float64, 6);
  BlockArray a = from_ndarray(x, {2, 3});
  EXPECT_ARRAY_EQ(a.astype(int32).get(), x.astype(int32));
  EXPECT_ARRAY_EQ(a.astype(bool_).get(), x.astype(bool_));
  EXPECT_ARRAY_NEAR(a.astype(float32).get(), x.astype(float32), 0);
  try {
    ones({3, 4}) + ones({5});
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("(3, 4) (5,)"), std::string::npos) << e.what();
  }
  Context other = init({.nodes = 1});
  BlockArray foreign = ones({2});
  Context again = init({.nodes = GetParam(), .threads_per_node = 1});
  EXPECT_THROW(foreign + ones({2}), ClusterError);
}

INSTANTIATE_TEST_SUITE_P(Nodes, ElementwiseTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
