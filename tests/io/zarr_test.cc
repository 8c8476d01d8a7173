// io::read_zarr / io::write_zarr on an embedded cluster of 3 nodes, against zarr-python 2
// (Debian's python3-zarr, run by /usr/bin/python3).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/embedded_runtime.h"
#include "io/file_util.h"
#include "io/zarr_codec.h"
#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;

struct Case {
  Shape shape;
  Shape write_blocks;  // block shape of the written array
  Shape chunks;        // chunks asked of write_zarr (empty: the block shape)
  Shape read_blocks;   // block shape asked of read_zarr (empty: the default)
};

// Shapes that do not divide into chunks, chunks unlike blocks, 0-d, empty, 1-d to 4-d.
const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      {{7, 5}, {3, 2}, {}, {2, 4}},
      {{7, 5}, {4, 5}, {3, 2}, {3, 2}},  // rechunked before writing
      {{13}, {4}, {5}, {6}},
      {{2, 3, 4}, {1, 2, 3}, {2, 2, 3}, {2, 1, 4}},
      {{3, 1, 4, 5}, {2, 1, 3, 2}, {}, {1, 1, 2, 5}},
      {{4, 3}, {4, 3}, {8, 8}, {}},  // one chunk larger than the array
      {{}, {}, {}, {}},
      {{0}, {0}, {}, {}},
      {{0, 4}, {0, 2}, {}, {}},
      {{3, 0}, {2, 0}, {2, 2}, {}},
  };
  return kCases;
}

const std::vector<std::string>& Compressors() {
  static const std::vector<std::string> kAll = {"", "zlib", "gzip", "lz4", "zstd", "blosc"};
  return kAll;
}

std::string PyShape(const Shape& s) {
  std::string out = "(";
  for (int64_t d : s) out += std::to_string(d) + ",";
  return out + ")";
}

class ZarrTest : public EmbeddedIoTest {};

