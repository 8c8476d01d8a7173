// repr / operator<< against the strings NumPy 1.24 prints for the same arrays (each expected
// string below is repr() of the NumPy expression in its comment).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nums/nums.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace nums {
namespace {

class ReprTest : public testing::OnNodes {};

NDArray Range(int64_t n, DType dtype, double scale = 1.0) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = static_cast<double>(k) * scale;
  return NDArray::from_vector(v).astype(dtype);
}

/// repr of `a` as an NDArray and as BlockArrays of several block shapes must all be `want`.
void ExpectRepr(const NDArray& a, const std::string& want) {
  EXPECT_EQ(repr(a), want);
  std::vector<Shape> blocks = {Shape{}};
  if (a.ndim() > 0 && a.size() > 0) {
    Shape small(a.shape());
    for (auto& b : small) b = std::max<int64_t>(1, (b + 2) / 3);
    blocks.push_back(small);
    Shape ones(a.shape().size(), 1);
    if (a.size() <= 2000) blocks.push_back(ones);
  }
  for (const auto& b : blocks) {
    SCOPED_TRACE("block shape " + shape_str(b));
    const BlockArray x = from_ndarray(a, b);
    std::ostringstream os;
    os << x;
    EXPECT_EQ(os.str(), want);
  }
}

TEST_P(ReprTest, Integers) {
  // np.arange(30)
  ExpectRepr(Range(30, int64),
             "array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n"
             "       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])");
  // np.arange(6, dtype=np.int32).reshape(2, 3)
  ExpectRepr(Range(6, int32).reshape({2, 3}),
             "array([[0, 1, 2],\n"
             "       [3, 4, 5]], dtype=int32)");
  // np.arange(24).reshape(2, 3, 4)
  ExpectRepr(Range(24, int64).reshape({2, 3, 4}),
             "array([[[ 0,  1,  2,  3],\n"
             "        [ 4,  5,  6,  7],\n"
             "        [ 8,  9, 10, 11]],\n\n"
             "       [[12, 13, 14, 15],\n"
             "        [16, 17, 18, 19],\n"
             "        [20, 21, 22, 23]]])");
  // np.arange(1001, dtype=np.int32) * 1000: summarised, dtype moved to its own line
  ExpectRepr(Range(1001, int32, 1000.0),
             "array([      0,    1000,    2000, ...,  998000,  999000, 1000000],\n"
             "      dtype=int32)");
  // np.array(7, dtype=np.int32)
  ExpectRepr(NDArray::scalar<int32_t>(7), "array(7, dtype=int32)");
}

TEST_P(ReprTest, Floats) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // np.array([1.5, 2.25, -3.0])
  ExpectRepr(NDArray::from_vector<double>({1.5, 2.25, -3.0}), "array([ 1.5 ,  2.25, -3.  ])");
  // np.array([0.1, 1/3])
  ExpectRepr(NDArray::from_vector<double>({0.1, 1.0 / 3}), "array([0.1       , 0.33333333])");
  // np.array([1e-5, 1.5]) and np.array([0.001, 2.0]): scientific
  ExpectRepr(NDArray::from_vector<double>({1e-5, 1.5}), "array([1.0e-05, 1.5e+00])");
  ExpectRepr(NDArray::from_vector<double>({0.001, 2.0}), "array([1.e-03, 2.e+00])");
  // np.array([np.nan, 1.0, -np.inf]) and np.array([np.nan, np.nan])
  ExpectRepr(NDArray::from_vector<double>({nan, 1.0, -inf}), "array([ nan,   1., -inf])");
  ExpectRepr(NDArray::from_vector<double>({nan, nan}), "array([nan, nan])");
  // np.array(5.0) and np.zeros(3)
  ExpectRepr(NDArray::scalar<double>(5.0), "array(5.)");
  ExpectRepr(NDArray(float64, {3}), "array([0., 0., 0.])");
  // np.array([0.3, 1e-7], dtype=np.float32): float32 digits are float32's shortest
  ExpectRepr(NDArray::from_vector<float>({0.3f, 1e-7f}), "array([3.e-01, 1.e-07], dtype=float32)");
}

