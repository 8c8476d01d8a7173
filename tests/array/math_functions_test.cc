// Elementwise math functions against dense references (the C++ standard library, which NumPy's
// loops also follow) and against values NumPy gives, over odd shapes, 0-d and empty arrays and
// several block shapes.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nums/nums.hpp>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefBinary;
using testing::RefUnary;

class MathFunctionsTest : public testing::OnNodes {};

using testing::Layout;
// Odd shapes with edge blocks, a 0-d array, and empty arrays.
const std::vector<Layout> kLayouts = {
    {{7, 5}, {3, 2}}, {{11}, {4}}, {{2, 3, 5}, {1, 2, 3}}, {{}, {}}, {{0, 3}, {1, 2}}, {{4, 0}, {}},
};

using Fn = std::function<BlockArray(const BlockArray&)>;
using Ref = double (*)(double);

struct UnaryCase {
  const char* name;
  Fn f;
  Ref ref;
  double lo, hi;  // the inputs are mapped into [lo, hi) (NaN-free domains keep the test honest)
};

#define NUMS_CASE(name, ref, lo, hi)                                      \
  UnaryCase {                                                             \
#name, [](const BlockArray& x) { return nums::name(x); }, ref, lo, hi \
  }

const std::vector<UnaryCase> kFloatFunctions = {
    NUMS_CASE(
        expm1, [](double v) { return std::expm1(v); }, -5, 5),
    NUMS_CASE(
        exp2, [](double v) { return std::exp2(v); }, -20, 20),
    NUMS_CASE(
        log2, [](double v) { return std::log2(v); }, 1e-3, 100),
    NUMS_CASE(
        log10, [](double v) { return std::log10(v); }, 1e-3, 100),
    NUMS_CASE(
        tan, [](double v) { return std::tan(v); }, -1.5, 1.5),
    NUMS_CASE(
        arcsin, [](double v) { return std::asin(v); }, -1, 1),
    NUMS_CASE(
        arccos, [](double v) { return std::acos(v); }, -1, 1),
    NUMS_CASE(
        arctan, [](double v) { return std::atan(v); }, -50, 50),
    NUMS_CASE(
        sinh, [](double v) { return std::sinh(v); }, -5, 5),
    NUMS_CASE(
        cosh, [](double v) { return std::cosh(v); }, -5, 5),
    NUMS_CASE(
        arcsinh, [](double v) { return std::asinh(v); }, -50, 50),
    NUMS_CASE(
        arccosh, [](double v) { return std::acosh(v); }, 1, 50),
    NUMS_CASE(
        arctanh, [](double v) { return std::atanh(v); }, -0.99, 0.99),
    NUMS_CASE(
        floor, [](double v) { return std::floor(v); }, -10, 10),
    NUMS_CASE(
        ceil, [](double v) { return std::ceil(v); }, -10, 10),
    NUMS_CASE(
        trunc, [](double v) { return std::trunc(v); }, -10, 10),
    NUMS_CASE(
        rint, [](double v) { return std::nearbyint(v); }, -10, 10),
    NUMS_CASE(
        square, [](double v) { return v * v; }, -10, 10),
    NUMS_CASE(
        reciprocal, [](double v) { return 1 / v; }, -10, 10),
};
#undef NUMS_CASE

// x (uniform in [-10, 10)) mapped into [lo, hi).
NDArray Rescale(const NDArray& x, double lo, double hi) {
  return RefUnary(x, x.dtype(), [&](double v) { return lo + (v + 10) / 20 * (hi - lo); });
}

TEST_P(MathFunctionsTest, FloatFunctionsMatchTheReferenceOnEveryLayout) {
  for (const auto& c : kFloatFunctions) {
    for (const auto& l : kLayouts) {
      SCOPED_TRACE(std::string(c.name) + " on " + shape_str(l.shape));
      const NDArray x = Rescale(RandomNDArray(l.shape, float64, 21), c.lo, c.hi);
      const BlockArray got = c.f(from_ndarray(x, l.block));
      EXPECT_EQ(got.dtype(), float64);
      EXPECT_EQ(got.block_shape(), from_ndarray(x, l.block).block_shape());
      EXPECT_ARRAY_NEAR(got.get(), RefUnary(x, float64, c.ref), 1e-14);
      // float32 stays float32.
      const NDArray x32 = x.astype(float32);
      const BlockArray got32 = c.f(from_ndarray(x32, l.block));
      EXPECT_EQ(got32.dtype(), float32);
      EXPECT_ARRAY_NEAR(got32.get(), RefUnary(x32, float32, c.ref), 1e-6);
    }
  }
}

