// io::read_hdf5 / io::write_hdf5 / attributes on an embedded cluster of 3 nodes, against h5py
// (/usr/bin/python3).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "io/file_util.h"
#include "io/hdf5_plan.h"
#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;

struct Case {
  Shape shape;
  Shape write_blocks;
  Shape read_blocks;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      {{7, 5}, {3, 2}, {2, 4}},
      {{13}, {4}, {5}},
      {{2, 3, 4}, {1, 2, 3}, {2, 1, 4}},
      {{}, {}, {}},
      {{0}, {0}, {}},
      {{0, 4}, {0, 2}, {}},
      {{3, 0}, {2, 0}, {}},
      {{1, 1}, {1, 1}, {}},
  };
  return kCases;
}

std::string PyDType(DType t) { return t == bool_ ? "bool" : std::string(dtype_name(t)); }

class Hdf5Test : public EmbeddedIoTest {};

TEST_F(Hdf5Test, RoundTripsEveryDTypeBitIdentically) {
  uint64_t seed = 1;
  for (DType t : AllDTypes()) {
    for (const Case& c : Cases()) {
      for (const std::string compression : {"", "gzip"}) {
        const bool empty = c.shape.empty() || shape_size(c.shape) == 0;
        if (empty && !compression.empty()) continue;  // stored contiguously: tested below
        SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape) + " " + compression);
        const NDArray want = SpecialNDArray(c.shape, t, seed++);
        const std::string path = dir_.file("x.h5");
        io::write_hdf5(from_ndarray(want, c.write_blocks), path, "/data/x",
                       {.compression = compression});
        const BlockArray y = io::read_hdf5(*ctx_, path, "/data/x", {.block_shape = c.read_blocks});
        EXPECT_EQ(y.shape(), c.shape);
        if (!c.read_blocks.empty()) {
          EXPECT_EQ(y.block_shape(), c.read_blocks);
        }
        EXPECT_SAME_BYTES(y.get(), want);
      }
    }
  }
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(Hdf5Test, AttributesRoundTrip) {
  const io::Attributes attrs = {{"scale", 2.5},
                                {"count", int64_t{-7}},
                                {"big", int64_t{1} << 60},
                                {"name", std::string("héllo wörld")},
                                {"empty", std::string()},
                                {"weights", std::vector<double>{1.5, -2.0, 1e300}},
                                {"none", std::vector<double>{}}};
  io::write_hdf5(zeros({4, 3}), dir_.file("a.h5"), "x", {.attributes = attrs});
  EXPECT_EQ(io::read_hdf5_attributes(dir_.file("a.h5"), "x"), attrs);
  EXPECT_TRUE(io::read_hdf5_attributes(dir_.file("a.h5"), "/x").size() == attrs.size());
}

