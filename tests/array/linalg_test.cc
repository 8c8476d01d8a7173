#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <nums/nums.hpp>
#include <random>
#include <set>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::RandomNDArray;
using testing::RefReduce;
using testing::RefUnary;

constexpr double kInf = std::numeric_limits<double>::infinity();

class ProductsTest : public testing::OnNodes {};

using testing::Strides;
using testing::Unravel;

// Dense doubles as an NDArray of `dtype` (bool: non-zero).
NDArray FromDoubles(const std::vector<double>& v, const Shape& shape, DType dtype) {
  return NDArray::from_vector(v, {static_cast<int64_t>(v.size())}).reshape(shape).astype(dtype);
}

// NumPy's tensordot by definition, with loops over the output and the contracted indices.
NDArray RefTensordot(const NDArray& a, const NDArray& b, const std::vector<int64_t>& ax,
                     const std::vector<int64_t>& bx, DType dtype) {
  auto is_in = [](const std::vector<int64_t>& v, int64_t d) {
    return std::find(v.begin(), v.end(), d) != v.end();
  };
  std::vector<int64_t> fa, fb;
  Shape out_shape, k_shape;
  for (int64_t d = 0; d < a.ndim(); ++d) {
    if (!is_in(ax, d)) fa.push_back(d);
  }
  for (int64_t d = 0; d < b.ndim(); ++d) {
    if (!is_in(bx, d)) fb.push_back(d);
  }
  for (int64_t d : fa) out_shape.push_back(a.shape()[d]);
  for (int64_t d : fb) out_shape.push_back(b.shape()[d]);
  for (int64_t d : ax) k_shape.push_back(a.shape()[d]);
  const Shape sa = Strides(a.shape()), sb = Strides(b.shape());
  std::vector<double> out(static_cast<size_t>(shape_size(out_shape)));
  for (size_t o = 0; o < out.size(); ++o) {
    const Shape oi = Unravel(static_cast<int64_t>(o), out_shape);
    int64_t base_a = 0, base_b = 0;
    for (size_t i = 0; i < fa.size(); ++i) base_a += oi[i] * sa[fa[i]];
    for (size_t i = 0; i < fb.size(); ++i) base_b += oi[fa.size() + i] * sb[fb[i]];
    double acc = 0;
    for (int64_t k = 0; k < shape_size(k_shape); ++k) {
      const Shape ki = Unravel(k, k_shape);
      int64_t ia = base_a, ib = base_b;
      for (size_t p = 0; p < ax.size(); ++p) {
        ia += ki[p] * sa[ax[p]];
        ib += ki[p] * sb[bx[p]];
      }
      acc += a.value_at<double>(ia) * b.value_at<double>(ib);
    }
    out[o] = acc;
  }
  return FromDoubles(out, out_shape, dtype);
}

// NumPy's matmul by definition: 1-d operands promoted, batch axes broadcast, then removed.
NDArray RefMatmul(const NDArray& a, const NDArray& b, DType dtype) {
  const NDArray a2 = a.ndim() == 1 ? a.reshape({1, a.shape()[0]}) : a;
  const NDArray b2 = b.ndim() == 1 ? b.reshape({b.shape()[0], 1}) : b;
  const int64_t m = a2.shape()[a2.ndim() - 2], k = a2.shape()[a2.ndim() - 1];
  const int64_t n = b2.shape()[b2.ndim() - 1];
  const size_t nb = static_cast<size_t>(std::max(a2.ndim(), b2.ndim()) - 2);
  Shape ba(a2.shape().begin(), a2.shape().end() - 2), bb(b2.shape().begin(), b2.shape().end() - 2);
  ba.insert(ba.begin(), nb - ba.size(), 1);
  bb.insert(bb.begin(), nb - bb.size(), 1);
  Shape batch(nb);
  for (size_t d = 0; d < nb; ++d) batch[d] = std::max(ba[d], bb[d]);
  const Shape sba = Strides(ba), sbb = Strides(bb);
  std::vector<double> out;
  for (int64_t t = 0; t < shape_size(batch); ++t) {
    const Shape ti = Unravel(t, batch);
    int64_t oa = 0, ob = 0;
    for (size_t d = 0; d < nb; ++d) {
      oa += (ba[d] == 1 ? 0 : ti[d]) * sba[d];
      ob += (bb[d] == 1 ? 0 : ti[d]) * sbb[d];
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < k; ++l) {
          acc += a2.value_at<double>(oa * m * k + i * k + l) *
                 b2.value_at<double>(ob * k * n + l * n + j);
        }
        out.push_back(acc);
      }
    }
  }
  Shape shape = batch;
  if (a.ndim() > 1) shape.push_back(m);
  if (b.ndim() > 1) shape.push_back(n);
  return FromDoubles(out, shape, dtype);
}