TEST_P(MathFunctionsTest, TranscendentalFunctionsOfIntegersAndBoolsAreFloat64) {
  const NDArray xi = RandomNDArray({6, 5}, int32, 22);
  const NDArray xb = RandomNDArray({6, 5}, bool_, 23);
  for (const auto& c : kFloatFunctions) {
    const std::string name = c.name;
    if (name == "floor" || name == "ceil" || name == "trunc" || name == "square" ||
        name == "reciprocal") {
      continue;  // these keep integer dtypes (below)
    }
    SCOPED_TRACE(name);
    const BlockArray gi = c.f(from_ndarray(xi, {4, 2}));
    EXPECT_EQ(gi.dtype(), float64);
    EXPECT_ARRAY_NEAR(gi.get(), RefUnary(xi, float64, c.ref), 1e-14);
    // Bool computes in float16, as NumPy (in float32, rounded once to float16).
    const BlockArray gb = c.f(from_ndarray(xb, {4, 2}));
    EXPECT_EQ(gb.dtype(), float16);
    EXPECT_ARRAY_NEAR(gb.get().astype(float64),
                      RefUnary(xb, float64, c.ref).astype(float16).astype(float64), 1e-3);
  }
}

TEST_P(MathFunctionsTest, RoundingKeepsIntegerAndBoolArrays) {
  // NumPy >= 2.1: floor, ceil and trunc of integers and bools keep the dtype and the values.
  const NDArray xi = RandomNDArray({5, 3}, int64, 24);
  const BlockArray ai = from_ndarray(xi, {2, 2});
  for (const BlockArray& r : {floor(ai), ceil(ai), trunc(ai), round(ai), round(ai, 3)}) {
    EXPECT_EQ(r.dtype(), int64);
    EXPECT_ARRAY_EQ(r.get(), xi);
  }
  // rint has only float loops in NumPy: integers give float64.
  EXPECT_EQ(rint(ai).dtype(), float64);
  EXPECT_ARRAY_EQ(rint(ai).get(), xi);
  const BlockArray b = array<bool>({true, false, true});
  EXPECT_EQ(floor(b).dtype(), bool_);
  EXPECT_EQ(ceil(b).get().to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(floor(array<int32_t>({-3})).dtype(), int32);
  // Edge values: signed zeros, halves, infinities and NaN.
  const double nan = std::nan(""), inf = INFINITY;
  const BlockArray e = array<double>({-0.5, 0.5, -1.5, 2.5, -inf, inf, nan}, {}, {3});
  EXPECT_ARRAY_EQ(floor(e).get(), NDArray::from_vector<double>({-1, 0, -2, 2, -inf, inf, nan}));
  EXPECT_ARRAY_EQ(ceil(e).get(), NDArray::from_vector<double>({-0.0, 1, -1, 3, -inf, inf, nan}));
  EXPECT_ARRAY_EQ(trunc(e).get(), NDArray::from_vector<double>({-0.0, 0, -1, 2, -inf, inf, nan}));
  EXPECT_ARRAY_EQ(rint(e).get(), NDArray::from_vector<double>({-0.0, 0, -2, 2, -inf, inf, nan}));
  EXPECT_TRUE(std::signbit(ceil(e).get().at<double>({0})));
  EXPECT_TRUE(std::signbit(trunc(e).get().at<double>({0})));
}

TEST_P(MathFunctionsTest, RoundMatchesNumPyHalfToEvenWithDecimals) {
  // Expected values printed by NumPy's np.round(x, decimals).
  const std::vector<double> x = {0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 1.35, 2.675, -1.005, 123.456};
  const BlockArray a = array<double>(x, {}, {3});
  auto values = [](const BlockArray& r) { return r.get().to_vector<double>(); };
  EXPECT_EQ(values(round(a)), (std::vector<double>{0, 2, 2, -0.0, -2, 1, 1, 3, -1, 123}));
  EXPECT_EQ(values(around(a, 1)),
            (std::vector<double>{0.5, 1.5, 2.5, -0.5, -2.5, 1.2, 1.4, 2.7, -1.0, 123.5}));
  EXPECT_EQ(values(round(a, 2)),
            (std::vector<double>{0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 1.35, 2.68, -1.0, 123.46}));
  EXPECT_EQ(values(round(a, -1)), (std::vector<double>{0, 0, 0, -0.0, -0.0, 0, 0, 0, -0.0, 120}));
  EXPECT_TRUE(std::signbit(round(a, -1).get().at<double>({4})));
  // float32 scales and rounds in float32, as NumPy does.
  const BlockArray a32 = a.astype(float32);
  EXPECT_EQ(round(a32, 2).dtype(), float32);
  EXPECT_EQ(
      round(a32, 2).get().to_vector<float>(),
      (std::vector<float>{0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 1.25f, 1.35f, 2.68f, -1.0f, 123.46f}));
  EXPECT_EQ(round(a32, 1).get().to_vector<float>(),
            (std::vector<float>{0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 1.2f, 1.4f, 2.7f, -1.0f, 123.5f}));
  // Integers with negative decimals round in float64, half to even, and keep their dtype.
  const BlockArray i = array<int64_t>({15, 25, -15, -25, (int64_t{1} << 40) + 5}, {}, {2});
  EXPECT_EQ(round(i, -1).dtype(), int64);
  EXPECT_EQ(round(i, -1).get().to_vector<int64_t>(),
            (std::vector<int64_t>{20, 20, -20, -20, 1099511627780}));
  EXPECT_EQ(round(array<int32_t>({15, 25, -15, 149}), -2).get().to_vector<int32_t>(),
            (std::vector<int32_t>{0, 0, 0, 100}));
  // Bool rounds in float16, as NumPy; NaN, inf, 0-d and empty arrays pass through.
  const BlockArray rb = round(array<bool>({true, false}));
  EXPECT_EQ(rb.dtype(), float16);
  EXPECT_EQ(rb.astype(float64).get().to_vector<double>(), (std::vector<double>{1.0, 0.0}));
  EXPECT_EQ(values(round(array<double>({NAN, INFINITY}), 3))[1], INFINITY);
  EXPECT_TRUE(std::isnan(values(round(array<double>({NAN}), 3))[0]));
  EXPECT_DOUBLE_EQ(round(full({}, 2.5)).item<double>(), 2.0);
  EXPECT_EQ(round(zeros({0, 4}), 2).shape(), (Shape{0, 4}));
}

TEST_P(MathFunctionsTest, SquareAndReciprocalFollowNumPyForIntegers) {
  EXPECT_EQ(square(array<int32_t>({-3, 65536, 46341})).get().to_vector<int32_t>(),
            (std::vector<int32_t>{9, 0, -2147479015}));  // wraps as NumPy does
  EXPECT_EQ(square(array<int32_t>({2})).dtype(), int32);
  const BlockArray sb = square(array<bool>({true, false}));
  EXPECT_EQ(sb.dtype(), int8);  // NumPy's int8 (no bool loop)
  EXPECT_EQ(sb.get().to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  // NumPy: reciprocal(int32 [0, 2, -1, 1]) == [-2147483648, 0, -1, 1].
  EXPECT_EQ(reciprocal(array<int32_t>({0, 2, -1, 1})).get().to_vector<int32_t>(),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 0, -1, 1}));
  EXPECT_EQ(reciprocal(array<int64_t>({-2, 0})).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, std::numeric_limits<int64_t>::min()}));
  const NDArray rf = reciprocal(array<double>({0.0, -0.0, 4, INFINITY})).get();
  EXPECT_EQ(rf.to_vector<double>(), (std::vector<double>{INFINITY, -INFINITY, 0.25, 0}));
}

