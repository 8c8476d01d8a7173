#pragma once
// OpenBLAS's CBLAS interface with checked sizes: its blasint is 32-bit in Debian's build, so every
// size passes through AsBlasInt, which raises ValueError naming a size that does not fit instead
// of truncating it (a truncated size reads or writes the wrong memory).

#include <cblas.h>

#include <cstdint>

#include "src/checked.h"

namespace nums::kernels {

inline blasint AsBlasInt(int64_t v) { return detail::narrow_size<blasint>(v, "BLAS"); }

}  // namespace nums::kernels
