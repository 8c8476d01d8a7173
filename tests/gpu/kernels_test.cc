// The CUDA kernels of src/kernels/cuda/ against their CPU twins: the same inputs (random, odd
// shapes, broadcasting, special values), the same scalars, the same outputs to 1e-12 (float64)
// or 1e-5 (float32). Declared outputs are poisoned with 0xFF bytes before a kernel runs, so an
// element it does not write shows as a NaN; every device byte goes back to the pool. Tests that
// need a GPU skip, with the reason, where there is none.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include "engine/gpu.h"
#include "engine/kernel_registry.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cuda/register.h"
#include "src/kernels/glm_ops.h"
#include "src/kernels/random.h"
#include "tests/gpu/gpu_testing.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::Device;
using engine::MemoryPool;
using engine::Scalar;
using engine::Shape;

const engine::KernelRegistry& Registry() {
  static const engine::KernelRegistry registry = [] {
    engine::KernelRegistry r;
    RegisterCpuKernels(r);
    RegisterCudaKernels(r);
    return r;
  }();
  return registry;
}

// The GPU pool seen through a counter of live bytes: the device pool caches what is freed, so its
// own bytes_allocated() cannot tell a leak from the cache.
class CountingPool final : public MemoryPool {
 public:
  explicit CountingPool(std::shared_ptr<MemoryPool> inner) : inner_(std::move(inner)) {}
  void* Allocate(int64_t nbytes) override {
    void* p = inner_->Allocate(nbytes);
    live_ += nbytes;
    return p;
  }
  void Free(void* p, int64_t nbytes) override {
    inner_->Free(p, nbytes);
    live_ -= nbytes;
  }
  int64_t bytes_allocated() const override { return inner_->bytes_allocated(); }
  int64_t capacity() const override { return inner_->capacity(); }
  Device device() const override { return inner_->device(); }
  int ordinal() const override { return inner_->ordinal(); }
  const std::string& name() const override { return inner_->name(); }
  int64_t live() const { return live_; }

 private:
  std::shared_ptr<MemoryPool> inner_;
  std::atomic<int64_t> live_{0};
};

// Host blocks of random values in [lo, hi); with `specials`, every 7th element is one of NaN,
// +-inf, +-0 and halves (rounding ties).
Block Random(DType dtype, const Shape& shape, uint64_t seed, double lo = -2.0, double hi = 2.0,
             bool specials = false) {
  Block b = Block::Allocate(dtype, shape, engine::DriverPool());
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  const double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             0.0,
                             -0.0,
                             0.5,
                             1.5,
                             -2.5,
                             1.0,
                             -1.0};
  for (int64_t i = 0; i < b.size(); ++i) {
    double v = u(gen);
    if (specials && i % 7 == 3) v = kSpecial[(i / 7) % std::size(kSpecial)];
    switch (dtype) {
      case DType::kFloat64:
        b.data<double>()[i] = v;
        break;
      case DType::kFloat32:
        b.data<float>()[i] = static_cast<float>(v);
        break;
      case DType::kInt64:
        b.data<int64_t>()[i] = static_cast<int64_t>(v * 1000);
        break;
      case DType::kInt32:
        b.data<int32_t>()[i] = static_cast<int32_t>(v * 1000);
        break;
      case DType::kBool:
        b.data<bool>()[i] = v > 0;
        break;
      default:
        ADD_FAILURE() << "Random: no values for dtype " << dtype_name(dtype);
    }
  }
  return b;
}

std::vector<Block> RunCpu(const std::string& name, const std::vector<Block>& inputs,
                          const std::vector<Scalar>& scalars) {
  const engine::KernelFn* fn = Registry().Find(name, Device::kCpu);
  if (fn == nullptr) throw ClusterError("no CPU kernel " + name);
  engine::KernelContext ctx;
  ctx.inputs = inputs;
  ctx.scalars = scalars;
  ctx.pool = engine::DriverPool().get();
  return (*fn)(ctx);
}

double Value(const Block& b, int64_t i) {
  switch (b.dtype()) {
    case DType::kFloat64:
      return b.data<double>()[i];
    case DType::kFloat32:
      return b.data<float>()[i];
    case DType::kInt64:
      return static_cast<double>(b.data<int64_t>()[i]);
    case DType::kInt32:
      return b.data<int32_t>()[i];
    default:
      return b.data<uint8_t>()[i];  // bool as its byte: a poisoned 0xFF differs from 1
  }
}

std::string Describe(const std::string& name, const std::vector<Block>& inputs) {
  std::string s = name + " on";
  for (const auto& b : inputs) {
    s += " " + std::string(dtype_name(b.dtype())) + engine::ShapeToString(b.shape());
  }
  return s;
}

class GpuKernelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (engine::DiscoverGpus().empty()) GTEST_SKIP() << "no GPU: " << engine::NoGpuReason();
    auto counting =
        std::make_shared<CountingPool>(engine::MakeGpuPool("gpu-test", 0, int64_t{8} << 30));
    counting_ = counting.get();
    pool_ = counting;
  }
  void TearDown() override {
    if (counting_ != nullptr) {
      EXPECT_EQ(counting_->live(), 0) << "device bytes still live after the test";
    }
  }

  // The CUDA kernel `name` on device copies of `inputs`, its outputs declared with the CPU
  // kernel's dtypes and shapes and poisoned; the outputs copied back to the host.
  std::vector<Block> RunGpu(const std::string& name, const std::vector<Block>& inputs,
                            const std::vector<Scalar>& scalars, const std::vector<Block>& like) {
    const engine::KernelFn* fn = Registry().Find(name, Device::kCuda);
    if (fn == nullptr) throw ClusterError("no CUDA kernel " + name);
    std::vector<Block> device_inputs;
    for (const auto& b : inputs) device_inputs.push_back(engine::ToDevice(b, pool_));
    std::vector<Block> declared;
    for (const auto& b : like) {
      declared.push_back(Block::Allocate(b.dtype(), b.shape(), pool_));
      testing::PoisonDevice(declared.back());
    }
    std::vector<Block> outputs;
    {
      MemoryPool::Scope scope(pool_);
      engine::DeclaredOutputs claim(declared);
      engine::KernelContext ctx;
      ctx.inputs = device_inputs;
      ctx.scalars = scalars;
      ctx.num_returns = static_cast<int64_t>(like.size());
      ctx.pool = pool_.get();
      ctx.gpu = engine::ServicesOf(0);
      outputs = (*fn)(ctx);
    }
    // An output that is an input (astype to the same dtype, as on the CPU) claims nothing.
    size_t passed_through = 0;
    for (const auto& b : outputs) {
      for (const auto& in : device_inputs)
        passed_through += b.buffer() && b.buffer() == in.buffer();
    }
    EXPECT_EQ(declared.size(), passed_through) << name << " left a declared output unclaimed";
    std::vector<Block> host;
    for (const auto& b : outputs) {
      EXPECT_TRUE(b.size() == 0 || b.device() == Device::kCuda) << name << " returned host memory";
      host.push_back(engine::ToHost(b, engine::DriverPool()));
    }
    return host;
  }

  // Runs both kernels and compares every output: equal, both NaN, or within rtol of |want|
  // (or of `scales`' element, the sum of magnitudes a sum or product was made of). rtol 0: the
  // file's, 1e-12 for float64 and 1e-5 for float32.
  void Check(const std::string& name, const std::vector<Block>& inputs,
             const std::vector<Scalar>& scalars, const std::vector<Block>& scales = {},
             double rtol_override = 0) {
    const std::string what = Describe(name, inputs);
    const std::vector<Block> want = RunCpu(name, inputs, scalars);
    const std::vector<Block> got = RunGpu(name, inputs, scalars, want);
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t k = 0; k < want.size(); ++k) {
      const Block& w = want[k];
      const Block& g = got[k];
      ASSERT_EQ(g.dtype(), w.dtype()) << what << " output " << k;
      ASSERT_EQ(g.shape(), w.shape()) << what << " output " << k;
      const bool f32 = w.dtype() == DType::kFloat32;
      const double rtol = rtol_override > 0 ? rtol_override
                          : (f32 || (!inputs.empty() && inputs[0].dtype() == DType::kFloat32))
                              ? 1e-5
                              : 1e-12;
      int64_t bad = 0;
      for (int64_t i = 0; i < w.size(); ++i) {
        if (w.dtype() == DType::kInt64) {  // exactly: a double holds only 53 bits
          const int64_t x = g.data<int64_t>()[i], y = w.data<int64_t>()[i];
          if (x != y && ++bad <= 5) {
            ADD_FAILURE() << what << " output " << k << " element " << i << ": cuda " << x
                          << ", cpu " << y;
          }
          continue;
        }
        const double a = Value(g, i), b = Value(w, i);
        if (a == b || (std::isnan(a) && std::isnan(b))) continue;
        const double scale = k < scales.size() ? Value(scales[k], i) : std::abs(b);
        const double floor =
            f32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
        if (std::abs(a - b) <= rtol * std::max(scale, floor)) continue;
        if (++bad <= 5) {
          ADD_FAILURE() << what << " output " << k << " element " << i << ": cuda " << a << ", cpu "
                        << b;
        }
      }
      EXPECT_EQ(bad, 0) << what << " output " << k << ": " << bad << " of " << w.size()
                        << " elements differ";
    }
  }

  // The error the CUDA kernel `name` throws on device copies of `inputs`, as "type: message", or
  // "" when it returns (as ErrorOf below, for the CPU kernels).
  std::string GpuErrorOf(const std::string& name, const std::vector<Block>& inputs,
                         const std::vector<Scalar>& scalars) {
    std::vector<Block> device_inputs;
    for (const auto& b : inputs) device_inputs.push_back(engine::ToDevice(b, pool_));
    MemoryPool::Scope scope(pool_);
    engine::KernelContext ctx;
    ctx.inputs = device_inputs;
    ctx.scalars = scalars;
    ctx.pool = pool_.get();
    ctx.gpu = engine::ServicesOf(0);
    try {
      (*Registry().Find(name, Device::kCuda))(ctx);
    } catch (const Error& e) {
      return std::string(typeid(e).name()) + ": " + e.what();
    }
    return "";
  }

  std::shared_ptr<MemoryPool> pool_;
  CountingPool* counting_ = nullptr;
};

constexpr DType kFloats[] = {DType::kFloat64, DType::kFloat32};

Scalar Axes(std::vector<int64_t> v) { return Scalar(std::move(v)); }
Scalar Int(int64_t v) { return Scalar(v); }

Block Abs(const Block& x) {
  return RunCpu("array.unary", {x}, {Int(static_cast<int64_t>(UnaryOp::kAbs))})[0];
}

void SetValue(Block& b, int64_t i, double v) {
  if (b.dtype() == DType::kFloat64) {
    b.data<double>()[i] = v;
  } else {
    b.data<float>()[i] = static_cast<float>(v);
  }
}

// A symmetric positive definite n x n block M M^T + n I (M uniform in [-1, 1), so its condition
// number stays below 3), its lower triangle only: above the diagonal lie unrelated values, which
// the Cholesky kernels must not read.
Block Spd(DType dtype, int64_t n, uint64_t seed) {
  const Block m = Random(DType::kFloat64, {n, n}, seed, -1, 1);
  const double* pm = m.data<double>();
  Block a = Random(dtype, {n, n}, seed + 1, -5, 5);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double v = i == j ? static_cast<double>(n) : 0.0;
      for (int64_t k = 0; k < n; ++k) v += pm[i * n + k] * pm[j * n + k];
      SetValue(a, i * n + j, v);
    }
  }
  return a;
}

TEST(GpuKernelNamesTest, EveryCudaKernelHasACpuTwin) {
  for (std::string_view name : CudaKernelNames()) {
    EXPECT_NE(Registry().Find(name, Device::kCuda), nullptr) << name << " is not registered";
    EXPECT_NE(Registry().Find(name, Device::kCpu), nullptr) << name << " has no CPU kernel";
  }
  EXPECT_GE(CudaKernelNames().size(), 6u);
}

// The error a kernel throws as "type: message", or "" when it returns.
std::string ErrorOf(const std::string& name, Device device, const std::vector<Block>& inputs,
                    const std::vector<Scalar>& scalars) {
  engine::KernelContext ctx;
  ctx.inputs = inputs;
  ctx.scalars = scalars;
  ctx.pool = engine::DriverPool().get();
  try {
    (*Registry().Find(name, device))(ctx);
  } catch (const Error& e) {
    return std::string(typeid(e).name()) + ": " + e.what();
  }
  return "";
}

Scalar Coef(std::vector<double> v) { return Scalar(std::move(v)); }

