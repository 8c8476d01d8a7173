#pragma once
// GPUs as the engine sees them, without CUDA headers: which devices this process has, a memory
// pool per device, copies between host and device, and the per-device services (streams, BLAS
// handles) kernels run with. engine/cuda/ implements it when the project is built with CUDA;
// engine/gpu_none.cc otherwise (no GPUs, and a reason that says so).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/block.h"
#include "engine/memory_pool.h"

namespace nums::engine {

struct GpuInfo {
  int ordinal = 0;  ///< the CUDA device number in this process
  std::string name;
  int64_t memory_bytes = 0;  ///< total device memory
};

/// The GPUs of this process (CUDA devices with a working driver), found once. Empty in a build
/// without CUDA, or where there is no driver or no device.
const std::vector<GpuInfo>& DiscoverGpus();
/// Why DiscoverGpus() is empty, for error messages ("built without CUDA", "no CUDA driver ...");
/// empty when there are GPUs.
const std::string& NoGpuReason();

/// Device memory of GPU `ordinal`: cudaMalloc'd buffers, cached by size for reuse like the host
/// pool's (a freed block's buffer serves the next block of its size class without a cudaMalloc,
/// which synchronises the device). Counts live and cached bytes against `capacity`; an allocation
/// that does not fit, after emptying the cache, throws OutOfMemoryError naming the pool and bytes.
/// Throws ClusterError in a build without CUDA or for a GPU that does not exist.
std::shared_ptr<MemoryPool> MakeGpuPool(std::string name, int ordinal, int64_t capacity);

/// Per-device services a CUDA kernel runs with (compute and copy streams, cuBLAS and cuSOLVER
/// handles, a pinned staging buffer): defined in engine/cuda/gpu_services.cuh, made once per
/// device and reused by every task.
struct GpuServices;
/// The services of GPU `ordinal`; throws ClusterError when there is no such GPU.
GpuServices* ServicesOf(int ordinal);

/// Copies bytes [offset, offset + length) of device block `block` to host memory `dst`.
void CopyToHost(const Block& block, int64_t offset, int64_t length, void* dst);
/// `block` in host memory of `pool`: a device block is copied (staged through pinned memory),
/// a host block is returned as is.
Block ToHost(const Block& block, const std::shared_ptr<MemoryPool>& pool = MemoryPool::Current());
/// `block` in memory of the device pool `pool`: a host block is copied, a block already on that
/// device is returned as is, a block on another GPU is copied through the host.
Block ToDevice(const Block& block, const std::shared_ptr<MemoryPool>& pool);

}  // namespace nums::engine
