#pragma once
// Helpers of the io tests: bit-exact comparison, arrays with special values, Python scripts run
// by /usr/bin/python3 (numpy and h5py as users have them), temporary directories.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "nums/context.hpp"
#include "nums/ndarray.hpp"
#include "tests/testing/testing.h"

namespace nums::testing {

/// Seeded values of `dtype` (RandomNDArray's), with NaN, -0.0, +-inf, a NaN with a payload and
/// the extreme values of the type among them when there is room.
NDArray SpecialNDArray(const Shape& shape, DType dtype, uint64_t seed);

/// The dtypes nums has.
const std::vector<DType>& AllDTypes();

struct CommandResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr
};
using PythonResult = CommandResult;
/// Runs `command` with /bin/sh in directory `cwd`, stderr with stdout.
CommandResult RunCommand(const std::string& command, const std::filesystem::path& cwd);
/// Runs `script` with /usr/bin/python3 (Debian's, which sees python3-numpy and python3-h5py) in
/// directory `cwd`; a missing interpreter or module shows as a non-zero exit code.
PythonResult RunPython(const std::string& script, const std::filesystem::path& cwd);

/// Over the nodes of `ctx` (an embedded cluster), once idle: declared outputs kernels did not
/// make, and tasks that made new blocks without declaring them.
std::pair<int64_t, int64_t> DeclarationMisses(const Context& ctx);

/// Writes `a`'s raw bytes to `path` (what a reader's `tobytes()` must equal).
void WriteRawBytes(const NDArray& a, const std::filesystem::path& path);
/// The file's bytes.
std::string ReadFileBytes(const std::filesystem::path& path);

/// Names in `dir` that contain ".nums-tmp-": temporary files a write left behind.
std::vector<std::string> TempFilesIn(const std::filesystem::path& dir);

/// A fresh directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// A suite whose tests share one embedded context of 3 nodes of 1 thread (made once per suite),
/// each test with a temporary directory of its own.
class EmbeddedIoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  static Context* ctx_;
  TempDir dir_;
};

}  // namespace nums::testing