// Host-side checks run before any launch, so they hold without a GPU.
TEST(GpuKernelNamesTest, HostChecksNeedNoGpu) {
  const auto* binary = Registry().Find("array.binary", Device::kCuda);
  ASSERT_NE(binary, nullptr);
  engine::KernelContext ctx;
  std::vector<Scalar> scalars = {Int(0)};
  ctx.scalars = scalars;
  // A host block is refused: a device kernel would fault on it.
  std::vector<Block> host = {Random(DType::kFloat64, {3}, 1), Random(DType::kFloat64, {3}, 2)};
  ctx.inputs = host;
  EXPECT_THROW((*binary)(ctx), ValueError);
  // Empty blocks pass that check and reach the dtype switch.
  std::vector<Block> ints = {Block::Allocate(DType::kInt64, {0}, engine::DriverPool()),
                             Block::Allocate(DType::kInt64, {0}, engine::DriverPool())};
  ctx.inputs = ints;
  try {
    (*binary)(ctx);
    ADD_FAILURE() << "int64 operands were accepted";
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("array.binary"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos) << e.what();
  }
  std::vector<Block> mixed = {Block::Allocate(DType::kFloat32, {0}, engine::DriverPool()),
                              Block::Allocate(DType::kFloat64, {0}, engine::DriverPool())};
  ctx.inputs = mixed;
  EXPECT_THROW((*binary)(ctx), DTypeError);

  // glm.newton_terms refuses what its CPU twin refuses, with the same error and message, before
  // it looks at where the blocks are (these are host blocks).
  const std::string kGlm = "glm.newton_terms";
  const Block x = Random(DType::kFloat64, {5, 3}, 3);
  const Block y = Random(DType::kFloat64, {5}, 4, 0, 1);
  const std::vector<Scalar> ok = {Int(1), Coef({}), Scalar(true), Scalar(true)};
  struct Bad {
    std::vector<Block> inputs;
    std::vector<Scalar> scalars;
  };
  const Bad bad[] = {
      {{Random(DType::kFloat32, {5, 3}, 5), y}, ok},                        // float32 X
      {{Random(DType::kFloat64, {5}, 6), y}, ok},                           // 1-d X
      {{x, Random(DType::kFloat64, {4}, 7)}, ok},                           // y of other rows
      {{x, Random(DType::kFloat64, {5, 3}, 8)}, ok},                        // y with 3 columns
      {{x, Random(DType::kInt64, {5}, 9)}, ok},                             // int64 y
      {{x, y}, {Int(1), Coef({1, 2, 3}), Scalar(true), Scalar(true)}},      // 3 for p = 4
      {{x, y}, {Int(1), Coef({1, 2, 3, 4}), Scalar(false), Scalar(true)}},  // 4 for p = 3
      {{x, y}, {Int(7), Coef({}), Scalar(true), Scalar(true)}},             // unknown families
      {{x, y}, {Int(-1), Coef({0, 0, 0}), Scalar(false), Scalar(false)}},
      {{x, y}, {Int(1), Coef({}), Scalar(true)}},  // a scalar missing
  };
  for (const Bad& b : bad) {
    const std::string want = ErrorOf(kGlm, Device::kCpu, b.inputs, b.scalars);
    EXPECT_NE(want, "") << Describe(kGlm, b.inputs) << ": the CPU kernel took it";
    EXPECT_EQ(ErrorOf(kGlm, Device::kCuda, b.inputs, b.scalars), want) << Describe(kGlm, b.inputs);
  }
  // Good arguments in host memory: the device check's ValueError.
  const std::string host_error = ErrorOf(kGlm, Device::kCuda, {x, y}, ok);
  EXPECT_NE(host_error.find("host memory"), std::string::npos) << host_error;
  EXPECT_EQ(ErrorOf(kGlm, Device::kCpu, {x, y}, ok), "");

  // The tiled Cholesky's steps, likewise: dtypes, counts, ranks, shapes and the offset scalar.
  struct Step {
    std::string name;
    std::vector<Block> inputs;
    std::vector<Scalar> scalars;
  };
  auto f64 = [](const Shape& s) { return Random(DType::kFloat64, s, 11); };
  const Block spd = Spd(DType::kFloat64, 4, 12);
  const Step bad_steps[] = {
      {"linalg.cholesky", {f64({3, 4})}, {}},
      {"linalg.cholesky", {f64({3})}, {Int(2)}},
      {"linalg.cholesky", {f64({2, 2, 2})}, {}},
      {"linalg.cholesky", {Random(DType::kInt64, {3, 3}, 13)}, {}},
      {"linalg.cholesky", {spd}, {Scalar(1.5)}},  // a mistyped offset
      {"linalg.cholesky", {spd, spd}, {}},
      {"linalg.cholesky", {}, {}},
      {"linalg.right_div_lower_t", {f64({5, 3}), f64({4, 4})}, {}},
      {"linalg.right_div_lower_t", {f64({5, 4}), f64({4, 3})}, {}},
      {"linalg.right_div_lower_t", {f64({4}), f64({4, 4})}, {}},
      {"linalg.right_div_lower_t", {f64({5, 4}), Random(DType::kFloat32, {4, 4}, 14)}, {}},
      {"linalg.right_div_lower_t", {Random(DType::kInt32, {5, 4}, 15)}, {}},
      {"linalg.right_div_lower_t", {f64({5, 4})}, {}},
      {"linalg.sub_matmul_nt", {f64({5, 6}), f64({5, 3}), f64({7, 3})}, {}},
      {"linalg.sub_matmul_nt", {f64({5, 6}), f64({4, 3}), f64({6, 3})}, {}},
      {"linalg.sub_matmul_nt", {f64({5, 6}), f64({5, 3}), f64({6, 2})}, {}},
      {"linalg.sub_matmul_nt", {f64({5, 6}), f64({5, 3}), f64({6})}, {}},
      {"linalg.sub_matmul_nt", {Random(DType::kFloat32, {5, 6}, 16), f64({5, 3}), f64({6, 3})}, {}},
      {"linalg.sub_matmul_nt",
       {Random(DType::kBool, {5, 6}, 17), Random(DType::kBool, {5, 3}, 18),
        Random(DType::kBool, {6, 3}, 19)},
       {}},
  };
  for (const Step& b : bad_steps) {
    const std::string want = ErrorOf(b.name, Device::kCpu, b.inputs, b.scalars);
    EXPECT_NE(want, "") << Describe(b.name, b.inputs) << ": the CPU kernel took it";
    EXPECT_EQ(ErrorOf(b.name, Device::kCuda, b.inputs, b.scalars), want)
        << Describe(b.name, b.inputs);
  }
  const Step good_steps[] = {
      {"linalg.cholesky", {spd}, {}},
      {"linalg.cholesky", {spd}, {Int(8)}},
      {"linalg.right_div_lower_t", {f64({5, 4}), spd}, {}},
      {"linalg.sub_matmul_nt", {f64({5, 6}), f64({5, 3}), f64({6, 3})}, {}},
  };
  for (const Step& g : good_steps) {
    EXPECT_EQ(ErrorOf(g.name, Device::kCpu, g.inputs, g.scalars), "") << g.name;
    const std::string e = ErrorOf(g.name, Device::kCuda, g.inputs, g.scalars);
    EXPECT_NE(e.find("host memory"), std::string::npos) << g.name << ": " << e;
  }
}