TEST_P(ReprTest, SummarisedMatrix) {
  // np.arange(2000.0).reshape(40, 50)
  ExpectRepr(Range(2000, float64).reshape({40, 50}),
             "array([[0.000e+00, 1.000e+00, 2.000e+00, ..., 4.700e+01, 4.800e+01,\n"
             "        4.900e+01],\n"
             "       [5.000e+01, 5.100e+01, 5.200e+01, ..., 9.700e+01, 9.800e+01,\n"
             "        9.900e+01],\n"
             "       [1.000e+02, 1.010e+02, 1.020e+02, ..., 1.470e+02, 1.480e+02,\n"
             "        1.490e+02],\n"
             "       ...,\n"
             "       [1.850e+03, 1.851e+03, 1.852e+03, ..., 1.897e+03, 1.898e+03,\n"
             "        1.899e+03],\n"
             "       [1.900e+03, 1.901e+03, 1.902e+03, ..., 1.947e+03, 1.948e+03,\n"
             "        1.949e+03],\n"
             "       [1.950e+03, 1.951e+03, 1.952e+03, ..., 1.997e+03, 1.998e+03,\n"
             "        1.999e+03]])");
}

TEST_P(ReprTest, SummarisedCubeKeepsBlankLines) {
  // (np.arange(1331.) / 7).reshape(11, 11, 11): first plane, then the summary line
  const std::string got =
      repr(from_ndarray(Range(1331, float64, 1.0 / 7).reshape({11, 11, 11}), {4, 5, 3}));
  const std::string head =
      "array([[[0.00000000e+00, 1.42857143e-01, 2.85714286e-01, ...,\n"
      "         1.14285714e+00, 1.28571429e+00, 1.42857143e+00],\n"
      "        [1.57142857e+00, 1.71428571e+00, 1.85714286e+00, ...,\n"
      "         2.71428571e+00, 2.85714286e+00, 3.00000000e+00],\n";
  EXPECT_EQ(got.substr(0, head.size()), head);
  EXPECT_NE(got.find("        ...,\n        [1.25714286e+01"), std::string::npos) << got;
  EXPECT_NE(got.find("5.17142857e+01]],\n\n       ...,\n\n       [[1.38285714e+02"),
            std::string::npos)
      << got;
  const std::string tail = "         1.89714286e+02, 1.89857143e+02, 1.90000000e+02]]])";
  EXPECT_EQ(got.substr(got.size() - tail.size()), tail);
}

TEST_P(ReprTest, BoolsAndEmpty) {
  // np.array([True, False])
  ExpectRepr(NDArray::from_vector<bool>({true, false}), "array([ True, False])");
  // np.zeros((0, 3)), np.zeros(0), np.zeros((0, 3), dtype=np.int32)
  ExpectRepr(NDArray(float64, {0, 3}), "array([], shape=(0, 3), dtype=float64)");
  ExpectRepr(NDArray(float64, {0}), "array([], dtype=float64)");
  ExpectRepr(NDArray(int32, {0, 3}), "array([], shape=(0, 3), dtype=int32)");
}

TEST_P(ReprTest, LargeArrayGathersOnlyItsEdges) {
  // 4000 x 4000 float64 is 128 MB; printing it must not gather it. Its repr shows the same
  // edges only.
  const BlockArray x = arange(16000000.0).reshape({4000, 4000}, {1000, 1000});
  // repr(np.arange(16000000.0).reshape(4000, 4000))
  EXPECT_EQ(repr(x),
            "array([[0.0000000e+00, 1.0000000e+00, 2.0000000e+00, ..., 3.9970000e+03,\n"
            "        3.9980000e+03, 3.9990000e+03],\n"
            "       [4.0000000e+03, 4.0010000e+03, 4.0020000e+03, ..., 7.9970000e+03,\n"
            "        7.9980000e+03, 7.9990000e+03],\n"
            "       [8.0000000e+03, 8.0010000e+03, 8.0020000e+03, ..., 1.1997000e+04,\n"
            "        1.1998000e+04, 1.1999000e+04],\n"
            "       ...,\n"
            "       [1.5988000e+07, 1.5988001e+07, 1.5988002e+07, ..., 1.5991997e+07,\n"
            "        1.5991998e+07, 1.5991999e+07],\n"
            "       [1.5992000e+07, 1.5992001e+07, 1.5992002e+07, ..., 1.5995997e+07,\n"
            "        1.5995998e+07, 1.5995999e+07],\n"
            "       [1.5996000e+07, 1.5996001e+07, 1.5996002e+07, ..., 1.5999997e+07,\n"
            "        1.5999998e+07, 1.5999999e+07]])");
}

INSTANTIATE_TEST_SUITE_P(Nodes, ReprTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
