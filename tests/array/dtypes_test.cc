// The integer dtypes int8, int16, uint8, uint16, uint32, uint64, float16 and complex128 against
// NumPy run by
// /usr/bin/python3 (Debian 12's 1.24, whose promotion of arrays is NumPy 2's; its "weak"
// promotion state gives NEP 50's rules for Python scalars): each case's inputs are written as
// raw bytes, NumPy computes the same expression, and dtype, shape and values must agree (or both
// raise). Cases rotate over several block shapes, on 1 and 3 nodes.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nums/nums.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::AllDTypes;
using testing::PythonResult;
using testing::RunPython;
using testing::TempDir;

DType DTypeNamed(const std::string& name) {
  for (DType t : AllDTypes()) {
    if (dtype_name(t) == name) return t;
  }
  throw ValueError("no dtype named " + name);
}

// Whether two elements agree: integers and bools exactly, floats within a relative tolerance
// that fits the type (NaN matches NaN).
::testing::AssertionResult Agree(const NDArray& got, const NDArray& want, double tol16 = 1e-3) {
  if (got.dtype() != want.dtype()) {
    return ::testing::AssertionFailure()
           << "dtype " << dtype_name(got.dtype()) << " != NumPy's " << dtype_name(want.dtype());
  }
  if (got.shape() != want.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << shape_str(got.shape()) << " != NumPy's " << shape_str(want.shape());
  }
  const DType t = got.dtype();
  const double tol = t == float16 ? tol16 : t == float32 ? 1e-5 : 1e-11;
  auto close = [&](double g, double w) {
    return (std::isnan(g) && std::isnan(w)) || g == w ||
           std::abs(g - w) <= tol * std::max(1.0, std::abs(w));
  };
  for (int64_t k = 0; k < got.size(); ++k) {
    if (is_complex(t)) {
      const auto g = got.value_at<std::complex<double>>(k);
      const auto w = want.value_at<std::complex<double>>(k);
      if (!close(g.real(), w.real()) || !close(g.imag(), w.imag())) {
        return ::testing::AssertionFailure()
               << "element " << k << ": " << g << " != NumPy's " << w << " in " << repr(got);
      }
      continue;
    }
    if (!is_floating(t)) {
      if (got.value_at<uint64_t>(k) != want.value_at<uint64_t>(k)) {
        return ::testing::AssertionFailure()
               << "element " << k << ": " << repr(got) << " != NumPy's " << repr(want);
      }
      continue;
    }
    const double g = got.value_at<double>(k), w = want.value_at<double>(k);
    if ((std::isnan(g) && std::isnan(w)) || g == w) continue;
    if (!(std::abs(g - w) <= tol * std::max(1.0, std::abs(w)))) {
      return ::testing::AssertionFailure()
             << "element " << k << ": " << g << " != NumPy's " << w << " in " << repr(got);
    }
  }
  return ::testing::AssertionSuccess();
}

// Cases compared with NumPy in one Python run.
class Reference {
 public:
  explicit Reference(bool weak_scalars = false) {
    script_ =
        "import numpy as np, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "np.seterr(all='ignore')\n";
    if (weak_scalars) script_ += "np._set_promotion_state('weak')\n";
    script_ +=
        "out = open('results.txt', 'w')\n"
        "def ld(n, dt, shape):\n"
        "    return np.frombuffer(open(n, 'rb').read(), dtype=dt).reshape(shape)\n"
        "def run(k, f):\n"
        "    try:\n"
        "        r = np.asarray(f())\n"
        "    except Exception as e:\n"
        "        out.write('%d ERR %s\\n' % (k, type(e).__name__))\n"
        "        return\n"
        "    open('r%d.raw' % k, 'wb').write(np.ascontiguousarray(r).tobytes())\n"
        "    out.write('%d %s %s\\n' % (k, r.dtype, ' '.join(map(str, r.shape))))\n";
  }

  /// The Python name of `a`, written for NumPy to read.
  std::string Input(const NDArray& a) {
    const std::string name = "x" + std::to_string(inputs_++);
    testing::WriteRawBytes(a, dir_.path() / (name + ".raw"));
    std::string shape = "(";
    for (int64_t d : a.shape()) shape += std::to_string(d) + ",";
    script_ += name + " = ld('" + name + ".raw', '" + std::string(dtype_name(a.dtype())) + "', " +
               shape + "))\n";
    return name;
  }

  /// Python code run before the cases (helper functions).
  void Define(const std::string& code) { script_ += code; }

  /// NumPy's `expr` against nums' `f` (both raising counts as agreement).
  void Expect(const std::string& expr, const std::function<BlockArray()>& f, double tol16 = 1e-3) {
    Case c{expr, std::nullopt, "", tol16};
    try {
      c.got = f().get();
    } catch (const Error& e) {
      c.error = e.what();
    }
    script_ += "run(" + std::to_string(cases_.size()) + ", lambda: " + expr + ")\n";
    cases_.push_back(std::move(c));
  }