TEST_F(Hdf5Test, H5pyReadsWhatNumsWrites) {
  std::string checks = "import h5py, numpy as np\nok = True\nn = 0\n";
  auto check = [&](const std::string& cond, const std::string& what) {
    checks += "n += 1\nif not (" + cond + "):\n    ok = False\n    print('failed: " + what + "')\n";
  };
  int i = 0;
  for (DType t : AllDTypes()) {
    const NDArray a = SpecialNDArray({9, 7}, t, 50 + i);
    const std::string name = "f" + std::to_string(i++);
    io::write_hdf5(from_ndarray(a, {4, 3}), dir_.file(name + ".h5"), "/g/x",
                   {.compression = i % 2 ? "gzip" : "", .compression_level = 6});
    WriteRawBytes(a, dir_.path() / (name + ".raw"));
    checks += "d = h5py.File('" + name + ".h5', 'r')['/g/x']\n";
    check("d.dtype == np.dtype('" + PyDType(t) + "')", name + " dtype");
    check("d.shape == (9, 7)", name + " shape");
    check("d.chunks == (4, 3)", name + " chunks");
    check(i % 2 ? "d.compression == 'gzip' and d.compression_opts == 6" : "d.compression is None",
          name + " compression");
    check("d[()].tobytes() == open('" + name + ".raw', 'rb').read()", name + " values");
  }
  // 0-d and empty arrays, and one whose block shape exceeds nothing: chunks = blocks.
  io::write_hdf5(full({}, 4.5), dir_.file("s.h5"), "s");
  checks += "d = h5py.File('s.h5', 'r')['s']\n";
  check("d.shape == () and d[()] == 4.5 and d.dtype == np.float64", "0-d");
  io::write_hdf5(zeros({0, 3}, int32), dir_.file("e.h5"), "e");
  checks += "d = h5py.File('e.h5', 'r')['e']\n";
  check("d.shape == (0, 3) and d.dtype == np.int32", "empty");
  io::write_hdf5(ones({6, 4}, float32, {5, 4}), dir_.file("c.h5"), "c", {.chunks = {2, 3}});
  checks += "d = h5py.File('c.h5', 'r')['c']\n";
  check("d.chunks == (2, 3) and (d[()] == 1).all()", "explicit chunks");
  io::write_hdf5(zeros({2}), dir_.file("attrs.h5"), "x",
                 {.attributes = {{"f", 0.25},
                                 {"i", int64_t{-3}},
                                 {"s", std::string("abc")},
                                 {"v", std::vector<double>{1, 2, 3}}}});
  checks += "d = h5py.File('attrs.h5', 'r')['x']\n";
  check("d.attrs['f'] == 0.25 and isinstance(d.attrs['f'], np.float64)", "float attr");
  check("d.attrs['i'] == -3 and isinstance(d.attrs['i'], np.int64)", "int attr");
  check("d.attrs['s'] == 'abc' and isinstance(d.attrs['s'], str)", "str attr");
  check("list(d.attrs['v']) == [1.0, 2.0, 3.0]", "vector attr");
  checks += "print('checked', n)\nraise SystemExit(0 if ok else 1)\n";
  const PythonResult r = RunPython(checks, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // 5 checks per dtype, 7 more.
  EXPECT_NE(r.output.find("checked " + std::to_string(5 * AllDTypes().size() + 7)),
            std::string::npos)
      << r.output;
}

TEST_F(Hdf5Test, NumsReadsH5pyFiles) {
  const PythonResult r = RunPython(R"(
import h5py, numpy as np
rng = np.random.default_rng(3)
with h5py.File('p.h5', 'w') as f:
    def put(name, a, **kw):
        f.create_dataset(name, data=a, **kw)
        a = np.ascontiguousarray(a)
        open(name.replace('/', '_') + '.raw', 'wb').write(a.astype(a.dtype.newbyteorder('<')).tobytes())
    put('f8', rng.normal(size=(11, 6)))
    put('f8_gzip', rng.normal(size=(11, 6)), chunks=(3, 4), compression='gzip', compression_opts=9)
    put('f8_shuffle', rng.normal(size=(20,)), chunks=(7,), compression='gzip', shuffle=True)
    put('f4', rng.normal(size=(5, 5)).astype(np.float32))
    put('i8', rng.integers(-2**62, 2**62, size=(4, 7)))
    put('i4', rng.integers(-2**31, 2**31, size=(3, 2, 5)).astype(np.int32))
    put('big_f8', rng.normal(size=(6, 3)).astype('>f8'))
    put('big_i4', rng.integers(-9, 9, size=(8,)).astype('>i4'))
    put('bool', rng.random(size=(7, 9)) > 0.5)
    put('bool_gzip', rng.random(size=(7, 9)) > 0.5, chunks=(2, 2), compression='gzip')
    put('scalar', np.array(-1.25))
    put('empty', np.zeros((0, 4)))
    put('grp/sub/x', rng.normal(size=(3, 3)))
    d = f['f8_gzip']
    d.attrs['alpha'] = 0.5
    d.attrs['n'] = 42
    d.attrs['label'] = 'train'
    d.attrs['fixed'] = np.bytes_(b'fixed-len')
    d.attrs['coef'] = [1.0, 2.0, 3.5]
    d.attrs['coef32'] = np.array([0.5, 0.25], dtype=np.float32)
    d.attrs['n32'] = np.int32(-5)
    f['i8'].attrs['ints'] = np.array([1, 2, 3])
print('written')
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string path = dir_.file("p.h5");
  const std::vector<std::pair<std::string, DType>> sets = {
      {"f8", float64},       {"f8_gzip", float64}, {"f8_shuffle", float64}, {"f4", float32},
      {"i8", int64},         {"i4", int32},        {"big_f8", float64},     {"big_i4", int32},
      {"bool", bool_},       {"bool_gzip", bool_}, {"scalar", float64},     {"empty", float64},
      {"grp/sub/x", float64}};
  for (const auto& [name, dtype] : sets) {
    SCOPED_TRACE(name);
    std::string raw_name = name;
    std::replace(raw_name.begin(), raw_name.end(), '/', '_');
    const std::string raw = ReadFileBytes(dir_.path() / (raw_name + ".raw"));
    const BlockArray probe = io::read_hdf5(*ctx_, path, name);
    ASSERT_EQ(probe.dtype(), dtype);
    Shape small(probe.shape().size(), 2);
    for (size_t d = 0; d < small.size(); ++d) {
      if (probe.shape()[d] == 0) small[d] = 0;
    }
    for (const NDArray& got :
         {probe.get(), io::read_hdf5(*ctx_, path, "/" + name, {.block_shape = small}).get()}) {
      ASSERT_EQ(got.nbytes(), static_cast<int64_t>(raw.size()));
      EXPECT_EQ(std::string(static_cast<const char*>(got.raw()), raw.size()), raw);
    }
  }
  const io::Attributes attrs = io::read_hdf5_attributes(path, "f8_gzip");
  const io::Attributes want = {{"alpha", 0.5},
                               {"n", int64_t{42}},
                               {"label", std::string("train")},
                               {"fixed", std::string("fixed-len")},
                               {"coef", std::vector<double>{1.0, 2.0, 3.5}},
                               {"coef32", std::vector<double>{0.5, 0.25}},
                               {"n32", int64_t{-5}}};
  EXPECT_EQ(attrs, want);
  EXPECT_TRUE(io::read_hdf5_attributes(path, "f8").empty());
  ExpectThrowWith<DTypeError>([&] { io::read_hdf5_attributes(path, "i8"); },
                              {"'ints'", "int64", path});
}

TEST_F(Hdf5Test, MissingFileDatasetOrNotADatasetRaiseIOError) {
  ::testing::internal::CaptureStderr();  // HDF5 must not print its error stacks
  const std::string missing = dir_.file("missing.h5");
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, missing, "x"); },
                           {missing, "'x'", "No such file"});
  ExpectThrowWith<IOError>([&] { io::read_hdf5_attributes(missing, "x"); }, {missing, "'x'"});
  const std::string path = dir_.file("f.h5");
  io::write_hdf5(zeros({3}), path, "/g/x");
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, path, "/g/y"); },
                           {path, "/g/y", "does not exist"});
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, path, "/nope/deeper/y"); },
                           {path, "/nope/deeper/y", "does not exist"});
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, path, "/g"); },
                           {path, "'/g'", "a group, not a dataset"});
  ExpectThrowWith<IOError>([&] { io::read_hdf5_attributes(path, "/g/z"); }, {path, "/g/z"});
  const std::string text = dir_.file("text.h5");
  std::ofstream(text) << "not hdf5\n";
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, text, "x"); }, {text, "not an HDF5 file"});
  // A truncated file passes the signature check and fails inside HDF5.
  const std::string cut = dir_.file("cut.h5");
  io::write_hdf5(zeros({300}), cut, "x");
  fs::resize_file(cut, 1200);
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, cut, "x").get(); }, {cut, "'x'"});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(Hdf5Test, UnsupportedTypesRaiseDTypeErrorNamingTheType) {
  const PythonResult r = RunPython(R"(
import h5py, numpy as np
with h5py.File('t.h5', 'w') as f:
    f['u2'] = np.zeros(3, dtype=np.uint16)
    f['c16'] = np.array([1+2j, -3j, np.nan], dtype=np.complex128)
    f['c8'] = np.zeros(3, dtype=np.complex64)
    f['f2'] = np.zeros(3, dtype=np.float16)
    f['i1'] = np.zeros(3, dtype=np.int8)
    f['s'] = np.array([b'ab', b'cd'])
    f['u8'] = np.zeros(3, dtype=np.uint64)
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string path = dir_.file("t.h5");
  const std::vector<std::pair<std::string, std::string>> cases = {{"c8", "compound"},
                                                                  {"s", "string"}};
  for (const auto& [name, type] : cases) {
    ExpectThrowWith<DTypeError>([&] { io::read_hdf5(*ctx_, path, name); }, {path, name, type});
  }
  // h5py's unsigned, small and half types are read as the dtypes of the same names.
  EXPECT_EQ(io::read_hdf5(*ctx_, path, "u2").dtype(), uint16);
  EXPECT_EQ(io::read_hdf5(*ctx_, path, "f2").dtype(), float16);
  EXPECT_EQ(io::read_hdf5(*ctx_, path, "i1").dtype(), int8);
  EXPECT_EQ(io::read_hdf5(*ctx_, path, "u8").dtype(), uint64);
  // h5py's complex128 (a compound of r and i) is complex128.
  const NDArray c = io::read_hdf5(*ctx_, path, "c16").get();
  ASSERT_EQ(c.dtype(), complex128);
  EXPECT_EQ(c.value_at<std::complex<double>>(0), std::complex<double>(1, 2));
  EXPECT_EQ(c.value_at<std::complex<double>>(1), std::complex<double>(0, -3));
  EXPECT_TRUE(std::isnan(c.value_at<std::complex<double>>(2).real()));
}

TEST_F(Hdf5Test, BadWriteOptionsRaiseValueErrorBeforeWriting) {
  const std::string path = dir_.file("w.h5");
  const BlockArray x = zeros({6, 4}, float64, {3, 2});
  EXPECT_THROW(io::write_hdf5(x, path, "x", {.chunks = {2}}), ValueError);
  EXPECT_THROW(io::write_hdf5(x, path, "x", {.chunks = {7, 2}}), ValueError);
  EXPECT_THROW(io::write_hdf5(x, path, "x", {.chunks = {0, 2}}), ValueError);
  EXPECT_THROW(io::write_hdf5(x, path, "x", {.compression = "lzf"}), ValueError);
  EXPECT_THROW(io::write_hdf5(x, path, "x", {.compression = "gzip", .compression_level = 10}),
               ValueError);
  EXPECT_THROW(io::write_hdf5(x, path, "", {}), ValueError);
  EXPECT_THROW(io::write_hdf5(x, path, "/", {}), ValueError);
  EXPECT_THROW(io::write_hdf5(full({}, 1.0), path, "x", {.compression = "gzip"}), ValueError);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(Hdf5Test, ChunksDefaultToTheBlockShape) {
  // Checked through h5py above; here the chunking of a larger dataset read back by nums.
  const NDArray want = SpecialNDArray({40, 30}, float64, 77);
  io::write_hdf5(from_ndarray(want, {16, 7}), dir_.file("c.h5"), "c");
  const PythonResult r = RunPython(
      "import h5py\nd = h5py.File('c.h5', 'r')['c']\nprint('chunks', d.chunks)\n", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("chunks (16, 7)"), std::string::npos) << r.output;
  EXPECT_SAME_BYTES(io::read_hdf5(*ctx_, dir_.file("c.h5"), "c", {.block_shape = {16, 7}}).get(),
                    want);
}

TEST_F(Hdf5Test, WriteIntoMissingDirectoryRaisesIOError) {
  const std::string path = dir_.file("no/dir/x.h5");
  ExpectThrowWith<IOError>([&] { io::write_hdf5(zeros({3}), path, "x"); }, {"no/dir/x.h5"});
}

TEST_F(Hdf5Test, FailedBlockWriteLeavesTheOldFileIntact) {
  const std::string path = dir_.file("x.h5");
  io::write_hdf5(from_ndarray(SpecialNDArray({6, 6}, float64, 9)), path, "x");
  const std::string before = ReadFileBytes(path);
  const BlockArray good = from_ndarray(SpecialNDArray({6, 6}, float64, 10), {3, 3});
  auto impl = std::make_shared<BlockArray::Impl>(*good.impl());
  impl->blocks[2] =
      impl->ctx->runtime->Put(engine::Block::Allocate(int32, {3, 3}), impl->blocks[2].node());
  ExpectThrowWith<ValueError>([&] { io::write_hdf5(BlockArray(impl), path, "x"); },
                              {"io.hdf5.write", "int32"});
  EXPECT_EQ(ReadFileBytes(path), before);
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
  EXPECT_SAME_BYTES(io::read_hdf5(*ctx_, path, "x").get(), SpecialNDArray({6, 6}, float64, 9));
}

// Many blocks written at once by 3 nodes' threads into one file: the lock keeps HDF5 sound.
TEST_F(Hdf5Test, ManyConcurrentBlockWritesAndReads) {
  const NDArray want = SpecialNDArray({200, 90}, float64, 5);
  const BlockArray x = from_ndarray(want, {9, 7});  // 23 x 13 blocks
  io::write_hdf5(x, dir_.file("m.h5"), "m", {.compression = "gzip", .compression_level = 1});
  const BlockArray y = io::read_hdf5(*ctx_, dir_.file("m.h5"), "m", {.block_shape = {11, 8}});
  EXPECT_SAME_BYTES(y.get(), want);
  EXPECT_SAME_BYTES((y + io::read_hdf5(*ctx_, dir_.file("m.h5"), "m")).get(), (x + x).get());
}

// How each block of `dataset` would be read with blocks of `block_shape`.
std::vector<io::Hdf5BlockRead::Kind> Plans(const std::string& path, const std::string& dataset,
                                           const Shape& block_shape) {
  io::Hdf5Lock lock;
  io::Hid file = io::OpenHdf5File(path, false, dataset);
  io::Hid ds = io::OpenDataset(file, path, dataset);
  const io::Hdf5Layout layout = io::ReadHdf5Layout(file, ds, path, dataset);
  const ArrayGrid grid(layout.shape, block_shape, layout.dtype);
  std::vector<io::Hdf5BlockRead::Kind> out;
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    out.push_back(io::PlanBlockRead(ds, layout, grid, e).kind);
  });
  return out;
}