struct Operands {
  Shape a, ab, b, bb;
};

std::string Describe(const Operands& c) {
  return shape_str(c.a) + " blocks " + shape_str(c.ab) + " @ " + shape_str(c.b) + " blocks " +
         shape_str(c.bb);
}

void ExpectMatmulMatches(const std::vector<Operands>& cases, DType dtype, double tol) {
  uint64_t seed = 10;
  for (const auto& c : cases) {
    SCOPED_TRACE(Describe(c) + " " + std::string(dtype_name(dtype)));
    const NDArray x = RandomNDArray(c.a, dtype, ++seed), y = RandomNDArray(c.b, dtype, ++seed);
    const NDArray got = matmul(from_ndarray(x, c.ab), from_ndarray(y, c.bb)).get();
    EXPECT_EQ(got.dtype(), dtype);
    EXPECT_ARRAY_NEAR(got, RefMatmul(x, y, dtype), tol);
  }
}

TEST_P(ProductsTest, MatmulMatchesReferenceOverBlockLayouts) {
  ExpectMatmulMatches(
      {
          {{7, 5}, {3, 2}, {5, 6}, {2, 4}},      // contracted blocks line up
          {{7, 5}, {3, 3}, {5, 6}, {2, 4}},      // they do not: one operand is re-blocked
          {{7, 11}, {7, 3}, {11, 4}, {5, 4}},    // uneven blocks, 4 partial products
          {{10, 12}, {3, 5}, {12, 7}, {12, 7}},  // whole b against a split a
          {{4, 13}, {4, 13}, {13, 30}, {2, 7}},  // the smaller a is re-blocked
          {{6, 8}, {6, 8}, {8, 5}, {8, 5}},      // one block each
          {{1, 9}, {1, 4}, {9, 1}, {4, 1}},      // 1 x 1 result
          {{9, 17}, {2, 5}, {17, 3}, {3, 2}},    // many blocks both ways
      },
      float64, 1e-12);
}

TEST_P(ProductsTest, MatmulPromotesOneDimensionalOperands) {
  ExpectMatmulMatches(
      {
          {{5}, {2}, {5, 6}, {2, 4}},        // 1-d @ 2-d
          {{7, 5}, {3, 3}, {5}, {2}},        // 2-d @ 1-d
          {{11}, {4}, {11}, {3}},            // 1-d @ 1-d: 0-d
          {{4}, {3}, {2, 4, 3}, {1, 2, 2}},  // 1-d @ 3-d
          {{2, 3, 4}, {1, 2, 3}, {4}, {4}},  // 3-d @ 1-d
          {{1}, {1}, {1, 1}, {1, 1}},        // length 1
      },
      float64, 1e-12);
  EXPECT_EQ(matmul(ones({4}), ones({4})).ndim(), 0);
}

TEST_P(ProductsTest, BatchedMatmulBroadcastsLeadingAxes) {
  ExpectMatmulMatches(
      {
          {{2, 5, 4}, {1, 3, 2}, {2, 4, 3}, {1, 2, 2}},              // same batch blocks
          {{4, 5, 3}, {3, 2, 2}, {4, 3, 2}, {2, 3, 1}},              // batch blocks differ
          {{1, 5, 4}, {1, 2, 3}, {3, 4, 2}, {2, 3, 2}},              // batch 1 broadcasts
          {{5, 4}, {2, 3}, {3, 4, 2}, {2, 4, 1}},                    // 2-d @ 3-d
          {{4, 6, 5}, {3, 4, 2}, {5, 3}, {2, 2}},                    // 3-d @ 2-d
          {{3, 1, 5, 4}, {2, 1, 3, 4}, {2, 4, 3}, {1, 3, 3}},        // 4-d @ 3-d
          {{2, 3, 2, 2}, {1, 2, 2, 1}, {2, 3, 2, 2}, {2, 1, 1, 2}},  // 4-d @ 4-d
      },
      float64, 1e-12);
}

