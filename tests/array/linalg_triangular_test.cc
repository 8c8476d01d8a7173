// solve_triangular, cho_solve and the tiled Cholesky's error, against Eigen references.

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <nums/nums.hpp>
#include <set>

#include "tests/testing/eigen.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::FromEigen;
using testing::RelErr;
using testing::ToEigen;

using Eigen::MatrixXd;
using testing::ExpectThrowWith;
using testing::RandomNDArray;

class LinalgTriangularTest : public testing::OnNodes {};

// A triangular matrix with a dominant diagonal and off-diagonal entries below 1 / n, so that it is
// well conditioned with or without a unit diagonal; the other triangle holds junk the solve must
// not read.
MatrixXd Triangular(int64_t n, uint64_t seed) {
  MatrixXd a = ToEigen(RandomNDArray({n, n}, float64, seed)) / (10.0 * static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i) a(i, i) = (a(i, i) >= 0 ? 1 : -1) * (1.0 + std::abs(a(i, i)));
  return a;
}

struct Case {
  int64_t n, k, tile, bcols;  // A n x n in tile x tile blocks (as given), B n x k in bcols columns
};
const std::vector<Case> kCases = {
    {1, 1, 1, 1}, {7, 3, 7, 3}, {13, 5, 4, 2}, {20, 9, 6, 4}, {17, 1, 5, 1}, {9, 12, 2, 5},
};

TEST_P(LinalgTriangularTest, SolveTriangularAllVariants) {
  uint64_t seed = 10;
  for (const Case& c : kCases) {
    for (bool lower : {true, false}) {
      for (const char* trans : {"N", "T", "C"}) {
        for (bool unit : {false, true}) {
          SCOPED_TRACE(std::to_string(c.n) + " tile " + std::to_string(c.tile) + " lower " +
                       std::to_string(lower) + " trans " + trans + " unit " + std::to_string(unit));
          const MatrixXd a = Triangular(c.n, ++seed);
          const MatrixXd b = ToEigen(RandomNDArray({c.n, c.k}, float64, ++seed));
          MatrixXd t = lower ? MatrixXd(a.triangularView<Eigen::Lower>())
                             : MatrixXd(a.triangularView<Eigen::Upper>());
          if (unit) t.diagonal().setOnes();
          const MatrixXd op = std::string(trans) == "N" ? t : MatrixXd(t.transpose());
          const MatrixXd want = op.fullPivLu().solve(b);
          const BlockArray x = linalg::solve_triangular(
              from_ndarray(FromEigen(a), {c.tile, c.tile}),
              from_ndarray(FromEigen(b), {c.tile, c.bcols}), lower, trans, unit);
          ASSERT_EQ(x.shape(), (Shape{c.n, c.k}));
          EXPECT_LT(RelErr(ToEigen(x.get()), want), 1e-12);
        }
      }
    }
  }
}

TEST_P(LinalgTriangularTest, VectorRightHandSideAndFloat32) {
  const MatrixXd a = Triangular(11, 3);
  const MatrixXd b = ToEigen(RandomNDArray({11, 1}, float64, 4));
  const MatrixXd want = MatrixXd(a.triangularView<Eigen::Lower>()).fullPivLu().solve(b);
  NDArray bv(float64, {11});
  for (int64_t i = 0; i < 11; ++i) bv.data<double>()[i] = b(i, 0);
  const BlockArray x =
      linalg::solve_triangular(from_ndarray(FromEigen(a), {4, 4}), from_ndarray(bv, {3}), true);
  ASSERT_EQ(x.shape(), (Shape{11}));
  EXPECT_LT(RelErr(ToEigen(x.get()), want), 1e-12);
  const BlockArray x32 =
      linalg::solve_triangular(from_ndarray(FromEigen(a), {4, 4}).astype(float32),
                               from_ndarray(bv, {3}).astype(float32), true);
  EXPECT_EQ(x32.dtype(), float32);
  EXPECT_LT(RelErr(ToEigen(x32.get()), want), 1e-5);
}