TEST_F(ZarrTest, RoundTripsEveryDTypeCompressorAndOrderBitIdentically) {
  uint64_t seed = 1;
  for (DType t : AllDTypes()) {
    for (const std::string& compressor : Compressors()) {
      for (char order : {'C', 'F'}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " '" + compressor + "' " + order);
        const NDArray want = SpecialNDArray({7, 5}, t, seed++);
        const std::string store = dir_.file("x.zarr");
        io::write_zarr(from_ndarray(want, {3, 2}), store,
                       {.compressor = compressor, .order = order});
        const BlockArray y = io::read_zarr(*ctx_, store, {.block_shape = {2, 4}});
        EXPECT_EQ(y.dtype(), t);
        EXPECT_SAME_BYTES(y.get(), want);
      }
    }
  }
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(ZarrTest, RoundTripsOddShapesChunksAndBlocks) {
  uint64_t seed = 100;
  for (DType t : {float64, int32, bool_}) {
    for (const Case& c : Cases()) {
      for (char order : {'C', 'F'}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape) + " " + order);
        const NDArray want = SpecialNDArray(c.shape, t, seed++);
        const std::string store = dir_.file("x.zarr");
        io::write_zarr(from_ndarray(want, c.write_blocks), store,
                       {.chunks = c.chunks,
                        .compressor = order == 'C' ? "zstd" : "blosc",
                        .order = order,
                        .dimension_separator = order == 'C' ? '.' : '/'});
        const BlockArray y = io::read_zarr(*ctx_, store, {.block_shape = c.read_blocks});
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

TEST_F(ZarrTest, DefaultBlocksAreChunksOrWholeChunks) {
  // Chunks of 2 MiB: one per block, on the block-cyclic nodes.
  const NDArray big = SpecialNDArray({1600, 600}, float64, 4);
  io::write_zarr(from_ndarray(big, {512, 512}), dir_.file("big.zarr"), {.compressor = "lz4"});
  const BlockArray y = io::read_zarr(*ctx_, dir_.file("big.zarr"));
  EXPECT_EQ(y.block_shape(), (Shape{512, 512}));
  EXPECT_EQ(y.block_nodes(), zeros({1600, 600}, float64, {512, 512}).block_nodes());
  const std::vector<int64_t> where = y.block_nodes();
  EXPECT_EQ(std::set<int64_t>(where.begin(), where.end()).size(), 3u);
  EXPECT_SAME_BYTES(y.get(), big);
  // Tiny chunks are grouped, whole chunks per block.
  const NDArray small = SpecialNDArray({40, 30}, int64, 5);
  io::write_zarr(from_ndarray(small), dir_.file("small.zarr"), {.chunks = {3, 4}});
  const BlockArray z = io::read_zarr(*ctx_, dir_.file("small.zarr"));
  for (size_t d = 0; d < 2; ++d) {
    EXPECT_TRUE(z.block_shape()[d] % (d == 0 ? 3 : 4) == 0 || z.block_shape()[d] == z.shape()[d])
        << shape_str(z.block_shape());
  }
  EXPECT_SAME_BYTES(z.get(), small);
}

TEST_F(ZarrTest, ComputedArraysWrite) {
  const BlockArray x = arange(0, 60, 1, float64, {7}).reshape({6, 10}, {4, 3}) * 0.5;
  io::write_zarr(x, dir_.file("x.zarr"), {.chunks = {5, 5}});
  EXPECT_SAME_BYTES(io::read_zarr(*ctx_, dir_.file("x.zarr")).get(), x.get());
}

TEST_F(ZarrTest, ZarrPythonReadsWhatNumsWrites) {
  std::string checks = "import zarr, numpy as np\nok = True\n";
  int i = 0;
  uint64_t seed = 200;
  auto add = [&](const NDArray& a, const Shape& blocks, const io::ZarrWriteOptions& o) {
    const std::string name = "a" + std::to_string(i++);
    io::write_zarr(from_ndarray(a, blocks), dir_.file(name), o);
    WriteRawBytes(a, dir_.path() / (name + ".raw"));
    checks += "z = zarr.open('" + name + "', mode='r')\na = z[...]\n";
    checks += "if a.dtype != np.dtype('" + std::string(dtype_name(a.dtype())) +
              "') or a.shape != " + PyShape(a.shape()) + " or a.tobytes() != open('" + name +
              ".raw', 'rb').read():\n    ok = False\n    print('mismatch " + name +
              "', a.dtype, a.shape, z.compressor, z.order)\n";
  };
  for (DType t : AllDTypes()) {
    for (const std::string& compressor : Compressors()) {
      for (char order : {'C', 'F'}) {
        add(SpecialNDArray({7, 5}, t, seed++), {3, 2}, {.compressor = compressor, .order = order});
      }
    }
    add(SpecialNDArray({2, 3, 4}, t, seed++), {1, 2, 3},
        {.chunks = {2, 2, 3}, .order = 'F', .dimension_separator = '/'});
    add(SpecialNDArray({}, t, seed++), {}, {});
    add(SpecialNDArray({0, 4}, t, seed++), {0, 2}, {});
  }
  for (const char* cname : {"lz4", "zstd", "blosclz", "zlib", "lz4hc"}) {
    for (int64_t shuffle : {0, 1, 2}) {
      add(SpecialNDArray({9, 6}, float32, seed++), {4, 4},
          {.compressor = "blosc", .level = 7, .blosc_cname = cname, .blosc_shuffle = shuffle});
    }
  }
  add(SpecialNDArray({9, 6}, int64, seed++), {4, 4}, {.compressor = "zstd", .level = 19});
  add(SpecialNDArray({9, 6}, int64, seed++), {4, 4}, {.compressor = "zlib", .level = 9});
  add(SpecialNDArray({9, 6}, int64, seed++), {4, 4}, {.compressor = "lz4", .level = 9});
  // Metadata zarr-python reports: fill value, attributes.
  io::write_zarr(from_ndarray(SpecialNDArray({5}, float64, 1), {2}), dir_.file("meta"),
                 {.fill_value = std::numeric_limits<double>::quiet_NaN(),
                  .attributes = {{"unit", std::string("m/s")},
                                 {"scale", 0.5},
                                 {"count", int64_t{-3}},
                                 {"axis", std::vector<double>{1.5, 2.0}}}});
  checks += R"(
z = zarr.open('meta', mode='r')
if not np.isnan(z.fill_value) or dict(z.attrs) != {'unit': 'm/s', 'scale': 0.5, 'count': -3, 'axis': [1.5, 2.0]}:
    ok = False
    print('meta', z.fill_value, dict(z.attrs))
)";
  checks += "print('checked', " + std::to_string(i) + ")\nraise SystemExit(0 if ok else 1)\n";
  const PythonResult r = RunPython(checks, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("checked " + std::to_string(i)), std::string::npos) << r.output;
}

// zarr-python writes each store and the C-order bytes it must read as; nums reads with blocks
// that are not the chunks.
TEST_F(ZarrTest, NumsReadsZarrPythonStores) {
  const std::string script = R"(
import zarr, numcodecs, numpy as np
rng = np.random.default_rng(7)
def save(name, a, raw=None, **kw):
    z = zarr.open(name, mode='w', shape=a.shape, dtype=a.dtype, **kw)
    z[...] = a
    r = np.ascontiguousarray(a if raw is None else raw)
    open(name + '.raw', 'wb').write(r.astype(r.dtype.newbyteorder('<')).tobytes())
m = rng.normal(size=(11, 7))
i = rng.integers(-2**40, 2**40, size=(11, 7))
save('none', m, chunks=(4, 3), compressor=None)
save('zlib', m, chunks=(4, 3), compressor=numcodecs.Zlib(level=6))
save('gzip', i, chunks=(4, 3), compressor=numcodecs.GZip(level=5))
save('lz4', m.astype('f4'), chunks=(4, 3), compressor=numcodecs.LZ4(acceleration=3))
save('zstd', i.astype('i4'), chunks=(4, 3), compressor=numcodecs.Zstd(level=9))
save('blosc_lz4', m, chunks=(5, 2), compressor=numcodecs.Blosc('lz4', 5, numcodecs.Blosc.SHUFFLE))
save('blosc_zstd', i, chunks=(5, 2), compressor=numcodecs.Blosc('zstd', 3, numcodecs.Blosc.BITSHUFFLE))
save('blosc_blosclz', m, chunks=(3, 7), compressor=numcodecs.Blosc('blosclz', 9, numcodecs.Blosc.NOSHUFFLE))
save('blosc_zlib', rng.random(size=(6, 5)) > 0.5, chunks=(4, 4), compressor=numcodecs.Blosc('zlib', 1, numcodecs.Blosc.AUTOSHUFFLE))
save('fortran', m, chunks=(4, 3), order='F')
save('fortran_3d', rng.integers(-9, 9, size=(3, 4, 5)).astype('i4'), chunks=(2, 3, 2), order='F')
save('big_endian', m.astype('>f8'), chunks=(4, 3))
save('big_endian_fortran_i8', i.astype('>i8'), chunks=(4, 3), order='F', compressor=numcodecs.Zlib())
save('nested', m, chunks=(4, 3), dimension_separator='/')
save('scalar', np.array(2.5))
save('empty', np.zeros((0, 3), dtype='i4'), chunks=(2, 2))
# Missing chunks read as the fill value: only chunk (0, 0) is written.
for name, dtype, fill in [('fill_nan', 'f8', float('nan')), ('fill_inf', 'f4', float('-inf')),
                          ('fill_int', 'i8', -7), ('fill_bool', 'bool', True),
                          ('fill_null', 'f8', None)]:
    z = zarr.open(name, mode='w', shape=(7, 5), chunks=(3, 2), dtype=dtype, fill_value=fill)
    z[0:3, 0:2] = 0
    want = np.full((7, 5), 0 if fill is None else fill, dtype=dtype)
    want[0:3, 0:2] = 0
    open(name + '.raw', 'wb').write(want.tobytes())
print('written')
)";
  const PythonResult r = RunPython(script, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::pair<std::string, DType>> stores = {{"none", float64},
                                                             {"zlib", float64},
                                                             {"gzip", int64},
                                                             {"lz4", float32},
                                                             {"zstd", int32},
                                                             {"blosc_lz4", float64},
                                                             {"blosc_zstd", int64},
                                                             {"blosc_blosclz", float64},
                                                             {"blosc_zlib", bool_},
                                                             {"fortran", float64},
                                                             {"fortran_3d", int32},
                                                             {"big_endian", float64},
                                                             {"big_endian_fortran_i8", int64},
                                                             {"nested", float64},
                                                             {"scalar", float64},
                                                             {"empty", int32},
                                                             {"fill_nan", float64},
                                                             {"fill_inf", float32},
                                                             {"fill_int", int64},
                                                             {"fill_bool", bool_},
                                                             {"fill_null", float64}};
  for (const auto& [name, dtype] : stores) {
    SCOPED_TRACE(name);
    const std::string raw = ReadFileBytes(dir_.path() / (name + ".raw"));
    const BlockArray probe = io::read_zarr(*ctx_, dir_.file(name));
    ASSERT_EQ(probe.dtype(), dtype);
    std::vector<Shape> block_shapes = {{}};
    if (!probe.shape().empty()) {  // blocks of 2 (and of 5): regions across chunk edges
      Shape two(probe.shape().size(), 2), five(probe.shape().size(), 5);
      for (size_t d = 0; d < two.size(); ++d) {
        if (probe.shape()[d] == 0) two[d] = five[d] = 0;
      }
      block_shapes.push_back(two);
      block_shapes.push_back(five);
    }
    for (const Shape& bs : block_shapes) {
      const NDArray got = io::read_zarr(*ctx_, dir_.file(name), {.block_shape = bs}).get();
      ASSERT_EQ(got.nbytes(), static_cast<int64_t>(raw.size())) << shape_str(bs);
      EXPECT_EQ(std::string(static_cast<const char*>(got.raw()), raw.size()), raw) << shape_str(bs);
    }
  }
  EXPECT_EQ(io::read_zarr(*ctx_, dir_.file("scalar")).item<double>(), 2.5);
  EXPECT_EQ(io::read_zarr(*ctx_, dir_.file("fortran")).shape(), (Shape{11, 7}));
}

TEST_F(ZarrTest, AttributesRoundTripAndReadFromZarrPython) {
  const io::Attributes attrs = {{"unit", std::string("m/s")},
                                {"scale", 0.5},
                                {"count", int64_t{-3}},
                                {"axis", std::vector<double>{1.5, 2.0}}};
  io::write_zarr(zeros({3}), dir_.file("x.zarr"), {.attributes = attrs});
  EXPECT_EQ(io::read_zarr_attributes(dir_.file("x.zarr")), attrs);
  io::write_zarr(zeros({3}), dir_.file("plain.zarr"));
  EXPECT_TRUE(io::read_zarr_attributes(dir_.file("plain.zarr")).empty());
  const PythonResult r = RunPython(R"(
import zarr
z = zarr.open('py', mode='w', shape=(2,), dtype='f8')
z.attrs.update({'name': 'x', 'n': 4, 'f': 2.5, 'v': [1, 2.5], 'nested': {'a': 1}})
z = zarr.open('noattrs', mode='w', shape=(2,), dtype='f8')
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectThrowWith<DTypeError>([&] { io::read_zarr_attributes(dir_.file("py")); },
                              {dir_.file("py"), "nested"});
  std::ofstream(dir_.file("py/.zattrs"), std::ios::trunc)
      << R"({"name": "x", "n": 4, "f": 2.5, "v": [1, 2.5]})";
  const io::Attributes want = {{"name", std::string("x")},
                               {"n", int64_t{4}},
                               {"f", 2.5},
                               {"v", std::vector<double>{1, 2.5}}};
  EXPECT_EQ(io::read_zarr_attributes(dir_.file("py")), want);
  EXPECT_TRUE(io::read_zarr_attributes(dir_.file("noattrs")).empty());
  ExpectThrowWith<IOError>([&] { io::read_zarr_attributes(dir_.file("missing")); },
                           {dir_.file("missing"), "does not exist"});
}

TEST_F(ZarrTest, MissingStoreRaisesIOErrorNamingIt) {
  const std::string store = dir_.file("missing.zarr");
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, store); }, {store, "does not exist"});
  fs::create_directory(store);
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, store); }, {store, "no .zarray"});
  std::ofstream(store + "/.zarray") << "{not json";
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, store); }, {store, "not valid JSON"});
}

