// io::save / io::load on an embedded cluster of 3 nodes, against NumPy (/usr/bin/python3).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/embedded_runtime.h"
#include "io/csv.h"
#include "io/file_util.h"
#include "io/npy_format.h"
#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;

struct Case {
  Shape shape;
  Shape write_blocks;  // block shape of the saved array
  Shape read_blocks;   // block shape asked of load (empty: the default)
};

// Odd shapes that do not divide into blocks, 0-d, empty, 1-d to 4-d.
const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      {{7, 5}, {3, 2}, {2, 4}},
      {{7, 5}, {7, 5}, {3, 5}},  // row blocks spanning full rows
      {{13}, {4}, {5}},
      {{2, 3, 4}, {1, 2, 3}, {2, 1, 4}},
      {{3, 1, 4, 5}, {2, 1, 3, 2}, {1, 1, 2, 5}},
      {{}, {}, {}},
      {{0}, {0}, {}},
      {{0, 4}, {0, 2}, {}},
      {{3, 0}, {2, 0}, {}},
      {{1, 1}, {1, 1}, {}},
  };
  return kCases;
}

class NpyTest : public EmbeddedIoTest {};

TEST_F(NpyTest, RoundTripsEveryDTypeBitIdentically) {
  uint64_t seed = 1;
  for (DType t : AllDTypes()) {
    for (const Case& c : Cases()) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape));
      const NDArray want = SpecialNDArray(c.shape, t, seed++);
      const BlockArray x = from_ndarray(want, c.write_blocks);
      const std::string path = dir_.file("x.npy");
      io::save(x, path);
      const BlockArray y = io::load(*ctx_, path, {.block_shape = c.read_blocks});
      EXPECT_EQ(y.dtype(), t);
      EXPECT_EQ(y.shape(), c.shape);
      if (!c.read_blocks.empty()) {
        EXPECT_EQ(y.block_shape(), c.read_blocks);
      }
      EXPECT_SAME_BYTES(y.get(), want);
    }
  }
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(NpyTest, BlocksAreReadOnTheirHomeNodes) {
  const NDArray want = SpecialNDArray({9, 6}, float64, 3);
  io::save(from_ndarray(want, {3, 2}), dir_.file("x.npy"));
  const BlockArray y = io::load(*ctx_, dir_.file("x.npy"), {.block_shape = {3, 2}});
  const BlockArray z = zeros({9, 6}, float64, {3, 2});  // laid out block-cyclically
  EXPECT_EQ(y.block_nodes(), z.block_nodes());
  const std::vector<int64_t> where = y.block_nodes();
  const std::set<int64_t> nodes(where.begin(), where.end());
  EXPECT_EQ(nodes.size(), 3u);
  EXPECT_SAME_BYTES(y.get(), want);
}

TEST_F(NpyTest, ComputedArraysSave) {
  const BlockArray x = arange(0, 60, 1, float64, {7}).reshape({6, 10}, {4, 3}) * 0.5;
  io::save(x, dir_.file("x.npy"));
  EXPECT_SAME_BYTES(io::load(*ctx_, dir_.file("x.npy")).get(), x.get());
}

TEST_F(NpyTest, NumpyReadsWhatNumsSaves) {
  std::string checks = "import numpy as np\nok = True\n";
  int i = 0;
  for (DType t : AllDTypes()) {
    for (const Case& c : Cases()) {
      const NDArray a = SpecialNDArray(c.shape, t, 100 + i);
      const std::string name = "a" + std::to_string(i++);
      io::save(from_ndarray(a, c.write_blocks), dir_.file(name + ".npy"));
      WriteRawBytes(a, dir_.path() / (name + ".raw"));
      std::string shape = "(";
      for (int64_t d : c.shape) shape += std::to_string(d) + ",";
      shape += ")";
      checks += "a = np.load('" + name + ".npy')\n";
      checks += "if a.dtype != np.dtype('" + std::string(dtype_name(t)) +
                "') or a.shape != " + shape + " or a.tobytes() != open('" + name +
                ".raw', 'rb').read():\n    ok = False\n    print('mismatch " + name + "', " +
                "a.dtype, a.shape)\n";
    }
  }
  checks += "print('checked', " + std::to_string(i) + ")\nraise SystemExit(0 if ok else 1)\n";
  const PythonResult r = RunPython(checks, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("checked " + std::to_string(i)), std::string::npos) << r.output;
}