  /// Runs NumPy and compares every case.
  void Check() {
    script_ += "out.close()\nprint('ran', " + std::to_string(cases_.size()) + ")\n";
    const PythonResult r = RunPython(script_, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(dir_.path() / "results.txt");
    std::string line;
    size_t seen = 0;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      size_t k = 0;
      std::string dtype;
      words >> k >> dtype;
      ASSERT_LT(k, cases_.size());
      const Case& c = cases_[k];
      ++seen;
      SCOPED_TRACE(c.expr);
      if (dtype == "ERR") {
        EXPECT_FALSE(c.got) << "NumPy raised; nums gave " << repr(*c.got);
        continue;
      }
      ASSERT_TRUE(c.got) << "nums raised: " << c.error;
      Shape shape;
      for (int64_t d; words >> d;) shape.push_back(d);
      NDArray want(DTypeNamed(dtype), shape);
      const std::string bytes =
          testing::ReadFileBytes(dir_.path() / ("r" + std::to_string(k) + ".raw"));
      ASSERT_EQ(static_cast<int64_t>(bytes.size()), want.nbytes());
      std::copy(bytes.begin(), bytes.end(), static_cast<char*>(want.raw()));
      EXPECT_TRUE(Agree(*c.got, want, c.tol16));
    }
    EXPECT_EQ(seen, cases_.size());
  }

 private:
  struct Case {
    std::string expr;
    std::optional<NDArray> got;
    std::string error;
    double tol16;
  };
  TempDir dir_;
  std::string script_;
  int64_t inputs_ = 0;
  std::vector<Case> cases_;
};

class DTypesTest : public testing::OnNodes {
 protected:
  // Block lengths the cases rotate through (whole array, uneven, one element).
  Shape Blocks(const NDArray& a) {
    const int64_t pick = rotate_++ % 3;
    Shape b = a.shape();
    for (auto& d : b) d = pick == 0 ? std::max<int64_t>(d, 1) : pick == 1 ? 5 : 2;
    return b;
  }
  BlockArray Put(const NDArray& a) { return from_ndarray(a, Blocks(a)); }
  int64_t rotate_ = 0;
};

// 13 values of each dtype with its extremes, 0 and -1 (or NaN, infinities and -0.0).
NDArray Values(DType t, uint64_t seed) { return testing::SpecialNDArray({13}, t, seed); }

std::string Np(DType t) { return "np." + std::string(t == bool_ ? "bool_" : dtype_name(t)); }

TEST_P(DTypesTest, PromotionTableIsNumpys) {
  Reference ref;
  for (DType a : AllDTypes()) {
    for (DType b : AllDTypes()) {
      // The table itself: result_type against numpy.result_type (as a 0-d array of that dtype).
      ref.Expect("np.zeros((), np.result_type(" + Np(a) + ", " + Np(b) + "))",
                 [&] { return zeros({}, result_type(a, b)); });
    }
  }
  ref.Check();
}

TEST_P(DTypesTest, BinaryOpsOfEveryPairAreNumpys) {
  Reference ref;
  uint64_t seed = 1;
  for (DType ta : AllDTypes()) {
    for (DType tb : AllDTypes()) {
      const NDArray a = Values(ta, seed++), b = Values(tb, seed++);
      const std::string pa = ref.Input(a), pb = ref.Input(b);
      const BlockArray x = Put(a), y = Put(b);
      const std::string args = "(" + pa + ", " + pb + ")";
      ref.Expect("np.add" + args, [&] { return x + y; });
      ref.Expect("np.multiply" + args, [&] { return x * y; });
      ref.Expect("np.subtract" + args, [&] { return x - y; });
      ref.Expect("np.less" + args, [&] { return x < y; });
      ref.Expect("np.equal" + args, [&] { return x == y; });
      ref.Expect("np.bitwise_xor" + args, [&] { return x ^ y; });
      ref.Expect("np.maximum" + args, [&] { return maximum(x, y); });
      ref.Expect("np.true_divide" + args, [&] { return x / y; });
    }
  }
  ref.Check();
}

// NumPy 2's sign of complex numbers (z / |z|, with its cases for infinite and NaN moduli).
constexpr const char* kComplexSign = R"(
def csign(a):
    out = []
    for z in a.ravel():
        m = np.hypot(z.real, z.imag)
        if np.isnan(m): out.append(complex(np.nan, np.nan))
        elif np.isinf(m):
            if np.isinf(z.real):
                out.append(complex(np.nan, np.nan) if np.isinf(z.imag) else (1.0 if z.real > 0 else -1.0))
            else: out.append(complex(0.0, 1.0 if z.imag > 0 else -1.0))
        elif m == 0: out.append(0j)
        else: out.append(complex(z.real / m, z.imag / m))
    return np.array(out, dtype=np.complex128).reshape(a.shape)
)";