TEST_F(ZarrTest, UnsupportedDTypesAndCodecsRaiseNamingThem) {
  const PythonResult r = RunPython(R"(
import zarr, numcodecs
zarr.open('u2', mode='w', shape=(3,), dtype='<u2')
z = zarr.open('c16', mode='w', shape=(3,), dtype='>c16', fill_value=(1-1j))
z[:2] = [1+2j, -3j]
zarr.open('c8', mode='w', shape=(3,), dtype='<c8')
zarr.open('f2', mode='w', shape=(3,), dtype='>f2')
zarr.open('rec', mode='w', shape=(3,), dtype=[('a', '<f8'), ('b', '<i4')], fill_value=None)
zarr.open('bz2', mode='w', shape=(3,), dtype='f8', compressor=numcodecs.BZ2())
zarr.open('delta', mode='w', shape=(3,), dtype='f8', filters=[numcodecs.Delta(dtype='f8')])
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // uint16 and big-endian float16 are dtypes of nums (missing chunks read as the fill, 0).
  EXPECT_EQ(io::read_zarr(*ctx_, dir_.file("u2")).dtype(), uint16);
  EXPECT_EQ(io::read_zarr(*ctx_, dir_.file("f2")).dtype(), float16);
  EXPECT_EQ(io::read_zarr(*ctx_, dir_.file("f2")).get().to_vector<double>(),
            (std::vector<double>{0, 0, 0}));
  ExpectThrowWith<DTypeError>([&] { io::read_zarr(*ctx_, dir_.file("c8")); }, {"c8", "<c8"});
  // Big-endian complex128, and a complex fill where no chunk was written.
  const NDArray c = io::read_zarr(*ctx_, dir_.file("c16"), {.block_shape = {2}}).get();
  ASSERT_EQ(c.dtype(), complex128);
  EXPECT_EQ(c.value_at<std::complex<double>>(0), std::complex<double>(1, 2));
  EXPECT_EQ(c.value_at<std::complex<double>>(1), std::complex<double>(0, -3));
  EXPECT_EQ(c.value_at<std::complex<double>>(2), std::complex<double>(1, -1));
  ExpectThrowWith<DTypeError>([&] { io::read_zarr(*ctx_, dir_.file("rec")); }, {"rec", "<f8"});
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, dir_.file("bz2")); }, {"bz2", "\"bz2\""});
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, dir_.file("delta")); },
                           {"delta", "filters", "delta"});
}