// NumPy writes each file and the C-order bytes it must read as; nums loads with odd blocks.
TEST_F(NpyTest, NumsReadsNumpyFiles) {
  const std::string script = R"(
import numpy as np
rng = np.random.default_rng(7)
def save(name, a, version=None, raw=None):
    with open(name + '.npy', 'wb') as f:
        np.lib.format.write_array(f, a, version=version)
    a = np.ascontiguousarray(a)
    open(name + '.raw', 'wb').write(a.astype(a.dtype.newbyteorder('<')).tobytes())
m = rng.normal(size=(7, 5))
save('c_f8', m)
save('fortran_f8', np.asfortranarray(m))
save('fortran_3d_i4', np.asfortranarray(rng.integers(-99, 99, size=(3, 4, 5)).astype(np.int32)))
save('big_f8', m.astype('>f8'))
save('big_fortran_i8', np.asfortranarray(rng.integers(-2**62, 2**62, size=(6, 4)).astype('>i8')))
save('big_f4', rng.normal(size=(9,)).astype('>f4'))
save('big_i4', rng.integers(-2**31, 2**31, size=(4, 3)).astype('>i4'))
save('bool', rng.random(size=(5, 6)) > 0.5)
save('v2_i8', rng.integers(-9, 9, size=(5, 3)), version=(2, 0))
save('v3_f4', rng.normal(size=(4, 4)).astype(np.float32), version=(3, 0))
save('scalar_f8', np.array(3.25))
save('empty_i4', np.zeros((0, 3), dtype=np.int32))
save('fortran_bool', np.asfortranarray(rng.random(size=(3, 7)) > 0.3))
print('written')
)";
  const PythonResult r = RunPython(script, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::pair<std::string, DType>> files = {
      {"c_f8", float64},      {"fortran_f8", float64},   {"fortran_3d_i4", int32},
      {"big_f8", float64},    {"big_fortran_i8", int64}, {"big_f4", float32},
      {"big_i4", int32},      {"bool", bool_},           {"v2_i8", int64},
      {"v3_f4", float32},     {"scalar_f8", float64},    {"empty_i4", int32},
      {"fortran_bool", bool_}};
  for (const auto& [name, dtype] : files) {
    SCOPED_TRACE(name);
    const std::string raw = ReadFileBytes(dir_.path() / (name + ".raw"));
    {
      const BlockArray x = io::load(*ctx_, dir_.file(name + ".npy"));
      ASSERT_EQ(x.dtype(), dtype);
      const NDArray got = x.get();
      ASSERT_EQ(got.nbytes(), static_cast<int64_t>(raw.size()));
      EXPECT_EQ(std::string(static_cast<const char*>(got.raw()), raw.size()), raw);
    }
    // Blocks of 2 along every axis: many regions, none spanning a whole row.
    const BlockArray probe = io::load(*ctx_, dir_.file(name + ".npy"));
    Shape small(probe.shape().size(), 2);
    for (size_t d = 0; d < small.size(); ++d) {
      if (probe.shape()[d] == 0) small[d] = 0;
    }
    const NDArray got = io::load(*ctx_, dir_.file(name + ".npy"), {.block_shape = small}).get();
    ASSERT_EQ(got.nbytes(), static_cast<int64_t>(raw.size()));
    EXPECT_EQ(std::string(static_cast<const char*>(got.raw()), raw.size()), raw);
  }
  EXPECT_EQ(io::load(*ctx_, dir_.file("fortran_f8.npy")).shape(), (Shape{7, 5}));
  EXPECT_EQ(io::load(*ctx_, dir_.file("scalar_f8.npy")).item<double>(), 3.25);
}

TEST_F(NpyTest, MissingFileRaisesIOErrorNamingIt) {
  const std::string path = dir_.file("missing.npy");
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, path); }, {path, "No such file"});
}

