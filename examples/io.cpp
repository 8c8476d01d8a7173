// Files in and out: NumPy's .npy, HDF5 (with attributes), zarr and CSV, each block read and written
// by the node that owns it. Run it anywhere: it works in a fresh temporary directory.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nums/nums.hpp>

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "nums-io-example";
  fs::create_directories(dir);
  nums::Context ctx = nums::init({.nodes = 4});
  nums::random::Generator rng(ctx, 1337);

  nums::BlockArray x = rng.normal({100'000, 16});
  nums::io::save(x, dir / "x.npy");  // np.load reads it
  nums::BlockArray y = nums::io::load(ctx, dir / "x.npy", {.block_shape = {25'000, 16}});

  nums::io::write_hdf5(
      y * 2.0, dir / "x.h5", "/train/X",
      {.compression = "gzip", .attributes = {{"scale", 2.0}, {"source", "x.npy"}}});
  nums::BlockArray z = nums::io::read_hdf5(ctx, dir / "x.h5", "/train/X");
  const double scale =
      std::get<double>(nums::io::read_hdf5_attributes(dir / "x.h5", "/train/X").at("scale"));

  // zarr: chunks compressed by the nodes (zarr-python reads the store); any read block shape.
  nums::io::write_zarr(
      z, dir / "x.zarr",
      {.chunks = {10'000, 16}, .compressor = "zstd", .attributes = {{"scale", scale}}});
  nums::BlockArray w = nums::io::read_zarr(ctx, dir / "x.zarr", {.block_shape = {30'000, 8}});

  std::ofstream(dir / "t.csv") << "a,b,c\n1,2,3\n4,5,6\n";
  nums::BlockArray t = nums::io::read_csv(ctx, dir / "t.csv", {.header = true, .columns = {0, 2}});

  const double diff = nums::linalg::norm(w - x * scale).item<double>();
  std::printf("npy -> hdf5 -> zarr round trip: |w - 2x| = %g; csv columns a, c summed: %g\n", diff,
              t.sum().item<double>());
  fs::remove_all(dir);
  return diff == 0.0 && t.sum().item<double>() == 14.0 ? 0 : 1;
}
