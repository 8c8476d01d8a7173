#pragma once
// Shared test helpers: blocks and dense arrays with known or seeded values, comparisons with
// asserted tolerances, and a dense reference for reductions.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/block.h"
#include "nums/context.hpp"
#include "nums/ndarray.hpp"

namespace nums::testing {

/// An array's shape and the block shape to lay it out in.
struct Layout {
  Shape shape, block;
};

/// A suite run on embedded clusters of GetParam() nodes of one thread each (one context per
/// test): INSTANTIATE_TEST_SUITE_P(Nodes, SuiteTest, ::testing::Values(1, 3)).
class OnNodes : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { ctx_ = init({.nodes = GetParam(), .threads_per_node = 1}); }
  Context ctx_{nullptr};
};

/// A float64 block of `shape` holding `values` (or 0, 1, 2, ... when empty).
engine::Block MakeBlock(engine::Shape shape, std::vector<double> values = {});

/// A 1-d float64 block of `n` elements: start, start + 1, ...
engine::Block Ramp(int64_t n, double start);

/// The block's float64 elements.
std::vector<double> Values(const engine::Block& block);

/// Seeded values of `dtype`: floats in [-10, 10), integers in [-50, 50), bools half true.
NDArray RandomNDArray(const Shape& shape, DType dtype, uint64_t seed);

/// Asserts equal shapes and elements within `tol` (absolute + relative); NaNs must match NaNs.
::testing::AssertionResult ArrayNear(const NDArray& got, const NDArray& want, double tol = 1e-12);
#define EXPECT_ARRAY_NEAR(got, want, tol) EXPECT_TRUE(::nums::testing::ArrayNear(got, want, tol))
#define EXPECT_ARRAY_EQ(got, want) EXPECT_TRUE(::nums::testing::ArrayNear(got, want, 0.0))
/// Same dtype, shape and bytes (NaN payloads and -0.0 included).
::testing::AssertionResult SameBytes(const NDArray& got, const NDArray& want);
#define EXPECT_SAME_BYTES(got, want) EXPECT_TRUE(::nums::testing::SameBytes(got, want))

/// Row-major strides (in elements) of `shape`, and the index of flat position k in it.
Shape Strides(const Shape& shape);
Shape Unravel(int64_t k, const Shape& shape);

/// Expects `f` to throw E with every one of `parts` in its message.
template <typename E, typename F>
void ExpectThrowWith(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const auto& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
    }
  }
}

/// Dense reference: applies f elementwise (as doubles) with NumPy broadcasting; result in `dtype`.
NDArray RefBinary(const NDArray& a, const NDArray& b, DType dtype,
                  const std::function<double(double, double)>& f);
NDArray RefUnary(const NDArray& a, DType dtype, const std::function<double(double)>& f);

/// Dense reference of a reduction over sorted `axes` (all when empty and `all_axes`), folding
/// doubles with `step` from `init`.
NDArray RefReduce(const NDArray& x, std::vector<int64_t> axes, bool keepdims, DType dtype,
                  double init, const std::function<double(double, double)>& step);

}  // namespace nums::testing
