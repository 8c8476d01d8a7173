// io::parse_dataset_spec, io::read and io::write: every spec form, round trips with the block
// shape passed through, and the errors of bad specs; files checked with NumPy and h5py.

#include <gtest/gtest.h>

#include <fstream>

#include "nums/nums.hpp"
#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using io::Format;

// Runs `f`, expecting an exception of type E whose message contains each of `parts`.
template <typename E, typename F>
void ExpectThrowsWith(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "'" << p << "' not in: " << e.what();
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "another exception: " << e.what();
  }
}

void ExpectSpec(const std::string& spec, Format format, const std::string& path,
                const std::string& dataset = "") {
  SCOPED_TRACE(spec);
  const io::DatasetSpec d = io::parse_dataset_spec(spec);
  EXPECT_EQ(io::format_name(d.format), io::format_name(format));
  EXPECT_EQ(d.path, path);
  EXPECT_EQ(d.dataset, dataset);
}

TEST(DatasetSpecTest, ParsesEveryForm) {
  ExpectSpec("x.npy", Format::kNpy, "x.npy");
  ExpectSpec("/data/run 1/X.NPY", Format::kNpy, "/data/run 1/X.NPY");
  ExpectSpec("s3://bucket/dir/x.npy", Format::kNpy, "s3://bucket/dir/x.npy");
  ExpectSpec("s3://bucket/d.h5:/g/X", Format::kHdf5, "s3://bucket/d.h5", "/g/X");
  ExpectSpec("data.h5:/X", Format::kHdf5, "data.h5", "/X");
  ExpectSpec("/tmp/data.hdf5:group/X", Format::kHdf5, "/tmp/data.hdf5", "group/X");
  ExpectSpec("D.H5:/a/b:c", Format::kHdf5, "D.H5", "/a/b:c");
  ExpectSpec("a.h5:/x.h5:/y", Format::kHdf5, "a.h5", "/x.h5:/y");  // the first ".h5:" splits
  ExpectSpec("table.csv", Format::kCsv, "table.csv");
  ExpectSpec("zarr://store", Format::kZarr, "store");
  ExpectSpec("zarr:///abs/store/", Format::kZarr, "/abs/store");
  ExpectSpec("zarr://s3://bucket/p", Format::kZarr, "s3://bucket/p");
  ExpectSpec("out/x.zarr", Format::kZarr, "out/x.zarr");
  ExpectSpec("out/x.zarr/", Format::kZarr, "out/x.zarr");
  ExpectSpec("s3://bucket/prefix.zarr", Format::kZarr, "s3://bucket/prefix.zarr");
}

TEST(DatasetSpecTest, BadSpecsNameTheSpecAndTheAcceptedForms) {
  for (const std::string spec : {"", "x.txt", "x", "x.npz", "x.npy:/X", "s3://bucket/t.csv",
                                 "zarr://", "x.h5:", "x.hdf5:/"}) {
    SCOPED_TRACE(spec);
    ExpectThrowsWith<ValueError>([&] { io::parse_dataset_spec(spec); },
                                 {"'" + spec + "'", "accepted forms", "PATH.h5:/DATASET",
                                  "PATH.csv", "zarr://STORE", "s3://BUCKET/KEY.npy"});
  }
  ExpectThrowsWith<ValueError>([] { io::parse_dataset_spec("s3:///x.npy"); }, {"bucket"});
}

TEST(DatasetSpecTest, AnHdf5FileWithoutADatasetSaysToAddOne) {
  for (const std::string spec : {"data.h5", "/tmp/data.HDF5"}) {
    ExpectThrowsWith<ValueError>([&] { io::parse_dataset_spec(spec); },
                                 {"'" + spec + "'", "add ':/name'", spec + ":/X"});
  }
}

class DatasetSpecIoTest : public EmbeddedIoTest {};