TEST_P(DTypesTest, ArithmeticOfOneDTypeWrapsAsNumpy) {
  Reference ref;
  ref.Define(kComplexSign);
  uint64_t seed = 100;
  for (DType t : AllDTypes()) {
    const NDArray a = Values(t, seed++), b = Values(t, seed++);
    const std::string pa = ref.Input(a), pb = ref.Input(b);
    const BlockArray x = Put(a), y = Put(b);
    const std::string args = "(" + pa + ", " + pb + ")";
    if (t != bool_) {
      ref.Expect("np.add" + args, [&] { return x + y; });
      ref.Expect("np.subtract" + args, [&] { return x - y; });
      ref.Expect("np.multiply" + args, [&] { return x * y; });
      ref.Expect("np.negative(" + pa + ")", [&] { return -x; });
    }
    ref.Expect("np.floor_divide" + args, [&] { return floor_divide(x, y); });
    ref.Expect("np.remainder" + args, [&] { return x % y; });
    ref.Expect("np.fmod" + args, [&] { return fmod(x, y); });
    ref.Expect("np.minimum" + args, [&] { return minimum(x, y); });
    ref.Expect("np.greater_equal" + args, [&] { return x >= y; });
    ref.Expect("np.bitwise_and" + args, [&] { return x & y; });
    ref.Expect("np.bitwise_or" + args, [&] { return x | y; });
    ref.Expect("np.left_shift" + args, [&] { return x << y; });
    ref.Expect("np.right_shift" + args, [&] { return x >> y; });
    ref.Expect("np.invert(" + pa + ")", [&] { return ~x; });
    ref.Expect("np.absolute(" + pa + ")", [&] { return abs(x); });
    // NumPy 1.24's complex sign is NumPy 2's only on the real axis: NumPy 2's z / |z| is
    // spelled out in Python (csign) for complex128.
    ref.Expect((t == complex128 ? "csign(" : "np.sign(") + pa + ")", [&] { return sign(x); });
    ref.Expect("np.square(" + pa + ")", [&] { return square(x); });
    ref.Expect("np.reciprocal(" + pa + ")", [&] { return reciprocal(x); });
    const std::string& fp = pa;
    ref.Expect("np.sqrt(" + fp + ")", [&] { return sqrt(x); });
    ref.Expect("np.exp(" + fp + ")", [&] { return exp(x); });
    ref.Expect("np.isnan(" + pa + ")", [&] { return isnan(x); });
    ref.Expect("np.where(" + pa + " > " + pb + ", " + pa + ", " + pb + ")",
               [&] { return where(x > y, x, y); });
  }
  // Known wraps of the small types, spelled out: 250 + 250 and 0 - 1 in uint8, 100 * 100 and
  // -128 // -1 in int8.
  const NDArray u = NDArray::from_vector(std::vector<uint8_t>{250, 255, 0, 128});
  const NDArray u2 = NDArray::from_vector(std::vector<uint8_t>{10, 1, 1, 200});
  const NDArray s = NDArray::from_vector(std::vector<int8_t>{100, -128, 127, -1});
  const NDArray s2 = NDArray::from_vector(std::vector<int8_t>{-1, -1, -1, -1});
  const std::string pu = ref.Input(u), pu2 = ref.Input(u2), ps = ref.Input(s), ps2 = ref.Input(s2);
  const BlockArray bu = Put(u), bu2 = Put(u2), bs = Put(s), bs2 = Put(s2);
  ref.Expect(pu + " + " + pu, [&] { return bu + bu; });
  ref.Expect(pu + " - " + pu2, [&] { return bu - bu2; });
  ref.Expect(ps + " * " + ps, [&] { return bs * bs; });
  ref.Expect(ps + " // " + ps2, [&] { return floor_divide(bs, bs2); });
  ref.Check();
  // The same wraps without NumPy.
  EXPECT_EQ((bu + bu).get().to_vector<int64_t>(), (std::vector<int64_t>{244, 254, 0, 0}));
  EXPECT_EQ((bu - bu2).get().to_vector<int64_t>(), (std::vector<int64_t>{240, 254, 255, 184}));
  EXPECT_EQ(floor_divide(bs, bs2).get().to_vector<int64_t>(),
            (std::vector<int64_t>{-100, -128, -127, 1}));
  EXPECT_EQ((bs * bs).get().to_vector<int64_t>(), (std::vector<int64_t>{16, 0, 1, 1}));
}