TEST_F(NpyTest, UnsupportedDTypesRaiseDTypeErrorNamingTheDescr) {
  const PythonResult r = RunPython(R"(
import numpy as np
np.save('c16.npy', np.array([1+2j, -3j], dtype='>c16'))
np.save('c8.npy', np.zeros(3, dtype=np.complex64))
np.save('u2.npy', np.arange(3, dtype=np.uint16))
np.save('i2.npy', np.arange(-1, 2, dtype='>i2'))
np.save('u4.npy', np.zeros(3, dtype='<u4'))
np.save('rec.npy', np.zeros(3, dtype=[('a', '<f8'), ('b', '<i4')]))
np.save('obj.npy', np.array([1, 'x'], dtype=object), allow_pickle=True)
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectThrowWith<DTypeError>([&] { io::load(*ctx_, dir_.file("c8.npy")); }, {"c8.npy", "<c8"});
  // Big-endian complex128 swaps each part.
  const NDArray c = io::load(*ctx_, dir_.file("c16.npy")).get();
  ASSERT_EQ(c.dtype(), complex128);
  EXPECT_EQ(c.value_at<std::complex<double>>(0), std::complex<double>(1, 2));
  EXPECT_EQ(c.value_at<std::complex<double>>(1), std::complex<double>(0, -3));
  // Unsigned and big-endian small integers are dtypes of nums.
  EXPECT_EQ(io::load(*ctx_, dir_.file("u2.npy")).get().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(io::load(*ctx_, dir_.file("i2.npy")).get().to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(io::load(*ctx_, dir_.file("i2.npy")).dtype(), int16);
  EXPECT_EQ(io::load(*ctx_, dir_.file("u4.npy")).dtype(), uint32);
  ExpectThrowWith<DTypeError>([&] { io::load(*ctx_, dir_.file("rec.npy")); },
                              {"rec.npy", "('a', '<f8')"});
  ExpectThrowWith<DTypeError>([&] { io::load(*ctx_, dir_.file("obj.npy")); }, {"obj.npy", "|O"});
}

TEST_F(NpyTest, TruncatedFileRaisesIOErrorWithTheBytes) {
  const std::string path = dir_.file("t.npy");
  io::save(from_ndarray(SpecialNDArray({10, 4}, float64, 5)), path);
  const int64_t full = static_cast<int64_t>(fs::file_size(path));  // 128 + 320
  ASSERT_EQ(full, 128 + 320);
  fs::resize_file(path, full - 8);
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, path); }, {path, "truncated", "448", "440"});
  fs::resize_file(path, 40);  // inside the header
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, path); }, {path, "truncated", "128", "40"});
  fs::resize_file(path, 0);
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, path); }, {path, "not a valid .npy"});
}

TEST_F(NpyTest, NotAnNpyFileRaisesIOError) {
  const std::string path = dir_.file("text.npy");
  std::ofstream(path) << "hello, this is not numpy\n";
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, path); }, {path, "magic"});
  const std::string bad = dir_.file("bad.npy");
  std::ofstream(bad, std::ios::binary)
      << std::string("\x93NUMPY\x01\x00\x16\x00", 10) << "{'descr': '<f8', }    \n";
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, bad); }, {bad, "fortran_order"});
  // A 2.0 header that claims 4 GiB, and a shape whose bytes do not fit int64.
  const std::string huge = dir_.file("huge.npy");
  std::ofstream(huge, std::ios::binary)
      << std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) << std::string(100, ' ');
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, huge); }, {huge, "4294967307"});
  const std::string wide = dir_.file("wide.npy");
  std::string dict =
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }";
  dict.append(118 - dict.size(), ' ');
  std::ofstream(wide, std::ios::binary)
      << std::string("\x93NUMPY\x01\x00\x76\x00", 10) << dict << '\n';
  ExpectThrowWith<ValueError>([&] { io::load(*ctx_, wide); }, {"4611686018427387904"});
}

TEST_F(NpyTest, BadBlockShapeRaisesShapeError) {
  io::save(zeros({4, 4}), dir_.file("x.npy"));
  EXPECT_THROW(io::load(*ctx_, dir_.file("x.npy"), {.block_shape = {2}}), ShapeError);
}

TEST_F(NpyTest, WriteIntoMissingDirectoryRaisesIOError) {
  const std::string path = dir_.file("no/such/dir/x.npy");
  ExpectThrowWith<IOError>([&] { io::save(zeros({3}), path); }, {"no/such/dir/x.npy"});
}