// CudaKernelAccepts says what the kernels' host-side checks say. Without a GPU, a kernel that
// takes a task gets as far as its launch (a ClusterError: no GPU) or returns; one that refuses
// it throws DTypeError, ValueError or ShapeError first. Inputs are empty host blocks, which pass
// the device-memory check.
TEST(GpuKernelNamesTest, AcceptsAgreesWithTheKernels) {
  const DType all[] = {DType::kBool,    DType::kInt32,   DType::kInt64,
                       DType::kFloat32, DType::kFloat64, DType::kInt8,
                       DType::kUInt16,  DType::kFloat16, DType::kComplex128};
  int64_t cases = 0;
  auto expect = [&](const std::string& name, const std::vector<DType>& dtypes,
                    const std::vector<Shape>& shapes, const std::vector<Scalar>& scalars) {
    ++cases;
    std::vector<Block> inputs;
    for (size_t i = 0; i < dtypes.size(); ++i) {
      inputs.push_back(Block::Allocate(dtypes[i], shapes[i], engine::DriverPool()));
    }
    engine::KernelContext ctx;
    ctx.inputs = inputs;
    ctx.scalars = scalars;
    bool accepted = true;
    std::string why = "returned";
    try {
      (*Registry().Find(name, Device::kCuda))(ctx);
    } catch (const ClusterError& e) {
      why = e.what();
      accepted = why.find("without a GPU") != std::string::npos;
    } catch (const Error& e) {
      why = e.what();
      accepted = false;
    }
    std::string what = name;
    for (DType t : dtypes) what += " " + std::string(dtype_name(t));
    EXPECT_EQ(CudaKernelAccepts(name, dtypes, shapes, scalars), accepted) << what << ": " << why;
  };
  for (DType t : all) {
    for (DType u : {t, DType::kFloat64}) {
      for (int64_t op = 0; op <= static_cast<int64_t>(BinaryOp::kFmax) + 1; ++op) {
        expect("array.binary", {t, u}, {{0, 3}, {0, 1}}, {Int(op)});
      }
      expect("array.tensordot", {t, u}, {{0, 4}, {4, 0}}, {Axes({1}), Axes({0})});
      expect("array.where", {t, u, u}, {{0}, {0}, {0}}, {});
      expect("array.where", {DType::kBool, t, u}, {{0}, {0}, {0}}, {});
      expect("array.astype", {t}, {{0}}, {Int(static_cast<int64_t>(u))});
      expect("array.astype", {u}, {{0}}, {Int(static_cast<int64_t>(t))});
    }
    for (int64_t op = 0; op <= static_cast<int64_t>(UnaryOp::kArctanh) + 1; ++op) {
      expect("array.unary", {t}, {{0}}, {Int(op)});
    }
    for (int64_t op = 0; op <= static_cast<int64_t>(ReduceOp::kNanMax) + 1; ++op) {
      expect("array.reduce", {t}, {{0, 3}}, {Int(op), Axes({1}), Scalar(false)});
    }
    expect("array.argreduce", {t}, {{0, 3}}, {Scalar(true), Int(1), Axes({0, 0}), Axes({0, 3})});
    for (DType u : {t, DType::kFloat64}) {
      expect("linalg.qr", {t, u}, {{0, 3}, {0, 3}}, {Scalar(true), Scalar(true)});
      expect("linalg.right_div_lower_t", {t, u}, {{0, 0}, {0, 0}}, {});
      expect("linalg.right_div_lower_t", {u, t}, {{5, 0}, {0, 0}}, {});
      expect("linalg.sub_matmul_nt", {t, u, u}, {{0, 0}, {0, 3}, {0, 3}}, {});
      expect("linalg.sub_matmul_nt", {u, u, t}, {{4, 0}, {4, 0}, {0, 0}}, {});
      expect("linalg.sub_matmul_nt", {u, t, u}, {{0, 5}, {0, 0}, {5, 0}}, {});
    }
    expect("linalg.cholesky", {t}, {{0, 0}}, {});
    expect("linalg.cholesky", {t}, {{0, 0}}, {Int(12)});
    for (int64_t kind = 0; kind <= 5; ++kind) {
      expect("array.random", {}, {},
             {Int(kind), Int(1), Int(2), Axes({0}), Axes({0}), Axes({0}),
              Int(static_cast<int64_t>(t)), Scalar(0.0), Scalar(1.0), Int(0), Int(10)});
    }
  }
  // glm.newton_terms: float64 X and y (n, or n x 2 with weights) only, a known family (an empty
  // block has no row to find an unknown one at, as on the CPU) and p coefficients or none.
  for (DType t : all) {
    for (DType u : {t, DType::kFloat64}) {
      for (const Shape& ys : {Shape{0}, Shape{0, 2}}) {
        expect("glm.newton_terms", {t, u}, {{0, 5}, ys},
               {Int(1), Coef({}), Scalar(true), Scalar(true)});
        expect("glm.newton_terms", {u, t}, {{0, 5}, ys},
               {Int(0), Coef({1, 2, 3, 4, 5}), Scalar(false), Scalar(false), Scalar(false)});
      }
    }
  }
  for (int64_t family = -1; family <= 3; ++family) {
    for (bool intercept : {false, true}) {
      for (size_t count : {0, 5, 6, 7}) {
        expect(
            "glm.newton_terms", {DType::kFloat64, DType::kFloat64}, {{0, 5}, {0}},
            {Int(family), Coef(std::vector<double>(count, 0.5)), Scalar(intercept), Scalar(true)});
      }
    }
  }
  for (const Shape& ys : {Shape{0, 3}, Shape{1}, Shape{0, 2, 1}, Shape{}}) {
    expect("glm.newton_terms", {DType::kFloat64, DType::kFloat64}, {{0, 5}, ys},
           {Int(1), Coef({}), Scalar(true), Scalar(true)});
  }
  expect("glm.newton_terms", {DType::kFloat64, DType::kFloat64}, {{0}, {0}},
         {Int(1), Coef({}), Scalar(true), Scalar(true)});
  // The Cholesky steps refuse what the CPU refuses too: ranks, shapes, input counts.
  for (DType t : kFloats) {
    expect("linalg.cholesky", {t}, {{0, 3}}, {});
    expect("linalg.cholesky", {t}, {{0}}, {});
    expect("linalg.cholesky", {t}, {{0, 0, 0}}, {});
    expect("linalg.cholesky", {t, t}, {{0, 0}, {0, 0}}, {});
    expect("linalg.right_div_lower_t", {t, t}, {{0, 3}, {0, 0}}, {});
    expect("linalg.right_div_lower_t", {t, t}, {{0, 0}, {0, 3}}, {});
    expect("linalg.right_div_lower_t", {t, t}, {{0}, {0, 0}}, {});
    expect("linalg.right_div_lower_t", {t}, {{0, 0}}, {});
    expect("linalg.sub_matmul_nt", {t, t, t}, {{0, 0}, {0, 3}, {0, 2}}, {});
    expect("linalg.sub_matmul_nt", {t, t, t}, {{0, 2}, {0, 3}, {0, 3}}, {});
    expect("linalg.sub_matmul_nt", {t, t, t}, {{0, 0}, {1, 0}, {0, 0}}, {});
    expect("linalg.sub_matmul_nt", {t, t, t}, {{0, 0}, {0}, {0, 0}}, {});
    expect("linalg.sub_matmul_nt", {t, t}, {{0, 0}, {0, 0}}, {});
  }
  // Batch axes, and a layout that needs a permuted copy.
  expect("array.tensordot", {DType::kFloat64, DType::kFloat64}, {{2, 0, 4}, {2, 4, 5}},
         {Axes({2}), Axes({1}), Int(1)});
  expect("array.tensordot", {DType::kFloat64, DType::kFloat64}, {{3, 0, 5}, {0}},
         {Axes({1}), Axes({0})});
  expect("array.tensordot", {DType::kFloat32, DType::kFloat32}, {{0, 5}, {0, 5}},
         {Axes({1}), Axes({1})});
  EXPECT_GT(cases, 500);
}

TEST_F(GpuKernelsTest, TensordotMatchesCpu) {
  struct Case {
    Shape a, b;
    std::vector<int64_t> axes_a, axes_b;
  };
  const Case cases[] = {
      {{37, 29}, {29, 41}, {1}, {0}},          // a @ b
      {{29, 37}, {29, 41}, {0}, {0}},          // a.T @ b
      {{37, 29}, {41, 29}, {1}, {1}},          // a @ b.T
      {{29, 37}, {41, 29}, {0}, {1}},          // a.T @ b.T
      {{1, 513}, {513, 1}, {1}, {0}},          // a dot product
      {{513, 1}, {1, 513}, {1}, {0}},          // an outer product
      {{37, 29}, {29}, {1}, {0}},              // matrix-vector
      {{3, 5, 7}, {5, 7, 4}, {1, 2}, {0, 1}},  // n-d, contiguous contracted axes
      {{6, 5}, {4, 3}, {}, {}},                // no contracted axis
      {{37, 0}, {0, 5}, {1}, {0}},             // k = 0: zeros
      {{0, 29}, {29, 5}, {1}, {0}},            // an empty result
      {{64, 64}, {64, 64}, {1}, {0}},          // the same block on both sides (CPU: syrk)
  };
  uint64_t seed = 10;
  for (DType t : kFloats) {
    for (const Case& c : cases) {
      const Block a = Random(t, c.a, ++seed);
      const Block b = Random(t, c.b, ++seed);
      const std::vector<Scalar> s = {Axes(c.axes_a), Axes(c.axes_b)};
      const Block scale = RunCpu("array.tensordot", {Abs(a), Abs(b)}, s)[0];
      Check("array.tensordot", {a, b}, s, {scale});
    }
    const Block x = Random(t, {64, 64}, ++seed);
    const std::vector<Scalar> s = {Axes({0}), Axes({0})};  // x.T @ x
    Check("array.tensordot", {x, x}, s, {RunCpu("array.tensordot", {Abs(x), Abs(x)}, s)[0]});
  }
}

