// det, slogdet, eigh, svdvals, svd, pinv, matrix_rank, cond, matrix/vector norms and general qr,
// against Eigen references on matrices and stacks of several block shapes.

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <nums/nums.hpp>

#include "tests/testing/eigen.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::FromEigen;
using testing::RelErr;

using Eigen::MatrixXd;
using Eigen::VectorXd;
using testing::ExpectThrowWith;
using testing::RandomNDArray;

constexpr double kInf = std::numeric_limits<double>::infinity();

class LinalgDenseTest : public testing::OnNodes {};

// Matrix b of a stack (..., m, n) (b = 0 for a 2-d array).
MatrixXd Mat(const NDArray& a, int64_t b = 0) {
  const int64_t m = a.shape()[static_cast<size_t>(a.ndim() - 2)], n = a.shape().back();
  MatrixXd out(m, n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) out(i, j) = a.value_at<double>(b * m * n + i * n + j);
  }
  return out;
}
VectorXd Vec(const NDArray& a, int64_t offset, int64_t n) {
  VectorXd v(n);
  for (int64_t i = 0; i < n; ++i) v(i) = a.value_at<double>(offset + i);
  return v;
}
int64_t Count(const Shape& batch) { return shape_size(batch); }
VectorXd SingularValues(const MatrixXd& m) {
  return Eigen::JacobiSVD<MatrixXd>(m).singularValues();
}

struct Layout {
  Shape shape, block;
};
// Square stacks: one block, several blocks, blocks that do not divide, a stack, 1 x 1.
const std::vector<Layout> kSquare = {
    {{6, 6}, {6, 6}}, {{9, 9}, {4, 4}}, {{7, 7}, {3, 5}}, {{3, 5, 5}, {2, 3, 2}}, {{1, 1}, {1, 1}},
};
// General shapes: tall and wide over several blocks, one block, stacks.
const std::vector<Layout> kGeneral = {
    {{40, 6}, {7, 6}}, {{6, 40}, {6, 7}}, {{9, 9}, {4, 4}},       {{5, 3}, {5, 3}},
    {{3, 8}, {3, 8}},  {{25, 7}, {6, 3}}, {{2, 5, 3}, {1, 2, 3}}, {{4, 3, 6}, {4, 3, 6}},
};

TEST_P(LinalgDenseTest, DetAndSlogdet) {
  uint64_t seed = 1;
  for (const Layout& l : kSquare) {
    SCOPED_TRACE(shape_str(l.shape) + " blocks " + shape_str(l.block));
    const NDArray x = RandomNDArray(l.shape, float64, ++seed);
    const BlockArray a = from_ndarray(x, l.block);
    const Shape batch(l.shape.begin(), l.shape.end() - 2);
    const NDArray d = linalg::det(a).get();
    const auto sl = linalg::slogdet(a);
    const NDArray sign = sl.sign.get(), logabs = sl.logabsdet.get();
    ASSERT_EQ(d.shape(), batch);
    ASSERT_EQ(sign.shape(), batch);
    for (int64_t b = 0; b < Count(batch); ++b) {
      const double want = Mat(x, b).fullPivLu().determinant();
      EXPECT_NEAR(d.value_at<double>(b), want, 1e-10 * std::abs(want));
      EXPECT_EQ(sign.value_at<double>(b), want > 0 ? 1.0 : -1.0);
      EXPECT_NEAR(logabs.value_at<double>(b), std::log(std::abs(want)), 1e-10);
    }
  }
  // Singular: det 0, sign 0, logabsdet -inf. Integers compute in float64.
  const BlockArray singular =
      from_ndarray(NDArray::from_vector<int64_t>({1, 2, 3, 2, 4, 6, 0, 1, 5}, {3, 3}), {2, 2});
  EXPECT_EQ(linalg::det(singular).dtype(), float64);
  EXPECT_EQ(linalg::det(singular).item<double>(), 0.0);
  EXPECT_EQ(linalg::slogdet(singular).sign.item<double>(), 0.0);
  EXPECT_EQ(linalg::slogdet(singular).logabsdet.item<double>(), -kInf);
  // float32 stays float32.
  const NDArray x32 = RandomNDArray({5, 5}, float32, 77);
  const BlockArray d32 = linalg::det(from_ndarray(x32, {2, 2}));
  EXPECT_EQ(d32.dtype(), float32);
  const double want32 = Mat(x32).determinant();
  EXPECT_NEAR(d32.item<double>(), want32, 1e-4 * std::abs(want32));
  // Empty matrices: det 1 (NumPy), an empty stack gives an empty result.
  EXPECT_EQ(linalg::det(zeros({0, 0})).item<double>(), 1.0);
  EXPECT_ARRAY_EQ(linalg::det(zeros({2, 0, 0})).get(), NDArray::from_vector<double>({1, 1}));
  EXPECT_EQ(linalg::det(zeros({0, 3, 3})).shape(), (Shape{0}));
  EXPECT_EQ(linalg::slogdet(zeros({0, 0})).logabsdet.item<double>(), 0.0);
}