TEST_P(ProductsTest, MatmulEveryDtype) {
  const std::vector<Operands> cases = {
      {{9, 7}, {4, 3}, {7, 5}, {3, 2}},
      {{9, 7}, {4, 7}, {7, 5}, {3, 5}},
      {{2, 3, 4}, {1, 2, 3}, {2, 4, 3}, {2, 2, 2}},
  };
  ExpectMatmulMatches(cases, float64, 1e-12);
  ExpectMatmulMatches(cases, float32, 1e-4);
  ExpectMatmulMatches(cases, int64, 0);
  ExpectMatmulMatches(cases, int32, 0);
  ExpectMatmulMatches(cases, bool_, 0);
  // bool @ bool is a logical or of ands: true when any pair is true, never 2.
  BlockArray t = full({3, 4}, true, bool_, {2, 3}), f = full({4, 2}, true, bool_, {3, 1});
  EXPECT_ARRAY_EQ(matmul(t, f).get(), full({3, 2}, true).get());
}

// x.T() is recorded, not submitted: a product reads the blocks of x with GEMM's transpose flag
// (a symmetric rank-k update for x.T() @ x). Checked against tensordot by definition on the
// untransposed operands, for every dtype and several block layouts.
TEST_P(ProductsTest, TransposedOperandsAreReadInPlace) {
  struct Case {
    Shape x, xb, y, yb;
  };
  const std::vector<Case> cases = {
      {{13, 5}, {4, 5}, {13, 3}, {4, 3}},  // row blocks that line up
      {{13, 5}, {4, 2}, {13, 6}, {5, 4}},  // they do not: one operand is re-blocked
      {{6, 1}, {6, 1}, {6, 7}, {2, 7}},    // one column
      {{9, 9}, {3, 3}, {9, 9}, {3, 3}},    // square, many blocks both ways
  };
  uint64_t seed = 100;
  for (DType t : {float64, float32, int64, int32, bool_}) {
    const double tol = t == float32 ? 1e-4 : (t == float64 ? 1e-12 : 0);
    for (const auto& c : cases) {
      SCOPED_TRACE(shape_str(c.x) + " blocks " + shape_str(c.xb) + ", " + shape_str(c.y) +
                   " blocks " + shape_str(c.yb) + " " + std::string(dtype_name(t)));
      const NDArray xv = RandomNDArray(c.x, t, ++seed), yv = RandomNDArray(c.y, t, ++seed);
      const BlockArray x = from_ndarray(xv, c.xb), y = from_ndarray(yv, c.yb);
      const NDArray xtx = matmul(x.T(), x).get();
      EXPECT_EQ(xtx.dtype(), t);
      EXPECT_ARRAY_NEAR(xtx, RefTensordot(xv, xv, {0}, {0}, t), tol);
      EXPECT_ARRAY_NEAR(matmul(x, x.T()).get(), RefTensordot(xv, xv, {1}, {1}, t), tol);
      EXPECT_ARRAY_NEAR(matmul(x.T(), y).get(), RefTensordot(xv, yv, {0}, {0}, t), tol);
      EXPECT_ARRAY_NEAR(matmul(y.T(), x).get(), RefTensordot(yv, xv, {0}, {0}, t), tol);
      EXPECT_ARRAY_NEAR(dot(x.T(), y).get(), RefTensordot(xv, yv, {0}, {0}, t), tol);
      if (t == float64 && c.xb[1] == c.x[1]) {
        // One column block: each partial product is a mirrored rank-k update, so x.T() @ x is
        // exactly symmetric.
        EXPECT_ARRAY_EQ(matmul(x.T(), x).T().get(), xtx);
      }
    }
  }
  // Mixed dtypes: the source is cast, then read transposed.
  const NDArray iv = RandomNDArray({7, 4}, int32, 1), fv = RandomNDArray({7, 3}, float64, 2);
  const BlockArray i = from_ndarray(iv, {3, 4}), f = from_ndarray(fv, {3, 3});
  EXPECT_ARRAY_NEAR(matmul(i.T(), f).get(), RefTensordot(iv, fv, {0}, {0}, float64), 1e-12);
  // A 1-d operand after a transposed matrix.
  const NDArray vv = RandomNDArray({7}, float64, 3);
  EXPECT_ARRAY_NEAR(matmul(f.T(), from_ndarray(vv, {2})).get(),
                    RefTensordot(fv, vv, {0}, {0}, float64), 1e-12);
  // Three axes: a transpose that keeps the free axes in order is read in place, one that swaps
  // them is submitted first; both give tensordot's result.
  const NDArray av = RandomNDArray({2, 3, 4}, float64, 4), wv = RandomNDArray({3, 5}, float64, 5);
  const BlockArray a = from_ndarray(av, {1, 2, 3}), w = from_ndarray(wv, {2, 5});
  EXPECT_ARRAY_NEAR(matmul(a.transpose({0, 2, 1}), w).get(),
                    RefTensordot(av, wv, {1}, {0}, float64), 1e-12);
  const NDArray sv = RandomNDArray({4, 5}, float64, 6);
  const NDArray swapped = matmul(a.transpose({1, 0, 2}), from_ndarray(sv, {3, 2})).get();
  EXPECT_EQ(swapped.shape(), (Shape{3, 2, 5}));
  EXPECT_ARRAY_NEAR(tensordot(a.transpose({1, 0, 2}), from_ndarray(sv), 1).get(), swapped, 1e-12);
}