using Kind = io::Hdf5BlockRead::Kind;

// Unfiltered little-endian data is read with pread at the chunks' (or the contiguous data's)
// addresses; filtered, big-endian and never-written parts go through HDF5.
TEST_F(Hdf5Test, RawReadsWhereTheBytesAreTheElements) {
  const PythonResult r = RunPython(R"(
import h5py, numpy as np
rng = np.random.default_rng(11)
with h5py.File('r.h5', 'w') as f:
    def put(name, a, **kw):
        d = f.create_dataset(name, data=a, **kw)
        open(name + '.raw', 'wb').write(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes())
    put('contiguous', rng.normal(size=(9, 7)))
    put('chunked', rng.normal(size=(10, 9)), chunks=(3, 4))
    put('chunked_3d', rng.integers(-9, 9, size=(5, 6, 7)).astype(np.int32), chunks=(2, 5, 3))
    put('chunked_bool', rng.random(size=(11, 5)) > 0.5, chunks=(4, 2))
    put('big', rng.normal(size=(6, 6)).astype('>f8'), chunks=(3, 3))
    put('gzip', rng.normal(size=(6, 6)), chunks=(3, 3), compression='gzip')
    p = f.create_dataset('partial', shape=(6, 6), dtype='<f8', chunks=(3, 3), fillvalue=7.5)
    p[0:3, 0:6] = np.arange(18).reshape(3, 6)
    e = f.create_dataset('unwritten', shape=(4, 4), dtype='<i8', fillvalue=-3)
print('written')
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string path = dir_.file("r.h5");
  auto all = [](const std::vector<Kind>& kinds, Kind k) {
    return !kinds.empty() &&
           std::all_of(kinds.begin(), kinds.end(), [&](Kind x) { return x == k; });
  };
  EXPECT_TRUE(all(Plans(path, "contiguous", {4, 3}), Kind::kContiguous));
  EXPECT_TRUE(all(Plans(path, "chunked", {3, 4}), Kind::kChunks));
  EXPECT_TRUE(all(Plans(path, "chunked", {4, 5}), Kind::kChunks));
  EXPECT_TRUE(all(Plans(path, "chunked_3d", {3, 2, 4}), Kind::kChunks));
  EXPECT_TRUE(all(Plans(path, "chunked_bool", {5, 3}), Kind::kChunks));
  EXPECT_TRUE(all(Plans(path, "big", {3, 3}), Kind::kHyperslab));
  EXPECT_TRUE(all(Plans(path, "gzip", {3, 3}), Kind::kHyperslab));
  EXPECT_TRUE(all(Plans(path, "unwritten", {2, 2}), Kind::kHyperslab));
  EXPECT_EQ(Plans(path, "partial", {3, 3}),
            (std::vector<Kind>{Kind::kChunks, Kind::kChunks, Kind::kHyperslab, Kind::kHyperslab}));
  // What nums writes without compression is read raw too.
  io::write_hdf5(from_ndarray(SpecialNDArray({8, 8}, int64, 1), {3, 5}), dir_.file("n.h5"), "n");
  EXPECT_TRUE(all(Plans(dir_.file("n.h5"), "n", {3, 5}), Kind::kChunks));
  EXPECT_TRUE(all(Plans(dir_.file("n.h5"), "n", {2, 7}), Kind::kChunks));

  for (const std::string name : {"contiguous", "chunked", "chunked_3d", "chunked_bool"}) {
    SCOPED_TRACE(name);
    const std::string raw = ReadFileBytes(dir_.path() / (name + ".raw"));
    const BlockArray probe = io::read_hdf5(*ctx_, path, name);
    for (const Shape& bs : {Shape(probe.ndim(), 2), Shape(probe.ndim(), 3), probe.shape()}) {
      const NDArray got = io::read_hdf5(*ctx_, path, name, {.block_shape = bs}).get();
      ASSERT_EQ(got.nbytes(), static_cast<int64_t>(raw.size()));
      EXPECT_EQ(std::string(static_cast<const char*>(got.raw()), raw.size()), raw);
    }
  }
  std::vector<double> partial(36, 7.5);
  for (int i = 0; i < 18; ++i) partial[static_cast<size_t>(i)] = i;
  EXPECT_EQ(
      io::read_hdf5(*ctx_, path, "partial", {.block_shape = {3, 3}}).get().to_vector<double>(),
      partial);
  EXPECT_EQ(io::read_hdf5(*ctx_, path, "unwritten").get().to_vector<int64_t>(),
            std::vector<int64_t>(16, -3));
}

TEST_F(Hdf5Test, DefaultBlocksAlignWithChunks) {
  // 9.6 MB: the default rule splits it by rows, one block per core.
  io::write_hdf5(ones({600'000, 2}, float64, {100'000, 2}), dir_.file("a.h5"), "a",
                 {.chunks = {7001, 2}, .compression = "gzip", .compression_level = 1});
  const BlockArray a = io::read_hdf5(*ctx_, dir_.file("a.h5"), "a");
  EXPECT_GT(a.grid_shape()[0], 1);
  EXPECT_EQ(a.block_shape()[0] % 7001, 0) << shape_str(a.block_shape());
  EXPECT_EQ(a.block_shape()[1], 2);
  EXPECT_EQ(a.sum().item<double>(), 1.2e6);
}

TEST_F(Hdf5Test, ReadsOfAModifiedFileRaiseIOError) {
  const std::string path = dir_.file("m.h5");
  io::write_hdf5(zeros({6, 6}, float64, {3, 3}), path, "m", {.compression = "gzip"});
  io::write_hdf5(zeros({6, 6}, float64, {3, 3}), dir_.file("r.h5"), "m");
  const std::vector<int64_t> before = io::FileIdentity(path);
  const std::vector<int64_t> raw_before = io::FileIdentity(dir_.file("r.h5"));
  // h5py changes both files in place.
  const PythonResult r = RunPython(
      "import h5py\nfor n in ('m.h5', 'r.h5'):\n    h5py.File(n, 'r+')['m'][0, 0] = 1.0\n",
      dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto ctx = ctx_->impl();
  const auto code = detail::int_scalar(static_cast<int64_t>(float64));
  const auto hyperslab =
      detail::submit(*ctx, "io.hdf5.read",
                     {engine::Scalar{path}, engine::Scalar{"m"}, detail::shape_scalar({0, 0}),
                      detail::shape_scalar({3, 3}), code, engine::Scalar{before}},
                     0, engine::OutputSpec{float64, {3, 3}});
  ExpectThrowWith<IOError>([&] { ctx->runtime->Get(hyperslab); }, {path, "replaced or modified"});
  const auto chunks =
      detail::submit(*ctx, "io.hdf5.read_chunks",
                     {engine::Scalar{dir_.file("r.h5")}, detail::shape_scalar({0, 0}),
                      detail::shape_scalar({3, 3}), code, detail::shape_scalar({3, 3}),
                      engine::Scalar{std::vector<int64_t>{0, 0, 0}}, engine::Scalar{raw_before}},
                     0, engine::OutputSpec{float64, {3, 3}});
  ExpectThrowWith<IOError>([&] { ctx->runtime->Get(chunks); }, {"r.h5", "replaced or modified"});
  // Read afresh, the new values are there.
  EXPECT_EQ(io::read_hdf5(*ctx_, path, "m").get().at<double>({0, 0}), 1.0);
  EXPECT_EQ(io::read_hdf5(*ctx_, dir_.file("r.h5"), "m").get().at<double>({0, 0}), 1.0);
}

// Unfiltered data moves between nodes and the file with pread/pwrite at addresses the driver
// looked up: block tasks take no HDF5 lock, so a process's blocks are read and written in
// parallel. Filtered data goes through HDF5, one block at a time.
TEST_F(Hdf5Test, RawPathsTakeTheHdf5LockOnlyOnTheDriver) {
  const NDArray want = SpecialNDArray({60, 40}, float64, 8);
  const BlockArray x = from_ndarray(want, {7, 6});  // 9 x 7 = 63 blocks, edge chunks included
  x.get();
  int64_t before = io::Hdf5Lock::Acquisitions();
  io::write_hdf5(x, dir_.file("raw.h5"), "x");
  EXPECT_LE(io::Hdf5Lock::Acquisitions() - before, 2);  // create; look up the chunks
  before = io::Hdf5Lock::Acquisitions();
  EXPECT_SAME_BYTES(io::read_hdf5(*ctx_, dir_.file("raw.h5"), "x", {.block_shape = {7, 6}}).get(),
                    want);
  EXPECT_EQ(io::Hdf5Lock::Acquisitions() - before, 1);  // the driver's metadata read

  before = io::Hdf5Lock::Acquisitions();
  io::write_hdf5(x, dir_.file("gzip.h5"), "x", {.compression = "gzip", .compression_level = 1});
  EXPECT_GE(io::Hdf5Lock::Acquisitions() - before, 63);
  before = io::Hdf5Lock::Acquisitions();
  EXPECT_SAME_BYTES(io::read_hdf5(*ctx_, dir_.file("gzip.h5"), "x", {.block_shape = {7, 6}}).get(),
                    want);
  EXPECT_GE(io::Hdf5Lock::Acquisitions() - before, 1 + 63);

  // Explicit chunks that blocks share (each block writes its part of several chunks).
  io::write_hdf5(x, dir_.file("shared.h5"), "x", {.chunks = {4, 9}});
  EXPECT_SAME_BYTES(
      io::read_hdf5(*ctx_, dir_.file("shared.h5"), "x", {.block_shape = {5, 5}}).get(), want);
  // 0-d: contiguous storage at an address.
  io::write_hdf5(from_ndarray(NDArray::scalar<int32_t>(-17)), dir_.file("s.h5"), "s");
  EXPECT_EQ(io::read_hdf5(*ctx_, dir_.file("s.h5"), "s").item<int32_t>(), -17);
  EXPECT_EQ(Plans(dir_.file("s.h5"), "s", {}), (std::vector<Kind>{Kind::kContiguous}));
}

}  // namespace
}  // namespace nums::testing