TEST_P(MathFunctionsTest, IsinfSignbitNanToNum) {
  const double nan = std::nan(""), inf = INFINITY;
  const BlockArray a = array<double>({1, nan, inf, -inf, -0.0, 0.0, -nan, -2}, {}, {3});
  EXPECT_EQ(isinf(a).dtype(), bool_);
  EXPECT_EQ(isinf(a).get().to_vector<bool>(),
            (std::vector<bool>{false, false, true, true, false, false, false, false}));
  EXPECT_EQ(signbit(a).get().to_vector<bool>(),
            (std::vector<bool>{false, false, false, true, true, false, true, true}));
  EXPECT_EQ(isinf(array<int64_t>({1, 2})).get().to_vector<bool>(),
            (std::vector<bool>{false, false}));
  EXPECT_EQ(signbit(array<int32_t>({-1, 0, 1})).get().to_vector<bool>(),
            (std::vector<bool>{true, false, false}));
  EXPECT_EQ(signbit(array<bool>({true})).get().to_vector<bool>(), (std::vector<bool>{false}));
  EXPECT_EQ(isinf(full({}, -inf)).item<bool>(), true);
  EXPECT_EQ(isinf(zeros({0})).shape(), (Shape{0}));

  const double big = std::numeric_limits<double>::max();
  EXPECT_EQ(nan_to_num(a).get().to_vector<double>(),
            (std::vector<double>{1, 0, big, -big, -0.0, 0, 0, -2}));
  EXPECT_EQ(nan_to_num(a, -1, 5, -5).get().to_vector<double>(),
            (std::vector<double>{1, -1, 5, -5, -0.0, 0, -1, -2}));
  const BlockArray a32 = a.astype(float32);
  const float big32 = std::numeric_limits<float>::max();
  EXPECT_EQ(nan_to_num(a32).dtype(), float32);
  EXPECT_EQ(nan_to_num(a32, 9).get().to_vector<float>(),
            (std::vector<float>{1, 9, big32, -big32, -0.0f, 0, 9, -2}));
  const BlockArray ints = array<int32_t>({1, -2});
  EXPECT_EQ(nan_to_num(ints).dtype(), int32);
  EXPECT_EQ(nan_to_num(ints).get().to_vector<int32_t>(), (std::vector<int32_t>{1, -2}));
  EXPECT_EQ(nan_to_num(full({}, nan), 3.5).item<double>(), 3.5);
}