TEST_F(GpuKernelsTest, TensordotRefusesWhatItCannotDo) {
  const Block a = Random(DType::kFloat64, {2, 3, 4}, 1);
  const Block b = Random(DType::kFloat64, {2, 4, 5}, 2);
  const auto* fn = Registry().Find("array.tensordot", Device::kCuda);
  std::vector<Block> inputs = {engine::ToDevice(a, pool_), engine::ToDevice(b, pool_)};
  MemoryPool::Scope scope(pool_);
  engine::KernelContext ctx;
  ctx.inputs = inputs;
  ctx.pool = pool_.get();
  ctx.gpu = engine::ServicesOf(0);
  std::vector<Scalar> batch = {Axes({2}), Axes({1}), Int(1)};
  ctx.scalars = batch;
  EXPECT_THROW((*fn)(ctx), ShapeError);
  // Contracting a's middle axis needs a permuted copy.
  std::vector<Block> c = {engine::ToDevice(Random(DType::kFloat64, {3, 4, 5}, 3), pool_),
                          engine::ToDevice(Random(DType::kFloat64, {4}, 4), pool_)};
  ctx.inputs = c;
  std::vector<Scalar> middle = {Axes({1}), Axes({0})};
  ctx.scalars = middle;
  EXPECT_THROW((*fn)(ctx), ValueError);
}

struct ShapePair {
  Shape a, b;
};
const ShapePair kPairs[] = {
    {{37, 29}, {37, 29}}, {{37, 29}, {29}},          {{37, 1}, {1, 29}}, {{1, 513}, {513, 1}},
    {{3, 1, 5}, {4, 1}},  {{2, 3, 4, 5}, {3, 1, 5}}, {{}, {7}},          {{0, 5}, {5}},
    {{1}, {1}},
};

TEST_F(GpuKernelsTest, BinaryMatchesCpu) {
  uint64_t seed = 100;
  for (DType t : kFloats) {
    for (int64_t code = 0; code <= static_cast<int64_t>(BinaryOp::kFmax); ++code) {
      const auto op = static_cast<BinaryOp>(code);
      const bool float_op = !(op == BinaryOp::kBitAnd || op == BinaryOp::kBitOr ||
                              op == BinaryOp::kBitXor || IsShift(op));
      if (!float_op) continue;
      for (const ShapePair& p : kPairs) {
        Check("array.binary", {Random(t, p.a, ++seed), Random(t, p.b, ++seed)}, {Int(code)});
      }
      // NaN, infinities, signed zeros and ties on both sides.
      Check("array.binary",
            {Random(t, {41, 13}, ++seed, -3, 3, true), Random(t, {41, 13}, ++seed, -3, 3, true)},
            {Int(code)});
      Check("array.binary",
            {Random(t, {41, 13}, ++seed, -3, 3, true), Random(t, {13}, ++seed + 5, -3, 3, true)},
            {Int(code)});
    }
  }
}

TEST_F(GpuKernelsTest, BinaryRefusesBitOps) {
  for (BinaryOp op : {BinaryOp::kBitAnd, BinaryOp::kLeftShift}) {
    const Block a = Random(DType::kFloat64, {5}, 1);
    std::vector<Block> inputs = {engine::ToDevice(a, pool_), engine::ToDevice(a, pool_)};
    std::vector<Scalar> s = {Int(static_cast<int64_t>(op))};
    MemoryPool::Scope scope(pool_);
    engine::KernelContext ctx;
    ctx.inputs = inputs;
    ctx.scalars = s;
    ctx.pool = pool_.get();
    ctx.gpu = engine::ServicesOf(0);
    EXPECT_THROW((*Registry().Find("array.binary", Device::kCuda))(ctx), DTypeError);
  }
}

TEST_F(GpuKernelsTest, UnaryMatchesCpu) {
  uint64_t seed = 1000;
  const Shape shapes[] = {{37, 29}, {1, 513}, {}, {0, 3}, {3, 4, 5, 6}};
  for (DType t : kFloats) {
    for (int64_t code = 0; code <= static_cast<int64_t>(UnaryOp::kArctanh); ++code) {
      if (static_cast<UnaryOp>(code) == UnaryOp::kBitNot) continue;  // no float loop
      for (const Shape& s : shapes)
        Check("array.unary", {Random(t, s, ++seed, -3, 3)}, {Int(code)});
      Check("array.unary", {Random(t, {41, 13}, ++seed, -3, 3, true)}, {Int(code)});
    }
  }
}

TEST_F(GpuKernelsTest, ReduceMatchesCpu) {
  struct Case {
    Shape shape;
    std::vector<int64_t> axes;
  };
  const Case cases[] = {
      {{37, 29}, {0}},        {{37, 29}, {1}},
      {{37, 29}, {0, 1}},     {{1, 513}, {1}},
      {{1, 513}, {0}},        {{3, 4, 5}, {0, 2}},
      {{3, 4, 5}, {1}},       {{7, 0}, {1}},
      {{7, 0}, {0}},          {{}, {}},
      {{2, 3, 4, 5}, {1, 3}}, {{1000, 3000}, {0, 1}},  // chunked rows
      {{3000, 1000}, {0}},                             // chunked columns
      {{5, 100000}, {1}},                              // few long rows
  };
  uint64_t seed = 5000;
  for (DType t : kFloats) {
    for (int64_t code = 0; code <= static_cast<int64_t>(ReduceOp::kNanMax); ++code) {
      const auto op = static_cast<ReduceOp>(code);
      for (const Case& c : cases) {
        const bool big = engine::ShapeSize(c.shape) > 100000;
        if (op == ReduceOp::kProd && big) continue;  // products of many values underflow
        for (bool keepdims : {false, true}) {
          for (bool nans : {false, true}) {
            // Products of values near 1 stay representable; NaN and infinities for the rest.
            const Block x = op == ReduceOp::kProd ? Random(t, c.shape, ++seed, 0.9, 1.1, nans)
                                                  : Random(t, c.shape, ++seed, -2, 2, nans);
            const std::vector<Scalar> s = {Int(code), Axes(c.axes), Scalar(keepdims)};
            std::vector<Block> scales;
            if (op == ReduceOp::kSum || op == ReduceOp::kNanSum) {
              // Sums are compared against the sum of magnitudes (the order of additions differs).
              scales.push_back(RunCpu("array.reduce", {Abs(x)},
                                      {Int(static_cast<int64_t>(ReduceOp::kNanSum)), Axes(c.axes),
                                       Scalar(keepdims)})[0]);
            }
            Check("array.reduce", {x}, s, scales);
          }
        }
      }
    }
  }
}

