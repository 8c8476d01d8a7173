#pragma once
// Internals shared by the linalg files: the dense (gathered) path and the spectral matrix norms
// that linalg::norm reaches for ord 2, -2 and "nuc".

#include <string>

#include "nums/linalg.hpp"

namespace nums::linalg::dense {

/// The float dtype linalg computes in: float32 stays, everything else is float64.
DType compute_dtype(DType a);

/// Matrix norms "2", "-2" or "nuc" over axes (row, col) of x, from the singular values of the
/// stack with those axes moved last; keepdims keeps both axes with length 1.
BlockArray spectral_norm(const BlockArray& x, const std::string& ord, int64_t row, int64_t col,
                         bool keepdims);

/// QR of shapes TSQR does not cover: mode "complete" with m > n, wide matrices (m < n) and stacks
/// (ndim > 2). `mode` is "reduced", "complete" or "r" (already checked).
QrResult qr_general(const BlockArray& a, const std::string& mode);

}  // namespace nums::linalg::dense
