#pragma once
// The I/O layer's kernels ("io.npy.read", "io.hdf5.write", ...). They depend only on the engine,
// so every kernel registry (embedded clusters, `nums` node daemons) can include them.

#include "engine/kernel_registry.h"
#include "engine/task.h"
#include "io/storage.h"

namespace nums::io {

/// The version a read task checks, as a task argument (the driver's side) and back (the
/// kernel's: scalar `i`, or unchecked when there is none).
engine::Scalar VersionScalar(const ObjectVersion& version);
ObjectVersion VersionArg(const engine::KernelContext& k, size_t i);

/// `read` whose IOErrors also name the block it was reading: its offset in the array and its
/// shape, taken from scalars `offset_scalar` and `count_scalar` (a file's error alone cannot say
/// which of thousands of blocks failed).
engine::KernelFn NamingTheBlock(engine::KernelFn read, size_t offset_scalar, size_t count_scalar);

/// Registers every I/O kernel.
void RegisterIoKernels(engine::KernelRegistry& registry);

void RegisterNpyKernels(engine::KernelRegistry& registry);
void RegisterHdf5Kernels(engine::KernelRegistry& registry);
void RegisterCsvKernels(engine::KernelRegistry& registry);
void RegisterS3Kernels(engine::KernelRegistry& registry);
void RegisterZarrKernels(engine::KernelRegistry& registry);

}  // namespace nums::io