TEST_F(GpuKernelsTest, ArgReduceMatchesCpu) {
  struct Case {
    Shape shape;
    int64_t axis;
  };
  const Case cases[] = {{{37, 29}, -1},     {{37, 29}, 0},  {{37, 29}, 1},
                        {{1, 513}, 1},      {{3, 4, 5}, 1}, {{3, 4, 5}, -1},
                        {{2000, 3000}, -1}, {{7}, 0},       {{5, 20000}, 1}};
  uint64_t seed = 9000;
  for (DType t : kFloats) {
    for (bool is_max : {false, true}) {
      for (const Case& c : cases) {
        for (bool specials : {false, true}) {
          Block x = Random(t, c.shape, ++seed, -2, 2, specials);
          // Ties: a coarse grid of values makes equal extremes likely.
          if (!specials && t == DType::kFloat64) {
            for (int64_t i = 0; i < x.size(); ++i) {
              x.data<double>()[i] = std::round(x.data<double>()[i] * 2);
            }
          }
          Shape offset(c.shape.size()), array_shape(c.shape.size());
          for (size_t d = 0; d < c.shape.size(); ++d) {
            offset[d] = 3 * static_cast<int64_t>(d) + 1;
            array_shape[d] = c.shape[d] + offset[d] + 2;
          }
          Check("array.argreduce", {x},
                {Scalar(is_max), Int(c.axis), Axes(offset), Axes(array_shape)});
        }
      }
    }
  }
}

TEST_F(GpuKernelsTest, WhereMatchesCpu) {
  uint64_t seed = 20000;
  struct Case {
    Shape cond, x, y;
  };
  const Case cases[] = {{{37, 29}, {37, 29}, {37, 29}},
                        {{37, 1}, {1, 29}, {29}},
                        {{}, {5, 3}, {3}},
                        {{1, 513}, {513, 1}, {}},
                        {{0, 4}, {4}, {4}}};
  for (DType t : kFloats) {
    for (DType ct : {DType::kBool, DType::kFloat64, DType::kFloat32, DType::kInt64}) {
      for (const Case& c : cases) {
        Check("array.where",
              {Random(ct, c.cond, ++seed, -1, 1, ct == DType::kFloat64), Random(t, c.x, ++seed),
               Random(t, c.y, ++seed)},
              {});
      }
    }
  }
  // where() moves any element width: int64 and bool values too.
  Check("array.where",
        {Random(DType::kBool, {9, 7}, 1), Random(DType::kInt64, {9, 7}, 2),
         Random(DType::kInt64, {7}, 3)},
        {});
  Check("array.where",
        {Random(DType::kBool, {9, 7}, 4), Random(DType::kBool, {9, 7}, 5),
         Random(DType::kBool, {7}, 6)},
        {});
}

TEST_F(GpuKernelsTest, AstypeMatchesCpu) {
  const DType types[] = {DType::kBool, DType::kInt32, DType::kInt64, DType::kFloat32,
                         DType::kFloat64};
  uint64_t seed = 30000;
  for (DType from : types) {
    for (DType to : types) {
      for (const Shape& s : {Shape{37, 29}, Shape{}, Shape{0}}) {
        Check("array.astype", {Random(from, s, ++seed, -3e3, 3e3)},
              {Int(static_cast<int64_t>(to))});
      }
    }
    if (from == DType::kFloat32 || from == DType::kFloat64) {
      // Out of every integer's range, NaN and infinities: NumPy's x86 results.
      Block x = Random(from, {64}, ++seed, -1e19, 1e19, true);
      for (DType to : types) Check("array.astype", {x}, {Int(static_cast<int64_t>(to))});
    }
  }
}

// TSQR's step: Q and R of stacked blocks, R's diagonal made positive as on the CPU (so both are
// unique). Q is compared against 1, R against its largest element.
TEST_F(GpuKernelsTest, QrMatchesCpu) {
  const std::vector<std::vector<Shape>> stacks = {
      {{37, 5}}, {{13, 7}, {1, 7}, {29, 7}}, {{3, 8}}, {{0, 4}, {6, 4}}};
  for (DType t : kFloats) {
    for (bool want_q : {true, false}) {
      for (const auto& shapes : stacks) {
        std::vector<Block> in;
        uint64_t seed = 40;
        for (const Shape& shape : shapes) in.push_back(Random(t, shape, ++seed));
        const std::vector<Scalar> scalars = {Scalar(want_q), Scalar(true)};
        const std::vector<Block> want = RunCpu("linalg.qr", in, scalars);
        std::vector<Block> scales;
        for (size_t k = 0; k < want.size(); ++k) {
          const bool is_r = k + 1 == want.size();
          double largest = 0;
          for (int64_t i = 0; i < want[k].size(); ++i) {
            largest = std::max(largest, std::abs(Value(want[k], i)));
          }
          Block scale = Block::Allocate(DType::kFloat64, want[k].shape(), engine::DriverPool());
          for (int64_t i = 0; i < scale.size(); ++i) scale.data<double>()[i] = is_r ? largest : 1;
          scales.push_back(scale);
        }
        Check("linalg.qr", in, scalars, scales);
      }
    }
  }
}

// Tolerances of the tiled Cholesky's steps: rounding on well-conditioned blocks (Spd) grows with
// n eps, about 3e-14 (float64) and 2e-5 (float32) at n = 300.
double CholeskyRtol(DType t) { return t == DType::kFloat64 ? 1e-10 : 1e-4; }

// A block shaped like `like` whose row i holds the Euclidean norm of like's row i: the scale of
// a factor's or a triangular solve's rounding error along that row.
Block RowNorms(const Block& like) {
  const int64_t rows = like.shape()[0], cols = like.shape()[1];
  Block out = Block::Allocate(DType::kFloat64, like.shape(), engine::DriverPool());
  for (int64_t i = 0; i < rows; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += Value(like, i * cols + j) * Value(like, i * cols + j);
    for (int64_t j = 0; j < cols; ++j) out.data<double>()[i * cols + j] = std::sqrt(sum);
  }
  return out;
}

// L with A = L L^T from A's lower triangle (the rest of A is unrelated values), the offset scalar
// absent or given, against the CPU kernel; the row norms of L are sqrt(A_ii). Entries above the
// diagonal must be exactly 0 (the outputs are poisoned).
TEST_F(GpuKernelsTest, CholeskyMatchesCpu) {
  uint64_t seed = 70000;
  for (DType t : kFloats) {
    for (int64_t n : {1, 7, 65, 300}) {
      const Block a = Spd(t, n, seed += 2);
      for (const std::vector<Scalar>& s : {std::vector<Scalar>{}, std::vector<Scalar>{Int(96)}}) {
        Check("linalg.cholesky", {a}, s, {RowNorms(RunCpu("linalg.cholesky", {a}, s)[0])},
              CholeskyRtol(t));
      }
    }
  }
}