TEST_P(LinalgDenseTest, EighAndEigvalsh) {
  uint64_t seed = 20;
  for (const Layout& l : kSquare) {
    for (const std::string uplo : {"L", "U"}) {
      SCOPED_TRACE(shape_str(l.shape) + " blocks " + shape_str(l.block) + " uplo " + uplo);
      // Not symmetric: only the named triangle may be read.
      const NDArray x = RandomNDArray(l.shape, float64, ++seed);
      const auto r = linalg::eigh(from_ndarray(x, l.block), uplo);
      const NDArray w = r.eigenvalues.get(), v = r.eigenvectors.get();
      const NDArray w2 = linalg::eigvalsh(from_ndarray(x, l.block), uplo).get();
      const int64_t n = l.shape.back();
      const Shape batch(l.shape.begin(), l.shape.end() - 2);
      for (int64_t b = 0; b < Count(batch); ++b) {
        MatrixXd m = Mat(x, b);
        const MatrixXd t = uplo == "L" ? MatrixXd(m.triangularView<Eigen::Lower>())
                                       : MatrixXd(m.triangularView<Eigen::Upper>());
        const MatrixXd sym = t + t.transpose() - MatrixXd(m.diagonal().asDiagonal());
        const VectorXd want = Eigen::SelfAdjointEigenSolver<MatrixXd>(sym).eigenvalues();
        const VectorXd got = Vec(w, b * n, n);
        EXPECT_LT((got - want).norm(), 1e-10 * std::max(1.0, want.norm()));
        EXPECT_LT((Vec(w2, b * n, n) - want).norm(), 1e-10 * std::max(1.0, want.norm()));
        for (int64_t i = 1; i < n; ++i) EXPECT_LE(got(i - 1), got(i));
        const MatrixXd vb = Mat(v, b);
        EXPECT_LT((sym * vb - vb * got.asDiagonal()).norm(), 1e-10 * std::max(1.0, sym.norm()));
        EXPECT_LT((vb.transpose() * vb - MatrixXd::Identity(n, n)).norm(), 1e-10);
      }
    }
  }
  EXPECT_EQ(linalg::eigh(zeros({0, 0})).eigenvectors.shape(), (Shape{0, 0}));
  ExpectThrowWith<ValueError>([] { linalg::eigh(eye(3), "X"); }, {"uplo 'X'"});
  ExpectThrowWith<ShapeError>([] { linalg::eigvalsh(ones({3, 4})); }, {"(3, 4)"});
}