TEST_P(ProductsTest, ATransposedProductTransposesNoBlock) {
  const BlockArray x = from_ndarray(RandomNDArray({40, 6}, float64, 7), {10, 6});
  const BlockArray y = from_ndarray(RandomNDArray({40, 2}, float64, 8), {10, 2});
  const std::string path = ::testing::TempDir() + "/transposed_product_trace.json";
  auto recording = ctx_.start_timeline();
  const NDArray got = linalg::solve(matmul(x.T(), x), matmul(x.T(), y)).get();
  recording.save(path);
  std::ifstream in(path);
  const std::string trace((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(trace.find("array.tensordot"), std::string::npos);
  EXPECT_EQ(trace.find("array.transpose"), std::string::npos) << trace.substr(0, 2000);
  EXPECT_EQ(got.shape(), (Shape{6, 2}));
  std::remove(path.c_str());
}

// Transposes are copies, as every other nums operation (NumPy's are views): a write through the
// original after x.T() does not show in the transpose, pending or submitted.
TEST_P(ProductsTest, TransposesKeepTheValuesTheyWereTakenFrom) {
  BlockArray x = from_ndarray(RandomNDArray({5, 4}, float64, 9), {2, 3});
  const NDArray before = x.T().get();
  const BlockArray t = x.T();
  const BlockArray tt = x.T().T();
  x += 1;
  x(0, 0) = 100.0;
  EXPECT_ARRAY_EQ(t.get(), before);
  EXPECT_ARRAY_EQ(tt.T().get(), before);
  EXPECT_ARRAY_NEAR(matmul(t, ones({5})).get(), from_ndarray(before).sum(1).get(), 1e-12);
  // Composed transposes: back to the source's values and layout.
  const BlockArray a = from_ndarray(RandomNDArray({2, 3, 4}, int64, 10), {1, 2, 3});
  const BlockArray back = a.transpose({1, 2, 0}).transpose({2, 0, 1});
  EXPECT_EQ(back.shape(), a.shape());
  EXPECT_EQ(back.block_shape(), a.block_shape());
  EXPECT_ARRAY_EQ(back.get(), a.get());
  EXPECT_ARRAY_EQ(a.transpose({2, 0, 1}).transpose({2, 0, 1}).get(), a.transpose({1, 2, 0}).get());
  // A copy of a pending transpose is one as well.
  const BlockArray c = a.transpose({2, 1, 0}).copy();
  EXPECT_EQ(c.shape(), (Shape{4, 3, 2}));
  EXPECT_ARRAY_EQ(c.transpose({2, 1, 0}).get(), a.get());
}

TEST_P(ProductsTest, MixedDtypesArePromoted) {
  const NDArray x = RandomNDArray({6, 5}, int32, 1), y = RandomNDArray({5, 4}, float32, 2);
  const NDArray z = RandomNDArray({5, 4}, bool_, 3), w = RandomNDArray({5, 4}, int64, 4);
  const BlockArray a = from_ndarray(x, {4, 2});
  const NDArray af = matmul(a, from_ndarray(y, {2, 3})).get();
  EXPECT_EQ(af.dtype(), float64);
  EXPECT_ARRAY_NEAR(af, RefMatmul(x, y, float64), 1e-12);
  const NDArray ab = matmul(a, from_ndarray(z, {3, 3})).get();
  EXPECT_EQ(ab.dtype(), int32);
  EXPECT_ARRAY_EQ(ab, RefMatmul(x, z, int32));
  const NDArray ai = matmul(a, from_ndarray(w, {5, 1})).get();
  EXPECT_EQ(ai.dtype(), int64);
  EXPECT_ARRAY_EQ(ai, RefMatmul(x, w, int64));
}

TEST_P(ProductsTest, EmptyContractionGivesZeros) {
  for (DType t : {float64, float32, int32, bool_}) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    const BlockArray a = zeros({3, 0}, t, {2, 0}), b = zeros({0, 4}, t, {0, 3});
    const BlockArray c = matmul(a, b);
    EXPECT_EQ(c.dtype(), t);
    EXPECT_ARRAY_EQ(c.get(), zeros({3, 4}, t).get());
    EXPECT_ARRAY_EQ(tensordot(a, b, {1}, {0}).get(), zeros({3, 4}, t).get());
  }
  EXPECT_ARRAY_EQ(dot(zeros({0}), zeros({0})).get(), NDArray::scalar(0.0));
  // An empty output axis: no blocks at all.
  const NDArray e = matmul(ones({0, 3}), ones({3, 4}, float64, {2, 2})).get();
  EXPECT_EQ(e.shape(), (Shape{0, 4}));
  EXPECT_EQ(matmul(ones({2, 3, 0}), ones({0, 5})).shape(), (Shape{2, 3, 5}));
  EXPECT_ARRAY_EQ(matmul(ones({2, 3, 0}), ones({0, 5})).get(), zeros({2, 3, 5}).get());
}

TEST_P(ProductsTest, TensordotMatchesReference) {
  struct Case {
    Operands ops;
    std::vector<int64_t> ax, bx;
  };
  const std::vector<Case> cases = {
      {{{6, 5}, {4, 2}, {6, 4}, {3, 3}}, {0}, {0}},                    // a^T b
      {{{6, 5}, {4, 2}, {4, 5}, {3, 2}}, {1}, {1}},                    // a b^T
      {{{6, 5}, {4, 2}, {4, 6}, {3, 4}}, {0}, {1}},                    // a^T b^T
      {{{4, 5, 6}, {2, 3, 4}, {6, 5, 3}, {4, 2, 2}}, {1, 2}, {1, 0}},  // permuted copies
      {{{4, 5, 6}, {2, 3, 4}, {5, 6, 3}, {3, 4, 2}}, {-2, -1}, {0, 1}},
      {{{3, 4}, {2, 3}, {5}, {2}}, {}, {}},  // outer product
      {{{2, 3, 4}, {1, 2, 3}, {3, 4, 2}, {2, 3, 1}}, {2, 1}, {1, 0}},
      {{{7}, {3}, {7}, {2}}, {0}, {0}},
  };
  for (DType t : {float64, float32, int64}) {
    uint64_t seed = 100;
    for (const auto& c : cases) {
      SCOPED_TRACE(Describe(c.ops) + " axes " + shape_str(c.ax) + " " + shape_str(c.bx) + " " +
                   std::string(dtype_name(t)));
      const NDArray x = RandomNDArray(c.ops.a, t, ++seed), y = RandomNDArray(c.ops.b, t, ++seed);
      std::vector<int64_t> ax = c.ax;
      for (auto& d : ax) d = d < 0 ? d + static_cast<int64_t>(c.ops.a.size()) : d;
      const NDArray got =
          tensordot(from_ndarray(x, c.ops.ab), from_ndarray(y, c.ops.bb), c.ax, c.bx).get();
      EXPECT_ARRAY_NEAR(got, RefTensordot(x, y, ax, c.bx, t), t == float32 ? 1e-4 : 1e-12);
    }
  }
  // An integer count: the last N axes of a with the first N of b.
  const NDArray x = RandomNDArray({3, 4, 5}, float64, 1), y = RandomNDArray({4, 5, 2}, float64, 2);
  const BlockArray a = from_ndarray(x, {2, 3, 2}), b = from_ndarray(y, {2, 2, 2});
  EXPECT_ARRAY_NEAR(tensordot(a, b).get(), RefTensordot(x, y, {1, 2}, {0, 1}, float64), 1e-12);
  const NDArray y1 = RandomNDArray({5, 2}, float64, 3);
  EXPECT_ARRAY_NEAR(tensordot(a, from_ndarray(y1, {3, 1}), 1).get(),
                    RefTensordot(x, y1, {2}, {0}, float64), 1e-12);
  EXPECT_ARRAY_NEAR(tensordot(a, from_ndarray(y1, {3, 1}), 0).get(),
                    RefTensordot(x, y1, {}, {}, float64), 1e-12);
}

TEST_P(ProductsTest, DotInnerOuterFollowNumPy) {
  const NDArray x = RandomNDArray({4, 6}, float64, 1), y = RandomNDArray({6, 3}, float64, 2);
  const NDArray z = RandomNDArray({2, 6, 5}, float64, 3), v = RandomNDArray({6}, float64, 4);
  const BlockArray a = from_ndarray(x, {3, 4}), b = from_ndarray(y, {2, 2});
  const BlockArray c = from_ndarray(z, {1, 4, 2}), w = from_ndarray(v, {4});
  EXPECT_ARRAY_NEAR(dot(a, b).get(), RefMatmul(x, y, float64), 1e-12);
  EXPECT_ARRAY_NEAR(dot(a, w).get(), RefMatmul(x, v, float64), 1e-12);
  EXPECT_ARRAY_NEAR(dot(w, w).get(), RefMatmul(v, v, float64), 1e-12);
  // N-d with M-d: the last axis of a against the second-to-last of b.
  EXPECT_ARRAY_NEAR(dot(a, c).get(), RefTensordot(x, z, {1}, {1}, float64), 1e-12);
  const BlockArray two = full({}, 2.0);
  EXPECT_ARRAY_NEAR(dot(a, two).get(), (a * 2.0).get(), 0);
  const NDArray u = RandomNDArray({2, 5, 6}, float64, 5);
  EXPECT_ARRAY_NEAR(inner(a, from_ndarray(u, {2, 3, 5})).get(),
                    RefTensordot(x, u, {1}, {2}, float64), 1e-12);
  EXPECT_ARRAY_NEAR(inner(w, w).get(), RefMatmul(v, v, float64), 1e-12);
  // outer flattens: a 4x6 matrix split both ways against a 1-d vector.
  const NDArray o = outer(a, w).get();
  ASSERT_EQ(o.shape(), (Shape{24, 6}));
  for (int64_t i = 0; i < 24; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      EXPECT_EQ(o.at<double>({i, j}), x.value_at<double>(i) * v.value_at<double>(j));
    }
  }
  const NDArray ob = outer(full({3}, true, bool_), array<bool>({true, false})).get();
  EXPECT_EQ(ob.dtype(), bool_);
  EXPECT_ARRAY_EQ(ob, NDArray::from_vector<bool>({true, false, true, false, true, false}, {3, 2}));
  EXPECT_EQ(outer(full({}, 3.0), w).shape(), (Shape{1, 6}));
}

