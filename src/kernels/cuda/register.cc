// RegisterCudaKernels: every CUDA kernel of the array layer, under its CPU twin's name.

#include "src/kernels/cuda/register.h"

#include <optional>

#include "src/kernels/cuda/kernels.h"
#include "src/kernels/ops.h"

namespace nums::kernels {

void RegisterCudaKernels(engine::KernelRegistry& registry) {
  cuda::RegisterElementwiseKernels(registry);
  cuda::RegisterReduceKernels(registry);
  cuda::RegisterLinalgKernels(registry);
  cuda::RegisterRandomKernels(registry);
  cuda::RegisterLapackKernels(registry);
  cuda::RegisterGlmKernels(registry);
  // Each with what it takes: a node runs the CPU twin of a task its GPU kernel would refuse.
  for (std::string_view name : CudaKernelNames()) {
    const engine::KernelFn* fn = registry.Find(name, engine::Device::kCuda);
    registry.Register(
        std::string(name), engine::Device::kCuda, *fn,
        [name](std::span<const engine::Block> inputs, std::span<const engine::Scalar> scalars) {
          std::vector<DType> dtypes;
          std::vector<engine::Shape> shapes;
          for (const engine::Block& b : inputs) {
            dtypes.push_back(b.dtype());
            shapes.push_back(b.shape());
          }
          return CudaKernelAccepts(name, dtypes, shapes, scalars);
        });
  }
}

const std::vector<std::string_view>& CudaKernelNames() {
  static const std::vector<std::string_view> names = {
      // elementwise.cu, reduce.cu, linalg.cu, random.cu
      "array.binary", "array.unary", "array.where", "array.astype", "array.reduce",
      "array.argreduce", "array.tensordot", "array.random",
      // lapack.cu
      "linalg.qr", "linalg.cholesky", "linalg.right_div_lower_t", "linalg.sub_matmul_nt",
      // glm.cu
      "glm.newton_terms"};
  return names;
}

namespace {

bool IsFloat(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }
// What the device converts between (astype, where's condition).
bool Convertible(DType t) {
  return IsFloat(t) || t == DType::kBool || t == DType::kInt32 || t == DType::kInt64;
}

template <typename T>
std::optional<T> Get(std::span<const engine::Scalar> scalars, size_t i) {
  if (i >= scalars.size() || !std::holds_alternative<T>(scalars[i])) return std::nullopt;
  return std::get<T>(scalars[i]);
}

}  // namespace

bool CudaKernelAccepts(std::string_view name, std::span<const DType> dtypes,
                       std::span<const engine::Shape> shapes,
                       std::span<const engine::Scalar> scalars) {
  // Missing or mistyped scalars and inputs are errors on either device: accepted here.
  const auto code = Get<int64_t>(scalars, 0);
  if (name == "array.binary") {
    if (dtypes.size() != 2 || dtypes[0] != dtypes[1] || !IsFloat(dtypes[0])) return false;
    if (!code) return true;
    if (*code < 0 || *code > static_cast<int64_t>(BinaryOp::kFmax)) return false;
    const auto op = static_cast<BinaryOp>(*code);
    return !(op == BinaryOp::kBitAnd || op == BinaryOp::kBitOr || op == BinaryOp::kBitXor ||
             IsShift(op));
  }
  if (name == "array.unary") {
    if (dtypes.size() != 1 || !IsFloat(dtypes[0])) return false;
    return !code || (*code >= 0 && *code <= static_cast<int64_t>(UnaryOp::kArctanh) &&
                     static_cast<UnaryOp>(*code) != UnaryOp::kBitNot);
  }
  if (name == "array.reduce") {
    if (dtypes.size() != 1 || !IsFloat(dtypes[0])) return false;
    return !code || (*code >= 0 && *code <= static_cast<int64_t>(ReduceOp::kNanMax));
  }
  if (name == "array.argreduce") return dtypes.size() == 1 && IsFloat(dtypes[0]);
  if (name == "array.tensordot") {
    if (dtypes.size() != 2 || dtypes[0] != dtypes[1] || !IsFloat(dtypes[0])) return false;
    if (Get<int64_t>(scalars, 2).value_or(0) != 0) return false;  // batch axes
    const auto axes_a = Get<std::vector<int64_t>>(scalars, 0);
    const auto axes_b = Get<std::vector<int64_t>>(scalars, 1);
    if (!axes_a || !axes_b || shapes.size() != 2) return true;
    return cuda::TensordotLayoutFits(shapes[0], shapes[1], *axes_a, *axes_b);
  }
  if (name == "array.where") {
    return dtypes.size() == 3 && Convertible(dtypes[0]) && dtypes[1] == dtypes[2];
  }
  if (name == "array.astype") {
    if (dtypes.size() != 1) return false;
    if (!code || *code < 0 || *code > static_cast<int64_t>(kLastDType)) return true;
    const auto to = static_cast<DType>(*code);
    return to == dtypes[0] || (Convertible(dtypes[0]) && Convertible(to));
  }
  if (name == "array.random") {
    // kind: uniform 0, normal 1, integers 2, exponential 3 (poisson 4, binomial 5: none).
    const auto dtype_code = Get<int64_t>(scalars, 6);
    if (!code || !dtype_code) return true;
    if (*code < 0 || *code > 3) return false;
    if (*dtype_code < 0 || *dtype_code > static_cast<int64_t>(kLastDType)) return true;
    const auto t = static_cast<DType>(*dtype_code);
    return *code == 2 ? (t == DType::kInt32 || t == DType::kInt64) : IsFloat(t);
  }
  if (name == "linalg.qr") return cuda::QrTakes(dtypes, shapes);
  if (name == "linalg.cholesky" || name == "linalg.right_div_lower_t" ||
      name == "linalg.sub_matmul_nt") {
    return cuda::CholeskyTileTakes(name, dtypes, shapes);
  }
  if (name == "glm.newton_terms") return cuda::NewtonTermsTakes(dtypes, shapes, scalars);
  return false;
}

}  // namespace nums::kernels