struct BinaryCase {
  const char* name;
  std::function<BlockArray(const BlockArray&, const BlockArray&)> f;
  double (*ref)(double, double);
};

TEST_P(MathFunctionsTest, BinaryFloatFunctionsBroadcastAndMatchTheReference) {
  const std::vector<BinaryCase> cases = {
      {"fmod", [](const auto& a, const auto& b) { return fmod(a, b); },
       [](double a, double b) { return std::fmod(a, b); }},
      {"arctan2", [](const auto& a, const auto& b) { return arctan2(a, b); },
       [](double a, double b) { return std::atan2(a, b); }},
      {"hypot", [](const auto& a, const auto& b) { return hypot(a, b); },
       [](double a, double b) { return std::hypot(a, b); }},
      {"copysign", [](const auto& a, const auto& b) { return copysign(a, b); },
       [](double a, double b) { return std::copysign(a, b); }},
      {"logaddexp", [](const auto& a, const auto& b) { return logaddexp(a, b); },
       [](double a, double b) {
         const double m = std::max(a, b);
         return m + std::log1p(std::exp(-std::abs(a - b)));
       }},
  };
  struct Pair {
    Shape a, ab, b, bb;
  };
  const std::vector<Pair> pairs = {
      {{7, 5}, {3, 2}, {7, 5}, {4, 5}},        // re-blocked
      {{7, 1}, {2, 1}, {1, 5}, {1, 3}},        // outer broadcast
      {{4, 3, 5}, {3, 2, 2}, {3, 1}, {2, 1}},  // 3-d against 2-d
      {{6}, {4}, {}, {}},                      // 0-d operand
      {{}, {}, {}, {}},                        // both 0-d
      {{0, 3}, {1, 2}, {3}, {2}},              // empty
  };
  for (const auto& c : cases) {
    for (const auto& p : pairs) {
      SCOPED_TRACE(std::string(c.name) + ": " + shape_str(p.a) + " with " + shape_str(p.b));
      const NDArray x = RandomNDArray(p.a, float64, 31), y = RandomNDArray(p.b, float64, 32);
      const BlockArray got = c.f(from_ndarray(x, p.ab), from_ndarray(y, p.bb));
      EXPECT_EQ(got.dtype(), float64);
      EXPECT_ARRAY_NEAR(got.get(), RefBinary(x, y, float64, c.ref), 1e-14);
      // Integer operands: fmod stays integer, the others compute in float64.
      const NDArray xi = RandomNDArray(p.a, int32, 33), yi = RandomNDArray(p.b, int32, 34);
      const BlockArray gi = c.f(from_ndarray(xi, p.ab), from_ndarray(yi, p.bb));
      if (std::string(c.name) == "fmod") {
        EXPECT_EQ(gi.dtype(), int32);
        EXPECT_ARRAY_EQ(gi.get(), RefBinary(xi, yi, int32, [](double a, double b) {
                          return b == 0 ? 0.0 : std::fmod(a, b);
                        }));
      } else {
        EXPECT_EQ(gi.dtype(), float64);
        EXPECT_ARRAY_NEAR(gi.get(), RefBinary(xi, yi, float64, c.ref), 1e-14);
      }
      // float32 pairs stay float32; float32 with int32 promotes to float64.
      const NDArray x32 = x.astype(float32), y32 = y.astype(float32);
      EXPECT_EQ(c.f(from_ndarray(x32, p.ab), from_ndarray(y32, p.bb)).dtype(), float32);
      EXPECT_EQ(c.f(from_ndarray(x32, p.ab), from_ndarray(yi, p.bb)).dtype(), float64);
    }
  }
}