TEST_P(LinalgTriangularTest, ManyColumnBlocksRunOnSeveralNodes) {
  // B with many column blocks: each column block is its own chain on B's block's node.
  const MatrixXd a = Triangular(24, 5);
  const MatrixXd b = ToEigen(RandomNDArray({24, 40}, float64, 6));
  const BlockArray bb = from_ndarray(FromEigen(b), {8, 5});
  const BlockArray x = linalg::solve_triangular(from_ndarray(FromEigen(a), {8, 8}), bb, false);
  if (GetParam() > 1) {
    std::set<int64_t> nodes;
    for (int64_t n : x.block_nodes()) nodes.insert(n);
    EXPECT_GT(nodes.size(), 1u);
  }
  EXPECT_LT(
      RelErr(ToEigen(x.get()), MatrixXd(a.triangularView<Eigen::Upper>()).fullPivLu().solve(b)),
      1e-12);
}

TEST_P(LinalgTriangularTest, SingularAndBadArguments) {
  MatrixXd a = Triangular(10, 7);
  a(6, 6) = 0;
  const BlockArray b = ones({10, 2});
  ExpectThrowWith<ValueError>(
      [&] {
        linalg::solve_triangular(from_ndarray(FromEigen(a), {3, 3}), b, true).get();
      },
      {"singular", "diagonal entry 6"});
  // unit_diagonal does not read the zero.
  EXPECT_NO_THROW(
      linalg::solve_triangular(from_ndarray(FromEigen(a), {3, 3}), b, true, "N", true).get());
  ExpectThrowWith<ShapeError>(
      [&] {
        linalg::solve_triangular(ones({3, 4}), ones({3}));
      },
      {"(3, 4)", "square"});
  ExpectThrowWith<ShapeError>(
      [&] {
        linalg::solve_triangular(ones({3, 3}), ones({4, 2}));
      },
      {"(4, 2)", "(3, 3)"});
  ExpectThrowWith<ValueError>(
      [&] {
        linalg::solve_triangular(ones({3, 3}), ones({3}), true, "X");
      },
      {"trans 'X'"});
  // Empty systems give empty solutions.
  EXPECT_EQ(linalg::solve_triangular(zeros({0, 0}), zeros({0, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(linalg::solve_triangular(eye(4), zeros({4, 0})).shape(), (Shape{4, 0}));
}

TEST_P(LinalgTriangularTest, ChoSolveFromCholesky) {
  for (const Shape& block : {Shape{15, 15}, Shape{4, 4}, Shape{6, 5}}) {
    SCOPED_TRACE(shape_str(block));
    const MatrixXd m = ToEigen(RandomNDArray({15, 15}, float64, 8));
    const MatrixXd spd = m * m.transpose() + 15 * MatrixXd::Identity(15, 15);
    const MatrixXd b = ToEigen(RandomNDArray({15, 4}, float64, 9));
    const BlockArray a = from_ndarray(FromEigen(spd), block);
    const BlockArray l = linalg::cholesky(a);
    const MatrixXd want = spd.llt().solve(b);
    EXPECT_LT(RelErr(ToEigen(linalg::cho_solve(l, from_ndarray(FromEigen(b), {4, 2})).get()), want),
              1e-11);
    // Upper factor U = L^T.
    EXPECT_LT(
        RelErr(ToEigen(linalg::cho_solve(l.T(), from_ndarray(FromEigen(b)), false).get()), want),
        1e-11);
  }
}

// The tiled Cholesky names the leading minor of the whole matrix, whatever the tiling: A is
// positive definite except that its leading 300 x 300 minor (1-based, LAPACK's count) is not.
TEST_P(LinalgTriangularTest, CholeskyNamesGlobalMinorOnEveryTiling) {
  const int64_t n = 320, bad = 299;  // 0-based row whose pivot fails: minor bad + 1
  MatrixXd a = MatrixXd::Identity(n, n) * 4.0;
  for (int64_t i = 0; i + 1 < n; ++i) a(i, i + 1) = a(i + 1, i) = 1.0;
  a(bad, bad) = -50.0;
  for (const Shape& block :
       {Shape{n, n}, Shape{128, 128}, Shape{100, 100}, Shape{37, 37}, Shape{64, 50}}) {
    SCOPED_TRACE(shape_str(block));
    ExpectThrowWith<ValueError>([&] { linalg::cholesky(from_ndarray(FromEigen(a), block)).get(); },
                                {"leading minor 300 is not positive"});
  }
}

INSTANTIATE_TEST_SUITE_P(Nodes, LinalgTriangularTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
