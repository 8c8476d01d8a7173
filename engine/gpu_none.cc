// engine/gpu.h in a build without CUDA: no GPUs, and every request for one says why.

#include "engine/gpu.h"

#include "nums/errors.hpp"

namespace nums::engine {
namespace {

[[noreturn]] void NoCuda(const std::string& what) {
  throw ClusterError(what + ": nums was built without CUDA (NUMS_WITH_CUDA=OFF)");
}

}  // namespace

const std::vector<GpuInfo>& DiscoverGpus() {
  static const std::vector<GpuInfo> none;
  return none;
}

const std::string& NoGpuReason() {
  static const std::string reason = "nums was built without CUDA";
  return reason;
}

std::shared_ptr<MemoryPool> MakeGpuPool(std::string name, int ordinal, int64_t) {
  NoCuda("GPU pool " + name);
}

GpuServices* ServicesOf(int ordinal) { NoCuda("GPU " + std::to_string(ordinal)); }

void CopyToHost(const Block&, int64_t, int64_t, void*) { NoCuda("a device block"); }

Block ToHost(const Block& block, const std::shared_ptr<MemoryPool>&) {
  if (block.device() == Device::kCuda) NoCuda("a device block");
  return block;
}

Block ToDevice(const Block&, const std::shared_ptr<MemoryPool>& pool) {
  NoCuda("a copy to " + pool->name());
}

}  // namespace nums::engine
