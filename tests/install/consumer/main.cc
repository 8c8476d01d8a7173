// The README's program, built against an installed nums with find_package(nums).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nums/nums.hpp>

int main() {
  nums::Context ctx = nums::init({.nodes = 2});
  nums::random::Generator rng(ctx, 1337);
  nums::BlockArray X = rng.normal({20'000, 8});
  nums::BlockArray y = (X.sum(1) > 0.0).astype(nums::float64);
  nums::models::LogisticRegression lr({.solver = "newton", .max_iter = 10, .penalty_l2 = 1.0});
  lr.fit(X, y);
  const double accuracy = lr.score(X, y);
  nums::BlockArray w = nums::linalg::solve(nums::matmul(X.T(), X), nums::matmul(X.T(), y));
  if (ctx.num_nodes() != 2 || !(accuracy > 0.95) || w.shape() != nums::Shape{8}) return 1;
  // The io layer (HDF5 included) links from an installed nums too.
  const std::string h5 = std::filesystem::temp_directory_path() / "nums-consumer-w.h5";
  nums::io::write_hdf5(w, h5, "/w");
  const bool same = (nums::io::read_hdf5(ctx, h5, "/w") == w).all().item<bool>();
  std::filesystem::remove(h5);
  if (!same) return 1;
  // zarr too, with its compressors (zlib, lz4, zstd, blosc) linked from the installed package.
  const std::string store = std::filesystem::temp_directory_path() / "nums-consumer-w.zarr";
  for (const char* compressor : {"zlib", "lz4", "zstd", "blosc"}) {
    nums::io::write_zarr(w, store, {.chunks = {3}, .compressor = compressor});
    if (!(nums::io::read_zarr(ctx, store) == w).all().item<bool>()) return 1;
  }
  std::filesystem::remove_all(store);
  std::printf("nums ok: %lld nodes, accuracy %.4f, |w| %.4f\n",
              static_cast<long long>(ctx.num_nodes()), accuracy,
              nums::linalg::norm(w).item<double>());
  return 0;
}
