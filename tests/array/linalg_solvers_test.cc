#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <fstream>
#include <iomanip>
#include <nums/nums.hpp>

#include "tests/io/io_testing.h"
#include "tests/testing/eigen.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::FromEigen;
using testing::RelErr;
using testing::ToEigen;
using testing::WriteCsv;

using Eigen::MatrixXd;
using testing::RandomNDArray;

class LinalgTest : public testing::OnNodes {};

// A well-conditioned square matrix: random plus n on the diagonal.
MatrixXd WellConditioned(int64_t n, uint64_t seed) {
  MatrixXd a = ToEigen(RandomNDArray({n, n}, float64, seed));
  return a + MatrixXd::Identity(n, n) * 10.0 * static_cast<double>(n);
}

struct Layout {
  int64_t m, n, block_rows, block_cols;
};
// 1 to 8 row blocks, row counts that do not divide evenly, blocks with fewer rows than columns,
// several column blocks (re-blocked to whole rows), a square matrix and a single column.
const std::vector<Layout> kLayouts = {
    {10, 3, 10, 3}, {37, 5, 8, 5}, {50, 6, 7, 6}, {23, 4, 3, 4},
    {40, 6, 10, 4}, {6, 6, 2, 6},  {30, 1, 7, 1}, {64, 8, 8, 8},
};

// Checks A = QR, Q^T Q = I, R upper triangular with a non-negative diagonal, and R against
// Eigen's Householder QR (rows normalised to a non-negative diagonal).
void CheckQr(const NDArray& a_nd, const linalg::QrResult& f, double tol) {
  const MatrixXd a = ToEigen(a_nd);
  const int64_t m = a.rows(), n = a.cols();
  ASSERT_EQ(f.q.shape(), (Shape{m, n}));
  ASSERT_EQ(f.r.shape(), (Shape{n, n}));
  const MatrixXd q = ToEigen(f.q.get()), r = ToEigen(f.r.get());
  EXPECT_LT(RelErr(q * r, a), tol);
  EXPECT_LT((q.transpose() * q - MatrixXd::Identity(n, n)).norm(), tol);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_GE(r(i, i), 0.0) << "diagonal " << i;
    for (int64_t j = 0; j < i; ++j) EXPECT_EQ(r(i, j), 0.0) << "below diagonal " << i << "," << j;
  }
  MatrixXd want = Eigen::HouseholderQR<MatrixXd>(a).matrixQR().topRows(n);
  want = want.triangularView<Eigen::Upper>();
  for (int64_t i = 0; i < n; ++i) {
    if (want(i, i) < 0) want.row(i) *= -1;
  }
  EXPECT_LT(RelErr(r, want), 100 * tol);
}

TEST_P(LinalgTest, QrDirectFloat64OnManyGrids) {
  uint64_t seed = 1;
  for (const Layout& l : kLayouts) {
    SCOPED_TRACE(std::to_string(l.m) + "x" + std::to_string(l.n) + " blocks " +
                 std::to_string(l.block_rows) + "x" + std::to_string(l.block_cols));
    const NDArray a_nd = RandomNDArray({l.m, l.n}, float64, seed++);
    const BlockArray a = from_ndarray(a_nd, {l.block_rows, l.block_cols});
    const linalg::QrResult f = linalg::qr(a);
    EXPECT_EQ(f.q.dtype(), float64);
    CheckQr(a_nd, f, 1e-12);
    // Q is blocked by A's rows and each Q block stays on the node of its row of A.
    EXPECT_EQ(f.q.grid_shape(), (Shape{a.grid_shape()[0], 1}));
    if (a.grid_shape()[1] == 1) {
      EXPECT_EQ(f.q.block_nodes(), a.block_nodes());
    }
  }
}

TEST_P(LinalgTest, QrFloat32) {
  const NDArray a_nd = RandomNDArray({45, 6}, float32, 3);
  const linalg::QrResult f = linalg::qr(from_ndarray(a_nd, {7, 6}));
  EXPECT_EQ(f.q.dtype(), float32);
  EXPECT_EQ(f.r.dtype(), float32);
  CheckQr(a_nd, f, 1e-5);
}

