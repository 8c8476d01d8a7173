#pragma once
// The host-side checks of the dense linear-algebra kernels that both devices run with the same
// errors: the CPU kernels (cpu/lapack.cc) before LAPACK, the CUDA ones (cuda/lapack.cu) before any
// launch, so a task refused on one device is refused on the other with the same message.

#include <cstdint>
#include <string>

#include "engine/block.h"
#include "engine/kernel_registry.h"
#include "nums/dtype.hpp"
#include "nums/errors.hpp"

namespace nums::kernels {

/// ShapeError naming `kernel` unless `b` is 2-d.
inline void CheckMatrix(const engine::Block& b, const char* kernel) {
  if (b.ndim() != 2) {
    throw ShapeError(std::string(kernel) + ": expected a 2-d block, got shape " +
                     engine::ShapeToString(b.shape()));
  }
}

/// ShapeError naming `kernel` unless `b` is a square 2-d block.
inline void CheckSquare(const engine::Block& b, const char* kernel) {
  CheckMatrix(b, kernel);
  if (b.shape()[0] != b.shape()[1]) {
    throw ShapeError(std::string(kernel) + ": expected a square block, got shape " +
                     engine::ShapeToString(b.shape()));
  }
}

/// The dtype rule of the float linear-algebra kernels: every input of the first one's dtype
/// (DTypeError naming both otherwise), and that dtype float32 or float64. ValueError without
/// inputs.
inline void CheckFloatInputs(const engine::KernelContext& ctx, const char* kernel) {
  if (ctx.inputs.empty()) throw ValueError(std::string(kernel) + ": no input blocks");
  const DType first = ctx.inputs[0].dtype();
  for (const engine::Block& b : ctx.inputs) {
    if (b.dtype() != first) {
      throw DTypeError(std::string(kernel) + ": inputs of dtypes " +
                       std::string(dtype_name(first)) + " and " +
                       std::string(dtype_name(b.dtype())));
    }
  }
  if (first != DType::kFloat64 && first != DType::kFloat32) {
    throw DTypeError(std::string(kernel) + ": expected float32 or float64, got " +
                     std::string(dtype_name(first)));
  }
}

/// ValueError naming `kernel` unless the task has `n` input blocks.
inline void CheckInputCount(const engine::KernelContext& ctx, size_t n, const char* kernel) {
  if (ctx.inputs.size() != n) {
    throw ValueError(std::string(kernel) + ": expected " + std::to_string(n) +
                     " input blocks, got " + std::to_string(ctx.inputs.size()));
  }
}

/// linalg.cholesky: inputs [A (n x n)]; scalars [] or [offset]. Returns the offset (0 without
/// one): the tile's first row in the whole matrix, added to the failing minor's index.
inline int64_t CheckCholeskyArgs(const engine::KernelContext& ctx) {
  const char* kName = "linalg.cholesky";
  CheckInputCount(ctx, 1, kName);
  const int64_t offset = ctx.scalars.empty() ? 0 : ctx.scalar<int64_t>(0);
  CheckSquare(ctx.inputs[0], kName);
  return offset;
}

/// The error of linalg.cholesky when the leading minor of order `minor` (counted in the whole
/// matrix, from 1) is not positive.
[[noreturn]] inline void ThrowNotPositiveDefinite(int64_t minor) {
  throw ValueError("linalg.cholesky: matrix is not positive definite (leading minor " +
                   std::to_string(minor) + " is not positive)");
}

/// linalg.right_div_lower_t: inputs [X (r x n), L (n x n)].
inline void CheckRightDivLowerTArgs(const engine::KernelContext& ctx) {
  const char* kName = "linalg.right_div_lower_t";
  CheckInputCount(ctx, 2, kName);
  const engine::Block& x = ctx.inputs[0];
  const engine::Block& l = ctx.inputs[1];
  CheckMatrix(x, kName);
  CheckSquare(l, kName);
  if (x.shape()[1] != l.shape()[0]) {
    throw ShapeError(std::string(kName) + ": shapes " + engine::ShapeToString(x.shape()) + " and " +
                     engine::ShapeToString(l.shape()));
  }
}

/// linalg.sub_matmul_nt: inputs [C (r x c), A (r x k), B (c x k)].
inline void CheckSubMatmulNTArgs(const engine::KernelContext& ctx) {
  const char* kName = "linalg.sub_matmul_nt";
  CheckInputCount(ctx, 3, kName);
  const engine::Block& c = ctx.inputs[0];
  const engine::Block& a = ctx.inputs[1];
  const engine::Block& b = ctx.inputs[2];
  CheckMatrix(c, kName);
  CheckMatrix(a, kName);
  CheckMatrix(b, kName);
  if (a.shape()[0] != c.shape()[0] || b.shape()[0] != c.shape()[1] ||
      a.shape()[1] != b.shape()[1]) {
    throw ShapeError(std::string(kName) + ": C " + engine::ShapeToString(c.shape()) + ", A " +
                     engine::ShapeToString(a.shape()) + ", B " + engine::ShapeToString(b.shape()));
  }
}

}  // namespace nums::kernels