// An array one of whose blocks does not fit its grid: that block's write task fails on its
// node after the others wrote theirs. The old file stays and no temporary file remains.
TEST_F(NpyTest, FailedBlockWriteLeavesTheOldFileIntact) {
  const std::string path = dir_.file("x.npy");
  io::save(from_ndarray(SpecialNDArray({6, 6}, float64, 9)), path);
  const std::string before = ReadFileBytes(path);

  const BlockArray good = from_ndarray(SpecialNDArray({6, 6}, float64, 10), {3, 3});
  auto impl = std::make_shared<BlockArray::Impl>(*good.impl());
  impl->blocks[3] =
      impl->ctx->runtime->Put(engine::Block::Allocate(int32, {3, 3}), impl->blocks[3].node());
  const BlockArray broken(impl);
  ExpectThrowWith<ValueError>([&] { io::save(broken, path); }, {"io.npy.write", "int32"});
  EXPECT_EQ(ReadFileBytes(path), before);
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

// A block computed by a task that fails: its error reaches save(), nothing is committed.
TEST_F(NpyTest, FailedInputBlockLeavesNoFile) {
  const std::string path = dir_.file("y.npy");
  auto src = from_ndarray(SpecialNDArray({4, 4}, float64, 11), {2, 2});
  auto impl = std::make_shared<BlockArray::Impl>(*src.impl());
  // Reading a file that does not exist fails inside the task, on the block's node.
  impl->blocks[1] = detail::submit(
      *impl->ctx, "io.npy.read",
      {engine::Scalar{dir_.file("gone.npy")}, detail::int_scalar(128), detail::shape_scalar({4, 4}),
       detail::shape_scalar({0, 2}), detail::shape_scalar({2, 2}),
       detail::int_scalar(static_cast<int64_t>(float64)), engine::Scalar{false},
       engine::Scalar{false}},
      impl->blocks[1].node(), engine::OutputSpec{float64, {2, 2}});
  ExpectThrowWith<IOError>([&] { io::save(BlockArray(impl), path); }, {"gone.npy"});
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(TempFilesIn(dir_.path()).empty());
}

TEST_F(NpyTest, EmptyHandlesRaiseValueError) {
  EXPECT_THROW(io::save(BlockArray(), dir_.file("x.npy")), ValueError);
  EXPECT_THROW(io::write_hdf5(BlockArray(), dir_.file("x.h5"), "x"), ValueError);
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

// A file cut after load checked it: the node's read fails with the file and its bytes.
TEST_F(NpyTest, ReadErrorsOnNodesNameTheFileAndBytes) {
  const std::string path = dir_.file("x.npy");
  io::save(from_ndarray(SpecialNDArray({8, 8}, float64, 2)), path);
  const std::string bytes = ReadFileBytes(path);
  const BlockArray x = io::load(*ctx_, path, {.block_shape = {4, 4}});
  x.get();
  // The same header over less data: load checks the size, so cut the file after load.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, 128 + 8 * 40);
  auto impl = x.impl();
  const auto ref =
      detail::submit(*impl->ctx, "io.npy.read",
                     {engine::Scalar{path}, detail::int_scalar(128), detail::shape_scalar({8, 8}),
                      detail::shape_scalar({4, 4}), detail::shape_scalar({4, 4}),
                      detail::int_scalar(static_cast<int64_t>(float64)), engine::Scalar{false},
                      engine::Scalar{false}},
                     0, engine::OutputSpec{float64, {4, 4}});
  ExpectThrowWith<IOError>([&] { impl->ctx->runtime->Get(ref); },
                           {path, "truncated", "at least 512 bytes", "the file has 448",
                            "block at (4, 4) of shape (4, 4)"});
}

// A block read again later (recomputed after it was dropped) must come from the version of the
// file that load saw: a replaced or modified file raises IOError instead of other data.
TEST_F(NpyTest, ReadsOfAReplacedFileRaiseIOError) {
  const std::string path = dir_.file("x.npy");
  io::save(from_ndarray(SpecialNDArray({4, 4}, float64, 1)), path);
  const std::vector<int64_t> identity = io::FileIdentity(path);
  auto read = [&](const std::vector<int64_t>& id) {
    auto ctx = ctx_->impl();
    return ctx->runtime->Get(
        detail::submit(*ctx, "io.npy.read",
                       {engine::Scalar{path}, detail::int_scalar(128), detail::shape_scalar({4, 4}),
                        detail::shape_scalar({0, 0}), detail::shape_scalar({4, 4}),
                        detail::int_scalar(static_cast<int64_t>(float64)), engine::Scalar{false},
                        engine::Scalar{false}, engine::Scalar{id}},
                       0, engine::OutputSpec{float64, {4, 4}}));
  };
  EXPECT_EQ(read(identity).nbytes(), 128);
  io::save(from_ndarray(SpecialNDArray({4, 4}, float64, 2)), path);  // a new file, renamed in
  ExpectThrowWith<IOError>([&] { read(identity); }, {path, "replaced or modified"});
  EXPECT_EQ(read(io::FileIdentity(path)).nbytes(), 128);
}

TEST_F(NpyTest, SaveKeepsTheModeOfTheFileItReplaces) {
  const std::string path = dir_.file("x.npy");
  io::save(zeros({3}), path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  io::save(ones({3}), path);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(io::load(*ctx_, path).get().to_vector<double>(), (std::vector<double>{1, 1, 1}));
}

// Every io task declares exactly the blocks its kernel makes (nodes admit tasks by those bytes).
TEST_F(NpyTest, IoTasksDeclareExactlyTheirOutputs) {
  auto count = [&] { return DeclarationMisses(*ctx_); };
  const auto before = count();
  const NDArray a = SpecialNDArray({9, 7}, int32, 3);
  const BlockArray x = from_ndarray(a, {4, 3});
  io::save(x, dir_.file("x.npy"));
  (void)io::load(*ctx_, dir_.file("x.npy"), {.block_shape = {2, 5}}).get();
  io::write_hdf5(x, dir_.file("raw.h5"), "x");
  io::write_hdf5(x, dir_.file("gz.h5"), "x", {.compression = "gzip"});
  (void)io::read_hdf5(*ctx_, dir_.file("raw.h5"), "x", {.block_shape = {2, 5}}).get();
  (void)io::read_hdf5(*ctx_, dir_.file("gz.h5"), "x", {.block_shape = {2, 5}}).get();
  const PythonResult r = RunPython(
      "import numpy as np\nnp.save('f.npy', np.asfortranarray(np.ones((5, 4))))\n"
      "open('t.csv', 'w').write('1,2\\n3,4\\n5,6\\n')\n",
      dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  (void)io::load(*ctx_, dir_.file("f.npy"), {.block_shape = {2, 3}}).get();
  (void)io::ReadCsv(*ctx_, dir_.file("t.csv"), {.block_shape = {2, 1}}, 3).get();
  const auto after = count();
  EXPECT_EQ(after.first - before.first, 0) << "a declared output did not match its kernel's block";
  EXPECT_EQ(after.second - before.second, 0) << "an io task declared no outputs";
}

TEST(NpyFormat, HeadersAre64ByteAlignedAndUseVersion2OnlyWhenNeeded) {
  const std::string h1 = io::FormatNpyHeader(float64, {2, 3});
  EXPECT_EQ(h1.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(h1.size(), 128u);  // NumPy's size for such a dict
  EXPECT_EQ(h1.back(), '\n');
  const io::NpyHeader p1 = io::ParseNpyHeader(h1, "h1");
  EXPECT_EQ(p1.shape, (Shape{2, 3}));
  EXPECT_EQ(p1.data_offset, 128);
  // A dict longer than 1.0's 2-byte length field allows.
  const Shape many(30000, 1);
  const std::string h2 = io::FormatNpyHeader(int32, many);
  EXPECT_EQ(h2.substr(0, 8), std::string("\x93NUMPY\x02\x00", 8));
  EXPECT_EQ(h2.size() % 64, 0u);
  EXPECT_GT(h2.size(), 65536u);
  const io::NpyHeader p2 = io::ParseNpyHeader(h2, "h2");
  EXPECT_EQ(p2.shape, many);
  EXPECT_EQ(p2.dtype, int32);
  EXPECT_EQ(p2.data_offset, static_cast<int64_t>(h2.size()));
  EXPECT_EQ(io::ParseNpyHeader(io::FormatNpyHeader(bool_, {}), "h3").shape, Shape{});
  EXPECT_EQ(io::ParseNpyHeader(io::FormatNpyHeader(float32, {5}), "h4").shape, Shape{5});
}

}  // namespace
}  // namespace nums::testing