TEST_P(ProductsTest, ProductIdentitiesHold) {
  std::mt19937_64 rng(42);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t n = pick(1, 12), m = pick(1, 12), p = pick(1, 12);
    SCOPED_TRACE("n=" + std::to_string(n) + " m=" + std::to_string(m) + " p=" + std::to_string(p));
    const BlockArray A =
        from_ndarray(RandomNDArray({n, m}, float64, 10 + trial), {pick(1, n), pick(1, m)});
    const BlockArray B =
        from_ndarray(RandomNDArray({m, p}, float64, 20 + trial), {pick(1, m), pick(1, p)});
    const BlockArray x = from_ndarray(RandomNDArray({p}, float64, 30 + trial), {pick(1, p)});
    // (AB)x == A(Bx): values up to 10 give terms up to ~1e5; 1e-9 relative is far from noise.
    EXPECT_ARRAY_NEAR(matmul(matmul(A, B), x).get(), matmul(A, matmul(B, x)).get(), 1e-9);
    // A I == A and I A == A exactly.
    EXPECT_ARRAY_EQ(matmul(A, eye(m, std::nullopt, 0, float64, {pick(1, m), pick(1, m)})).get(),
                    A.get());
    EXPECT_ARRAY_EQ(matmul(eye(n), A).get(), A.get());
    // tensordot(A, B, 1) == dot(A, B) == matmul(A, B).
    EXPECT_ARRAY_NEAR(tensordot(A, B, 1).get(), matmul(A, B).get(), 1e-12);
    EXPECT_ARRAY_NEAR(dot(A, B).get(), matmul(A, B).get(), 1e-12);
  }
}