// A diagonal entry of -1000 at p makes the leading minor p + 1 the first one not positive: the
// same ValueError on both devices, offset + p + 1 in its message, and every device byte freed.
TEST_F(GpuKernelsTest, CholeskyNotPositiveDefinite) {
  uint64_t seed = 71000;
  for (DType t : kFloats) {
    for (int64_t n : {1, 7, 65}) {
      const int64_t p = n / 2 + n / 8;
      Block a = Spd(t, n, seed += 2);
      SetValue(a, p * n + p, -1000);
      for (int64_t offset : {int64_t{-1}, int64_t{0}, int64_t{130}}) {
        const std::vector<Scalar> s =
            offset < 0 ? std::vector<Scalar>{} : std::vector<Scalar>{Int(offset)};
        const std::string want = ErrorOf("linalg.cholesky", Device::kCpu, {a}, s);
        const std::string minor = std::to_string(std::max<int64_t>(offset, 0) + p + 1);
        EXPECT_NE(want.find("matrix is not positive definite (leading minor " + minor +
                            " is not positive)"),
                  std::string::npos)
            << want;
        EXPECT_NE(want.find("ValueError"), std::string::npos) << want;
        EXPECT_EQ(GpuErrorOf("linalg.cholesky", {a}, s), want) << Describe("linalg.cholesky", {a});
      }
    }
  }
  // A block that is fine after one that failed: the solver's state is not left behind.
  const Block good = Spd(DType::kFloat64, 9, seed += 2);
  Check("linalg.cholesky", {good}, {}, {RowNorms(RunCpu("linalg.cholesky", {good}, {})[0])},
        CholeskyRtol(DType::kFloat64));
}

// X L^{-T} for L a Cholesky factor (unrelated values above its diagonal, which must not be
// read) and X of odd shapes, empty ones included; compared against the row norms of the result.
TEST_F(GpuKernelsTest, RightDivLowerTMatchesCpu) {
  struct Case {
    int64_t r, n;
  };
  const Case cases[] = {{1, 1}, {37, 5}, {5, 37}, {129, 65}, {300, 300}, {0, 7}, {7, 0}, {1, 300}};
  uint64_t seed = 72000;
  for (DType t : kFloats) {
    for (const Case& c : cases) {
      Block l = RunCpu("linalg.cholesky", {Spd(t, c.n, seed += 2)}, {})[0];
      const Block junk = Random(t, {c.n, c.n}, ++seed, -9, 9);
      for (int64_t i = 0; i < c.n; ++i) {
        for (int64_t j = i + 1; j < c.n; ++j) SetValue(l, i * c.n + j, Value(junk, i * c.n + j));
      }
      const Block x = Random(t, {c.r, c.n}, ++seed);
      const std::vector<Block> in = {x, l};
      Check("linalg.right_div_lower_t", in, {},
            {RowNorms(RunCpu("linalg.right_div_lower_t", in, {})[0])}, CholeskyRtol(t));
    }
  }
}

// C - A B^T on odd shapes (k = 0 included: C itself), against |C| + |A| |B|^T.
TEST_F(GpuKernelsTest, SubMatmulNTMatchesCpu) {
  struct Case {
    int64_t r, c, k;
  };
  const Case cases[] = {{1, 1, 1},    {37, 29, 5},    {5, 7, 0},     {0, 7, 3},    {7, 0, 3},
                        {65, 65, 65}, {300, 129, 33}, {3, 301, 257}, {129, 1, 300}};
  uint64_t seed = 73000;
  for (DType t : kFloats) {
    for (const Case& cs : cases) {
      const Block c = Random(t, {cs.r, cs.c}, ++seed);
      const Block a = Random(t, {cs.r, cs.k}, ++seed);
      const Block b = Random(t, {cs.c, cs.k}, ++seed);
      Block scale = Block::Allocate(DType::kFloat64, {cs.r, cs.c}, engine::DriverPool());
      for (int64_t i = 0; i < cs.r; ++i) {
        for (int64_t j = 0; j < cs.c; ++j) {
          double v = std::abs(Value(c, i * cs.c + j));
          for (int64_t q = 0; q < cs.k; ++q) {
            v += std::abs(Value(a, i * cs.k + q) * Value(b, j * cs.k + q));
          }
          scale.data<double>()[i * cs.c + j] = v;
        }
      }
      Check("linalg.sub_matmul_nt", {c, a, b}, {}, {scale}, CholeskyRtol(t));
    }
  }
}

// The sums of magnitudes glm.newton_terms' outputs are made of, in its packed layout: |loss_r|,
// |v_r x_rj|, h_r |x_ri x_rj| summed over the rows (x_r with a 1 appended for the intercept). A
// block's sums differ between the kernels only in rounding: the order of the additions (cuBLAS
// against the CPU's chunks) and the device's exp and log1p against the CPU's polynomials (each
// within a few ulp), so each output lies within a small multiple of n eps of its magnitude sum.
Block NewtonScale(kernels::GlmFamily family, const Block& x, const Block& y,
                  const std::vector<double>& coef, bool intercept, bool hessian) {
  const int64_t n = x.shape()[0], d = x.shape()[1], p = d + (intercept ? 1 : 0);
  Block out =
      Block::Allocate(DType::kFloat64, {1 + p + (hessian ? p * p : 0)}, engine::DriverPool());
  double* o = out.data<double>();
  std::fill(o, o + out.size(), 0.0);
  const double* px = x.data<double>();
  const double* py = y.data<double>();
  const int64_t stride = y.ndim() == 2 ? 2 : 1;
  std::vector<double> xa(static_cast<size_t>(p), 1.0);
  for (int64_t r = 0; r < n; ++r) {
    double t = intercept && !coef.empty() ? coef[static_cast<size_t>(d)] : 0.0;
    for (int64_t j = 0; j < d; ++j) {
      xa[static_cast<size_t>(j)] = px[r * d + j];
      if (!coef.empty()) t += px[r * d + j] * coef[static_cast<size_t>(j)];
    }
    const double yr = py[r * stride], sw = stride == 2 ? py[r * stride + 1] : 1.0;
    double v = 0, h = 0, l = 0;
    switch (family) {
      case kernels::GlmFamily::kGaussian:
        v = t - yr, h = 1, l = 0.5 * v * v;
        break;
      case kernels::GlmFamily::kLogistic: {  // with e = e^-|t|, as the kernels (no cancelling)
        const double e = std::exp(-std::abs(t)), s = 1 / (1 + e);
        v = (1 - yr) * (t >= 0 ? s : e * s) - yr * (t >= 0 ? e * s : s);
        h = e * s * s;
        l = (1 - yr) * (std::max(t, 0.0) + std::log1p(e)) +
            yr * (std::max(-t, 0.0) + std::log1p(e));
        break;
      }
      case kernels::GlmFamily::kPoisson:
        v = std::exp(t) - yr, h = std::exp(t), l = std::exp(t) + std::abs(yr * t);
        break;
    }
    o[0] += sw * std::abs(l);
    for (int64_t i = 0; i < p; ++i) {
      const double xi = std::abs(xa[static_cast<size_t>(i)]);
      o[1 + i] += sw * std::abs(v) * xi;
      if (!hessian) continue;
      for (int64_t j = 0; j < p; ++j) {
        o[1 + p + i * p + j] += sw * h * xi * std::abs(xa[static_cast<size_t>(j)]);
      }
    }
  }
  return out;
}

