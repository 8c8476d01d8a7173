// Numbers and sizes that cannot crash or lie: integer ops wrap as NumPy's do (no SIGFPE for
// min / -1, no undefined behaviour), sizes that do not fit int64 (or BLAS's int) raise ValueError
// naming them, and an unknown dtype code is an error. The expected values were printed by NumPy
// 1.24 (Debian 12's python3-numpy), e.g. np.int64(-2**63) % -1 == 0 and np.abs(int64 min) ==
// int64 min.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nums/nums.hpp>
#include <type_traits>

#include "src/array_impl.h"
#include "src/checked.h"
#include "src/kernels/ops.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::ExpectThrowWith;

// Each test runs on these embedded clusters and 1-d block lengths, so every kernel runs both on
// whole arrays and on blocks spread over nodes (and reductions combine partial results).
struct Layout {
  int64_t nodes, block;
};
const std::vector<Layout> kLayouts = {{1, 1000}, {2, 1}, {2, 4}, {3, 2}, {3, 7}};

template <typename T>
class IntWrapTest : public ::testing::Test {
 protected:
  static constexpr T kMin = std::numeric_limits<T>::min();
  static constexpr T kMax = std::numeric_limits<T>::max();

  static BlockArray Array(const std::vector<T>& v, int64_t block) {
    return from_ndarray(NDArray::from_vector(v), {std::min<int64_t>(block, v.size())});
  }
  static void ExpectValues(const BlockArray& got, const std::vector<T>& want) {
    ASSERT_EQ(got.dtype(), dtype_of<T>());
    EXPECT_EQ(got.get().template to_vector<T>(), want);
  }
  // Runs f(block) on each layout, with a fresh cluster of that many nodes.
  template <typename F>
  static void OnEachLayout(F&& f) {
    for (const Layout& l : kLayouts) {
      SCOPED_TRACE("nodes " + std::to_string(l.nodes) + ", block " + std::to_string(l.block));
      Context ctx = init({.nodes = l.nodes, .threads_per_node = 1});
      f(l.block);
    }
  }

  // Operands covering min, max, -1, 0 and sign combinations; the answers below are NumPy's.
  static std::vector<T> A() {
    return {kMin, kMin, kMin, kMax, kMax, -7, 7, -7, 7, 5, 0, kMin, 3, kMax, kMin + 1};
  }
  static std::vector<T> B() { return {-1, 1, 0, -1, 1, 2, -2, -2, 2, 0, -1, kMin, kMin, kMax, -1}; }
};

using IntTypes = ::testing::Types<int64_t, int32_t>;
TYPED_TEST_SUITE(IntWrapTest, IntTypes);

TYPED_TEST(IntWrapTest, AddSubtractMultiplyWrap) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin, kMax = TestFixture::kMax;
  this->OnEachLayout([&](int64_t block) {
    const BlockArray a = this->Array(this->A(), block), b = this->Array(this->B(), block);
    this->ExpectValues(
        a + b, {kMax, kMin + 1, kMin, kMax - 1, kMin, -5, 5, -9, 9, 5, -1, 0, kMin + 3, -2, kMin});
    this->ExpectValues(a - b, {kMin + 1, kMax, kMin, kMin, kMax - 1, -9, 9, -5, 5, 5, 1, 0,
                               kMin + 3, 0, kMin + 2});
    this->ExpectValues(a * b,
                       {kMin, kMin, 0, kMin + 1, kMax, -14, -14, 14, 14, 0, 0, 0, kMin, 1, kMax});
  });
}