TEST_P(DTypesTest, PythonScalarsAreWeak) {
  Reference ref(/*weak_scalars=*/true);
  uint64_t seed = 200;
  for (DType t : AllDTypes()) {
    const NDArray a = Values(t, seed++);
    const std::string pa = ref.Input(a);
    const BlockArray x = Put(a);
    if (t != bool_) {
      ref.Expect(pa + " + 1", [&] { return x + 1; });
      ref.Expect(pa + " * 3", [&] { return x * 3; });
      ref.Expect(pa + " // 2", [&] { return floor_divide(x, 2); });
    } else {
      ref.Expect(pa + " + 1", [&] { return x + 1; });  // a Python int with bool: int64
    }
    ref.Expect(pa + " + 2.5", [&] { return x + 2.5; });
    ref.Expect(pa + " < 1", [&] { return x < 1; });
    ref.Expect("np.maximum(" + pa + ", 7)", [&] { return maximum(x, 7); });
    ref.Expect(pa + " == True", [&] { return x == true; });
    if (t == uint64 || is_floating(t) || is_complex(t)) {  // (NumPy 1.24 wraps for the others)
      const uint64_t big = (uint64_t{1} << 63) + 5;
      ref.Expect(pa + " + 9223372036854775813", [&] { return x + big; });
      ref.Expect(pa + " < 9223372036854775813", [&] { return x < big; });
    }
  }
  ref.Check();
  // A Python int that the array's integer dtype cannot hold raises (NumPy 2: OverflowError).
  const BlockArray u8 = arange(0, 10, 1, uint8), i8 = arange(0, 10, 1, int8);
  const BlockArray u64 = arange(0, 10, 1, uint64);
  EXPECT_THROW(u8 + 256, ValueError);
  EXPECT_THROW(u8 + -1, ValueError);
  EXPECT_THROW(i8 * 128, ValueError);
  EXPECT_THROW(u64 - -1, ValueError);
  EXPECT_NO_THROW(u8 + 255);
  EXPECT_NO_THROW(i8 + -128);
  EXPECT_EQ((u8 + 255).dtype(), uint8);
  // Comparisons with such an integer are exact, as in NumPy 2.
  EXPECT_TRUE((u8 < 300).all().item<bool>());
  EXPECT_TRUE((u8 > -1).all().item<bool>());
  EXPECT_FALSE((i8 == 1000).any().item<bool>());
  // Integers above int64's maximum meet uint64 (wrapping as NumPy's uint64 does), floats and
  // complex; other integer dtypes cannot hold them, and comparing with them is exact.
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ((u64 + big).dtype(), uint64);
  EXPECT_EQ((u64 + big).get().to_vector<uint64_t>()[0], big);
  EXPECT_EQ((u64 + big).get().to_vector<uint64_t>()[1], 0u);
  EXPECT_EQ(full({}, big).dtype(), uint64);
  EXPECT_EQ(full({}, big).item<uint64_t>(), big);
  EXPECT_EQ(full({2}, uint64_t{1} << 63, uint64).get().to_vector<uint64_t>()[1], uint64_t{1} << 63);
  EXPECT_DOUBLE_EQ((arange(0, 3, 1, float64) + big).get().to_vector<double>()[2],
                   18446744073709551616.0);
  testing::ExpectThrowWith<ValueError>([&] { (void)(i8 + big); }, {"18446744073709551615", "int8"});
  EXPECT_THROW(u8 * big, ValueError);
  EXPECT_THROW(arange(0, big), ValueError);
  EXPECT_TRUE((i8 < big).all().item<bool>());
  EXPECT_TRUE((big > u8).all().item<bool>());
  EXPECT_FALSE((u8 >= big).any().item<bool>());
  EXPECT_FALSE((i8 == big).any().item<bool>());
  EXPECT_TRUE((u64 < big).all().item<bool>());
  EXPECT_TRUE((full({}, big) == big).item<bool>());
}

TEST_P(DTypesTest, ReductionsHaveNumpysDTypesAndValues) {
  Reference ref;
  uint64_t seed = 300;
  for (DType t : AllDTypes()) {
    // Without infinities and NaN (whose sums are not interesting), 2-d.
    const NDArray a = testing::RandomNDArray({6, 5}, t, seed++);
    const std::string pa = ref.Input(a);
    const BlockArray x = Put(a);
    ref.Expect(pa + ".sum()", [&] { return x.sum(); });
    // NumPy adds rows of float16 in float16 (nums in float32).
    ref.Expect(
        pa + ".sum(axis=0)", [&] { return x.sum(0); }, 1e-2);
    ref.Expect(
        pa + ".prod(axis=1)", [&] { return x.prod(1); }, 1e-2);
    ref.Expect(pa + ".min()", [&] { return x.min(); });
    ref.Expect(pa + ".max(axis=0)", [&] { return x.max(0); });
    if (t == complex128) {
      // No complex kernels for these (NumPy orders complex numbers lexicographically).
      EXPECT_THROW(x.argmin(), DTypeError);
      EXPECT_THROW(sort(x.flatten()), DTypeError);
      EXPECT_THROW(unique_values(x), DTypeError);
      EXPECT_THROW(cumprod(x, 1), DTypeError);
    } else {
      ref.Expect(pa + ".argmin()", [&] { return x.argmin(); });
      ref.Expect(pa + ".argmax(axis=1)", [&] { return x.argmax(1); });
      ref.Expect("np.sort(" + pa + ".ravel())", [&] { return sort(x.flatten()); });
      ref.Expect("np.unique(" + pa + ")", [&] { return unique_values(x); });
    }
    ref.Expect(pa + ".mean()", [&] { return x.mean(); });
    ref.Expect(pa + ".mean(axis=1)", [&] { return x.mean(1); });
    ref.Expect(
        pa + ".var()", [&] { return x.var(); }, 1e-2);
    ref.Expect(pa + ".any(axis=0)", [&] { return x.any(0); });
    ref.Expect(pa + ".all()", [&] { return x.all(); });
    // Scans round each float16 step as NumPy does: exact.
    ref.Expect(
        "np.cumsum(" + pa + ", axis=1)", [&] { return cumsum(x, 1); }, 0.0);
    if (t != complex128) {
      ref.Expect(
          "np.cumprod(" + pa + ", axis=0)", [&] { return cumprod(x, 0); }, 0.0);
    }
    ref.Expect(
        pa + " @ " + pa + ".T", [&] { return matmul(x, x.T()); }, 1e-2);
    ref.Expect(
        pa + ".T @ " + pa, [&] { return matmul(x.T(), x); }, 1e-2);
  }
  ref.Check();
}