TEST_P(LinalgTest, QrOfIntegersComputesInFloat64) {
  const NDArray a_nd = RandomNDArray({20, 3}, int64, 4);
  const linalg::QrResult f = linalg::qr(from_ndarray(a_nd, {6, 3}));
  EXPECT_EQ(f.r.dtype(), float64);
  CheckQr(a_nd, f, 1e-12);
}

TEST_P(LinalgTest, QrRModeAndIndirectAgreeWithDirect) {
  const NDArray a_nd = RandomNDArray({53, 7}, float64, 5);
  const BlockArray a = from_ndarray(a_nd, {9, 7});
  const linalg::QrResult direct = linalg::qr(a);
  const linalg::QrResult r_only = linalg::qr(a, "r");
  EXPECT_EQ(r_only.q.impl(), nullptr);
  EXPECT_LT(RelErr(ToEigen(r_only.r.get()), ToEigen(direct.r.get())), 1e-12);
  const linalg::QrResult indirect = linalg::qr(a, "indirect");
  CheckQr(a_nd, indirect, 1e-11);
  EXPECT_LT(RelErr(ToEigen(indirect.q.get()), ToEigen(direct.q.get())), 1e-11);
  EXPECT_EQ(indirect.q.block_nodes(), a.block_nodes());
}

TEST_P(LinalgTest, QrWithNoColumns) {
  const linalg::QrResult f = linalg::qr(zeros({5, 0}, float64, {2, 0}));
  EXPECT_EQ(f.q.shape(), (Shape{5, 0}));
  EXPECT_EQ(f.r.shape(), (Shape{0, 0}));
}

TEST_P(LinalgTest, SvdReconstructsAndMatchesEigen) {
  for (const Layout& l : {Layout{41, 5, 6, 5}, Layout{12, 4, 12, 4}, Layout{30, 6, 5, 3}}) {
    const NDArray a_nd = RandomNDArray({l.m, l.n}, float64, 11);
    const MatrixXd a = ToEigen(a_nd);
    const linalg::SvdResult f = linalg::svd(from_ndarray(a_nd, {l.block_rows, l.block_cols}));
    ASSERT_EQ(f.u.shape(), (Shape{l.m, l.n}));
    ASSERT_EQ(f.s.shape(), (Shape{l.n}));
    ASSERT_EQ(f.vt.shape(), (Shape{l.n, l.n}));
    const MatrixXd u = ToEigen(f.u.get()), s = ToEigen(f.s.get()), vt = ToEigen(f.vt.get());
    EXPECT_LT(RelErr(u * s.col(0).asDiagonal() * vt, a), 1e-12);
    EXPECT_LT((u.transpose() * u - MatrixXd::Identity(l.n, l.n)).norm(), 1e-12);
    const Eigen::VectorXd want = Eigen::JacobiSVD<MatrixXd>(a).singularValues();
    EXPECT_LT((s.col(0) - want).norm() / want.norm(), 1e-12);
  }
}

TEST_P(LinalgTest, InvOneBlockAndMany) {
  for (const Shape& block : {Shape{7, 7}, Shape{3, 3}, Shape{2, 7}, Shape{7, 4}}) {
    SCOPED_TRACE("block " + shape_str(block));
    const MatrixXd a = WellConditioned(7, 21);
    const BlockArray ai = linalg::inv(from_ndarray(FromEigen(a), block));
    EXPECT_EQ(ai.shape(), (Shape{7, 7}));
    EXPECT_EQ(ai.block_shape(), block);
    EXPECT_LT(RelErr(ToEigen(ai.get()), a.inverse()), 1e-12);
  }
}

TEST_P(LinalgTest, CholeskyOneBlockAndTiled) {
  const MatrixXd b = ToEigen(RandomNDArray({10, 10}, float64, 31));
  const MatrixXd a = b * b.transpose() + 10 * MatrixXd::Identity(10, 10);
  const MatrixXd want = Eigen::LLT<MatrixXd>(a).matrixL();
  for (const Shape& block : {Shape{10, 10}, Shape{3, 3}, Shape{4, 10}}) {
    SCOPED_TRACE("block " + shape_str(block));
    const MatrixXd l = ToEigen(linalg::cholesky(from_ndarray(FromEigen(a), block)).get());
    EXPECT_LT(RelErr(l, want), 1e-12);
    for (int64_t i = 0; i < 10; ++i) {
      for (int64_t j = i + 1; j < 10; ++j) EXPECT_EQ(l(i, j), 0.0);
    }
  }
}

