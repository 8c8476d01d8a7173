#pragma once
// Dense matrices of the linear-algebra tests: NDArray <-> Eigen, and a relative error.

#include <Eigen/Dense>
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <string>

#include "nums/ndarray.hpp"

namespace nums::testing {

/// A 2-d array as a matrix (1-d as a column, 0-d as 1 x 1), converted to double.
inline Eigen::MatrixXd ToEigen(const NDArray& a) {
  const int64_t rows = a.ndim() >= 1 ? a.shape()[0] : 1, cols = a.ndim() == 2 ? a.shape()[1] : 1;
  Eigen::MatrixXd m(rows, cols);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) m(i, j) = a.value_at<double>(i * cols + j);
  }
  return m;
}

/// Writes a matrix as CSV with every digit a double needs (for NumPy and scikit-learn to read).
inline void WriteCsv(const Eigen::MatrixXd& m, const std::string& path) {
  std::ofstream out(path);
  out << std::setprecision(17);
  for (int64_t i = 0; i < m.rows(); ++i) {
    for (int64_t j = 0; j < m.cols(); ++j) out << (j ? "," : "") << m(i, j);
    out << "\n";
  }
}

/// A matrix as a 2-d float64 array.
inline NDArray FromEigen(const Eigen::MatrixXd& m) {
  NDArray a(float64, {m.rows(), m.cols()});
  for (int64_t i = 0; i < m.rows(); ++i) {
    for (int64_t j = 0; j < m.cols(); ++j) a.data<double>()[i * m.cols() + j] = m(i, j);
  }
  return a;
}

/// ||got - want|| / ||want|| (Frobenius).
inline double RelErr(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want) {
  return (got - want).norm() / std::max(want.norm(), 1e-300);
}

}  // namespace nums::testing