TEST_P(DTypesTest, AstypeBetweenEveryPairIsNumpys) {
  Reference ref;
  uint64_t seed = 400;
  for (DType from : AllDTypes()) {
    // In every dtype's range: integers 0..99, floats with fractions in [0, 100).
    NDArray a = testing::RandomNDArray({11}, float64, seed++);
    for (int64_t k = 0; k < a.size(); ++k) {
      a.data<double>()[k] = std::abs(a.data<double>()[k]) * 9.9;
    }
    const NDArray src = a.astype(from);
    const std::string ps = ref.Input(src);
    const BlockArray x = Put(src);
    for (DType to : AllDTypes()) {
      ref.Expect(
          ps + ".astype(" + Np(to) + ")", [&] { return x.astype(to); }, 0.0);
      ref.Expect(
          ps + ".astype(" + Np(to) + ").astype(" + Np(from) + ")",
          [&] { return x.astype(to).astype(from); }, 0.0);
    }
  }
  // float64 -> float16 rounds to nearest even once (not through float32), with overflow to
  // inf, subnormals and ties; and back.
  std::vector<double> v = {0.1,
                           -2.5,
                           65504.0,
                           65519.99,
                           65520.0,
                           1e-8,
                           2.9802322387695312e-08,
                           5.960464477539063e-08,
                           1.00048828125,
                           1.00146484375,
                           1.0004882812500002,
                           -0.0,
                           6.097555160522461e-05,
                           3.14159265358979,
                           1e5,
                           -1e-7};
  for (int k = 0; k < 40; ++k) v.push_back(std::ldexp(1.0 + k * 0.0001220703125, k - 20));
  const NDArray d = NDArray::from_vector(v);
  const std::string pd = ref.Input(d);
  const BlockArray xd = Put(d);
  ref.Expect(
      pd + ".astype(np.float16)", [&] { return xd.astype(float16); }, 0.0);
  ref.Expect(
      pd + ".astype(np.float32).astype(np.float16)",
      [&] { return xd.astype(float32).astype(float16); }, 0.0);
  ref.Expect(
      pd + ".astype(np.float16).astype(np.float64)",
      [&] { return xd.astype(float16).astype(float64); }, 0.0);
  // float -> uint8 of in-range values truncates toward zero.
  const NDArray f = NDArray::from_vector(std::vector<double>{0.0, 0.99, 1.5, 254.9, 255.0, 127.5});
  const std::string pf = ref.Input(f);
  const BlockArray xf = Put(f);
  ref.Expect(pf + ".astype(np.uint8)", [&] { return xf.astype(uint8); });
  ref.Expect(pf + ".astype(np.float32).astype(np.uint8)",
             [&] { return xf.astype(float32).astype(uint8); });
  ref.Check();
}

TEST_P(DTypesTest, CreationMakesEveryDType) {
  Reference ref;
  for (DType t : AllDTypes()) {
    ref.Expect("np.zeros((3, 4), " + Np(t) + ")", [&] { return zeros({3, 4}, t, {2, 3}); });
    ref.Expect("np.ones((5,), " + Np(t) + ")", [&] { return ones({5}, t, {2}); });
    ref.Expect("np.full((2, 3), 7, " + Np(t) + ")", [&] { return full({2, 3}, 7, t, {1, 2}); });
    if (t != bool_) {  // NumPy has no bool arange
      ref.Expect("np.arange(0, 20, 3, " + Np(t) + ")", [&] { return arange(0, 20, 3, t, {4}); });
    }
    ref.Expect("np.eye(4, dtype=" + Np(t) + ")", [&] { return eye(4, std::nullopt, 0, t); });
  }
  ref.Expect("np.linspace(0, 200, 7).astype(np.uint8)",
             [&] { return linspace(0, 200, 7, true, uint8); });
  ref.Check();
  // get() and item() of the new dtypes.
  EXPECT_EQ(full({}, 200, uint8).item<int64_t>(), 200);
  EXPECT_EQ(full({}, -5, int16).get().data<int16_t>()[0], -5);
  EXPECT_EQ(full({}, 0.1, float16).get().data<half>()[0].bits, 0x2e66);
  EXPECT_EQ(full({}, 0.1, float16).item<double>(), static_cast<double>(half(0.1)));
  const NDArray n = NDArray::from_vector(std::vector<uint16_t>{1, 65535});
  EXPECT_EQ(asarray(n).dtype(), uint16);
  EXPECT_EQ(from_ndarray(n).get().to_vector<int64_t>(), (std::vector<int64_t>{1, 65535}));
}

