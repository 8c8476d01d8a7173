// Logistic regression on NumS's standard synthetic data (two Gaussian blobs per feature), fitted
// on an embedded cluster: the data is generated block-parallel where it lives, each iteration is
// one fused task per row block plus a pairwise sum, and only d x d numbers reach the driver.
//
//   logistic_regression [--rows 200000] [--cols 32] [--block-rows 0] [--solver newton]
//                       [--max-iter 100] [--l2 1] [--nodes 1] [--seed 1337]
//                       [--address HOST:PORT [--token-file F]]   (a running cluster)

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nums/nums.hpp>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"Logistic regression on synthetic blobs with nums"};
  int64_t rows = 200'000, cols = 32, block_rows = 0, max_iter = 100, nodes = 1, seed = 1337;
  std::string solver = "newton";
  double l2 = 1.0, tol = 1e-8;
  app.add_option("--rows", rows, "number of samples")->check(CLI::PositiveNumber);
  app.add_option("--cols", cols, "number of features")->check(CLI::PositiveNumber);
  app.add_option("--block-rows", block_rows, "rows per block (0: the engine's default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--solver", solver, "newton, irls or lbfgs")
      ->check(CLI::IsMember({"newton", "irls", "lbfgs"}));
  app.add_option("--max-iter", max_iter, "most updates")->check(CLI::NonNegativeNumber);
  app.add_option("--l2", l2, "L2 penalty on the coefficients (the blobs are separable)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tol", tol, "stop when max |gradient| <= tol")->check(CLI::NonNegativeNumber);
  app.add_option("--nodes", nodes, "embedded nodes")->check(CLI::PositiveNumber);
  std::string address, token_file;
  app.add_option("--address", address, "HOST:PORT of a running cluster's head (default: embedded)");
  app.add_option("--token-file", token_file, "the cluster token (default $NUMS_HOME or ~/.nums)");
  app.add_option("--seed", seed, "seed of the synthetic data");
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  try {
    nums::Context ctx = nums::init({.nodes = nodes, .address = address, .token_file = token_file});
    const auto data = nums::models::make_blobs(rows, cols, seed, {.block_rows = block_rows});
    std::printf("X: %lld x %lld float64, %lld row blocks of %lld rows, %lld nodes, %lld cores\n",
                static_cast<long long>(rows), static_cast<long long>(cols),
                static_cast<long long>(data.X.grid_shape()[0]),
                static_cast<long long>(data.X.block_shape()[0]),
                static_cast<long long>(ctx.num_nodes()), static_cast<long long>(ctx.num_cores()));

    const auto fit_start = Clock::now();
    nums::models::LogisticRegression lr(
        {.solver = solver, .max_iter = max_iter, .tol = tol, .penalty_l2 = l2});
    lr.fit(data.X, data.y);
    const double fit_seconds = std::chrono::duration<double>(Clock::now() - fit_start).count();

    std::printf("%5s %16s %12s %8s %7s\n", "iter", "loss", "max|grad|", "passes", "seconds");
    for (const auto& it : lr.history()) {
      std::printf("%5lld %16.8e %12.4e %8lld %7.3f\n", static_cast<long long>(it.iteration),
                  it.loss, it.grad_norm, static_cast<long long>(it.passes), it.seconds);
    }
    std::printf("%s after %lld iterations (%s), fit %.3f s (data generation and checks included)\n",
                lr.converged() ? "converged" : "stopped", static_cast<long long>(lr.n_iter()),
                solver.c_str(), fit_seconds);
    std::printf("train accuracy %.6f\n", lr.score(data.X, data.y));
    std::printf("total %.3f s\n", std::chrono::duration<double>(Clock::now() - start).count());
  } catch (const nums::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