// A chunk whose bytes are not what .zarray says: get() raises IOError naming the store, the
// chunk key and the block; the other blocks read.
TEST_F(ZarrTest, CorruptChunksRaiseIOErrorNamingStoreChunkAndBlock) {
  const NDArray a = SpecialNDArray({6, 4}, float64, 8);
  for (const std::string& compressor : Compressors()) {
    SCOPED_TRACE(compressor);
    const std::string store = dir_.file("c.zarr");
    io::write_zarr(from_ndarray(a, {3, 2}), store, {.compressor = compressor});
    const std::string chunk = ReadFileBytes(store + "/1.1");
    std::ofstream(store + "/1.1", std::ios::binary | std::ios::trunc)
        << chunk.substr(0, chunk.size() / 2);
    const BlockArray y = io::read_zarr(*ctx_, store, {.block_shape = {3, 2}});
    ExpectThrowWith<IOError>([&] { y.get(); }, {store, "chunk '1.1'", "block (1, 1)"});
    EXPECT_SAME_BYTES(y(slice(0, 3), all).get(), from_ndarray(a)(slice(0, 3), all).get());
    // Garbage of the right length (valid data when uncompressed), and a well-formed chunk of
    // another size.
    if (!compressor.empty()) {
      std::ofstream(store + "/1.1", std::ios::binary | std::ios::trunc)
          << std::string(chunk.size(), '\x5a');
      ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, store).get(); }, {store, "chunk '1.1'"});
    }
    io::write_zarr(from_ndarray(SpecialNDArray({6, 4}, float64, 9), {3, 3}), dir_.file("o.zarr"),
                   {.compressor = compressor});
    fs::copy_file(dir_.file("o.zarr/0.0"), store + "/1.1", fs::copy_options::overwrite_existing);
    ExpectThrowWith<IOError>(
        [&] {
          io::read_zarr(*ctx_, store, {.block_shape = {2, 2}}).get();
        },
        {store, "chunk '1.1'", "block (", "48"});
  }
}

