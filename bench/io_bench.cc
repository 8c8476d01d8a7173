// Reading and writing arrays in files against the floors of the same bytes, in one run:
// - local files (.npy, HDF5, zarr): a sequential read (pread, 8 MiB pieces, page cache warm) and
//   a sequential write + fsync of the same number of bytes in the same directory, and the Python
//   readers users have (numpy.load, h5py, zarr; run by /usr/bin/python3);
// - S3 (with --s3): the same objects fetched and sent by the curl command line against the same
//   server (npm's s3rver on loopback, started here as the tests start it).
// Prints a Markdown table of times and ratios (floor time / our time: 1 is the floor).
//
// build/bench/io_bench [--mib 512] [--dir /tmp] [--repeat 3] [--s3]

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nums/io.hpp>
#include <nums/nums.hpp>
#include <string>
#include <vector>

#include "io/storage.h"
#include "tests/io/s3_server.h"

namespace {

namespace fs = std::filesystem;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kCols = 16;

struct Options {
  int64_t mib = 512;
  fs::path dir = fs::temp_directory_path();
  int repeat = 3;
  bool s3 = false;
};

double Seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Best(int repeat, const std::function<void()>& f) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) best = std::min(best, Seconds(f));
  return best;
}

// Into a buffer allocated and touched beforehand, so only the copy out of the page cache counts.
void SequentialRead(const fs::path& file, std::vector<char>& buf) {
  buf.resize(static_cast<size_t>(fs::file_size(file)));
  const int fd = ::open(file.c_str(), O_RDONLY);
  for (size_t done = 0; done < buf.size();) {
    const ssize_t n = ::pread(fd, buf.data() + done, std::min<size_t>(8 * kMiB, buf.size() - done),
                              static_cast<off_t>(done));
    if (n <= 0) throw std::runtime_error("read failed: " + file.string());
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

void SequentialWrite(const fs::path& file, const std::vector<char>& bytes) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n =
        ::write(fd, bytes.data() + done, std::min<size_t>(8 * kMiB, bytes.size() - done));
    if (n <= 0) throw std::runtime_error("write failed: " + file.string());
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
}

// The best of `repeat` timings of `code` in /usr/bin/python3 (after `setup`), in seconds.
double PythonBest(const std::string& setup, const std::string& code, int repeat,
                  const fs::path& cwd) {
  const fs::path script = cwd / "nums-io-bench.py";
  const fs::path out = cwd / "nums-io-bench.out";
  {
    FILE* f = std::fopen(script.c_str(), "w");
    std::fprintf(
        f,
        "import time\n%s\nbest = 1e300\nfor _ in range(%d):\n    t0 = time.perf_counter()\n    "
        "%s\n    best = min(best, time.perf_counter() - t0)\nprint(best)\n",
        setup.c_str(), repeat, code.c_str());
    std::fclose(f);
  }
  const std::string cmd = "cd '" + cwd.string() + "' && /usr/bin/python3 '" + script.string() +
                          "' > '" + out.string() + "' 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "python failed: %s\n", cmd.c_str());
    std::system(("cat '" + out.string() + "' >&2").c_str());
    return -1;
  }
  FILE* f = std::fopen(out.c_str(), "r");
  double t = -1;
  if (std::fscanf(f, "%lf", &t) != 1) t = -1;
  std::fclose(f);
  fs::remove(script);
  fs::remove(out);
  return t;
}