TYPED_TEST(IntWrapTest, FloorDivideAndRemainderOfMinByMinusOneDoNotTrap) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin, kMax = TestFixture::kMax;
  this->OnEachLayout([&](int64_t block) {
    const BlockArray a = this->Array(this->A(), block), b = this->Array(this->B(), block);
    // min // -1 wraps to min; x // 0 and x % 0 are 0 (README: NumPy also warns).
    this->ExpectValues(floor_divide(a, b),
                       {kMin, kMin, 0, kMin + 1, kMax, -4, -4, 3, 3, 0, 0, 1, -1, 1, kMax});
    this->ExpectValues(a % b, {0, 0, 0, 0, 0, 1, -1, -1, 1, 0, 0, 0, kMin + 3, 0, 0});
    this->ExpectValues(remainder(a, b), {0, 0, 0, 0, 0, 1, -1, -1, 1, 0, 0, 0, kMin + 3, 0, 0});
    // A number as the divisor (weak: keeps T).
    this->ExpectValues(floor_divide(this->Array({kMin, 7, -7}, block), -1), {kMin, -7, 7});
    this->ExpectValues(this->Array({kMin, 7, -7}, block) % -1, {0, 0, 0});
  });
}

TYPED_TEST(IntWrapTest, NegativeAndAbsOfMinAreMin) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin, kMax = TestFixture::kMax;
  this->OnEachLayout([&](int64_t block) {
    const BlockArray a = this->Array(this->A(), block);
    this->ExpectValues(
        -a, {kMin, kMin, kMin, kMin + 1, kMin + 1, 7, -7, 7, -7, -5, 0, kMin, -3, kMin + 1, kMax});
    this->ExpectValues(negative(a), (-a).get().template to_vector<T>());
    this->ExpectValues(abs(a),
                       {kMin, kMin, kMin, kMax, kMax, 7, 7, 7, 7, 5, 0, kMin, 3, kMax, kMax});
  });
}

TYPED_TEST(IntWrapTest, PowerWraps) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin, kMax = TestFixture::kMax;
  std::vector<T> want;
  if constexpr (std::is_same_v<T, int64_t>) {
    want = {kMin, -6289078614652622815, 420491770248316829, 1, 0, -1};
  } else {
    want = {0, 689956897, -2069870691, 1, 0, -1};
  }
  this->OnEachLayout([&](int64_t block) {
    const BlockArray x = this->Array({2, 3, -3, kMax, kMin, -1}, block);
    const BlockArray e = this->Array({63, 40, 41, 2, 2, kMax}, block);
    this->ExpectValues(power(x, e), want);
  });
}

TYPED_TEST(IntWrapTest, SumAndProdWrapInInt64) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin, kMax = TestFixture::kMax;
  constexpr bool k64 = std::is_same_v<T, int64_t>;
  // Integer sums and products are int64 (NumPy's default integer on Linux).
  const int64_t sum = k64 ? 0 : int64_t{4294967296};
  const int64_t prod = k64 ? std::numeric_limits<int64_t>::min() : int64_t{4611685986215133184};
  const int64_t head = k64 ? std::numeric_limits<int64_t>::min() : int64_t{2147483648};
  this->OnEachLayout([&](int64_t block) {
    const BlockArray s = this->Array({kMax, 1, kMax, kMax, 5, -3, kMin}, block);
    EXPECT_EQ(s.sum().get().template item<int64_t>(), sum);
    EXPECT_EQ(s.prod().get().template item<int64_t>(), prod);
    EXPECT_EQ(this->Array({kMax, 1}, block).sum().get().template item<int64_t>(), head);
    // Along axes of a 2-d array blocked in both directions.
    const BlockArray m =
        from_ndarray(NDArray::from_vector<T>({kMax, kMax, kMax, 1, 3, kMin}, {3, 2}),
                     {std::min<int64_t>(block, 3), std::min<int64_t>(block, 2)});
    std::vector<int64_t> sum0, sum1, prod0;
    if constexpr (k64) {
      sum0 = {1, 0};
      sum1 = {-2, std::numeric_limits<int64_t>::min(), -9223372036854775805};
      prod0 = {3, std::numeric_limits<int64_t>::min()};
    } else {
      sum0 = {4294967297, 0};
      sum1 = {4294967294, 2147483648, -2147483645};
      prod0 = {-4611686031312289789, -4611686016279904256};
    }
    EXPECT_EQ(m.sum(0).get().to_vector<int64_t>(), sum0);
    EXPECT_EQ(m.sum(1).get().to_vector<int64_t>(), sum1);
    EXPECT_EQ(m.prod(0).get().to_vector<int64_t>(), prod0);
  });
}