TEST_P(ProductsTest, PartialProductsRunWhereTheLargerBlockLives) {
  // Row blocks of a tall A spread over the nodes; B is one smaller block on one node. Each
  // output block is a single partial product, made where its A block lives.
  const BlockArray A = from_ndarray(RandomNDArray({16, 4}, float64, 1), {4, 4});
  const BlockArray B = from_ndarray(RandomNDArray({4, 3}, float64, 2), {4, 3});
  EXPECT_EQ(matmul(A, B).block_nodes(), A.block_nodes());
  // And a wide B: the output blocks follow B's column blocks.
  const BlockArray W = from_ndarray(RandomNDArray({4, 12}, float64, 3), {4, 3});
  const BlockArray r = from_ndarray(RandomNDArray({1, 4}, float64, 4));
  EXPECT_EQ(matmul(r, W).block_nodes(), W.block_nodes());
  if (GetParam() > 1) {
    const auto nodes = A.block_nodes();
    EXPECT_GT(std::set<int64_t>(nodes.begin(), nodes.end()).size(), 1u);
  }
}

TEST_P(ProductsTest, BadShapesThrowAtTheCall) {
  const BlockArray a = ones({3, 4}), b = ones({5, 6}), v = ones({5});
  testing::ExpectThrowWith<ShapeError>([&] { matmul(a, b); }, {"(3, 4)", "(5, 6)"});
  testing::ExpectThrowWith<ShapeError>([&] { matmul(a, v); }, {"(3, 4)", "(5,)"});
  testing::ExpectThrowWith<ShapeError>([&] { matmul(v, a); }, {"(5,)", "(3, 4)"});
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        matmul(ones({2, 3, 4}), ones({3, 4, 5}));
      },
      {"(2, 3, 4)", "(3, 4, 5)"});
  testing::ExpectThrowWith<ShapeError>([&] { dot(a, b); }, {"(3, 4)", "(5, 6)"});
  testing::ExpectThrowWith<ShapeError>([&] { inner(a, b); }, {"(3, 4)", "(5, 6)"});
  testing::ExpectThrowWith<ShapeError>([&] { tensordot(a, b, {1}, {0}); }, {"(3, 4)", "(5, 6)"});
  testing::ExpectThrowWith<ShapeError>([&] { tensordot(a, b, 1); }, {"(3, 4)", "(5, 6)"});
  EXPECT_THROW(tensordot(a, b, {0, 1}, {0}), ValueError);
  EXPECT_THROW(tensordot(a, a, {0, 0}, {0, 0}), ValueError);
  EXPECT_THROW(tensordot(a, b, {2}, {0}), IndexError);
  EXPECT_THROW(tensordot(a, b, 3), ValueError);
  EXPECT_THROW(tensordot(a, b, -1), ValueError);
  EXPECT_THROW(matmul(full({}, 1.0), a), ValueError);
}

