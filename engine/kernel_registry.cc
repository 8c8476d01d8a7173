#include "engine/kernel_registry.h"

namespace nums::engine {

void KernelRegistry::Register(std::string name, Device device, KernelFn fn, KernelAccepts accepts) {
  kernels_[Key{std::move(name), device}] = Entry{std::move(fn), std::move(accepts)};
}

const KernelFn* KernelRegistry::Find(std::string_view name, Device device) const {
  auto it = kernels_.find(Key{std::string(name), device});
  return it == kernels_.end() ? nullptr : &it->second.fn;
}

bool KernelRegistry::Accepts(std::string_view name, Device device, std::span<const Block> inputs,
                             std::span<const Scalar> scalars) const {
  auto it = kernels_.find(Key{std::string(name), device});
  if (it == kernels_.end()) return false;
  return !it->second.accepts || it->second.accepts(inputs, scalars);
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