TEST_P(MathFunctionsTest, BinaryFloatFunctionsAtSpecialValuesMatchNumPy) {
  const double nan = std::nan(""), inf = INFINITY;
  // np.logaddexp([1000, -inf, inf, 1, 0], [1000, -inf, inf, 2, -800]).
  const NDArray l = logaddexp(array<double>({1000, -inf, inf, 1, 0, nan}, {}, {4}),
                              array<double>({1000, -inf, inf, 2, -800, 1}))
                        .get();
  EXPECT_EQ(l.at<double>({0}), 1000.6931471805599);
  EXPECT_EQ(l.at<double>({1}), -inf);
  EXPECT_EQ(l.at<double>({2}), inf);
  EXPECT_EQ(l.at<double>({3}), 2.313261687518223);
  EXPECT_EQ(l.at<double>({4}), 0.0);
  EXPECT_TRUE(std::isnan(l.at<double>({5})));
  // hypot(inf, nan) == inf; no overflow in between.
  EXPECT_EQ(hypot(array<double>({inf, 3, 1e300}), array<double>({nan, 4, 1e300}))
                .get()
                .to_vector<double>(),
            (std::vector<double>{inf, 5, std::hypot(1e300, 1e300)}));
  // arctan2 follows IEEE signed zeros: arctan2(+-0, -0) == +-pi.
  const NDArray t =
      arctan2(array<double>({0.0, -0.0, -0.0, -inf}), array<double>({-0.0, -0.0, 0.0, inf})).get();
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{M_PI, -M_PI, -0.0, -M_PI / 4}));
  EXPECT_TRUE(std::signbit(t.at<double>({2})));
  // copysign with numbers on either side (weak: a float32 array stays float32).
  EXPECT_EQ(copysign(1, array<double>({-0.0, 2})).get().to_vector<double>(),
            (std::vector<double>{-1, 1}));
  EXPECT_EQ(copysign(ones({2}, float32), -1.0).dtype(), float32);
  EXPECT_EQ(copysign(ones({2}, float32), -1.0).get().to_vector<float>(),
            (std::vector<float>{-1, -1}));
  EXPECT_EQ(arctan2(ones({1}, int32), 1).dtype(), float64);
  EXPECT_DOUBLE_EQ(hypot(3, array<int64_t>({4})).item<double>(), 5.0);
  // fmod keeps the dividend's sign (remainder takes the divisor's); x fmod 0 is NaN for floats.
  const BlockArray fa = array<double>({-7.5, 7.5, 1});
  EXPECT_EQ(fmod(fa, 2).get().to_vector<double>(), (std::vector<double>{-1.5, 1.5, 1}));
  EXPECT_EQ(remainder(fa, full({}, 2.0)).get().to_vector<double>(),
            (std::vector<double>{0.5, 1.5, 1}));
  EXPECT_TRUE(std::isnan(fmod(fa, 0.0).get().at<double>({0})));
  EXPECT_EQ(fmod(10, array<double>({3})).item<double>(), 1.0);
  // NumPy: np.fmod([-7, 7, 5], [3, -3, 0]) == [-1, 1, 0] (0 for a zero divisor).
  EXPECT_EQ(fmod(array<int64_t>({-7, 7, 5, std::numeric_limits<int64_t>::min()}),
                 array<int64_t>({3, -3, 0, -1}))
                .get()
                .to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 1, 0, 0}));
  EXPECT_EQ(fmod(array<bool>({true, false}), array<bool>({true, true})).dtype(), int8);
}

