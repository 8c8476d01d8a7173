// The io layer on a real cluster: a head and 3 `nums` node processes on loopback. Blocks are
// read and written by the node processes; HDF5 writers in three processes share one file; zarr
// chunks are compressed and decompressed by the node processes.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "io/csv.h"
#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/io/io_testing.h"
#include "tests/io/s3_server.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;

class ClusterIoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The node processes inherit the S3 test server's settings.
    S3Server::Get().UseInEnvironment();
    cluster_ = new LocalCluster(3);
    ctx_ =
        new Context(init({.address = cluster_->address(), .token_file = cluster_->token_file()}));
  }
  static void TearDownTestSuite() {
    delete ctx_;
    ctx_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }
  static LocalCluster* cluster_;
  static Context* ctx_;
  TempDir dir_;
};
LocalCluster* ClusterIoTest::cluster_ = nullptr;
Context* ClusterIoTest::ctx_ = nullptr;

struct Case {
  Shape shape, write_blocks, read_blocks;
};
const std::vector<Case> kCases = {{{7, 5}, {3, 2}, {2, 4}},
                                  {{13}, {4}, {5}},
                                  {{2, 3, 4}, {1, 2, 3}, {2, 1, 4}},
                                  {{}, {}, {}},
                                  {{0, 4}, {0, 2}, {}}};