std::string ReadFileBytesOf(const std::string& path) {
  std::string bytes(static_cast<size_t>(fs::file_size(path)), '\0');
  FILE* f = std::fopen(path.c_str(), "rb");
  if (std::fread(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    throw std::runtime_error("read failed: " + path);
  }
  std::fclose(f);
  return bytes;
}

double CurlBest(const std::string& args, int repeat) {
  const std::string cmd =
      "curl -sS -f --aws-sigv4 aws:amz:us-east-1:s3 -u S3RVER:S3RVER -H "
      "'x-amz-content-sha256: UNSIGNED-PAYLOAD' " +
      args;
  return Best(repeat, [&] {
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("curl failed: " + cmd);
  });
}

struct Row {
  std::string what;
  double ours;
  std::string reference;
  double ref;
};

void Print(const std::vector<Row>& rows, int64_t bytes) {
  std::printf("| case | nums | GB/s | reference | reference time | ratio (reference / nums) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    std::printf("| %s | %.3f s | %.2f | %s | %.3f s | %.2f |\n", r.what.c_str(), r.ours,
                static_cast<double>(bytes) / r.ours / 1e9, r.reference.c_str(), r.ref,
                r.ref > 0 ? r.ref / r.ours : 0.0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mib" && i + 1 < argc) {
      o.mib = std::atoll(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      o.dir = argv[++i];
    } else if (a == "--repeat" && i + 1 < argc) {
      o.repeat = std::atoi(argv[++i]);
    } else if (a == "--s3") {
      o.s3 = true;
    } else {
      std::fprintf(stderr, "usage: io_bench [--mib N] [--dir DIR] [--repeat N] [--s3]\n");
      return 2;
    }
  }
  const int64_t rows = o.mib * kMiB / (kCols * 8);
  const int64_t bytes = rows * kCols * 8;
  nums::Context ctx = nums::init();
  nums::random::Generator rng(ctx, 7);
  const nums::BlockArray x = rng.normal({rows, kCols});
  x.wait();
  const fs::path dir = o.dir / ("nums-io-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::printf("io_bench: %lld MiB of float64 (%lld x %lld, blocks %s), best of %d, in %s\n\n",
              static_cast<long long>(o.mib), static_cast<long long>(rows),
              static_cast<long long>(kCols), nums::shape_str(x.block_shape()).c_str(), o.repeat,
              dir.c_str());

  std::vector<char> raw(static_cast<size_t>(bytes), 1);
  const fs::path seq = dir / "sequential.bin";
  const double seq_write = Best(o.repeat, [&] { SequentialWrite(seq, raw); });
  SequentialRead(seq, raw);  // page cache warm, buffer touched
  const double seq_read = Best(o.repeat, [&] { SequentialRead(seq, raw); });
  fs::remove(seq);

  std::vector<Row> rows_out;
  const std::string npy = (dir / "x.npy").string();
  const std::string h5 = (dir / "x.h5").string();
  const double npy_write = Best(o.repeat, [&] { nums::io::save(x, npy); });
  const double h5_write = Best(o.repeat, [&] { nums::io::write_hdf5(x, h5, "/X"); });
  SequentialRead(npy, raw);
  SequentialRead(h5, raw);
  const double npy_read = Best(o.repeat, [&] { nums::io::load(ctx, npy).wait(); });
  const double h5_read = Best(o.repeat, [&] { nums::io::read_hdf5(ctx, h5, "/X").wait(); });
  const double numpy_read = PythonBest("import numpy as np", "np.load('x.npy')", o.repeat, dir);
  const double h5py_read =
      PythonBest("import h5py", "h5py.File('x.h5', 'r')['X'][...]", o.repeat, dir);
  const double numpy_write = PythonBest(
      "import numpy as np, os\na = np.load('x.npy')",
      "f = open('y.npy', 'wb'); np.save(f, a); f.flush(); os.fsync(f.fileno()); f.close()",
      o.repeat, dir);
  rows_out.push_back({".npy read (io::load)", npy_read, "sequential read", seq_read});
  rows_out.push_back({".npy read (io::load)", npy_read, "numpy.load", numpy_read});
  rows_out.push_back(
      {".npy write (io::save, fsync)", npy_write, "sequential write + fsync", seq_write});
  rows_out.push_back(
      {".npy write (io::save, fsync)", npy_write, "numpy.save + fsync", numpy_write});
  rows_out.push_back({"HDF5 read (io::read_hdf5)", h5_read, "sequential read", seq_read});
  rows_out.push_back({"HDF5 read (io::read_hdf5)", h5_read, "h5py dataset[...]", h5py_read});
  rows_out.push_back(
      {"HDF5 write (io::write_hdf5, fsync)", h5_write, "sequential write + fsync", seq_write});

  // zarr, one chunk per block, uncompressed and with zarr-python's default (blosc lz4, shuffle).
  const std::string chunks =
      "(" + std::to_string(x.block_shape()[0]) + ", " + std::to_string(x.block_shape()[1]) + ")";
  for (const std::string compressor : {"", "blosc"}) {
    const std::string store = (dir / ("x" + compressor + ".zarr")).string();
    const std::string name = compressor.empty() ? "zarr, uncompressed" : "zarr, blosc lz4";
    const double ours_write =
        Best(o.repeat, [&] { nums::io::write_zarr(x, store, {.compressor = compressor}); });
    const double ours_read = Best(o.repeat, [&] { nums::io::read_zarr(ctx, store).wait(); });
    const std::string py_compressor =
        compressor.empty() ? "None" : "numcodecs.Blosc('lz4', 5, numcodecs.Blosc.SHUFFLE)";
    const double py_read =
        PythonBest("import zarr", "zarr.open('" + store + "', 'r')[...]", o.repeat, dir);
    // os.sync: zarr-python does not flush what it writes; io::write_zarr fsyncs every chunk.
    const double py_write =
        PythonBest("import zarr, numcodecs, numpy as np, os\na = np.load('x.npy')",
                   "zarr.save_array('py.zarr', a, chunks=" + chunks +
                       ", compressor=" + py_compressor + "); os.sync()",
                   o.repeat, dir);
    rows_out.push_back({name + " read (io::read_zarr)", ours_read, "zarr-python read", py_read});
    rows_out.push_back({name + " write (io::write_zarr, fsync)", ours_write,
                        "zarr-python save_array + os.sync", py_write});
    if (compressor.empty()) {
      rows_out.push_back({name + " read (io::read_zarr)", ours_read, "sequential read", seq_read});
      rows_out.push_back({name + " write (io::write_zarr, fsync)", ours_write,
                          "sequential write + fsync", seq_write});
    }
  }

  if (o.s3) {
    nums::testing::S3Server& server = nums::testing::S3Server::Get();
    server.UseInEnvironment();
    const std::string key = std::string(nums::testing::S3Server::kBucket) + "/bench/x.npy";
    const std::string url = "s3://" + key;
    const double s3_write = Best(o.repeat, [&] { nums::io::save(x, url); });
    const double s3_read = Best(o.repeat, [&] { nums::io::load(ctx, url).wait(); });
    // The same bytes from this process alone (16 MiB parts, 4 at a time): what the server's
    // multipart path costs, apart from the nodes.
    const std::string one = ReadFileBytesOf(npy);
    const double s3_put_here = Best(o.repeat, [&] {
      nums::io::WriteObject(url + ".one", one.data(), static_cast<int64_t>(one.size()));
    });
    const std::string http = server.endpoint() + "/" + key;
    const double curl_get = CurlBest("-o /dev/null '" + http + "'", o.repeat);
    const double curl_put = CurlBest("-T '" + npy + "' '" + http + "'", o.repeat);
    rows_out.push_back({".npy on S3 read (io::load)", s3_read, "curl GET of the object", curl_get});
    rows_out.push_back(
        {".npy on S3 write (io::save)", s3_write, "curl PUT of the same bytes", curl_put});
    rows_out.push_back({".npy on S3 write (io::save)", s3_write,
                        "one process's multipart upload of the bytes", s3_put_here});
  }
  Print(rows_out, bytes);
  fs::remove_all(dir);
  return 0;
}