TEST_P(MathFunctionsTest, ShiftsAndBitwiseFunctionsOnIntegers) {
  // NumPy: left_shift([1, -1, 1], [64, 3, -1]) == [0, -8, 0];
  //        right_shift([-8, 8, -8], [70, 1, -1]) == [-1, 4, -1].
  const BlockArray a = array<int64_t>({1, -1, 1}, {}, {2});
  EXPECT_EQ(left_shift(a, array<int64_t>({64, 3, -1})).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, -8, 0}));
  EXPECT_EQ(right_shift(array<int64_t>({-8, 8, -8}), array<int64_t>({70, 1, -1}))
                .get()
                .to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 4, -1}));
  const BlockArray i32 = array<int32_t>({1, 3, -5});
  EXPECT_EQ((i32 << 31).dtype(), int32);
  EXPECT_EQ((i32 << 31).get().to_vector<int32_t>(),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(),
                                  std::numeric_limits<int32_t>::min(),
                                  std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ((i32 >> 1).get().to_vector<int32_t>(), (std::vector<int32_t>{0, 1, -3}));
  EXPECT_EQ((i32 >> 32).get().to_vector<int32_t>(), (std::vector<int32_t>{0, 0, -1}));
  EXPECT_EQ(left_shift(1, array<int32_t>({0, 4})).get().to_vector<int32_t>(),
            (std::vector<int32_t>{1, 16}));
  EXPECT_EQ(right_shift(i32, array<int32_t>({0, 1, 2}, {3})).get().to_vector<int32_t>(),
            (std::vector<int32_t>{1, 1, -2}));
  // Broadcast: a column against a row.
  EXPECT_EQ(left_shift(array<int64_t>({1, 2}, {2, 1}), array<int64_t>({0, 1, 2}, {1, 3}))
                .get()
                .to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 4, 2, 4, 8}));
  // Bool computes in int64 (NumPy: int8); floats are rejected at the call.
  const BlockArray bs = left_shift(array<bool>({true, false}), 1);
  EXPECT_EQ(bs.dtype(), int64);
  EXPECT_EQ(bs.get().to_vector<int64_t>(), (std::vector<int64_t>{2, 0}));
  EXPECT_THROW(left_shift(ones({2}), 1), DTypeError);
  EXPECT_THROW(ones({2}, int64) >> ones({2}), DTypeError);

  const BlockArray x = array<int32_t>({6, 5, -1}), y = array<int32_t>({3, 4, 8});
  EXPECT_EQ(bitwise_and(x, y).get().to_vector<int32_t>(), (std::vector<int32_t>{2, 4, 8}));
  EXPECT_EQ(bitwise_or(x, y).get().to_vector<int32_t>(), (std::vector<int32_t>{7, 5, -1}));
  EXPECT_EQ(bitwise_xor(x, y).get().to_vector<int32_t>(), (std::vector<int32_t>{5, 1, -9}));
  EXPECT_EQ(bitwise_and(x, 4).get().to_vector<int32_t>(), (std::vector<int32_t>{4, 4, 4}));
  EXPECT_EQ(bitwise_invert(x).get().to_vector<int32_t>(), (std::vector<int32_t>{-7, -6, 0}));
  EXPECT_EQ(invert(array<bool>({true, false})).get().to_vector<bool>(),
            (std::vector<bool>{false, true}));
  EXPECT_EQ(bitwise_not(x).dtype(), int32);
  EXPECT_EQ(
      bitwise_xor(array<bool>({true, true}), array<bool>({true, false})).get().to_vector<bool>(),
      (std::vector<bool>{false, true}));
  EXPECT_THROW(bitwise_or(ones({2}), ones({2}, int64)), DTypeError);
  EXPECT_THROW(bitwise_invert(ones({2})), DTypeError);
  EXPECT_EQ(
      logical_xor(array<int64_t>({0, 2, 3}), array<double>({0, 0, 1})).get().to_vector<bool>(),
      (std::vector<bool>{false, true, false}));
}