TEST_P(LinalgTest, SolveVectorAndMatrixRightHandSides) {
  const MatrixXd a = WellConditioned(9, 41);
  const MatrixXd b = ToEigen(RandomNDArray({9, 3}, float64, 42));
  for (const Shape& block : {Shape{9, 9}, Shape{4, 4}, Shape{2, 9}}) {
    SCOPED_TRACE("block " + shape_str(block));
    const BlockArray ba = from_ndarray(FromEigen(a), block);
    const BlockArray x2 = linalg::solve(ba, from_ndarray(FromEigen(b), {block[0], 3}));
    EXPECT_EQ(x2.shape(), (Shape{9, 3}));
    EXPECT_LT(RelErr(ToEigen(x2.get()), a.partialPivLu().solve(b)), 1e-12);
    const BlockArray x1 = linalg::solve(ba, from_ndarray(FromEigen(b.col(0)).reshape({9}), {9}));
    EXPECT_EQ(x1.shape(), (Shape{9}));
    EXPECT_LT(RelErr(ToEigen(x1.get()), a.partialPivLu().solve(b.col(0))), 1e-12);
  }
}

TEST_P(LinalgTest, LstsqMatchesEigen) {
  const MatrixXd a = ToEigen(RandomNDArray({43, 5}, float64, 51));
  const MatrixXd b = ToEigen(RandomNDArray({43, 2}, float64, 52));
  const MatrixXd want = a.colPivHouseholderQr().solve(b);
  for (const Shape& block : {Shape{43, 5}, Shape{6, 5}, Shape{10, 2}}) {
    SCOPED_TRACE("block " + shape_str(block));
    const BlockArray ba = from_ndarray(FromEigen(a), block);
    const BlockArray x2 = linalg::lstsq(ba, from_ndarray(FromEigen(b), {7, 2}));
    EXPECT_EQ(x2.shape(), (Shape{5, 2}));
    EXPECT_LT(RelErr(ToEigen(x2.get()), want), 1e-12);
    const BlockArray x1 = linalg::lstsq(ba, from_ndarray(FromEigen(b.col(1)).reshape({43}), {8}));
    EXPECT_EQ(x1.shape(), (Shape{5}));
    EXPECT_LT(RelErr(ToEigen(x1.get()), want.col(1)), 1e-12);
  }
}

TEST_P(LinalgTest, PcaMatchesEigenUpToSign) {
  const int64_t m = 60, n = 6, k = 3;
  MatrixXd x = ToEigen(RandomNDArray({m, n}, float64, 61));
  x.col(2) *= 5;  // distinct variances
  x.col(4) *= 3;
  const linalg::PcaResult p = linalg::pca(from_ndarray(FromEigen(x), {11, n}), k);
  ASSERT_EQ(p.components.shape(), (Shape{k, n}));
  ASSERT_EQ(p.explained_variance.shape(), (Shape{k}));
  const MatrixXd centred = x.rowwise() - x.colwise().mean();
  Eigen::JacobiSVD<MatrixXd> svd(centred, Eigen::ComputeThinV);
  const MatrixXd comp = ToEigen(p.components.get());
  const MatrixXd var = ToEigen(p.explained_variance.get());
  for (int64_t i = 0; i < k; ++i) {
    const double s = svd.singularValues()(i);
    EXPECT_NEAR(var(i, 0), s * s / static_cast<double>(m - 1), 1e-10 * s * s);
    EXPECT_NEAR(std::abs(comp.row(i).dot(svd.matrixV().col(i))), 1.0, 1e-12);
  }
}

// Data with distinct variances along each feature and correlated columns.
MatrixXd PcaData(int64_t m, int64_t n, uint64_t seed) {
  MatrixXd x = ToEigen(RandomNDArray({m, n}, float64, seed));
  for (int64_t j = 0; j < n; ++j) x.col(j) *= 1.0 + 0.7 * j;
  x.col(1) += 0.5 * x.col(n - 1);
  x.col(0).array() += 3.0;
  return x;
}