TEST_P(LinalgDenseTest, SvdvalsAndSvdOfGeneralShapes) {
  uint64_t seed = 40;
  for (const Layout& l : kGeneral) {
    const NDArray x = RandomNDArray(l.shape, float64, ++seed);
    const BlockArray a = from_ndarray(x, l.block);
    const int64_t m = l.shape[l.shape.size() - 2], n = l.shape.back(), k = std::min(m, n);
    const Shape batch(l.shape.begin(), l.shape.end() - 2);
    const NDArray s = linalg::svdvals(a).get();
    for (bool full : {false, true}) {
      SCOPED_TRACE(shape_str(l.shape) + " blocks " + shape_str(l.block) + " full " +
                   std::to_string(full));
      const auto f = linalg::svd(a, full);
      const NDArray u = f.u.get(), sv = f.s.get(), vt = f.vt.get();
      const int64_t uc = full ? m : k, vr = full ? n : k;
      Shape us = batch, ss = batch, vs = batch;
      us.insert(us.end(), {m, uc});
      ss.push_back(k);
      vs.insert(vs.end(), {vr, n});
      ASSERT_EQ(u.shape(), us);
      ASSERT_EQ(sv.shape(), ss);
      ASSERT_EQ(vt.shape(), vs);
      for (int64_t b = 0; b < Count(batch); ++b) {
        const MatrixXd mb = Mat(x, b), ub = Mat(u, b), vb = Mat(vt, b);
        const VectorXd want = SingularValues(mb), got = Vec(sv, b * k, k);
        EXPECT_LT((got - want).norm(), 1e-10 * want.norm());
        EXPECT_LT((Vec(s, b * k, k) - want).norm(), 1e-10 * want.norm());
        MatrixXd sigma = MatrixXd::Zero(uc, vr);
        for (int64_t i = 0; i < k; ++i) sigma(i, i) = got(i);
        EXPECT_LT(RelErr(ub * sigma * vb, mb), 1e-10);
        EXPECT_LT((ub.transpose() * ub - MatrixXd::Identity(uc, uc)).norm(), 1e-10);
        EXPECT_LT((vb * vb.transpose() - MatrixXd::Identity(vr, vr)).norm(), 1e-10);
      }
    }
    const auto no_uv = linalg::svd(a, true, false);
    EXPECT_EQ(no_uv.u.impl(), nullptr);
    EXPECT_ARRAY_NEAR(no_uv.s.get(), s, 1e-12);
  }
  // Empty: no singular values; full U and Vt are identities.
  const auto e = linalg::svd(zeros({3, 0}), true);
  EXPECT_ARRAY_EQ(e.u.get(), eye(3).get());
  EXPECT_EQ(e.s.shape(), (Shape{0}));
  EXPECT_EQ(e.vt.shape(), (Shape{0, 0}));
  EXPECT_EQ(linalg::svd(zeros({3, 0}), false).u.shape(), (Shape{3, 0}));
  ExpectThrowWith<ShapeError>([] { linalg::svdvals(ones({4})); }, {"(4,)"});
}

TEST_P(LinalgDenseTest, PinvAndMatrixRankOfRankDeficientMatrices) {
  uint64_t seed = 60;
  for (const auto& [m, n, r] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {8, 5, 3}, {5, 8, 2}, {6, 6, 6}, {30, 4, 1}, {4, 30, 4}}) {
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + " rank " + std::to_string(r));
    const MatrixXd left = Mat(RandomNDArray({m, r}, float64, ++seed));
    const MatrixXd x = left * Mat(RandomNDArray({r, n}, float64, ++seed));
    for (const Shape& block : {Shape{m, n}, Shape{3, 2}}) {
      const BlockArray a = from_ndarray(FromEigen(x), block);
      const MatrixXd want = x.completeOrthogonalDecomposition().pseudoInverse();
      const BlockArray p = linalg::pinv(a);
      ASSERT_EQ(p.shape(), (Shape{n, m}));
      EXPECT_LT(RelErr(Mat(p.get()), want), 1e-9);
      EXPECT_EQ(linalg::matrix_rank(a).item<int64_t>(), r);
      EXPECT_EQ(linalg::matrix_rank(a).dtype(), int64);
      // A tolerance above every singular value gives rank 0.
      EXPECT_EQ(linalg::matrix_rank(a, SingularValues(x)(0) * 2).item<int64_t>(), 0);
    }
  }
  // rtol drops the small singular value of an ill-conditioned matrix.
  MatrixXd d = MatrixXd::Zero(3, 3);
  d.diagonal() << 1.0, 1e-3, 1e-17;
  const MatrixXd p = Mat(linalg::pinv(from_ndarray(FromEigen(d)), 1e-6).get());
  EXPECT_NEAR(p(1, 1), 1e3, 1e-9);
  EXPECT_EQ(p(2, 2), 0.0);
  EXPECT_EQ(linalg::matrix_rank(from_ndarray(FromEigen(d))).item<int64_t>(), 2);
  // Stacks, 1-d input and empty matrices.
  const NDArray stack = RandomNDArray({3, 4, 5}, float64, 61);
  EXPECT_ARRAY_EQ(linalg::matrix_rank(from_ndarray(stack, {2, 2, 5})).get(),
                  NDArray::from_vector<int64_t>({4, 4, 4}));
  EXPECT_EQ(linalg::matrix_rank(zeros({5})).item<int64_t>(), 0);
  EXPECT_EQ(linalg::matrix_rank(arange(5)).item<int64_t>(), 1);
  EXPECT_EQ(linalg::pinv(zeros({0, 3})).shape(), (Shape{3, 0}));
  ExpectThrowWith<ValueError>([] { linalg::pinv(eye(2), -1.0); }, {"rtol"});
}