TEST_P(MathFunctionsTest, IscloseAllcloseArrayEqualMatchNumPy) {
  const double nan = std::nan(""), inf = INFINITY;
  // np.isclose of these pairs with the default rtol=1e-05, atol=1e-08.
  const BlockArray a = array<double>({1e10, 1e-7, 1e-8, 1e-7, 1, nan, inf, -inf, inf}, {}, {4});
  const BlockArray b = array<double>({1.00001e10, 1e-8, 0, 0, 1, nan, inf, inf, 1}, {}, {2});
  const BlockArray c = isclose(a, b);
  EXPECT_EQ(c.dtype(), bool_);
  EXPECT_EQ(c.get().to_vector<bool>(),
            (std::vector<bool>{true, false, true, false, true, false, true, false, false}));
  EXPECT_EQ(isclose(array<double>({1, nan}), array<double>({1, nan}), 1e-5, 1e-8, true)
                .get()
                .to_vector<bool>(),
            (std::vector<bool>{true, true}));
  // Not symmetric: the tolerance scales with |b|.
  EXPECT_TRUE(isclose(full({}, 1.0), 1.1, 0.1, 0).item<bool>());
  EXPECT_FALSE(isclose(full({}, 1.1), 1.0, 0.1, 0).item<bool>());
  // float32 computes in float32; integers in float64; numbers and broadcasting as operators.
  EXPECT_FALSE(isclose(full({}, 1.0, float32), full({}, 1.0000001, float32), 0, 0).item<bool>());
  EXPECT_EQ(isclose(array<int64_t>({1, 2}), 2).get().to_vector<bool>(),
            (std::vector<bool>{false, true}));
  const BlockArray g = isclose(array<int32_t>({1, 2}), array<int64_t>({1, 3}, {2, 1}));
  EXPECT_EQ(g.shape(), (Shape{2, 2}));
  EXPECT_EQ(g.get().to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(isclose(zeros({0, 2}), 1.0).shape(), (Shape{0, 2}));
  // A number is made a float first, as NumPy does: no int32 range applies.
  EXPECT_FALSE(isclose(array<int32_t>({1}), int64_t{1} << 40).item<bool>());
  EXPECT_TRUE(isclose(int64_t{1} << 40, full({}, 1099511627776.0)).item<bool>());

  const NDArray x = RandomNDArray({7, 5}, float64, 41);
  const BlockArray xa = from_ndarray(x, {3, 2});
  EXPECT_TRUE(allclose(xa, from_ndarray(x, {4, 5}) + 1e-9));
  EXPECT_FALSE(allclose(xa, xa + 1e-3));
  EXPECT_TRUE(allclose(xa, xa + 1e-3, 0, 2e-3));
  EXPECT_TRUE(allclose(zeros({0}), ones({0})));
  EXPECT_FALSE(allclose(array<double>({nan}), array<double>({nan})));
  EXPECT_TRUE(allclose(array<double>({nan}), array<double>({nan}), 1e-5, 1e-8, true));
  EXPECT_THROW(allclose(ones({3}), ones({4})), ShapeError);

  EXPECT_TRUE(array_equal(xa, from_ndarray(x, {2, 5})));
  EXPECT_FALSE(array_equal(xa, xa + 1e-12));
  EXPECT_FALSE(array_equal(ones({3}), ones({1, 3})));  // no broadcasting
  EXPECT_TRUE(array_equal(array<int32_t>({1, 2}), array<double>({1, 2})));
  EXPECT_FALSE(array_equal(array<double>({1, nan}), array<double>({1, nan})));
  EXPECT_TRUE(array_equal(array<double>({1, nan}), array<double>({1, nan}), true));
  EXPECT_TRUE(array_equal(zeros({0, 3}), ones({0, 3})));
}

TEST_P(MathFunctionsTest, FminFmaxSkipNaN) {
  const double nan = std::nan("");
  const BlockArray a = array<double>({1, nan, nan, 3}, {}, {3});
  const BlockArray b = array<double>({nan, 2, nan, -1});
  EXPECT_ARRAY_EQ(fmin(a, b).get(), NDArray::from_vector<double>({1, 2, nan, -1}));
  EXPECT_ARRAY_EQ(fmax(a, b).get(), NDArray::from_vector<double>({1, 2, nan, 3}));
  EXPECT_ARRAY_EQ(fmax(a, 2.0).get(), NDArray::from_vector<double>({2, 2, 2, 3}));
  EXPECT_EQ(fmin(array<int32_t>({4, -2}), 0).get().to_vector<int32_t>(),
            (std::vector<int32_t>{0, -2}));
  EXPECT_EQ(fmax(ones({2}, bool_), zeros({2}, bool_)).dtype(), bool_);
}

INSTANTIATE_TEST_SUITE_P(Nodes, MathFunctionsTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