TYPED_TEST(IntWrapTest, MatmulWraps) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin, kMax = TestFixture::kMax;
  const std::vector<T> want = {-6, -4, kMin + 1, kMin, 4, 3};
  this->OnEachLayout([&](int64_t block) {
    const int64_t bs = std::min<int64_t>(block, 3);
    const BlockArray a = from_ndarray(
        NDArray::from_vector<T>({kMax, kMax, 3, kMin, 1, kMin, 2, -1, kMax}, {3, 3}), {bs, bs});
    const BlockArray b =
        from_ndarray(NDArray::from_vector<T>({2, 1, 1, kMin, kMax, -1}, {3, 2}), {bs, bs});
    this->ExpectValues(matmul(a, b), want);
  });
}

TYPED_TEST(IntWrapTest, AstypeFromFloatGivesMinForNaNAndOutOfRange) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> v = {std::nan(""), inf, -inf, 1e300, -1e300, 3e9, -3e9, -7.9, 7.9};
  std::vector<T> want;
  if constexpr (std::is_same_v<T, int64_t>) {
    want = {kMin, kMin, kMin, kMin, kMin, 3000000000, -3000000000, -7, 7};
  } else {
    want = {kMin, kMin, kMin, kMin, kMin, kMin, kMin, -7, 7};
  }
  this->OnEachLayout([&](int64_t block) {
    const BlockArray x = from_ndarray(NDArray::from_vector(v), {std::min<int64_t>(block, 9)});
    this->ExpectValues(x.astype(dtype_of<T>()), want);
    // float32 too (NumPy: the same answers).
    this->ExpectValues(x.astype(float32).astype(dtype_of<T>()), want);
  });
  // The driver-side conversion agrees.
  EXPECT_EQ(NDArray::from_vector(v).astype(dtype_of<T>()).template to_vector<T>(), want);
}

// The functors themselves, where a C++ `/` or `%` would trap: kept as a unit test so that a
// change to the array layer's promotion cannot hide them.
TYPED_TEST(IntWrapTest, FunctorsOfMinAndMinusOne) {
  using T = TypeParam;
  constexpr T kMin = TestFixture::kMin;
  using kernels::Binary;
  using kernels::BinaryOp;
  EXPECT_EQ((Binary<BinaryOp::kMod, T>::Apply(kMin, -1)), 0);
  EXPECT_EQ((Binary<BinaryOp::kFloorDiv, T>::Apply(kMin, -1)), kMin);
  EXPECT_EQ((Binary<BinaryOp::kDiv, T>::Apply(kMin, -1)), kMin);
  EXPECT_EQ((Binary<BinaryOp::kDiv, T>::Apply(7, 0)), 0);
  EXPECT_EQ((Binary<BinaryOp::kFloorDiv, T>::Apply(-7, 0)), 0);
  EXPECT_EQ((Binary<BinaryOp::kMod, T>::Apply(-7, 0)), 0);
  EXPECT_EQ((kernels::Unary<kernels::UnaryOp::kAbs, T>::Apply(kMin)), kMin);
}