TEST_F(ZarrTest, BadWriteOptionsRaiseBeforeAnythingIsWritten) {
  const BlockArray x = zeros({4, 4});
  const std::string store = dir_.file("x.zarr");
  ExpectThrowWith<ValueError>([&] { io::write_zarr(x, store, {.compressor = "bz2"}); }, {"bz2"});
  ExpectThrowWith<ValueError>(
      [&] { io::write_zarr(x, store, {.compressor = "zlib", .level = 12}); }, {"level", "12"});
  ExpectThrowWith<ValueError>(
      [&] { io::write_zarr(x, store, {.compressor = "blosc", .blosc_cname = "snappy2"}); },
      {"snappy2"});
  ExpectThrowWith<ValueError>([&] { io::write_zarr(x, store, {.order = 'X'}); }, {"order"});
  ExpectThrowWith<ValueError>([&] { io::write_zarr(x, store, {.chunks = {0, 2}}); }, {"chunks"});
  EXPECT_THROW(io::write_zarr(x, store, {.chunks = {2}}), ShapeError);
  ExpectThrowWith<ValueError>(
      [&] { io::write_zarr(zeros({2}, int32), store, {.fill_value = 0.5}); }, {"0.5", "int32"});
  ExpectThrowWith<ValueError>(
      [&] {
        io::write_zarr(x, store,
                       {.attributes = {{"bad", std::numeric_limits<double>::infinity()}}});
      },
      {"bad"});
  EXPECT_THROW(io::write_zarr(BlockArray(), store), ValueError);
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

TEST_F(ZarrTest, WriteReplacesAnExistingStoreWhole) {
  const std::string store = dir_.file("x.zarr");
  io::write_zarr(from_ndarray(SpecialNDArray({9, 9}, float64, 1), {2, 2}), store);
  const NDArray want = SpecialNDArray({3, 2}, int32, 2);
  io::write_zarr(from_ndarray(want), store, {.compressor = "zlib"});
  EXPECT_SAME_BYTES(io::read_zarr(*ctx_, store).get(), want);
  EXPECT_FALSE(fs::exists(store + "/4.4"));  // no chunk of the old array remains
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
  io::write_zarr(from_ndarray(want), store + "/", {});  // a trailing slash names the same store
  EXPECT_SAME_BYTES(io::read_zarr(*ctx_, store + "/").get(), want);
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(ZarrTest, WriteIntoMissingDirectoryRaisesIOError) {
  const std::string store = dir_.file("no/such/dir/x.zarr");
  ExpectThrowWith<IOError>([&] { io::write_zarr(zeros({3}), store); }, {"no/such/dir/x.zarr"});
}

// One block that does not fit its grid fails on its node after the others wrote their chunks:
// the old store stays as it was and no temporary directory remains.
TEST_F(ZarrTest, FailedWriteLeavesTheOldStore) {
  const std::string store = dir_.file("x.zarr");
  const NDArray old = SpecialNDArray({6, 6}, float64, 9);
  io::write_zarr(from_ndarray(old), store, {.attributes = {{"v", int64_t{1}}}});
  const BlockArray good = from_ndarray(SpecialNDArray({6, 6}, float64, 10), {3, 3});
  auto impl = std::make_shared<BlockArray::Impl>(*good.impl());
  impl->blocks[3] =
      impl->ctx->runtime->Put(engine::Block::Allocate(int32, {3, 3}), impl->blocks[3].node());
  ExpectThrowWith<ValueError>(
      [&] {
        io::write_zarr(BlockArray(impl), store, {.chunks = {3, 3}});
      },
      {"io.zarr.write", "int32"});
  EXPECT_SAME_BYTES(io::read_zarr(*ctx_, store).get(), old);
  EXPECT_EQ(std::get<int64_t>(io::read_zarr_attributes(store).at("v")), 1);
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
  // A fresh path: nothing at all is left.
  ExpectThrowWith<ValueError>(
      [&] {
        io::write_zarr(BlockArray(impl), dir_.file("new.zarr"), {.chunks = {3, 3}});
      },
      {"io.zarr.write"});
  EXPECT_FALSE(fs::exists(dir_.file("new.zarr")));
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

// A block read again later (recomputed after it was dropped) must come from the store read_zarr
// opened: a store replaced since raises IOError instead of giving other data.
TEST_F(ZarrTest, ReadsOfAReplacedStoreRaiseIOError) {
  const std::string store = dir_.file("x.zarr");
  io::write_zarr(from_ndarray(SpecialNDArray({4, 4}, float64, 1)), store);
  const std::string zarray = ReadFileBytes(fs::path(store) / ".zarray");
  const std::vector<int64_t> identity = io::FileIdentity(store + "/.zarray");
  auto read = [&](const std::vector<int64_t>& id) {
    auto ctx = ctx_->impl();
    return ctx->runtime->Get(detail::submit(
        *ctx, "io.zarr.read",
        {engine::Scalar{store}, engine::Scalar{zarray}, detail::shape_scalar({0, 0}),
         detail::shape_scalar({4, 4}), detail::shape_scalar({0, 0}), engine::Scalar{id}},
        0, engine::OutputSpec{float64, {4, 4}}));
  };
  EXPECT_EQ(read(identity).nbytes(), 128);
  io::write_zarr(from_ndarray(SpecialNDArray({4, 4}, float64, 2)), store);
  ExpectThrowWith<IOError>([&] { read(identity); }, {store, ".zarray", "replaced or modified"});
  EXPECT_EQ(read(io::FileIdentity(store + "/.zarray")).nbytes(), 128);
  fs::remove_all(store);
  ExpectThrowWith<IOError>([&] { read(identity); }, {store, ".zarray"});
}

// Every zarr task declares exactly the blocks its kernel makes.
TEST_F(ZarrTest, IoTasksDeclareExactlyTheirOutputs) {
  auto count = [&] { return DeclarationMisses(*ctx_); };
  const auto before = count();
  const BlockArray x = from_ndarray(SpecialNDArray({9, 7}, int32, 3), {4, 3});
  io::write_zarr(x, dir_.file("x.zarr"), {.chunks = {4, 3}, .order = 'F'});
  (void)io::read_zarr(*ctx_, dir_.file("x.zarr"), {.block_shape = {2, 5}}).get();
  (void)io::read_zarr(*ctx_, dir_.file("x.zarr")).get();
  const auto after = count();
  EXPECT_EQ(after.first - before.first, 0) << "a declared output did not match its kernel's block";
  EXPECT_EQ(after.second - before.second, 0) << "an io task declared no outputs";
}

TEST(ZarrCodec, EveryCodecRoundTripsAndRejectsTruncatedData) {
  std::vector<uint8_t> data(10000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 7) % 251);
  std::vector<io::ZarrCodec> codecs;
  for (const char* id : {"", "zlib", "gzip", "lz4", "zstd", "blosc"}) {
    codecs.push_back(io::DefaultZarrCodec(id));
  }
  for (const io::ZarrCodec& c : codecs) {
    SCOPED_TRACE(c.id);
    const std::string enc = io::EncodeChunk(c, data.data(), 10000, 4);
    std::vector<uint8_t> out(10000);
    io::DecodeChunk(c, enc, out.data(), 10000);
    EXPECT_EQ(out, data);
    EXPECT_THROW(io::DecodeChunk(c, enc, out.data(), 8000), IOError);
    EXPECT_THROW(io::DecodeChunk(c, enc.substr(0, enc.size() - 5), out.data(), 10000), IOError);
  }
}

}  // namespace
}  // namespace nums::testing