// glm.newton_terms for every family, with and without intercept, Hessian and loss, zero (empty)
// and given coefficients, plain and weighted labels, over odd row and feature counts. Compared
// to 1e-10 of each output's magnitude sum (NewtonScale): rounding alone stays near n eps = 2e-13
// of it at n = 1000, while a wrong term, row or layout is off by far more.
TEST_F(GpuKernelsTest, NewtonTermsMatchCpu) {
  using kernels::GlmFamily;
  struct Size {
    int64_t n, d;
  };
  const Size sizes[] = {{1, 1}, {37, 5}, {1000, 33}, {1, 33}, {37, 1}, {1000, 5}, {0, 5}};
  uint64_t seed = 60000;
  int64_t runs = 0;
  for (GlmFamily family : {GlmFamily::kGaussian, GlmFamily::kLogistic, GlmFamily::kPoisson}) {
    for (const Size& sz : sizes) {
      const Block x = Random(DType::kFloat64, {sz.n, sz.d}, ++seed, -1, 1);
      for (bool weighted : {false, true}) {
        Block y = Block::Allocate(DType::kFloat64, weighted ? Shape{sz.n, 2} : Shape{sz.n},
                                  engine::DriverPool());
        std::mt19937_64 gen(++seed);
        std::uniform_real_distribution<double> u(0, 1);
        for (int64_t r = 0; r < sz.n; ++r) {
          const double draw = u(gen);
          double label = family == GlmFamily::kGaussian   ? 4 * draw - 2
                         : family == GlmFamily::kLogistic ? (draw < 0.4 ? 1.0 : 0.0)
                                                          : std::floor(6 * draw);
          if (weighted) {
            y.data<double>()[2 * r] = label;
            y.data<double>()[2 * r + 1] = r % 5 == 2 ? 0.0 : 2 * u(gen);  // some rows weigh 0
          } else {
            y.data<double>()[r] = label;
          }
        }
        for (bool intercept : {false, true}) {
          const int64_t p = sz.d + (intercept ? 1 : 0);
          std::vector<double> given(static_cast<size_t>(p));
          for (double& c : given) c = (2 * u(gen) - 1) / std::sqrt(static_cast<double>(sz.d));
          for (bool hessian : {false, true}) {
            for (bool empty_coef : {false, true}) {
              const std::vector<double> coef = empty_coef ? std::vector<double>{} : given;
              std::vector<Scalar> s = {Int(static_cast<int64_t>(family)), Coef(coef),
                                       Scalar(intercept), Scalar(hessian)};
              // with_loss absent, true or false
              if (runs % 3 != 0) s.emplace_back(std::in_place_type<bool>, runs % 3 == 1);
              ++runs;
              SCOPED_TRACE("family " + std::to_string(static_cast<int64_t>(family)) +
                           (intercept ? ", intercept" : "") + (hessian ? ", hessian" : "") +
                           (empty_coef ? ", coef empty" : "") + (weighted ? ", weighted" : "") +
                           ", scalars " + std::to_string(s.size()));
              Check("glm.newton_terms", {x, y}, s,
                    {NewtonScale(family, x, y, coef, intercept, hessian)}, 1e-10);
            }
          }
        }
      }
    }
  }
  // Logistic rows far from the boundary: e^-|eta| underflows (|eta| > 708 counts as 0 on both)
  // or is tiny, and no term may cancel.
  for (double scale : {40.0, 1000.0}) {
    const Block x = Random(DType::kFloat64, {257, 3}, ++seed, -1, 1);
    const Block y = Random(DType::kFloat64, {257}, ++seed, 0, 1);
    Block labels = RunCpu("array.unary", {y}, {Int(static_cast<int64_t>(UnaryOp::kRint))})[0];
    const std::vector<double> coef = {scale, -scale / 2, scale / 3, 0.5};
    const std::vector<Scalar> s = {Int(static_cast<int64_t>(GlmFamily::kLogistic)), Coef(coef),
                                   Scalar(true), Scalar(true)};
    Check("glm.newton_terms", {x, labels}, s,
          {NewtonScale(GlmFamily::kLogistic, x, labels, coef, true, true)}, 1e-10);
  }
  // Rows enough that the Hessian is summed over several chunks of the scaled copy of X (4M
  // elements each: 127,100 rows of 33).
  const Block x = Random(DType::kFloat64, {131101, 33}, ++seed, -1, 1);
  const Block y = RunCpu("array.unary", {Random(DType::kFloat64, {131101}, ++seed, 0, 1)},
                         {Int(static_cast<int64_t>(UnaryOp::kRint))})[0];
  std::vector<double> coef(34);
  for (size_t j = 0; j < coef.size(); ++j) coef[j] = 0.1 * std::sin(static_cast<double>(j));
  for (GlmFamily family : {GlmFamily::kGaussian, GlmFamily::kLogistic}) {
    const std::vector<Scalar> s = {Int(static_cast<int64_t>(family)), Coef(coef), Scalar(true),
                                   Scalar(true)};
    Check("glm.newton_terms", {x, y}, s, {NewtonScale(family, x, y, coef, true, true)}, 1e-10);
  }
}

TEST_F(GpuKernelsTest, RandomMatchesCpu) {
  struct Case {
    Shape block, offset, array;
  };
  const Case cases[] = {
      {{37, 29}, {5, 3}, {100, 40}},      {{1, 513}, {0, 7}, {3, 1000}},
      {{3, 4, 5}, {1, 2, 3}, {7, 9, 11}}, {{}, {}, {}},
      {{0, 4}, {0, 0}, {0, 4}},           {{1000, 1000}, {1000, 0}, {2000, 1000}}};
  struct Draw {
    RandomKind kind;
    DType dtype;
    double a, b;
    int64_t ai, bi;
  };
  // Means of 0 for the normal: a mean would cancel against a draw near -mean, and the
  // comparison is relative.
  const Draw draws[] = {
      {RandomKind::kUniform, DType::kFloat64, -1.5, 2.5, 0, 0},
      {RandomKind::kUniform, DType::kFloat32, -1.5, 2.5, 0, 0},
      {RandomKind::kNormal, DType::kFloat64, 0.0, 1.5, 0, 0},
      {RandomKind::kNormal, DType::kFloat32, 0.0, 1.5, 0, 0},
      {RandomKind::kExponential, DType::kFloat64, 0.0, 2.0, 0, 0},
      {RandomKind::kExponential, DType::kFloat32, 0.0, 2.0, 0, 0},
      {RandomKind::kIntegers, DType::kInt64, 0, 0, -7, 1000003},
      {RandomKind::kIntegers, DType::kInt32, 0, 0, -100, 100},
      // A range past 32 bits, and one where rejections are frequent (just over 2^63).
      {RandomKind::kIntegers, DType::kInt64, 0, 0, -(int64_t{1} << 40), int64_t{1} << 40},
      {RandomKind::kIntegers, DType::kInt64, 0, 0, std::numeric_limits<int64_t>::min(),
       int64_t{1} << 62},
  };
  for (const Draw& d : draws) {
    for (const Case& c : cases) {
      const std::vector<Scalar> s = {Int(static_cast<int64_t>(d.kind)),
                                     Int(1234567),
                                     Int(42),
                                     Axes(c.block),
                                     Axes(c.offset),
                                     Axes(c.array),
                                     Int(static_cast<int64_t>(d.dtype)),
                                     Scalar(d.a),
                                     Scalar(d.b),
                                     Int(d.ai),
                                     Int(d.bi)};
      SCOPED_TRACE("kind " + std::to_string(static_cast<int64_t>(d.kind)) + ", " +
                   std::string(dtype_name(d.dtype)) + ", block " + engine::ShapeToString(c.block));
      Check("array.random", {}, s);
    }
  }
}

}  // namespace
}  // namespace nums::kernels
