#include "engine/kernel_registry.h"

namespace nums::engine {

void KernelRegistry::Register(std::string name, Device device, KernelFn fn) {
  kernels_[Key{std::move(name), device}] = std::move(fn);
}

const KernelFn* KernelRegistry::Find(std::string_view name, Device device) const {
  auto it = kernels_.find(Key{std::string(name), device});
  return it == kernels_.end() ? nullptr : &it->second;
}

void RegisterEngineKernels(KernelRegistry& registry) {
  registry.Register("engine.noop", Device::kCpu, [](const KernelContext& ctx) {
    return std::vector<Block>(static_cast<size_t>(ctx.num_returns), Block());
  });
  registry.Register("engine.identity", Device::kCpu, [](const KernelContext& ctx) {
    return std::vector<Block>(ctx.inputs.begin(), ctx.inputs.end());
  });
}

}  // namespace nums::engine