TEST_P(LinalgTest, PcaMatchesScikitLearnWhateverTheBlocking) {
  const int64_t m = 60, n = 6;
  const MatrixXd x = PcaData(m, n, 62);
  for (int64_t k : {3, 6}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    std::vector<MatrixXd> comps;
    linalg::PcaResult first;
    for (const Shape& block : std::vector<Shape>{{60, 6}, {11, 6}, {7, 3}, {13, 2}}) {
      SCOPED_TRACE(shape_str(block));
      const BlockArray xb = from_ndarray(FromEigen(x), block);
      const linalg::PcaResult p = linalg::pca(xb, k);
      const MatrixXd comp = ToEigen(p.components.get());
      ASSERT_EQ(comp.rows(), k);
      if (comps.empty()) first = p;
      // Identical (to rounding) whatever the blocking, signs included.
      if (!comps.empty()) EXPECT_LT((comp - comps.front()).cwiseAbs().maxCoeff(), 1e-12);
      comps.push_back(comp);
      // sklearn's sign rule: each score column's entry of largest magnitude is positive.
      const MatrixXd scores = ToEigen(p.transform(xb).get());
      ASSERT_EQ(scores.cols(), k);
      for (int64_t j = 0; j < k; ++j) {
        Eigen::Index at = 0;
        scores.col(j).cwiseAbs().maxCoeff(&at);
        EXPECT_GT(scores(at, j), 0) << "component " << j;
      }
      // Back from the scores: X itself with every component, its projection otherwise.
      const MatrixXd back = ToEigen(p.inverse_transform(p.transform(xb)).get());
      const MatrixXd centred = x.rowwise() - x.colwise().mean();
      const MatrixXd proj = (centred * comp.transpose() * comp).rowwise() + x.colwise().mean();
      EXPECT_LT((back - proj).cwiseAbs().maxCoeff(), 1e-10);
      if (k == n) EXPECT_LT((back - x).cwiseAbs().maxCoeff(), 1e-10);
    }
    testing::TempDir dir;
    WriteCsv(x, dir.file("X.csv"));
    WriteCsv(comps.front(), dir.file("components.csv"));
    WriteCsv(ToEigen(first.explained_variance.get()), dir.file("var.csv"));
    WriteCsv(ToEigen(first.explained_variance_ratio.get()), dir.file("ratio.csv"));
    WriteCsv(ToEigen(first.mean.get()), dir.file("mean.csv"));
    WriteCsv(ToEigen(first.transform(from_ndarray(FromEigen(x), {11, n})).get()),
             dir.file("scores.csv"));
    const testing::PythonResult r = testing::RunPython("k = " + std::to_string(k) + R"(
import numpy as np
from sklearn.decomposition import PCA
load = lambda f: np.loadtxt(f, delimiter=',', ndmin=2)
X = load('X.csv')
p = PCA(n_components=k, svd_solver='full').fit(X)
for name, got, want in [('components', load('components.csv'), p.components_),
                        ('variance', load('var.csv').ravel(), p.explained_variance_),
                        ('ratio', load('ratio.csv').ravel(), p.explained_variance_ratio_),
                        ('mean', load('mean.csv').ravel(), p.mean_),
                        ('scores', load('scores.csv'), p.transform(X))]:
    assert np.allclose(got, want, rtol=1e-10, atol=1e-10), (name, got, want)
)",
                                                       dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST_P(LinalgTest, PcaTransformChecksShapes) {
  const linalg::PcaResult p = linalg::pca(from_ndarray(FromEigen(PcaData(20, 4, 63)), {7, 4}), 2);
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        p.transform(zeros({5, 3}));
      },
      {"(5, 3)", "4 features"});
  testing::ExpectThrowWith<ShapeError>([&] { p.transform(zeros({4})); }, {"(4,)"});
  testing::ExpectThrowWith<ShapeError>(
      [&] {
        p.inverse_transform(zeros({5, 4}));
      },
      {"(5, 4)", "2 components"});
  EXPECT_EQ(p.transform(zeros({5, 4}, int64)).shape(), (Shape{5, 2}));
  const MatrixXd ratio = ToEigen(p.explained_variance_ratio.get());
  EXPECT_GT(ratio(0, 0), ratio(1, 0));
  EXPECT_LT(ratio.sum(), 1.0);
}

