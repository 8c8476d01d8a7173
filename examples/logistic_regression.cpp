// Logistic regression on NumS's standard synthetic data (two Gaussian blobs per feature), fitted
// on an embedded cluster: the data is generated block-parallel where it lives, each iteration is
// one fused task per row block plus a pairwise sum, and only d x d numbers reach the driver.
// With --input and --labels it fits a dataset read from files instead (any io::read spec:
// x.npy, data.h5:/X, x.csv, ...), and --output writes the fitted coefficients.
//
//   logistic_regression [--rows 200000] [--cols 32] [--block-rows 0] [--solver newton]
//                       [--max-iter 100] [--l2 1] [--nodes 1] [--seed 1337]
//                       [--input SPEC --labels SPEC [--csv-header] [--csv-delimiter C]]
//                       [--output SPEC]
//                       [--address HOST:PORT [--token-file F]]   (a running cluster)
//
// --output writes one float64 vector of d + 1 values: the d coefficients in the order of X's
// columns, then the intercept (w[:d] and w[d] in NumPy). An HDF5 output also carries the
// attributes "n_features", "layout", "solver", "penalty_l2", "n_iter" and "converged".

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nums/nums.hpp>
#include <string>
#include <utility>

namespace {

// X (n x d) and y (n, float64) read from files, checked against each other and the model.
nums::models::Dataset ReadDataset(const nums::Context& ctx, const std::string& input,
                                  const std::string& labels, const nums::io::ReadOptions& options,
                                  int64_t block_rows) {
  nums::BlockArray X = nums::io::read(ctx, input, options);
  nums::BlockArray y = nums::io::read(ctx, labels, options);
  if (X.ndim() != 2) {
    throw nums::ShapeError("--input '" + input + "' has shape " + nums::shape_str(X.shape()) +
                           ": X must be 2-d (samples x features)");
  }
  if (y.ndim() == 2 && y.shape()[1] == 1) y = y.reshape({y.shape()[0]});
  if (y.ndim() != 1) {
    throw nums::ShapeError("--labels '" + labels + "' has shape " + nums::shape_str(y.shape()) +
                           ": y must be 1-d or one column (n, 1)");
  }
  if (y.shape()[0] != X.shape()[0]) {
    throw nums::ShapeError("--input '" + input + "' of shape " + nums::shape_str(X.shape()) +
                           " and --labels '" + labels + "' of shape " + nums::shape_str(y.shape()) +
                           " have different numbers of rows");
  }
  if (X.shape()[0] == 0 || X.shape()[1] == 0) {
    throw nums::ValueError("--input '" + input + "' of shape " + nums::shape_str(X.shape()) +
                           " needs at least one row and one column");
  }
  const auto bad =
      static_cast<int64_t>(((y != 0.0) && (y != 1.0)).astype(nums::float64).sum().item<double>());
  if (bad > 0) {
    throw nums::ValueError("--labels '" + labels + "': " + std::to_string(bad) + " of " +
                           std::to_string(y.shape()[0]) +
                           " labels are not 0 or 1 (logistic regression needs 0/1 labels)");
  }
  if (block_rows > 0) X = X.rechunk({block_rows, X.shape()[1]});
  return {X, y.astype(nums::float64)};
}

// [coef..., intercept] to `spec`; HDF5 outputs also get attributes describing the fit.
void WriteCoefficients(const nums::models::LogisticRegression& lr, const std::string& solver,
                       double l2, const std::string& spec) {
  const Eigen::VectorXd& coef = lr.coef();
  const auto d = static_cast<int64_t>(coef.size());
  std::vector<double> w(coef.data(), coef.data() + d);
  w.push_back(lr.intercept());
  nums::io::WriteOptions options;
  if (nums::io::parse_dataset_spec(spec).format == nums::io::Format::kHdf5) {
    options.attributes = {
        {"n_features", d},       {"layout", "coef_0 .. coef_{n_features-1}, intercept"},
        {"solver", solver},      {"penalty_l2", l2},
        {"n_iter", lr.n_iter()}, {"converged", static_cast<int64_t>(lr.converged())}};
  }
  nums::io::write(nums::from_ndarray(nums::NDArray::from_vector(w)), spec, options);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Logistic regression on synthetic blobs with nums"};
  int64_t rows = 200'000, cols = 32, block_rows = 0, max_iter = 100, nodes = 1, seed = 1337;
  std::string solver = "newton";
  double l2 = 1.0, tol = 1e-8;
  auto* rows_opt = app.add_option("--rows", rows, "number of samples")->check(CLI::PositiveNumber);
  auto* cols_opt = app.add_option("--cols", cols, "number of features")->check(CLI::PositiveNumber);
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
  auto* seed_opt = app.add_option("--seed", seed, "seed of the synthetic data");
  std::string input, labels, output, csv_delimiter = ",";
  bool csv_header = false;
  auto* input_opt = app.add_option(
      "--input", input,
      "X (n x d) from a dataset spec: x.npy, data.h5:/X, x.csv, ... (needs --labels)");
  auto* labels_opt = app.add_option(
      "--labels", labels, "y (n, or n x 1) of 0/1 labels from a dataset spec (needs --input)");
  input_opt->needs(labels_opt);
  labels_opt->needs(input_opt);
  for (auto* synthetic : {rows_opt, cols_opt, seed_opt}) input_opt->excludes(synthetic);
  app.add_flag("--csv-header", csv_header, "CSV inputs: skip the first line (column names)");
  app.add_option("--csv-delimiter", csv_delimiter, "CSV inputs: the field separator")
      ->check([](const std::string& s) { return s.size() == 1 ? "" : "one character"; });
  app.add_option(
      "--output", output,
      "write [coef..., intercept] (d + 1 float64) to a dataset spec: w.npy, w.h5:/w, ...");
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  try {
    if (!output.empty()) nums::io::parse_dataset_spec(output);  // a bad spec fails before the fit
    nums::Context ctx = nums::init({.nodes = nodes, .address = address, .token_file = token_file});
    const auto data =
        input.empty() ? nums::models::make_blobs(rows, cols, seed, {.block_rows = block_rows})
                      : ReadDataset(ctx, input, labels,
                                    {.csv_header = csv_header, .csv_delimiter = csv_delimiter[0]},
                                    block_rows);
    if (!input.empty()) {
      rows = data.X.shape()[0];
      cols = data.X.shape()[1];
      std::printf("X from %s (%s), y from %s\n", input.c_str(),
                  std::string(nums::dtype_name(data.X.dtype())).c_str(), labels.c_str());
    }
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
    if (lr.separable()) {
      std::printf("the classes are separable: without a penalty (--l2) no finite optimum exists\n");
    }
    std::printf("train accuracy %.6f\n", lr.score(data.X, data.y));
    if (!output.empty()) {
      WriteCoefficients(lr, solver, l2, output);
      std::printf("coefficients and intercept (%lld values) written to %s\n",
                  static_cast<long long>(cols + 1), output.c_str());
    }
    std::printf("total %.3f s\n", std::chrono::duration<double>(Clock::now() - start).count());
  } catch (const nums::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