TEST_F(ClusterIoTest, NpyRoundTripsOnNodeProcesses) {
  ASSERT_EQ(ctx_->num_nodes(), 3);
  uint64_t seed = 1;
  for (DType t : AllDTypes()) {
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape));
      const NDArray want = SpecialNDArray(c.shape, t, seed++);
      io::save(from_ndarray(want, c.write_blocks), dir_.file("x.npy"));
      const BlockArray y = io::load(*ctx_, dir_.file("x.npy"), {.block_shape = c.read_blocks});
      EXPECT_SAME_BYTES(y.get(), want);
    }
  }
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(ClusterIoTest, NpyOnS3IsWrittenAndReadByNodeProcesses) {
  // 6 MiB in 3 blocks of rows, one per node: regrouped into parts of 5 MiB or more, sent by the
  // nodes that hold them; read back by every node.
  const NDArray want = SpecialNDArray({98'304, 8}, float64, 5);
  const BlockArray x = from_ndarray(want, {32'768, 8});
  const std::string url = std::string("s3://") + S3Server::kBucket + "/cluster/x.npy";
  io::save(x, url);
  const BlockArray y = io::load(*ctx_, url, {.block_shape = {10'000, 4}});
  const std::vector<int64_t> where = y.block_nodes();
  EXPECT_EQ(std::set<int64_t>(where.begin(), where.end()).size(), 3u);
  EXPECT_SAME_BYTES(y.get(), want);
  for (const Case& c : kCases) {
    SCOPED_TRACE(shape_str(c.shape));
    const NDArray small = SpecialNDArray(c.shape, int32, 9);
    io::save(from_ndarray(small, c.write_blocks), url);
    EXPECT_SAME_BYTES(io::load(*ctx_, url, {.block_shape = c.read_blocks}).get(), small);
  }
}

TEST_F(ClusterIoTest, BlocksAreReadByEveryNode) {
  const NDArray want = SpecialNDArray({12, 9}, int64, 4);
  io::save(from_ndarray(want, {4, 3}), dir_.file("x.npy"));
  const BlockArray y = io::load(*ctx_, dir_.file("x.npy"), {.block_shape = {4, 3}});
  const std::vector<int64_t> where = y.block_nodes();
  EXPECT_EQ(std::set<int64_t>(where.begin(), where.end()).size(), 3u);
  EXPECT_SAME_BYTES(y.get(), want);
  EXPECT_SAME_BYTES((y * 2).get(), (from_ndarray(want) * 2).get());
}

TEST_F(ClusterIoTest, Hdf5RoundTripsWithWritersInThreeProcesses) {
  uint64_t seed = 100;
  for (DType t : AllDTypes()) {
    for (const Case& c : kCases) {
      const bool empty = c.shape.empty() || shape_size(c.shape) == 0;
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape));
      const NDArray want = SpecialNDArray(c.shape, t, seed++);
      io::write_hdf5(from_ndarray(want, c.write_blocks), dir_.file("x.h5"), "/g/x",
                     {.compression = empty ? "" : "gzip",
                      .attributes = {{"seed", static_cast<int64_t>(seed)}}});
      const BlockArray y =
          io::read_hdf5(*ctx_, dir_.file("x.h5"), "/g/x", {.block_shape = c.read_blocks});
      EXPECT_SAME_BYTES(y.get(), want);
      EXPECT_EQ(io::read_hdf5_attributes(dir_.file("x.h5"), "/g/x"),
                (io::Attributes{{"seed", static_cast<int64_t>(seed)}}));
    }
  }
  // Many small blocks: the three node processes write into the file at the same time.
  const NDArray big = SpecialNDArray({150, 80}, float64, 9);
  io::write_hdf5(from_ndarray(big, {7, 9}), dir_.file("big.h5"), "b");
  EXPECT_SAME_BYTES(io::read_hdf5(*ctx_, dir_.file("big.h5"), "b", {.block_shape = {13, 6}}).get(),
                    big);
  WriteRawBytes(big, dir_.path() / "big.raw");
  const PythonResult r = RunPython(
      "import h5py\nd = h5py.File('big.h5', 'r')['b']\n"
      "assert d.chunks == (7, 9), d.chunks\n"
      "assert d[()].tobytes() == open('big.raw', 'rb').read()\nprint('h5py ok')\n",
      dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("h5py ok"), std::string::npos) << r.output;
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

// Node processes compress and write the chunks, and read and decompress them, for blocks that
// are not the chunks; zarr-python reads the result.
TEST_F(ClusterIoTest, ZarrRoundTripsOnNodeProcesses) {
  uint64_t seed = 300;
  for (DType t : AllDTypes()) {
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape));
      const NDArray want = SpecialNDArray(c.shape, t, seed++);
      const char* compressor = seed % 2 ? "blosc" : "zstd";
      io::write_zarr(from_ndarray(want, c.write_blocks), dir_.file("x.zarr"),
                     {.compressor = compressor, .order = seed % 3 ? 'C' : 'F'});
      EXPECT_SAME_BYTES(
          io::read_zarr(*ctx_, dir_.file("x.zarr"), {.block_shape = c.read_blocks}).get(), want);
    }
  }
  const NDArray big = SpecialNDArray({150, 80}, float64, 9);
  io::write_zarr(from_ndarray(big, {7, 9}), dir_.file("big.zarr"), {.chunks = {10, 10}});
  const BlockArray y = io::read_zarr(*ctx_, dir_.file("big.zarr"), {.block_shape = {13, 6}});
  const std::vector<int64_t> where = y.block_nodes();
  EXPECT_EQ(std::set<int64_t>(where.begin(), where.end()).size(), 3u);
  EXPECT_SAME_BYTES(y.get(), big);
  WriteRawBytes(big, dir_.path() / "big.raw");
  const PythonResult r = RunPython(
      "import zarr\nz = zarr.open('big.zarr', mode='r')\n"
      "assert z.chunks == (10, 10), z.chunks\n"
      "assert z[...].tobytes() == open('big.raw', 'rb').read()\nprint('zarr ok')\n",
      dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("zarr ok"), std::string::npos) << r.output;
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(ClusterIoTest, FailedBlockWriteLeavesTheOldFilesIntact) {
  io::save(from_ndarray(SpecialNDArray({6, 6}, float64, 1)), dir_.file("x.npy"));
  io::write_hdf5(from_ndarray(SpecialNDArray({6, 6}, float64, 2)), dir_.file("x.h5"), "x");
  io::write_zarr(from_ndarray(SpecialNDArray({6, 6}, float64, 4)), dir_.file("x.zarr"));
  const std::string npy_before = ReadFileBytes(dir_.path() / "x.npy");
  const std::string zarr_before = ReadFileBytes(dir_.path() / "x.zarr" / "0.0");
  const std::string h5_before = ReadFileBytes(dir_.path() / "x.h5");
  const BlockArray good = from_ndarray(SpecialNDArray({6, 6}, float64, 3), {2, 3});
  auto impl = std::make_shared<BlockArray::Impl>(*good.impl());
  impl->blocks[4] =
      impl->ctx->runtime->Put(engine::Block::Allocate(int32, {2, 3}), impl->blocks[4].node());
  const BlockArray broken(impl);
  ExpectThrowWith<ValueError>([&] { io::save(broken, dir_.file("x.npy")); }, {"io.npy.write"});
  ExpectThrowWith<ValueError>([&] { io::write_hdf5(broken, dir_.file("x.h5"), "x"); },
                              {"io.hdf5.write"});
  ExpectThrowWith<ValueError>(
      [&] {
        io::write_zarr(broken, dir_.file("x.zarr"), {.chunks = {2, 3}});
      },
      {"io.zarr.write"});
  EXPECT_EQ(ReadFileBytes(dir_.path() / "x.npy"), npy_before);
  EXPECT_EQ(ReadFileBytes(dir_.path() / "x.zarr" / "0.0"), zarr_before);
  EXPECT_EQ(ReadFileBytes(dir_.path() / "x.h5"), h5_before);
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(ClusterIoTest, ReadErrorsOnNodesNameTheFile) {
  const std::string path = dir_.file("gone.h5");
  io::write_hdf5(zeros({8}), path, "x");
  auto ctx = ctx_->impl();
  // A read task whose file vanished fails on its node; get() raises the node's IOError.
  const auto ref = detail::submit(
      *ctx, "io.hdf5.read",
      {engine::Scalar{dir_.file("vanished.h5")}, engine::Scalar{"x"}, detail::shape_scalar({0}),
       detail::shape_scalar({8}), detail::int_scalar(static_cast<int64_t>(float64))},
      1, engine::OutputSpec{float64, {8}});
  ExpectThrowWith<IOError>([&] { ctx->runtime->Get(ref); }, {"vanished.h5", "'x'"});
}

TEST_F(ClusterIoTest, CsvRangesParsedByNodeProcesses) {
  std::string text = "i,square,half\n";
  std::vector<double> values;
  for (int64_t i = 0; i < 500; ++i) {
    text += std::to_string(i) + "," + std::to_string(i * i) + "," + std::to_string(i) + ".5\n";
    values.insert(values.end(), {static_cast<double>(i), static_cast<double>(i * i), i + 0.5});
  }
  std::ofstream(dir_.file("x.csv"), std::ios::binary) << text;
  const BlockArray x =
      io::ReadCsv(*ctx_, dir_.file("x.csv"), {.header = true, .block_shape = {64, 2}}, 997);
  EXPECT_SAME_BYTES(x.get(), NDArray::from_vector<double>(values, {500, 3}));
  std::ofstream(dir_.file("bad.csv"), std::ios::binary) << text << "7,oops,1\n";
  ExpectThrowWith<ValueError>(
      [&] { io::ReadCsv(*ctx_, dir_.file("bad.csv"), {.header = true}, 997).get(); },
      {"bad.csv", "line 502", "column 2", "'oops'"});
}

TEST_F(ClusterIoTest, DatasetSpecsAndNumsConvertOnNodeProcesses) {
  const NDArray want = RandomNDArray({23, 5}, float64, 4);
  io::write(from_ndarray(want, {6, 5}), dir_.file("x.npy"));
  std::string output;
  ASSERT_EQ(RunNumsTool({"convert", "--address", cluster_->address(), "--token-file",
                         cluster_->token_file(), dir_.file("x.npy"), dir_.file("x.h5") + ":/g/X",
                         "--block-shape", "4,5"},
                        &output),
            0)
      << output;
  EXPECT_NE(output.find("(6, 1) blocks of (4, 5)"), std::string::npos) << output;
  const BlockArray y = io::read(*ctx_, dir_.file("x.h5") + ":/g/X", {.block_shape = {5, 2}});
  EXPECT_EQ(y.block_shape(), (Shape{5, 2}));
  EXPECT_SAME_BYTES(y.get(), want);
}

// A node killed while an array is being written: its blocks are made again from lineage on a
// survivor and written there, so the file is complete and exact; had that been impossible, the
// write would have failed and left the old file.
TEST(ClusterIoNodeLossTest, ANodeLostDuringAWriteHasItsBlocksWrittenBySurvivors) {
  S3Server::Get().UseInEnvironment();
  TempDir dir;
  LocalCluster cluster(3);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  const std::string npy = dir.file("x.npy"),
                    url = std::string("s3://") + S3Server::kBucket + "/node-loss/x.npy";
  io::save(zeros({10}), npy);
  const std::string before = ReadFileBytes(dir.path() / "x.npy");
  for (const std::string& path : {npy, url}) {
    SCOPED_TRACE(path);
    // 6 blocks of 8 MB behind a chain of steps, so the kill lands while blocks are being made and
    // written.
    BlockArray y = ones({6 * 1'000'000}, float64, {1'000'000});
    for (int i = 0; i < 20; ++i) y = y * 1.0 + 1.0;
    const auto start = std::chrono::steady_clock::now();
    std::thread killer([&] {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(150));
      if (path == npy) cluster.Kill(cluster.pids().at(2));  // node 1, once
    });
    std::string error;
    try {
      io::save(y, path);
    } catch (const std::exception& e) {
      error = e.what();
    }
    killer.join();
    if (error.empty()) {
      const NDArray got = io::load(ctx, path).get();
      ASSERT_EQ(got.shape(), (Shape{6'000'000}));
      for (int64_t i = 0; i < got.size(); i += 99'991) ASSERT_EQ(got.value_at<double>(i), 21.0);
      EXPECT_DOUBLE_EQ(io::load(ctx, path).sum().get().at<double>({}), 21.0 * 6e6);
    } else {
      ADD_FAILURE() << "the write failed instead of recovering: " << error;
      if (path == npy) {
        EXPECT_EQ(ReadFileBytes(dir.path() / "x.npy"), before);
      }
    }
    EXPECT_TRUE(TempFilesIn(dir.path()).empty());
  }
}

}  // namespace
}  // namespace nums::testing