// Float floor division follows NumPy's npy_divmod.
TEST(FloorDivide, FloatsMatchNumPy) {
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  const double inf = std::numeric_limits<double>::infinity();
  const BlockArray a =
      from_ndarray(NDArray::from_vector<double>({7, -7, 7, -7, 1, -1, 0, 5.5}), {3});
  const BlockArray b =
      from_ndarray(NDArray::from_vector<double>({2, 2, -2, -2, 0, 0, 3, 0.5}), {3});
  const auto q = floor_divide(a, b).get().to_vector<double>();
  const std::vector<double> want = {3, -4, -4, 3, inf, -inf, 0, 11};
  ASSERT_EQ(q.size(), want.size());
  for (size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], want[i]) << i;
  EXPECT_TRUE(std::isnan(floor_divide(a * 0.0, b * 0.0).get().to_vector<double>()[0]));
  // Bool operands compute in int8, as NumPy (and as for %).
  EXPECT_EQ(floor_divide(ones({3}, bool_), ones({3}, bool_)).dtype(), int8);
}

class SizeCheckTest : public testing::OnNodes {};

constexpr int64_t kBig = int64_t{1} << 40;

TEST_P(SizeCheckTest, ZerosOfAShapeWhoseSizeOverflowsRaises) {
  ExpectThrowWith<ValueError>([] { zeros({kBig, kBig}); }, {"(1099511627776, 1099511627776)"});
  ExpectThrowWith<ValueError>(
      [] {
        zeros({kBig, kBig}, int64, {1, 1});
      },
      {"(1099511627776, 1099511627776)"});
  // A zero dimension does not make the others fit (NumPy's rule).
  ExpectThrowWith<ValueError>(
      [] {
        zeros({kBig, kBig, 0});
      },
      {"(1099511627776, 1099511627776, 0)"});
  // Elements that fit but bytes that do not.
  ExpectThrowWith<ValueError>([] { zeros({int64_t{1} << 61}, float64); },
                              {"(2305843009213693952,)", "bytes"});
  ExpectThrowWith<ValueError>([] { ones({int64_t{1} << 62, 4}); }, {"(4611686018427387904, 4)"});
  ExpectThrowWith<ValueError>(
      [] {
        random::Generator(1).normal({kBig, kBig});
      },
      {"(1099511627776, 1099511627776)"});
  ExpectThrowWith<ValueError>([] { eye(kBig, kBig * 4); }, {"1099511627776"});
  // As in NumPy, the bytes of the non-zero dimensions must fit too.
  ExpectThrowWith<ValueError>(
      [] {
        zeros({0, int64_t{1} << 62}, float64);
      },
      {"(0, 4611686018427387904)"});
  // An empty array of a shape that fits is still fine.
  EXPECT_EQ(zeros({kBig, 0}).size(), 0);
  EXPECT_EQ(zeros({0, int64_t{1} << 62}, bool_).size(), 0);
}

TEST_P(SizeCheckTest, NegativeDimensionRaisesValueErrorNamingTheShape) {
  ExpectThrowWith<ValueError>([] { zeros({3, -1}); }, {"(3, -1)", "negative"});
  ExpectThrowWith<ValueError>([] { random::Generator(1).uniform({-2}); }, {"(-2,)"});
  ExpectThrowWith<ValueError>([] { eye(-1); }, {"negative"});
  ExpectThrowWith<ValueError>([] { NDArray(float64, {2, -3}); }, {"(2, -3)"});
  ExpectThrowWith<ValueError>([] { shape_size({4, -5}); }, {"(4, -5)"});
}

TEST_P(SizeCheckTest, TooManyBlocksRaisesNamingShapeAndBlockShape) {
  // 2^40 float64 elements fit int64 (8 TiB), but 2^40 blocks of one element do not fit the driver.
  ExpectThrowWith<ValueError>(
      [] {
        zeros({int64_t{1} << 20, int64_t{1} << 20}, float64, {1, 1});
      },
      {"(1048576, 1048576)", "(1, 1)", "blocks"});
  ExpectThrowWith<ValueError>([] { ArrayGrid({ArrayGrid::kMaxBlocks + 1}, {1}, bool_); },
                              {"(" + std::to_string(ArrayGrid::kMaxBlocks + 1) + ",)", "(1,)"});
  // The limit itself is allowed (as a grid; nothing is allocated).
  EXPECT_EQ(ArrayGrid({ArrayGrid::kMaxBlocks}, {1}, bool_).num_blocks(), ArrayGrid::kMaxBlocks);
}