template <typename E>
void ExpectThrowsWith(const std::function<void()>& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one with '" << text << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST_P(LinalgTest, BadShapesAndModesRaiseAtTheCall) {
  const BlockArray wide = zeros({3, 5});
  // Wide and complete QR are general (see linalg_dense_test.cc); indirect TSQR needs m >= n.
  ExpectThrowsWith<ShapeError>([&] { linalg::qr(wide, "indirect"); }, "(3, 5)");
  ExpectThrowsWith<ShapeError>([&] { linalg::qr(zeros({4})); }, "(4,)");
  ExpectThrowsWith<ValueError>([&] { linalg::qr(zeros({5, 2}), "full"); }, "full");
  ExpectThrowsWith<ShapeError>([&] { linalg::svd(wide); }, "(3, 5)");
  ExpectThrowsWith<ShapeError>([&] { linalg::inv(zeros({4, 3})); }, "(4, 3)");
  ExpectThrowsWith<ShapeError>([&] { linalg::cholesky(zeros({2, 3})); }, "(2, 3)");
  ExpectThrowsWith<ShapeError>([&] { linalg::solve(eye(4), zeros({3})); }, "(3,)");
  ExpectThrowsWith<ShapeError>([&] { linalg::solve(eye(4), zeros({4, 2, 1})); }, "(4, 4)");
  ExpectThrowsWith<ShapeError>([&] { linalg::lstsq(zeros({6, 2}), zeros({5, 1})); }, "(5, 1)");
  ExpectThrowsWith<ShapeError>([&] { linalg::lstsq(wide, zeros({3})); }, "(3, 5)");
  ExpectThrowsWith<ValueError>([&] { linalg::pca(zeros({10, 3}), 4); }, "k = 4");
  ExpectThrowsWith<ValueError>([&] { linalg::pca(zeros({10, 3}), 0); }, "k = 0");
}

TEST_P(LinalgTest, SingularAndIndefiniteMatricesRaiseOnGet) {
  MatrixXd a = WellConditioned(6, 71);
  a.col(3).setZero();
  for (const Shape& block : {Shape{6, 6}, Shape{2, 6}, Shape{3, 3}}) {
    SCOPED_TRACE("block " + shape_str(block));
    const BlockArray ba = from_ndarray(FromEigen(a), block);
    ExpectThrowsWith<ValueError>([&] { linalg::inv(ba).get(); }, "singular");
    ExpectThrowsWith<ValueError>([&] { linalg::solve(ba, ones({6}, float64, {block[0]})).get(); },
                                 "singular");
    ExpectThrowsWith<ValueError>([&] { linalg::qr(ba, "indirect").q.get(); }, "singular");
    // Symmetric, with a negative eigenvalue.
    const MatrixXd s = MatrixXd::Identity(6, 6) - 2 * MatrixXd::Ones(6, 6);
    ExpectThrowsWith<ValueError>([&] { linalg::cholesky(from_ndarray(FromEigen(s), block)).get(); },
                                 "positive definite");
  }
  MatrixXd tall = ToEigen(RandomNDArray({20, 4}, float64, 72));
  tall.col(1).setZero();
  ExpectThrowsWith<ValueError>(
      [&] {
        linalg::lstsq(from_ndarray(FromEigen(tall), {5, 4}), ones({20})).get();
      },
      "singular");
}

TEST_P(LinalgTest, TaskErrorsNameTheFunctionCalled) {
  MatrixXd a = WellConditioned(6, 73);
  a.col(2).setZero();
  const BlockArray ba = from_ndarray(FromEigen(a), {3, 3});
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  // The kernels are internal (linalg.inv_r_qt, linalg.right_div_upper, ...); the message names the
  // call too.
  EXPECT_NE(message([&] { linalg::inv(ba).get(); }).find("(in inv)"), std::string::npos);
  EXPECT_NE(message([&] { linalg::solve(ba, ones({6}, float64, {3})).get(); }).find("(in solve)"),
            std::string::npos);
  EXPECT_NE(message([&] { linalg::qr(ba, "indirect").q.get(); }).find("(in qr)"),
            std::string::npos);
  MatrixXd tall = ToEigen(RandomNDArray({12, 4}, float64, 74));
  tall.col(1).setZero();
  EXPECT_NE(message([&] {
              linalg::lstsq(from_ndarray(FromEigen(tall), {4, 4}), ones({12})).get();
            }).find("(in lstsq)"),
            std::string::npos);
  // Arrays made outside the call keep plain names.
  EXPECT_EQ(message([&] { power(arange(3), -1).get(); }).find("(in "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Nodes, LinalgTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
