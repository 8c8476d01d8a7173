#pragma once
// The arguments of glm.newton_terms as both devices' kernels read and check them, with the same
// errors: the CUDA kernel checks on the host before any launch.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/kernel_registry.h"
#include "nums/errors.hpp"
#include "src/kernels/glm_ops.h"

namespace nums::kernels {

/// ShapeError naming `kernel` unless `x` is a float64 2-d block and `y` (when given) a float64
/// block of its rows: n labels, or n x 2 (labels, sample weights).
inline void CheckRowBlocks(const engine::Block& x, const engine::Block* y, const char* kernel) {
  const bool y_ok = !y || (y->dtype() == DType::kFloat64 && y->ndim() >= 1 && y->ndim() <= 2 &&
                           y->shape()[0] == x.shape()[0] && (y->ndim() == 1 || y->shape()[1] == 2));
  if (x.dtype() != DType::kFloat64 || x.ndim() != 2 || !y_ok) {
    throw ShapeError(std::string(kernel) + ": needs a float64 2-d X block and a float64 y block " +
                     "of its rows (n or n x 2 with weights), got X " +
                     engine::ShapeToString(x.shape()) +
                     (y ? " and y " + engine::ShapeToString(y->shape()) : std::string()));
  }
}

/// glm.newton_terms: inputs [X_i, y_i]; scalars [family, coef (p doubles, or none: zeros),
/// fit_intercept, with_hessian, with_loss (optional, default true)], p = d + fit_intercept.
struct NewtonTermsArgs {
  int64_t family_code = 0;  ///< a GlmFamily, unchecked: the kernels find a bad one at a row
  const std::vector<double>* coef = nullptr;
  bool fit_intercept = false, with_hessian = false, with_loss = true;
  int64_t n = 0, d = 0;  ///< X_i's rows and features

  GlmFamily family() const { return static_cast<GlmFamily>(family_code); }
  /// The coefficients, or null for zeros.
  const double* weights() const { return coef->empty() ? nullptr : coef->data(); }
};

/// Reads and checks them (block shapes, scalar types, the coefficient count).
inline NewtonTermsArgs ReadNewtonTermsArgs(const engine::KernelContext& ctx) {
  const char* kName = "glm.newton_terms";
  const engine::Block& x = ctx.inputs[0];
  const engine::Block& y = ctx.inputs[1];
  CheckRowBlocks(x, &y, kName);
  NewtonTermsArgs a;
  a.family_code = ctx.scalar<int64_t>(0);
  a.coef = &ctx.scalar<std::vector<double>>(1);
  a.fit_intercept = ctx.scalar<bool>(2);
  a.with_hessian = ctx.scalar<bool>(3);
  a.with_loss = ctx.scalars.size() < 5 || ctx.scalar<bool>(4);
  a.n = x.shape()[0];
  a.d = x.shape()[1];
  const int64_t p = a.d + (a.fit_intercept ? 1 : 0);
  if (!a.coef->empty() && static_cast<int64_t>(a.coef->size()) != p) {
    throw ShapeError(std::string(kName) + ": " + std::to_string(a.coef->size()) +
                     " coefficients for a block of " + std::to_string(a.d) + " features");
  }
  return a;
}

}  // namespace nums::kernels