TEST_F(DatasetSpecIoTest, EveryLocalFormRoundTripsWithTheBlockShapePassedThrough) {
  const NDArray want = RandomNDArray({23, 4}, float64, 3);
  const BlockArray x = from_ndarray(want, {5, 4});
  for (const std::string name : {"x.npy", "x.h5:/X", "x.hdf5:group/sub/X", "x.csv", "X.NPY"}) {
    SCOPED_TRACE(name);
    const std::string spec = dir_.file(name);
    io::write(x, spec);
    const BlockArray y = io::read(*ctx_, spec, {.block_shape = {7, 3}});
    EXPECT_EQ(y.block_shape(), (Shape{7, 3}));
    EXPECT_SAME_BYTES(y.get(), want);
    EXPECT_SAME_BYTES(io::read(*ctx_, spec).get(), want);
  }
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

// A read of 256 MiB or more draws a bar where one is shown (NUMS_PROGRESS=always stands in for a
// terminal) and returns with its blocks read; a smaller read, or NUMS_PROGRESS=0, draws nothing.
TEST_F(DatasetSpecIoTest, ALargeReadShowsItsProgress) {
  const std::string spec = dir_.file("big.npy");
  io::write(arange(int64_t{1} << 25).reshape({4096, 8192}).astype(float64), spec);
  const char* old = std::getenv("NUMS_PROGRESS");
  const std::string saved = old ? old : "";
  for (const char* env : {"always", "0"}) {
    setenv("NUMS_PROGRESS", env, 1);
    ::testing::internal::CaptureStderr();
    const BlockArray y = io::read(*ctx_, spec, {.block_shape = {512, 8192}});
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(y(4095, 8191).get().data<double>()[0], static_cast<double>((int64_t{1} << 25) - 1));
    if (std::string(env) == "0") {
      EXPECT_EQ(err, "");
      continue;
    }
    const auto last = err.rfind('\r');
    ASSERT_NE(last, std::string::npos) << err;
    const std::string frame = err.substr(last + 1);
    EXPECT_EQ(frame.rfind("read " + spec + " [", 0), 0u) << frame;
    EXPECT_NE(frame.find("100% 268435456/268435456"), std::string::npos) << frame;
  }
  setenv("NUMS_PROGRESS", "always", 1);
  io::write(arange(10).astype(float64), dir_.file("small.npy"));
  ::testing::internal::CaptureStderr();
  io::read(*ctx_, dir_.file("small.npy")).wait();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  if (old) {
    setenv("NUMS_PROGRESS", saved.c_str(), 1);
  } else {
    unsetenv("NUMS_PROGRESS");
  }
}

TEST_F(DatasetSpecIoTest, EveryDTypeRoundTripsThroughNpyAndHdf5) {
  uint64_t seed = 10;
  for (DType t : AllDTypes()) {
    for (const std::string name : {"t.npy", "t.h5:/t"}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + name);
      const NDArray want = SpecialNDArray({9, 3}, t, seed++);
      io::write(from_ndarray(want, {4, 2}), dir_.file(name));
      EXPECT_SAME_BYTES(io::read(*ctx_, dir_.file(name), {.block_shape = {2, 3}}).get(), want);
    }
  }
}

TEST_F(DatasetSpecIoTest, CsvKeepsEveryValueOfEveryDType) {
  uint64_t seed = 20;
  for (DType t : AllDTypes()) {
    SCOPED_TRACE(dtype_name(t));
    if (is_complex(t)) {  // CSV holds real numbers: refused both ways, naming the file
      const std::string path = dir_.file("c.csv");
      testing::ExpectThrowWith<DTypeError>([&] { io::write(zeros({2}, t), path); },
                                           {path, "complex128"});
      std::ofstream(path) << "1,2\n";
      testing::ExpectThrowWith<DTypeError>([&] { io::read(*ctx_, path, {.csv_dtype = t}); },
                                           {path, "complex128"});
      continue;
    }
    // NaN payloads and the sign of NaN do not survive text; everything else does.
    NDArray want = SpecialNDArray({11, 3}, t, seed++);
    if (is_floating(t)) {
      for (int64_t k = 0; k < want.size(); ++k) {
        if (want.value_at<double>(k) != want.value_at<double>(k)) {
          if (t == float64) want.data<double>()[k] = NAN;
          if (t == float32) want.data<float>()[k] = NAN;
          if (t == float16) want.data<half>()[k] = half(NAN);
        }
      }
    }
    io::write(from_ndarray(want, {4, 3}), dir_.file("t.csv"));
    const NDArray got =
        io::read(*ctx_, dir_.file("t.csv"), {.block_shape = {5, 3}, .csv_dtype = t}).get();
    EXPECT_SAME_BYTES(got, want);
  }
}