TEST_P(DTypesTest, PrintsAsNumpy) {
  const PythonResult r = RunPython(R"(
import numpy as np
arrays = [np.array([-128, 0, 127], np.int8), np.array([0, 255, 7], np.uint8),
          np.array([[1, -2], [300, -32768]], np.int16), np.array([0, 65535], np.uint16),
          np.array([0, 4294967295], np.uint32), np.array([0, 18446744073709551615], np.uint64),
          np.array([0.1, 1.5, -2.0, 65504], np.float16), np.array([1e-5, 3.0], np.float16),
          np.array([np.nan, -np.inf, 0.333], np.float16), np.array(np.float16(2.5)),
          np.array([1+2j, 3-1j]), np.array([[0.5j, -1.25+3j], [complex(np.nan, 1), complex(4, -np.inf)]]),
          np.array(2-3.5j), np.array([0j, 1j, -0.001+1e5j])]
for a in arrays:
    print(repr(a).replace('\n', '|'))
)",
                                   std::filesystem::temp_directory_path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> want;
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);) {
    for (auto& c : l) {
      if (c == '|') c = '\n';
    }
    want.push_back(l);
  }
  const std::vector<NDArray> arrays = {
      NDArray::from_vector(std::vector<int8_t>{-128, 0, 127}),
      NDArray::from_vector(std::vector<uint8_t>{0, 255, 7}),
      NDArray::from_vector(std::vector<int16_t>{1, -2, 300, -32768}, {2, 2}),
      NDArray::from_vector(std::vector<uint16_t>{0, 65535}),
      NDArray::from_vector(std::vector<uint32_t>{0, 4294967295u}),
      NDArray::from_vector(std::vector<uint64_t>{0, 18446744073709551615ull}),
      NDArray::from_vector(std::vector<double>{0.1, 1.5, -2.0, 65504}).astype(float16),
      NDArray::from_vector(std::vector<double>{1e-5, 3.0}).astype(float16),
      NDArray::from_vector(std::vector<double>{NAN, -INFINITY, 0.333}).astype(float16),
      NDArray::scalar(half(2.5)),
      NDArray::from_vector(std::vector<std::complex<double>>{{1, 2}, {3, -1}}),
      NDArray::from_vector(
          std::vector<std::complex<double>>{{0, 0.5}, {-1.25, 3}, {NAN, 1}, {4, -INFINITY}},
          {2, 2}),
      NDArray::scalar(std::complex<double>(2, -3.5)),
      NDArray::from_vector(std::vector<std::complex<double>>{{0, 0}, {0, 1}, {-0.001, 1e5}})};
  ASSERT_EQ(want.size(), arrays.size()) << r.output;
  for (size_t i = 0; i < arrays.size(); ++i) {
    EXPECT_EQ(repr(arrays[i]), want[i]);
    EXPECT_EQ(repr(Put(arrays[i])), want[i]);
  }
}

