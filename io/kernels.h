#pragma once
// The I/O layer's kernels ("io.npy.read", "io.hdf5.write", ...). They depend only on the engine,
// so every kernel registry (embedded clusters, `nums` node daemons) can include them.

#include "engine/kernel_registry.h"

namespace nums::io {

/// Registers every I/O kernel.
void RegisterIoKernels(engine::KernelRegistry& registry);

void RegisterNpyKernels(engine::KernelRegistry& registry);
void RegisterHdf5Kernels(engine::KernelRegistry& registry);
void RegisterCsvKernels(engine::KernelRegistry& registry);
void RegisterZarrKernels(engine::KernelRegistry& registry);

}  // namespace nums::io