// Vector norms of x along `axis` by definition.
NDArray RefVectorNorm(const NDArray& x, double ord, int64_t axis, bool keep) {
  const NDArray ax = RefUnary(x, float64, [](double v) { return std::abs(v); });
  auto plus = [](double p, double v) { return p + v; };
  if (ord == kInf || ord == -kInf) {
    return RefReduce(ax, {axis}, keep, float64, ord == kInf ? 0 : kInf, [&](double p, double v) {
      return ord == kInf ? std::max(p, v) : std::min(p, v);
    });
  }
  if (ord == 0) {
    return RefReduce(RefUnary(x, float64, [](double v) { return v != 0 ? 1.0 : 0.0; }), {axis},
                     keep, float64, 0, plus);
  }
  const NDArray s = RefReduce(RefUnary(ax, float64, [&](double v) { return std::pow(v, ord); }),
                              {axis}, keep, float64, 0, plus);
  return RefUnary(s, float64, [&](double v) { return std::pow(v, 1 / ord); });
}

TEST_P(ProductsTest, NormMatchesNumPy) {
  const NDArray xv = RandomNDArray({11}, float64, 1);
  const BlockArray v = from_ndarray(xv, {4});
  for (double ord : {2.0, 1.0, kInf, -kInf, 0.0, 3.0, 0.5}) {
    SCOPED_TRACE("ord " + std::to_string(ord));
    EXPECT_ARRAY_NEAR(linalg::norm(v, ord).get(), RefVectorNorm(xv, ord, 0, false), 1e-12);
  }
  EXPECT_ARRAY_NEAR(linalg::norm(v).get(), RefVectorNorm(xv, 2, 0, false), 1e-12);

  const NDArray xm = RandomNDArray({7, 5}, float64, 2);
  const BlockArray m = from_ndarray(xm, {3, 2});
  const NDArray am = RefUnary(xm, float64, [](double x) { return std::abs(x); });
  auto plus = [](double p, double x) { return p + x; };
  const NDArray col_sums = RefReduce(am, {0}, false, float64, 0, plus);
  const NDArray row_sums = RefReduce(am, {1}, false, float64, 0, plus);
  auto extreme = [](const NDArray& s, bool largest) {
    double r = s.value_at<double>(0);
    for (int64_t i = 1; i < s.size(); ++i)
      r = largest ? std::max(r, s.value_at<double>(i)) : std::min(r, s.value_at<double>(i));
    return r;
  };
  double fro = 0;
  for (int64_t i = 0; i < xm.size(); ++i) fro += xm.value_at<double>(i) * xm.value_at<double>(i);
  fro = std::sqrt(fro);
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keepdims" : "");
    const Shape s = keep ? Shape{1, 1} : Shape{};
    auto near = [&](const BlockArray& got, double want) {
      EXPECT_ARRAY_NEAR(got.get(), NDArray::from_vector<double>({want}).reshape(s), 1e-12);
    };
    near(linalg::norm(m, std::nullopt, {0, 1}, keep), fro);
    near(linalg::norm(m, 1.0, {0, 1}, keep), extreme(col_sums, true));
    near(linalg::norm(m, -1.0, {0, 1}, keep), extreme(col_sums, false));
    near(linalg::norm(m, kInf, {0, 1}, keep), extreme(row_sums, true));
    near(linalg::norm(m, -kInf, {0, 1}, keep), extreme(row_sums, false));
    // Axes given in the other order swap the roles of rows and columns.
    near(linalg::norm(m, 1.0, {1, 0}, keep), extreme(row_sums, true));
    // One axis of a matrix: a vector norm per row or column.
    for (int64_t axis : {0, 1}) {
      for (double ord : {2.0, 1.0, kInf}) {
        EXPECT_ARRAY_NEAR(linalg::norm(m, ord, axis, keep).get(),
                          RefVectorNorm(xm, ord, axis, keep), 1e-12);
      }
    }
  }
  EXPECT_ARRAY_NEAR(linalg::norm(m).get(), NDArray::scalar(fro), 1e-12);
  EXPECT_ARRAY_NEAR(linalg::norm(m, 1.0).get(), NDArray::scalar(extreme(col_sums, true)), 1e-12);

  // A stack of matrices: Frobenius norm over the last two axes of a 3-d array.
  const NDArray x3 = RandomNDArray({3, 4, 5}, float64, 3);
  const NDArray want3 = RefUnary(RefReduce(RefUnary(x3, float64, [](double x) { return x * x; }),
                                           {1, 2}, false, float64, 0, plus),
                                 float64, [](double x) { return std::sqrt(x); });
  EXPECT_ARRAY_NEAR(linalg::norm(from_ndarray(x3, {2, 3, 2}), std::nullopt, {-2, -1}).get(), want3,
                    1e-12);

  // Integers compute in float64, float32 stays float32.
  const BlockArray iv = array<int32_t>({3, -4});
  EXPECT_EQ(linalg::norm(iv).dtype(), float64);
  EXPECT_EQ(linalg::norm(iv).item<double>(), 5.0);
  EXPECT_EQ(linalg::norm(iv.astype(float32)).dtype(), float32);
  EXPECT_EQ(linalg::norm(zeros({0})).item<double>(), 0.0);
}

TEST_P(ProductsTest, NormRejectsBadArguments) {
  const BlockArray x3 = ones({2, 3, 4}), m = ones({3, 3});
  EXPECT_THROW(linalg::norm(x3, 2.0), ValueError);
  EXPECT_THROW(linalg::norm(m, 3.0, {0, 1}), ValueError);
  EXPECT_THROW(linalg::norm(m, std::nullopt, {0, 0}), ValueError);
  EXPECT_THROW(linalg::norm(x3, std::nullopt, {0, 1, 2}), ValueError);
  EXPECT_THROW(linalg::norm(m, 1.0, 2), IndexError);
  EXPECT_THROW(linalg::norm(zeros({0}), kInf), ValueError);
}

INSTANTIATE_TEST_SUITE_P(Nodes, ProductsTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