TEST_P(DTypesTest, ComplexArraysAreNumpys) {
  Reference ref(/*weak_scalars=*/true);
  ref.Define(kComplexSign);
  const NDArray a = testing::RandomNDArray({5, 7}, complex128, 600);
  const NDArray b = testing::RandomNDArray({5, 7}, complex128, 601);
  const NDArray f = testing::RandomNDArray({7}, float32, 602);
  const NDArray n = testing::RandomNDArray({5, 1}, int16, 603);
  const std::string pa = ref.Input(a), pb = ref.Input(b), pf = ref.Input(f), pn = ref.Input(n);
  const BlockArray x = Put(a), y = Put(b), z = Put(f), k = Put(n);
  // Arithmetic, broadcasting and promotion with real arrays.
  ref.Expect(pa + " * " + pf, [&] { return x * z; });
  ref.Expect(pn + " - " + pa, [&] { return k - x; });
  ref.Expect(pa + " / " + pb, [&] { return x / y; });
  ref.Expect(pa + " ** " + pb, [&] { return power(x, y); });
  ref.Expect(pa + " ** 3", [&] { return power(x, 3); });
  ref.Expect(pa + " ** -2", [&] { return power(x, -2); });
  ref.Expect(pa + " ** 0.5", [&] { return power(x, 0.5); });
  // Complex numbers as scalars (a complex Python scalar with float64 gives complex128).
  ref.Expect(pa + " * (2 - 1j)", [&] { return x * std::complex<double>(2, -1); });
  ref.Expect(pf + ".astype(np.float64) + 1j",
             [&] { return z.astype(float64) + std::complex<double>(0, 1); });
  ref.Expect("(3 + 4j) / " + pa, [&] { return std::complex<double>(3, 4) / x; });
  ref.Expect("np.full((2, 3), 1 - 2j)", [&] { return full({2, 3}, std::complex<double>(1, -2)); });
  // Parts.
  ref.Expect("np.real(" + pa + ")", [&] { return real(x); });
  ref.Expect("np.imag(" + pa + ")", [&] { return imag(x); });
  ref.Expect("np.conj(" + pa + ")", [&] { return conj(x); });
  ref.Expect("np.angle(" + pa + ")", [&] { return angle(x); });
  ref.Expect("np.angle(" + pa + ", deg=True)", [&] { return angle(x, true); });
  ref.Expect("np.real(" + pf + ")", [&] { return real(z); });
  ref.Expect("np.imag(" + pf + ")", [&] { return imag(z); });
  ref.Expect("np.conj(" + pn + ")", [&] { return conj(k); });
  ref.Expect("np.abs(" + pa + ")", [&] { return abs(x); });
  // Functions, each as NumPy's complex loop.
  const std::vector<std::pair<std::string, BlockArray (*)(const BlockArray&)>> fns = {
      {"exp", exp},          {"log", log},         {"log1p", log1p},
      {"sqrt", sqrt},        {"sin", sin},         {"cos", cos},
      {"tan", tan},          {"tanh", tanh},       {"sinh", sinh},
      {"cosh", cosh},        {"arcsin", arcsin},   {"arccos", arccos},
      {"arctan", arctan},    {"arcsinh", arcsinh}, {"arccosh", arccosh},
      {"arctanh", arctanh},  {"square", square},   {"reciprocal", reciprocal},
      {"expm1", expm1},      {"log2", log2},       {"log10", log10},
      {"exp2", exp2},        {"rint", rint},       {"isfinite", isfinite},
      {"negative", negative}};
  for (const auto& [name, fn] : fns) {
    ref.Expect("np." + name + "(" + pa + ")", [&, fn = fn] { return fn(x); });
  }
  ref.Expect("csign(" + pa + ")", [&] { return sign(x); });
  ref.Expect("np.round(" + pa + ", 1)", [&] { return round(x, 1); });
  // Comparisons (NumPy's lexicographic order) and logical ops.
  ref.Expect(pa + " < " + pb, [&] { return x < y; });
  ref.Expect(pa + " >= " + pa + ".real", [&] { return x >= real(x); });
  ref.Expect(pa + " == " + pa, [&] { return x == x; });
  ref.Expect("np.maximum(" + pa + ", " + pb + ")", [&] { return maximum(x, y); });
  ref.Expect("np.minimum(" + pa + ", 1)", [&] { return minimum(x, 1); });
  ref.Expect("np.logical_and(" + pa + ", " + pb + ")", [&] { return x && y; });
  ref.Expect("np.where(" + pa + ".real > 0, " + pa + ", " + pb + ")",
             [&] { return where(real(x) > 0, x, y); });
  // Reductions.
  ref.Expect(pa + ".sum(axis=1)", [&] { return x.sum(1); });
  ref.Expect(pa + ".prod()", [&] { return x.prod(); });
  ref.Expect(pa + ".mean(axis=0)", [&] { return x.mean(0); });
  ref.Expect(pa + ".var(axis=1)", [&] { return x.var(1); });
  ref.Expect(pa + ".std(ddof=1)", [&] { return x.std(Axes::all(), 1); });
  ref.Expect(pa + ".max(axis=1)", [&] { return x.max(1); });
  ref.Expect(pa + ".min()", [&] { return x.min(); });
  ref.Expect(pa + ".any()", [&] { return x.any(); });
  ref.Expect("np.cumsum(" + pa + ", axis=0)", [&] { return cumsum(x, 0); });
  ref.Expect("np.average(" + pa + ", axis=1, weights=" + pf + " ** 2)",
             [&] { return average(x, 1, z * z); });
  ref.Expect("np.average(" + pa + ")", [&] { return average(x); });
  ref.Expect("np.zeros((0, 3), np.complex128).sum(axis=0)", [&] {
    return zeros({0, 3}, complex128).sum(0);
  });
  // Products and norms.
  ref.Expect(pa + " @ " + pb + ".T", [&] { return matmul(x, y.T()); });
  ref.Expect(pa + ".T @ " + pa, [&] { return matmul(x.T(), x); });
  ref.Expect("np.tensordot(" + pa + ", " + pf + ", 1)", [&] { return tensordot(x, z, 1); });
  ref.Expect("np.vdot(" + pa + ", " + pb + ")", [&] { return vdot(x, y); });
  ref.Expect("np.sum(np.conj(" + pa + ") * " + pb + ", axis=-1)", [&] { return vecdot(x, y); });
  ref.Expect("np.linalg.norm(" + pa + ")", [&] { return linalg::norm(x); });
  ref.Expect("np.linalg.norm(" + pa + ", 1)", [&] { return linalg::norm(x, 1.0); });
  ref.Expect("np.isclose(" + pa + ", " + pa + " + 1e-9j)",
             [&] { return isclose(x, x + std::complex<double>(0, 1e-9)); });
  // Casts.
  ref.Expect(pa + ".astype(np.float32)", [&] { return x.astype(float32); });
  ref.Expect(pa + ".astype(np.int16)", [&] { return x.astype(int16); });
  ref.Expect(pa + ".astype(np.bool_)", [&] { return x.astype(bool_); });
  ref.Expect(pn + ".astype(np.complex128)", [&] { return k.astype(complex128); });
  ref.Check();

  // What NumPy has no complex loop for, and what nums has no complex kernel for, raise.
  EXPECT_THROW(floor_divide(x, y), DTypeError);
  EXPECT_THROW(x % y, DTypeError);
  EXPECT_THROW(x & y, DTypeError);
  EXPECT_THROW(~x, DTypeError);
  EXPECT_THROW(floor(x), DTypeError);
  EXPECT_THROW(arctan2(x, y), DTypeError);
  EXPECT_THROW(x.argmax(), DTypeError);
  EXPECT_THROW(nanmax(x), DTypeError);
  EXPECT_THROW(median(x), DTypeError);
  EXPECT_THROW(linalg::inv(matmul(x, x.T())), DTypeError);
  EXPECT_THROW(linalg::norm(x, 2.0), DTypeError);
  EXPECT_THROW(cov(x), DTypeError);
  EXPECT_THROW(models::LogisticRegression().fit(x, real(x).sum(1) > 0), DTypeError);
  // In place, NumPy's same_kind casting: complex into a float array raises, a float into a
  // complex one does not.
  BlockArray w = zeros({3}, float64);
  EXPECT_THROW(w += std::complex<double>(0, 1), DTypeError);
  BlockArray v = zeros({3}, complex128);
  v += 2.5;
  v *= std::complex<double>(0, 2);
  EXPECT_EQ(v.get().value_at<std::complex<double>>(2), std::complex<double>(0, 5));
  // Values through item, get and printing.
  const BlockArray c = full({}, std::complex<double>(1.5, -2));
  EXPECT_EQ(c.dtype(), complex128);
  EXPECT_EQ(c.item<std::complex<double>>(), std::complex<double>(1.5, -2));
  EXPECT_EQ(repr(c), "array(1.5-2.j)");
  EXPECT_EQ((c * std::complex<double>(0, 1)).item<std::complex<double>>(),
            std::complex<double>(2, 1.5));
}

