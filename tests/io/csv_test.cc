// io::read_csv on an embedded cluster of 3 nodes, with byte ranges of every small size so that
// range boundaries fall everywhere in the lines; values checked against NumPy's loadtxt.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/csv.h"
#include "nums/nums.hpp"
#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;

class CsvTest : public EmbeddedIoTest {
 protected:
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
  }
  // read_csv with ranges of 1, 2, ..., 17 bytes and the default: all must agree with `want`.
  void ExpectReads(const std::string& name, const io::CsvOptions& options, const NDArray& want) {
    for (int64_t range : {1, 2, 3, 5, 7, 11, 13, 17, 1 << 25}) {
      SCOPED_TRACE(name + " ranges of " + std::to_string(range) + " bytes");
      const BlockArray x = io::ReadCsv(*ctx_, dir_.file(name), options, range);
      EXPECT_SAME_BYTES(x.get(), want);
    }
  }
};

TEST_F(CsvTest, ReadsWhatNumpyWritesAsNumpyReadsIt) {
  const PythonResult r = RunPython(R"(
import numpy as np
rng = np.random.default_rng(5)
def put(name, a, fmt, delimiter=',', header='', dtype=None):
    np.savetxt(name + '.csv', a, fmt=fmt, delimiter=delimiter, header=header, comments='')
    b = np.loadtxt(name + '.csv', delimiter=delimiter, skiprows=1 if header else 0, dtype=dtype or a.dtype, ndmin=2)
    open(name + '.raw', 'wb').write(np.ascontiguousarray(b).tobytes())
put('f8', rng.normal(size=(23, 4)) * 1e3, '%.17g')
put('f4', rng.normal(size=(9, 3)).astype(np.float32), '%.9g')
put('i8', rng.integers(-2**62, 2**62, size=(17, 5)), '%d', delimiter=';', header='a;b;c;d;e')
put('i4', rng.integers(-2**31, 2**31, size=(8, 2)).astype(np.int32), '%d', delimiter='\t')
put('one_col', rng.normal(size=(31, 1)), '%.17g')
print('written')
)",
                                   dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto raw = [&](const std::string& name, DType t, Shape shape) {
    const std::string bytes = ReadFileBytes(dir_.path() / (name + ".raw"));
    NDArray a(t, shape);
    EXPECT_EQ(static_cast<int64_t>(bytes.size()), a.nbytes());
    std::memcpy(a.raw(), bytes.data(), std::min<size_t>(bytes.size(), a.nbytes()));
    return a;
  };
  ExpectReads("f8.csv", {}, raw("f8", float64, {23, 4}));
  ExpectReads("f4.csv", {.dtype = float32}, raw("f4", float32, {9, 3}));
  ExpectReads("i8.csv", {.header = true, .delimiter = ';', .dtype = int64},
              raw("i8", int64, {17, 5}));
  ExpectReads("i4.csv", {.delimiter = '\t', .dtype = int32}, raw("i4", int32, {8, 2}));
  ExpectReads("one_col.csv", {}, raw("one_col", float64, {31, 1}));
}

TEST_F(CsvTest, BlankLinesCrlfQuotesSpacesAndNoFinalNewline) {
  Write("m.csv", "x, y ,z\r\n\r\n 1, \"2.5\" ,3\r\n\n  \n4,nan,-inf\r\n+7 ,1e-3,  -0\n\n8,9,10");
  NDArray want(float64, {4, 3});
  const std::vector<double> v = {1, 2.5, 3, 4, NAN, -INFINITY, 7, 1e-3, -0.0, 8, 9, 10};
  std::memcpy(want.raw(), v.data(), v.size() * sizeof(double));
  ExpectReads("m.csv", {.header = true}, want);
}

TEST_F(CsvTest, ColumnsPickAndOrderFields) {
  Write("c.csv", "1,2,3,4\n5,6,7,8\n9,10,11,12\n");
  ExpectReads("c.csv", {.dtype = int64, .columns = {3, 0, 3}},
              NDArray::from_vector<int64_t>({4, 1, 4, 8, 5, 8, 12, 9, 12}, {3, 3}));
  ExpectReads("c.csv", {.dtype = int32, .columns = {}},
              NDArray::from_vector<int32_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4}));
}

TEST_F(CsvTest, Bools) {
  Write("b.csv", "True,false\n1,0\nTRUE,False\n");
  ExpectReads("b.csv", {.dtype = bool_},
              NDArray::from_vector<bool>({true, false, true, false, true, false}, {3, 2}));
}

