// Tall-skinny QR by direct TSQR on the embedded cluster: factors an m x n matrix split into row
// blocks, then checks ||QR - A|| / ||A|| and ||Q^T Q - I|| on the driver.
//
//   tsqr [rows] [cols] [blocks] [nodes]

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nums/nums.hpp>
#include <random>

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 400'000;
  const int64_t cols = argc > 2 ? std::atoll(argv[2]) : 32;
  const int64_t blocks = argc > 3 ? std::atoll(argv[3]) : 8;
  const int64_t nodes = argc > 4 ? std::atoll(argv[4]) : 2;
  nums::Context ctx = nums::init({.nodes = nodes});

  // Standard normal entries, made on the driver and put block by block on their nodes.
  nums::NDArray a_nd(nums::float64, {rows, cols});
  std::mt19937_64 rng(1337);
  std::normal_distribution<double> normal;
  double* pa = a_nd.data<double>();
  for (int64_t i = 0; i < rows * cols; ++i) pa[i] = normal(rng);
  const nums::BlockArray a = nums::from_ndarray(a_nd, {(rows + blocks - 1) / blocks, cols});

  const auto t0 = std::chrono::steady_clock::now();
  const nums::linalg::QrResult f = nums::linalg::qr(a);
  // Summing Q and R waits for every block of both without gathering them.
  const double check = (f.q.sum() + f.r.sum()).item<double>();
  const auto t1 = std::chrono::steady_clock::now();

  const nums::NDArray q_nd = f.q.get(), r_nd = f.r.get();
  const Eigen::Map<const RowMajor> am(a_nd.data<double>(), rows, cols);
  const Eigen::Map<const RowMajor> q(q_nd.data<double>(), rows, cols);
  const Eigen::Map<const RowMajor> r(r_nd.data<double>(), cols, cols);
  const double qr_err = (q * r - am).norm() / am.norm();
  const double orth_err = (q.transpose() * q - Eigen::MatrixXd::Identity(cols, cols)).norm();
  std::printf("TSQR of %lld x %lld float64 in %lld row blocks on %lld nodes (%lld cores)\n",
              static_cast<long long>(rows), static_cast<long long>(cols),
              static_cast<long long>(a.grid_shape()[0]), static_cast<long long>(nodes),
              static_cast<long long>(ctx.num_cores()));
  std::printf("  time             %.3f s (sum check %.3g)\n",
              std::chrono::duration<double>(t1 - t0).count(), check);
  std::printf("  ||QR - A||/||A|| %.3e\n", qr_err);
  std::printf("  ||Q^T Q - I||    %.3e\n", orth_err);
  return qr_err < 1e-10 && orth_err < 1e-10 ? 0 : 1;
}