TEST_P(DTypesTest, FusedExpressionsMixDTypes) {
  // A chain the fusion path keeps as one task per block: casts, weak scalars and where.
  Reference ref;
  const NDArray a = testing::RandomNDArray({7, 6}, uint8, 500);
  const NDArray b = testing::RandomNDArray({7, 6}, int16, 501);
  const NDArray c = testing::RandomNDArray({7, 6}, float16, 502);
  const std::string pa = ref.Input(a), pb = ref.Input(b), pc = ref.Input(c);
  const BlockArray x = Put(a), y = Put(b), z = Put(c);
  ref.Expect("((" + pa + " * 3 + " + pb + ") ^ 5) - " + pa, [&] { return ((x * 3 + y) ^ 5) - x; });
  ref.Expect("np.where(" + pa + " > 100, " + pc + ", " + pa + ") + " + pc,
             [&] { return where(x > 100, z, x) + z; });
  ref.Expect("(" + pa + ".astype(np.int8) + " + pb + ".astype(np.uint16)).sum(axis=0)",
             [&] { return (x.astype(int8) + y.astype(uint16)).sum(0); });
  ref.Expect("(" + pc + " * " + pc + ").astype(np.float16).max()", [&] { return (z * z).max(); });
  ref.Check();
}

TEST(DTypeTable, Float16ConvertsAsNumpyForEveryValue) {
  // Every float16 bit pattern to float64 and back to float16; NumPy's float64 of each.
  TempDir dir;
  NDArray as_half(float16, {65536});
  for (int64_t k = 0; k < 65536; ++k) {
    as_half.data<half>()[k] = half::from_bits(static_cast<uint16_t>(k));
  }
  testing::WriteRawBytes(as_half.astype(float64), dir.path() / "mine.raw");
  const PythonResult r = RunPython(R"(
import numpy as np
h = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
mine = np.frombuffer(open('mine.raw', 'rb').read(), dtype=np.float64)
want = h.astype(np.float64)
ok = np.array_equal(mine, want, equal_nan=True)
print('ok' if ok else 'differ', int((mine != want).sum()))
)",
                                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok"), std::string::npos) << r.output;
  // Finite values come back bit for bit; NaNs stay NaN.
  const NDArray back = as_half.astype(float64).astype(float16);
  int64_t differ = 0;
  for (int64_t k = 0; k < 65536; ++k) {
    const half a = as_half.data<half>()[k], b = back.data<half>()[k];
    const float fa = static_cast<float>(a);
    if (std::isnan(fa) ? !std::isnan(static_cast<float>(b)) : a.bits != b.bits) ++differ;
  }
  EXPECT_EQ(differ, 0);
}

TEST(DTypeTable, NamesSizesAndKinds) {
  EXPECT_EQ(dtype_name(uint16), "uint16");
  EXPECT_EQ(itemsize(float16), 2);
  EXPECT_EQ(itemsize(uint64), 8);
  EXPECT_TRUE(is_unsigned(uint8));
  EXPECT_FALSE(is_unsigned(bool_));
  EXPECT_TRUE(is_signed_integer(int8));
  EXPECT_TRUE(is_floating(float16));
  EXPECT_TRUE(can_cast(uint8, int16));
  EXPECT_FALSE(can_cast(int8, uint8));
  EXPECT_FALSE(can_cast(int64, uint64));
  EXPECT_TRUE(can_cast(int16, float32));
  EXPECT_FALSE(can_cast(int16, float16));
  EXPECT_EQ(iinfo(uint64).max_unsigned, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(iinfo(int8).min, -128);
  EXPECT_EQ(finfo(float16).max, 65504.0);
  EXPECT_TRUE(isdtype(uint32, "unsigned integer"));
  EXPECT_FALSE(isdtype(uint32, "signed integer"));
  EXPECT_EQ(dtype_from_code(static_cast<int64_t>(float16)), float16);
  EXPECT_THROW(dtype_from_code(static_cast<int64_t>(kLastDType) + 1), DTypeError);
}

INSTANTIATE_TEST_SUITE_P(Nodes, DTypesTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace nums