// NumPy's matrix norms of one matrix.
double RefMatrixNorm(const MatrixXd& m, const std::string& ord) {
  const VectorXd s = SingularValues(m);
  if (ord == "fro") return m.norm();
  if (ord == "nuc") return s.sum();
  if (ord == "2") return s.maxCoeff();
  if (ord == "-2") return s.minCoeff();
  if (ord == "1") return m.cwiseAbs().colwise().sum().maxCoeff();
  if (ord == "-1") return m.cwiseAbs().colwise().sum().minCoeff();
  if (ord == "inf") return m.cwiseAbs().rowwise().sum().maxCoeff();
  return m.cwiseAbs().rowwise().sum().minCoeff();
}

TEST_P(LinalgDenseTest, CondForEveryP) {
  uint64_t seed = 80;
  for (const Layout& l : kSquare) {
    SCOPED_TRACE(shape_str(l.shape));
    const NDArray x = RandomNDArray(l.shape, float64, ++seed);
    const BlockArray a = from_ndarray(x, l.block);
    const Shape batch(l.shape.begin(), l.shape.end() - 2);
    const std::vector<std::pair<std::string, std::optional<double>>> ps = {
        {"2", std::nullopt}, {"2", 2.0},    {"-2", -2.0},   {"1", 1.0},
        {"-1", -1.0},        {"inf", kInf}, {"-inf", -kInf}};
    for (const auto& [name, p] : ps) {
      const NDArray c = linalg::cond(a, p).get();
      ASSERT_EQ(c.shape(), batch);
      for (int64_t b = 0; b < Count(batch); ++b) {
        const MatrixXd mb = Mat(x, b);
        const double want = name == "2" ? RefMatrixNorm(mb, "2") / RefMatrixNorm(mb, "-2")
                            : name == "-2"
                                ? RefMatrixNorm(mb, "-2") / RefMatrixNorm(mb, "2")
                                : RefMatrixNorm(mb, name) * RefMatrixNorm(mb.inverse(), name);
        EXPECT_NEAR(c.value_at<double>(b), want, 1e-9 * want) << name;
      }
    }
    const NDArray fro = linalg::cond(a, "fro").get();
    for (int64_t b = 0; b < Count(batch); ++b) {
      const double want = Mat(x, b).norm() * Mat(x, b).inverse().norm();
      EXPECT_NEAR(fro.value_at<double>(b), want, 1e-9 * want);
    }
  }
  // Non-square matrices with p 2; singular ones give inf.
  const NDArray tall = RandomNDArray({7, 3}, float64, 90);
  const VectorXd s = SingularValues(Mat(tall));
  EXPECT_NEAR(linalg::cond(from_ndarray(tall, {3, 3})).item<double>(), s(0) / s(2),
              1e-9 * s(0) / s(2));
  MatrixXd sing = MatrixXd::Ones(3, 3);
  EXPECT_EQ(linalg::cond(from_ndarray(FromEigen(sing)), 1.0).item<double>(), kInf);
  EXPECT_EQ(linalg::cond(zeros({3, 3})).item<double>(), kInf);
  ExpectThrowWith<ShapeError>([] { linalg::cond(ones({3, 4}), 1.0); }, {"(3, 4)"});
  ExpectThrowWith<ShapeError>([] { linalg::cond(zeros({0, 0})); }, {"empty"});
  ExpectThrowWith<ValueError>([] { linalg::cond(eye(3), 3.0); }, {"p = 3"});
  ExpectThrowWith<ValueError>([] { linalg::cond(eye(3), std::string("nuc")); }, {"'nuc'"});
}