TEST_P(SizeCheckTest, ReshapeToAnOverflowingShapeRaises) {
  // Size 0 on both sides if the product wraps (2^80 mod 2^64 == 0): the reshape would "succeed".
  const BlockArray e = zeros({0});
  ExpectThrowWith<ValueError>([&] { e.reshape({kBig, kBig}); }, {"(1099511627776, 1099511627776)"});
  ExpectThrowWith<ValueError>(
      [&] {
        e.reshape({kBig, kBig, -1});
      },
      {"(1099511627776, 1099511627776, -1)"});
  const BlockArray x = arange(12);
  ExpectThrowWith<ValueError>(
      [&] {
        x.reshape({-1, kBig, kBig});
      },
      {"(-1, 1099511627776, 1099511627776)"});
  // Wrong sizes that fit are still ShapeErrors.
  EXPECT_THROW(x.reshape({5, -1}), ShapeError);
}

TEST_P(SizeCheckTest, BroadcastToAnOverflowingShapeRaises) {
  // Empty operands broadcast without data: (0, 2^40, 1) with (0, 1, 2^40) is (0, 2^40, 2^40),
  // whose non-zero dimensions do not fit int64.
  const BlockArray a = zeros({0, kBig, 1});
  const BlockArray b = zeros({0, 1, kBig});
  ExpectThrowWith<ValueError>(
      [&] { (void)(a + b); },
      {"(0, 1099511627776, 1)", "(0, 1, 1099511627776)", "(0, 1099511627776, 1099511627776)"});
  ExpectThrowWith<ValueError>([&] { (void)where(a > 0, a, b); },
                              {"(0, 1099511627776, 1099511627776)"});
}

TEST_P(SizeCheckTest, ContractionOutputThatOverflowsRaises) {
  // (2^40, 0) @ (0, 2^40) has no data but a 2^80-element result.
  const BlockArray a = zeros({kBig, 0}, float64, {kBig, 1});
  const BlockArray b = zeros({0, kBig}, float64, {1, kBig});
  ExpectThrowWith<ValueError>([&] { (void)matmul(a, b); }, {"(1099511627776, 1099511627776)"});
}

TEST_P(SizeCheckTest, ConcatenateLengthsThatOverflowRaise) {
  const int64_t huge = std::numeric_limits<int64_t>::max() / 2 + 1;
  const BlockArray a = zeros({0, huge}, bool_, {1, huge});
  ExpectThrowWith<ValueError>([&] { (void)concatenate({a, a}, 1); }, {"concatenate"});
}

