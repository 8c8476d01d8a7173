#pragma once
// Device helpers of the GPU tests and benchmarks that need CUDA calls (gpu_testing.cu), behind a
// plain C++ header.

#include <cstdint>

#include "engine/block.h"

namespace nums::testing {

/// Sets every byte of the device block `b` to 0xFF (a NaN in every float element, 0xFF in a
/// bool), so that an element a kernel leaves unwritten shows. Synchronous.
void PoisonDevice(engine::Block& b);

}  // namespace nums::testing