TEST_P(LinalgDenseTest, MatrixNormAndNormOrds) {
  uint64_t seed = 100;
  for (const Layout& l : kGeneral) {
    SCOPED_TRACE(shape_str(l.shape) + " blocks " + shape_str(l.block));
    const NDArray x = RandomNDArray(l.shape, float64, ++seed);
    const BlockArray a = from_ndarray(x, l.block);
    const Shape batch(l.shape.begin(), l.shape.end() - 2);
    for (const std::string ord : {"fro", "nuc", "2", "-2", "1", "-1", "inf", "-inf"}) {
      const double p = ord == "inf"                   ? kInf
                       : ord == "-inf"                ? -kInf
                       : ord == "fro" || ord == "nuc" ? 0
                                                      : std::stod(ord);
      const BlockArray got =
          ord == "fro" || ord == "nuc" ? linalg::matrix_norm(a, ord) : linalg::matrix_norm(a, p);
      const NDArray g = got.get();
      ASSERT_EQ(g.shape(), batch) << ord;
      for (int64_t b = 0; b < Count(batch); ++b) {
        const double want = RefMatrixNorm(Mat(x, b), ord);
        EXPECT_NEAR(g.value_at<double>(b), want, 1e-10 * want) << ord;
      }
      Shape kept = batch;
      kept.insert(kept.end(), {1, 1});
      EXPECT_EQ((ord == "fro" || ord == "nuc" ? linalg::matrix_norm(a, ord, true)
                                              : linalg::matrix_norm(a, p, true))
                    .shape(),
                kept);
      // norm over the two axes (transposed: axes in the other order swap rows and columns).
      if (l.shape.size() == 2 && ord != "fro" && ord != "nuc") {
        EXPECT_NEAR(linalg::norm(a, p).item<double>(), RefMatrixNorm(Mat(x), ord),
                    1e-10 * RefMatrixNorm(Mat(x), ord));
        EXPECT_NEAR(linalg::norm(a, p, Axes{1, 0}).item<double>(),
                    RefMatrixNorm(Mat(x).transpose(), ord), 1e-10 * RefMatrixNorm(Mat(x), ord));
      }
      if (l.shape.size() == 2 && (ord == "fro" || ord == "nuc")) {
        EXPECT_NEAR(linalg::norm(a, ord).item<double>(), RefMatrixNorm(Mat(x), ord),
                    1e-10 * RefMatrixNorm(Mat(x), ord));
      }
    }
  }
  // Spectral norm over axes (0, 2) of a 3-d array, keepdims in place.
  const NDArray x3 = RandomNDArray({4, 2, 5}, float64, 120);
  const BlockArray n3 = linalg::norm(from_ndarray(x3, {2, 1, 3}), 2.0, Axes{0, 2}, true);
  ASSERT_EQ(n3.shape(), (Shape{1, 2, 1}));
  const NDArray g3 = n3.get();
  for (int64_t j = 0; j < 2; ++j) {
    MatrixXd m(4, 5);
    for (int64_t i = 0; i < 4; ++i) {
      for (int64_t k = 0; k < 5; ++k) m(i, k) = x3.value_at<double>(i * 10 + j * 5 + k);
    }
    EXPECT_NEAR(g3.value_at<double>(j), SingularValues(m)(0), 1e-10);
  }
  EXPECT_EQ(linalg::matrix_norm(zeros({0, 3}), "nuc").item<double>(), 0.0);
  ExpectThrowWith<ValueError>([] { linalg::matrix_norm(zeros({0, 3}), 2.0); }, {"empty"});
  ExpectThrowWith<ValueError>([] { linalg::matrix_norm(eye(3), 3.0); }, {"ord 3"});
  ExpectThrowWith<ValueError>([] { linalg::matrix_norm(eye(3), "max"); }, {"'max'"});
  ExpectThrowWith<ShapeError>([] { linalg::matrix_norm(ones({3})); }, {"(3,)"});
  ExpectThrowWith<ValueError>([] { linalg::norm(ones({2, 2, 2}), "nuc"); }, {"two distinct axes"});
}