TEST_F(DatasetSpecIoTest, CsvOptionsReachTheReader) {
  std::ofstream(dir_.file("h.csv")) << "a;b\n1;2\n3;4\n";
  const NDArray got =
      io::read(*ctx_, dir_.file("h.csv"), {.csv_header = true, .csv_delimiter = ';'}).get();
  EXPECT_EQ(got.shape(), (Shape{2, 2}));
  EXPECT_EQ(got.to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
}

TEST_F(DatasetSpecIoTest, OneAndZeroDimensionalCsvReadBackAsColumns) {
  io::write(arange(0, 5), dir_.file("v.csv"));
  const NDArray v = io::read(*ctx_, dir_.file("v.csv")).get();
  EXPECT_EQ(v.shape(), (Shape{5, 1}));
  EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4}));
  io::write(full(Shape{}, 2.5), dir_.file("s.csv"));
  EXPECT_EQ(io::read(*ctx_, dir_.file("s.csv")).get().to_vector<double>(),
            (std::vector<double>{2.5}));
  ExpectThrowsWith<ValueError>(
      [&] {
        io::write(zeros({2, 2, 2}), dir_.file("c.csv"));
      },
      {"c.csv", "(2, 2, 2)"});
  EXPECT_FALSE(std::filesystem::exists(dir_.file("c.csv")));
}

TEST_F(DatasetSpecIoTest, NumpyAndH5pyReadWhatWriteWrote) {
  const NDArray want = RandomNDArray({6, 2}, float64, 5);
  const BlockArray x = from_ndarray(want, {4, 2});
  io::write(x, dir_.file("x.npy"));
  io::write(x, dir_.file("x.h5:/g/X"), {.attributes = {{"scale", 2.5}}, .compression = "gzip"});
  io::write(x, dir_.file("x.csv"));
  WriteRawBytes(want, dir_.path() / "want.bin");
  const PythonResult r = RunPython(R"(
import numpy as np, h5py
want = np.fromfile("want.bin", dtype="<f8").reshape(6, 2)
assert np.array_equal(np.load("x.npy"), want)
with h5py.File("x.h5", "r") as f:
    assert np.array_equal(f["/g/X"][()], want)
    assert f["/g/X"].attrs["scale"] == 2.5
    assert f["/g/X"].compression == "gzip"
assert np.array_equal(np.loadtxt("x.csv", delimiter=",", ndmin=2), want)
)",
                                   dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(DatasetSpecIoTest, Hdf5OptionsWithAnotherFormatAreAValueError) {
  for (const std::string name : {"x.npy", "x.csv"}) {
    ExpectThrowsWith<ValueError>(
        [&] {
          io::write(zeros({2}), dir_.file(name), {.attributes = {{"a", 1.0}}});
        },
        {name, "HDF5"});
    ExpectThrowsWith<ValueError>(
        [&] { io::write(zeros({2}), dir_.file(name), {.compression = "gzip"}); }, {name});
    EXPECT_FALSE(std::filesystem::exists(dir_.file(name)));
  }
}

TEST_F(DatasetSpecIoTest, ReadAndWriteRaiseTheParseErrors) {
  ExpectThrowsWith<ValueError>([&] { io::read(*ctx_, dir_.file("x.h5")); }, {"add ':/name'"});
  ExpectThrowsWith<ValueError>([&] { io::write(zeros({2}), dir_.file("x.bin")); },
                               {"x.bin", "accepted forms"});
  ExpectThrowsWith<ValueError>([&] { io::write(BlockArray(), dir_.file("x.npy")); }, {"write"});
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(DatasetSpecIoTest, MissingFilesAreIOErrorsNamingThem) {
  for (const std::string name : {"none.npy", "none.h5:/X", "none.csv"}) {
    ExpectThrowsWith<IOError>([&] { io::read(*ctx_, dir_.file(name)); }, {"none."});
  }
}

TEST_F(DatasetSpecIoTest, ZarrSpecsRoundTrip) {
  const NDArray want = SpecialNDArray({9, 5}, float64, 21);
  for (const std::string& spec : {"zarr://" + dir_.file("s"), dir_.file("t.zarr")}) {
    SCOPED_TRACE(spec);
    io::write(from_ndarray(want, {4, 5}), spec);
    const BlockArray y = io::read(*ctx_, spec, {.block_shape = {3, 5}});
    EXPECT_EQ(y.block_shape(), (Shape{3, 5}));
    EXPECT_SAME_BYTES(y.get(), want);
  }
}

}  // namespace
}  // namespace nums::testing
