#include "tests/io/io_testing.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

#include "engine/embedded_runtime.h"
#include "src/context_impl.h"
#include "tests/testing/testing.h"

namespace nums::testing {

namespace fs = std::filesystem;

NDArray SpecialNDArray(const Shape& shape, DType dtype, uint64_t seed) {
  NDArray a = RandomNDArray(shape, dtype, seed);
  dispatch_all(dtype, [&](auto t) {
    using T = decltype(t);
    std::vector<T> special;
    if constexpr (std::is_same_v<T, half>) {
      // NaN, -0.0, inf, -inf, a NaN with a payload, the smallest subnormal, the largest value.
      for (uint16_t bits : {0x7e00, 0x8000, 0x7c00, 0xfc00, 0x7c23, 0x0001, 0x7bff}) {
        special.push_back(half::from_bits(bits));
      }
    } else if constexpr (std::is_same_v<T, std::complex<double>>) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      const double inf = std::numeric_limits<double>::infinity();
      special = {T(nan, 1.0), T(-0.0, -0.0), T(1.0, inf), T(-inf, nan), T(5e-324, -1.5)};
    } else if constexpr (std::is_floating_point_v<T>) {
      using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
      Bits payload = sizeof(T) == 8 ? Bits(0x7ff0000000000123ull) : Bits(0x7f800123u);
      T nan_payload;
      std::memcpy(&nan_payload, &payload, sizeof(T));
      special = {
          std::numeric_limits<T>::quiet_NaN(), T(-0.0),     std::numeric_limits<T>::infinity(),
          -std::numeric_limits<T>::infinity(), nan_payload, std::numeric_limits<T>::denorm_min(),
          std::numeric_limits<T>::max()};
    } else if constexpr (!std::is_same_v<T, bool>) {
      special = {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0), T(-1)};
    }
    T* p = a.data<T>();
    for (size_t i = 0; i < special.size() && static_cast<int64_t>(i * 3) < a.size(); ++i) {
      p[i * 3] = special[i];
    }
  });
  return a;
}

const std::vector<DType>& AllDTypes() {
  static const std::vector<DType> kAll = {float64, float32, float16, int64, int32, int16,     int8,
                                          uint64,  uint32,  uint16,  uint8, bool_, complex128};
  return kAll;
}

PythonResult RunPython(const std::string& script, const fs::path& cwd) {
  const fs::path file = cwd / "check.py";
  {
    std::ofstream out(file);
    out << script;
  }
  return RunCommand("/usr/bin/python3 check.py", cwd);
}

CommandResult RunCommand(const std::string& command, const fs::path& cwd) {
  const std::string cmd = "cd '" + cwd.string() + "' && " + command + " 2>&1";
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.output = "popen failed";
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::pair<int64_t, int64_t> DeclarationMisses(const Context& ctx) {
  auto* rt = dynamic_cast<engine::EmbeddedRuntime*>(ctx.impl()->runtime.get());
  if (rt == nullptr) throw std::runtime_error("DeclarationMisses needs an embedded cluster");
  rt->WaitIdle();
  int64_t unclaimed = 0, undeclared = 0;
  for (int64_t i = 0; i < rt->num_nodes(); ++i) {
    unclaimed += rt->node(i).unclaimed_outputs();
    undeclared += rt->node(i).undeclared_tasks();
  }
  return {unclaimed, undeclared};
}

void WriteRawBytes(const NDArray& a, const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(a.raw()), a.nbytes());
}

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> TempFilesIn(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".nums-tmp-") != std::string::npos) out.push_back(name);
  }
  return out;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "nums-io-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Context* EmbeddedIoTest::ctx_ = nullptr;

void EmbeddedIoTest::SetUpTestSuite() {
  ctx_ = new Context(init({.nodes = 3, .threads_per_node = 1}));
}

void EmbeddedIoTest::TearDownTestSuite() {
  delete ctx_;
  ctx_ = nullptr;
}

}  // namespace nums::testing