TEST_P(LinalgDenseTest, VectorNorm) {
  const NDArray x = RandomNDArray({4, 3, 5}, float64, 130);
  const BlockArray a = from_ndarray(x, {3, 2, 2});
  for (double ord : {2.0, 1.0, kInf, -kInf, 0.0, 3.0, 0.5, -1.5}) {
    auto ref = [&](const std::vector<int64_t>& axes, int64_t out_index, const Shape& out_shape) {
      // Elements of x whose non-reduced coordinates match out_index in out_shape.
      std::vector<double> v;
      const Shape full{4, 3, 5};
      for (int64_t k = 0; k < 60; ++k) {
        const Shape idx = testing::Unravel(k, full);
        Shape kept;
        for (int64_t d = 0; d < 3; ++d) {
          if (std::find(axes.begin(), axes.end(), d) == axes.end()) kept.push_back(idx[d]);
        }
        int64_t flat = 0;
        for (size_t d = 0; d < kept.size(); ++d) flat = flat * out_shape[d] + kept[d];
        if (flat == out_index) v.push_back(std::abs(x.value_at<double>(k)));
      }
      if (ord == kInf) return *std::max_element(v.begin(), v.end());
      if (ord == -kInf) return *std::min_element(v.begin(), v.end());
      double s = 0;
      for (double e : v) s += ord == 0 ? (e != 0) : std::pow(e, ord);
      return ord == 0 ? s : std::pow(s, 1 / ord);
    };
    SCOPED_TRACE(ord);
    EXPECT_NEAR(linalg::vector_norm(a, std::nullopt, false, ord).item<double>(),
                ref({0, 1, 2}, 0, {}), 1e-10 * ref({0, 1, 2}, 0, {}));
    for (const std::vector<int64_t>& axes : std::vector<std::vector<int64_t>>{{1}, {0, 2}, {-1}}) {
      std::vector<int64_t> norm_axes;
      for (int64_t d : axes) norm_axes.push_back(d < 0 ? d + 3 : d);
      Shape out_shape;
      for (int64_t d = 0; d < 3; ++d) {
        if (std::find(norm_axes.begin(), norm_axes.end(), d) == norm_axes.end())
          out_shape.push_back(Shape{4, 3, 5}[d]);
      }
      const NDArray got = linalg::vector_norm(a, Axes(axes), false, ord).get();
      ASSERT_EQ(got.shape(), out_shape);
      for (int64_t k = 0; k < got.size(); ++k) {
        const double want = ref(norm_axes, k, out_shape);
        EXPECT_NEAR(got.value_at<double>(k), want, 1e-10 * std::max(1.0, want));
      }
      Shape kept{4, 3, 5};
      for (int64_t d : norm_axes) kept[static_cast<size_t>(d)] = 1;
      EXPECT_EQ(linalg::vector_norm(a, Axes(axes), true, ord).shape(), kept);
    }
  }
  EXPECT_EQ(linalg::vector_norm(arange(4).astype(int32)).dtype(), float64);
  EXPECT_EQ(linalg::vector_norm(ones({3}, float32)).dtype(), float32);
  EXPECT_EQ(linalg::vector_norm(zeros({0})).item<double>(), 0.0);
  ExpectThrowWith<ValueError>(
      [] {
        linalg::vector_norm(zeros({2, 0}), 1, false, kInf);
      },
      {"empty"});
  ExpectThrowWith<IndexError>([] { linalg::vector_norm(ones({2, 2}), 2); }, {"2"});
}

TEST_P(LinalgDenseTest, QrOfGeneralShapesAndModes) {
  uint64_t seed = 140;
  for (const Layout& l : kGeneral) {
    const NDArray x = RandomNDArray(l.shape, float64, ++seed);
    const BlockArray a = from_ndarray(x, l.block);
    const int64_t m = l.shape[l.shape.size() - 2], n = l.shape.back(), k = std::min(m, n);
    const Shape batch(l.shape.begin(), l.shape.end() - 2);
    for (const std::string mode : {"reduced", "complete", "r"}) {
      SCOPED_TRACE(shape_str(l.shape) + " blocks " + shape_str(l.block) + " " + mode);
      const auto f = linalg::qr(a, mode);
      const int64_t qc = mode == "complete" ? m : k, rr = mode == "complete" ? m : k;
      Shape rs = batch;
      rs.insert(rs.end(), {rr, n});
      ASSERT_EQ(f.r.shape(), rs);
      const NDArray r = f.r.get();
      if (mode == "r") {
        EXPECT_EQ(f.q.impl(), nullptr);
      } else {
        Shape qs = batch;
        qs.insert(qs.end(), {m, qc});
        ASSERT_EQ(f.q.shape(), qs);
      }
      const NDArray q = mode == "r" ? NDArray() : f.q.get();
      for (int64_t b = 0; b < Count(batch); ++b) {
        const MatrixXd rb = Mat(r, b);
        for (int64_t i = 0; i < rr; ++i) {
          for (int64_t j = 0; j < std::min(i, n); ++j) EXPECT_EQ(rb(i, j), 0.0);
          if (i < k) {
            EXPECT_GE(rb(i, i), 0.0);
          }
        }
        // R^T R = A^T A whatever Q is; with Q: A = Q R and Q^T Q = I.
        const MatrixXd ab = Mat(x, b);
        EXPECT_LT(RelErr(rb.transpose() * rb, ab.transpose() * ab), 1e-10);
        if (mode != "r") {
          const MatrixXd qb = Mat(q, b);
          EXPECT_LT(RelErr(qb * rb, ab), 1e-10);
          EXPECT_LT((qb.transpose() * qb - MatrixXd::Identity(qc, qc)).norm(), 1e-10);
        }
      }
    }
  }
  const auto e = linalg::qr(zeros({3, 0}), "complete");
  EXPECT_ARRAY_EQ(e.q.get(), eye(3).get());
  EXPECT_EQ(e.r.shape(), (Shape{3, 0}));
  ExpectThrowWith<ShapeError>([] { linalg::qr(ones({3, 5}), "indirect"); }, {"(3, 5)"});
  ExpectThrowWith<ShapeError>([] { linalg::qr(ones({3}), "complete"); }, {"(3,)"});
  ExpectThrowWith<ValueError>([] { linalg::qr(ones({3, 3}), "full"); }, {"'full'"});
}