TEST_F(CsvTest, BlocksOfTheResult) {
  std::string text;
  std::vector<int64_t> values;
  for (int64_t i = 0; i < 50; ++i) {
    text += std::to_string(i) + "," + std::to_string(-i) + "," + std::to_string(i * i) + "\n";
    values.insert(values.end(), {i, -i, i * i});
  }
  Write("g.csv", text);
  const BlockArray x =
      io::ReadCsv(*ctx_, dir_.file("g.csv"), {.dtype = int64, .block_shape = {7, 2}}, 40);
  EXPECT_EQ(x.block_shape(), (Shape{7, 2}));
  EXPECT_EQ(x.grid_shape(), (Shape{8, 2}));
  EXPECT_SAME_BYTES(x.get(), NDArray::from_vector<int64_t>(values, {50, 3}));
  EXPECT_SAME_BYTES(io::read_csv(*ctx_, dir_.file("g.csv"), {.dtype = int64}).get(),
                    NDArray::from_vector<int64_t>(values, {50, 3}));
}

TEST_F(CsvTest, EmptyFilesAndHeaderOnly) {
  Write("empty.csv", "");
  EXPECT_EQ(io::read_csv(*ctx_, dir_.file("empty.csv")).shape(), (Shape{0, 0}));
  Write("blank.csv", "\n  \n\n");
  EXPECT_EQ(io::read_csv(*ctx_, dir_.file("blank.csv")).shape(), (Shape{0, 0}));
  Write("header.csv", "a,b,c\n");
  EXPECT_EQ(io::read_csv(*ctx_, dir_.file("header.csv"), {.header = true}).shape(), (Shape{0, 3}));
  EXPECT_EQ(io::read_csv(*ctx_, dir_.file("header.csv"), {.header = true, .columns = {1}}).shape(),
            (Shape{0, 1}));
}

TEST_F(CsvTest, BadFieldsNameTheFileLineAndColumn) {
  std::string text = "a,b,c\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + ",1.5,2\n";
  text += "\n41,x1,2\n";  // line 43 (1-based, header and blank line counted)
  Write("bad.csv", text);
  const std::string path = dir_.file("bad.csv");
  for (int64_t range : {3, 8, 1 << 20}) {
    SCOPED_TRACE(range);
    ExpectThrowWith<ValueError>([&] { io::ReadCsv(*ctx_, path, {.header = true}, range).get(); },
                                {path, "line 43", "column 2", "'x1'", "float64"});
  }
  Write("int.csv", "1,2\n3,2.5\n");
  ExpectThrowWith<ValueError>(
      [&] { io::read_csv(*ctx_, dir_.file("int.csv"), {.dtype = int64}).get(); },
      {"int.csv", "line 2", "column 2", "'2.5'", "int64"});
  Write("big.csv", "1\n3000000000\n");
  ExpectThrowWith<ValueError>(
      [&] { io::read_csv(*ctx_, dir_.file("big.csv"), {.dtype = int32}).get(); },
      {"big.csv", "line 2", "column 1", "int32"});
  Write("emptyfield.csv", "1,2\n3,\n");
  ExpectThrowWith<ValueError>([&] { io::read_csv(*ctx_, dir_.file("emptyfield.csv")).get(); },
                              {"emptyfield.csv", "line 2", "column 2", "empty field"});
  Write("ragged.csv", "1,2,3\n4,5\n");
  ExpectThrowWith<ValueError>([&] { io::read_csv(*ctx_, dir_.file("ragged.csv")).get(); },
                              {"ragged.csv", "line 2", "expected 3 fields, found 2"});
  Write("bool.csv", "yes\n");
  ExpectThrowWith<ValueError>(
      [&] { io::read_csv(*ctx_, dir_.file("bool.csv"), {.dtype = bool_}).get(); },
      {"bool.csv", "line 1", "column 1", "'yes'", "bool"});
}

TEST_F(CsvTest, BadArgumentsAndMissingFiles) {
  ExpectThrowWith<IOError>([&] { io::read_csv(*ctx_, dir_.file("none.csv")); },
                           {"none.csv", "No such file"});
  Write("c.csv", "1,2\n");
  ExpectThrowWith<IndexError>([&] { io::read_csv(*ctx_, dir_.file("c.csv"), {.columns = {2}}); },
                              {"column 2", "c.csv", "2 fields"});
  EXPECT_THROW(io::read_csv(*ctx_, dir_.file("c.csv"), {.columns = {-1}}), IndexError);
  EXPECT_THROW(io::read_csv(*ctx_, dir_.file("c.csv"), {.delimiter = '\n'}), ValueError);
  EXPECT_THROW(io::read_csv(*ctx_, dir_.file("c.csv"), {.delimiter = '"'}), ValueError);
  EXPECT_THROW(io::read_csv(*ctx_, dir_.file("c.csv"), {.block_shape = {2}}), ShapeError);
}

}  // namespace
}  // namespace nums::testing
