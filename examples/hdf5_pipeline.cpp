// A dataset in an HDF5 file, end to end: make (X, y), store it as one HDF5 dataset with
// attributes that describe it, read it back by its dataset spec, fit a logistic regression on it
// and save the coefficients (with the fit's details as attributes). Every block is written and
// read by the node that owns it. Run it anywhere: it works in a fresh temporary directory, and
// its exit status says whether the round trips and the fit came out as they should.
//
// h5py sees what it wrote:
//   f = h5py.File("train.h5"); data = f["/train/data"][()]; d =
//   f["/train/data"].attrs["label_column"] X, y = data[:, :d], data[:, d]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nums/nums.hpp>

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "nums-hdf5-pipeline-example";
  fs::create_directories(dir);
  const std::string train = (dir / "train.h5").string();
  const std::string model = (dir / "model.h5").string();
  nums::Context ctx = nums::init({.nodes = 2});

  // 1. A labelled data set: y ~ Bernoulli(sigmoid(X w + b)) for known w and b.
  const int64_t n = 20'000, d = 4;
  const std::vector<double> true_w{1.5, -2.0, 0.5, 0.0};
  const double true_b = -0.5;
  nums::random::Generator rng(ctx, 7);
  nums::BlockArray X = rng.normal({n, d});
  nums::BlockArray p = nums::sigmoid(nums::matmul(X, nums::array<double>(true_w)) + true_b);
  nums::BlockArray y = (rng.uniform({n}) < p).astype(nums::float64);

  // 2. One dataset [X | y] with attributes saying which column holds the labels. (write_hdf5
  //    creates a new file holding one dataset, so X and y travel together as columns.)
  nums::io::write(nums::concatenate({X, y.reshape({n, 1})}, 1), train + ":/train/data",
                  {.attributes = {{"label_column", d},
                                  {"true_coef", true_w},
                                  {"true_intercept", true_b},
                                  {"description", "y ~ Bernoulli(sigmoid(X w + b))"}},
                   .compression = "gzip"});

  // 3. Read it back: the attributes first (driver only), then the data by its spec.
  const nums::io::Attributes attrs = nums::io::read_hdf5_attributes(train, "/train/data");
  const auto label_column = std::get<int64_t>(attrs.at("label_column"));
  nums::BlockArray data = nums::io::read(ctx, train + ":/train/data");
  nums::BlockArray X2 = data(nums::all, nums::slice(0, label_column));
  nums::BlockArray y2 = data(nums::all, label_column);
  const double round_trip =
      nums::linalg::norm(X2 - X).item<double>() + nums::linalg::norm(y2 - y).item<double>();

  // 4. Fit (sklearn's LogisticRegression(C=1) objective).
  nums::models::LogisticRegression lr({.solver = "newton", .penalty_l2 = 1.0});
  lr.fit(X2, y2);
  std::printf("round trip |difference| = %g; fit: %s after %lld iterations, accuracy %.4f\n",
              round_trip, lr.converged() ? "converged" : "stopped",
              static_cast<long long>(lr.n_iter()), lr.score(X2, y2));
  double worst = std::abs(lr.intercept() - true_b);
  for (int64_t j = 0; j < d; ++j) {
    std::printf("  coef %lld: %+.4f (true %+.4f)\n", static_cast<long long>(j), lr.coef()[j],
                true_w[static_cast<size_t>(j)]);
    worst = std::max(worst, std::abs(lr.coef()[j] - true_w[static_cast<size_t>(j)]));
  }
  std::printf("  intercept: %+.4f (true %+.4f)\n", lr.intercept(), true_b);

  // 5. Save [coef..., intercept] with the fit's details, and check what was written.
  std::vector<double> w(lr.coef().data(), lr.coef().data() + d);
  w.push_back(lr.intercept());
  nums::io::write(nums::array<double>(w), model + ":/coef",
                  {.attributes = {{"n_features", d},
                                  {"layout", "coef_0 .. coef_{n_features-1}, intercept"},
                                  {"n_iter", lr.n_iter()}}});
  const std::vector<double> saved = nums::io::read(ctx, model + ":/coef").get().to_vector<double>();
  std::printf("coefficients saved to %s:/coef\n", model.c_str());

  fs::remove_all(dir);
  const bool ok = round_trip == 0.0 && lr.converged() && worst < 0.15 && saved == w;
  if (!ok) std::fprintf(stderr, "hdf5_pipeline: unexpected result (largest error %g)\n", worst);
  return ok ? 0 : 1;
}