TEST_P(SizeCheckTest, ArangeLengthThatDoesNotFitRaises) {
  ExpectThrowWith<ValueError>([] { arange(0, 1e300, 1.0); }, {"arange"});
  ExpectThrowWith<ValueError>([] { arange(0, std::nan(""), 1.0); }, {"NaN"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, SizeCheckTest, ::testing::Values(1, 3, 4));

TEST(NarrowSize, RaisesNamingTheSizeInsteadOfTruncating) {
  EXPECT_EQ(detail::narrow_size<int>(2147483647, "LAPACK"), 2147483647);
  EXPECT_EQ(detail::narrow_size<int>(-5, "LAPACK"), -5);
  ExpectThrowWith<ValueError>([] { detail::narrow_size<int>(int64_t{1} << 31, "LAPACK"); },
                              {"LAPACK", "2147483648"});
  ExpectThrowWith<ValueError>([] { detail::narrow_size<int>(int64_t{1} << 32, "BLAS"); },
                              {"4294967296"});  // would truncate to 0
  ExpectThrowWith<ValueError>(
      [] { detail::narrow_size<int32_t>(std::numeric_limits<int64_t>::min(), "BLAS"); },
      {"-9223372036854775808"});
}

TEST(CheckedProduct, CountsNonZeroDimensions) {
  EXPECT_EQ(detail::checked_product({}), 1);
  EXPECT_EQ(detail::checked_product({3, 0, 5}), 0);
  EXPECT_EQ(detail::checked_product({int64_t{1} << 31, int64_t{1} << 31}), int64_t{1} << 62);
  EXPECT_FALSE(detail::checked_product({int64_t{1} << 32, int64_t{1} << 31}));
  EXPECT_FALSE(detail::checked_product({int64_t{1} << 32, 0, int64_t{1} << 32}));
  EXPECT_FALSE(detail::checked_mul(std::numeric_limits<int64_t>::max(), 2));
  EXPECT_FALSE(detail::checked_add(std::numeric_limits<int64_t>::max(), 1));
}

TEST(DTypeCodes, UnknownCodeIsAnErrorNamingIt) {
  ExpectThrowWith<DTypeError>([] { dtype_from_code(13); }, {"13"});
  ExpectThrowWith<DTypeError>([] { dtype_from_code(-1); }, {"-1"});
  EXPECT_EQ(dtype_from_code(static_cast<int64_t>(DType::kInt32)), int32);
  const auto bad = static_cast<DType>(42);
  ExpectThrowWith<DTypeError>([&] { dispatch(bad, [](auto) { return 0; }); }, {"42"});
  ExpectThrowWith<DTypeError>([&] { (void)itemsize(bad); }, {"42"});
  // Every real dtype dispatches to its own C++ type; float16 (storage only) to half in
  // dispatch_all, and is an error naming the op in dispatch.
  for (DType t :
       {bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64}) {
    EXPECT_EQ(dispatch(t, [](auto v) { return dtype_of<decltype(v)>(); }), t);
  }
  EXPECT_EQ(dispatch_all(float16, [](auto v) { return dtype_of<decltype(v)>(); }), float16);
  EXPECT_EQ(dispatch_all(complex128, [](auto v) { return dtype_of<decltype(v)>(); }), complex128);
  ExpectThrowWith<DTypeError>(
      [] {
        dispatch(
            complex128, [](auto) { return 0; }, "my_op");
      },
      {"my_op", "complex128"});
  ExpectThrowWith<DTypeError>(
      [] {
        dispatch(
            float16, [](auto) { return 0; }, "my_op");
      },
      {"my_op", "float16"});
}

TEST(DTypeCodes, AstypeTaskWithAnUnknownCodeFailsWithDTypeError) {
  Context ctx = init({.nodes = 2, .threads_per_node = 1});
  const BlockArray x = arange(6);
  // The astype kernel gets the code as a task scalar; a corrupt one must fail the task, not cast
  // to float64.
  ExpectThrowWith<DTypeError>(
      [&] {
        (void)detail::map_blocks("array.astype", {x}, {detail::int_scalar(19)}, float64, "astype")
            .get();
      },
      {"19"});
}

TEST(DTypeCodes, FusedProgramWithAComplexNodeIsMalformed) {
  Context ctx = init({.nodes = 1, .threads_per_node = 1});
  const BlockArray x = arange(3);
  // Complex expressions are never fused (16-byte elements do not fit the fused kernel's slots):
  // a program naming complex128, e.g. from a hostile client, fails its task before it runs.
  const std::vector<int64_t> program = {1, 1, /*kConst*/ 1, static_cast<int64_t>(complex128), 0, 0,
                                        0, 0};
  ExpectThrowWith<ValueError>(
      [&] {
        (void)detail::map_blocks("array.fused", {x},
                                 {detail::Scalar{program}, detail::Scalar{std::vector<double>{1.0}},
                                  detail::Scalar{std::vector<int64_t>{}}},
                                 complex128, "fused")
            .get();
      },
      {"malformed", "complex128"});
}

}  // namespace
}  // namespace nums