TEST_P(LinalgDenseTest, Float32ComputesInFloat32) {
  const NDArray x = RandomNDArray({9, 6}, float32, 150);
  const BlockArray a = from_ndarray(x, {4, 3});
  const MatrixXd m = Mat(x);
  const VectorXd s = SingularValues(m);
  const BlockArray sv = linalg::svdvals(a);
  EXPECT_EQ(sv.dtype(), float32);
  EXPECT_LT((Vec(sv.get(), 0, 6) - s).norm(), 1e-5 * s.norm());
  const auto f = linalg::svd(a, true);
  EXPECT_EQ(f.u.dtype(), float32);
  MatrixXd sigma = MatrixXd::Zero(9, 6);
  sigma.diagonal() = Vec(f.s.get(), 0, 6);
  EXPECT_LT(RelErr(Mat(f.u.get()) * sigma * Mat(f.vt.get()), m), 1e-5);
  const auto q = linalg::qr(a, "complete");
  EXPECT_EQ(q.q.dtype(), float32);
  EXPECT_LT(RelErr(Mat(q.q.get()) * Mat(q.r.get()), m), 1e-5);
  const BlockArray p = linalg::pinv(a);
  EXPECT_EQ(p.dtype(), float32);
  EXPECT_LT(RelErr(Mat(p.get()), m.completeOrthogonalDecomposition().pseudoInverse()), 1e-4);
  const MatrixXd sym = m.transpose() * m;
  const auto e = linalg::eigh(from_ndarray(FromEigen(sym), {4, 4}).astype(float32));
  EXPECT_EQ(e.eigenvalues.dtype(), float32);
  const VectorXd want = Eigen::SelfAdjointEigenSolver<MatrixXd>(sym).eigenvalues();
  EXPECT_LT((Vec(e.eigenvalues.get(), 0, 6) - want).norm(), 1e-5 * want.norm());
  EXPECT_EQ(linalg::cond(from_ndarray(FromEigen(sym)).astype(float32), 1.0).dtype(), float32);
  EXPECT_EQ(linalg::matrix_rank(a).item<int64_t>(), 6);
}

TEST_P(LinalgDenseTest, ErrorsNameShapesAndTheGatherLimit) {
  ExpectThrowWith<ShapeError>([] { linalg::det(ones({3, 4})); }, {"det", "(3, 4)"});
  ExpectThrowWith<ShapeError>([] { linalg::slogdet(ones({3})); }, {"slogdet", "(3,)"});
  ExpectThrowWith<ShapeError>([] { linalg::pinv(ones({})); }, {"pinv", "()"});
  // 16385 x 16385 bool is 268 MB here but 2.1 GB as float64 on one node: refused at the call.
  const BlockArray big = zeros({16385, 16385}, bool_, {16385, 1024});
  ExpectThrowWith<ValueError>([&] { linalg::det(big); },
                              {"(16385, 16385)", "2147745800 bytes", "kDenseLimitBytes"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, LinalgDenseTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
