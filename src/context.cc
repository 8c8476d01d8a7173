#include <mutex>

#include "engine/embedded_runtime.h"
#include "engine/kernel_registry.h"
#include "src/context_impl.h"

namespace nums {

std::shared_ptr<const engine::KernelRegistry> DefaultKernels() {
  static const std::shared_ptr<const engine::KernelRegistry> registry = [] {
    auto r = std::make_shared<engine::KernelRegistry>();
    engine::RegisterEngineKernels(*r);
    return r;
  }();
  return registry;
}

Context init(const InitOptions& options) {
  engine::EmbeddedOptions eo;
  eo.nodes = options.nodes;
  eo.threads_per_node = options.threads_per_node;
  auto impl = std::make_shared<Context::Impl>();
  impl->runtime = engine::EmbeddedRuntime::Start(eo, DefaultKernels());
  return Context(std::move(impl));
}

int64_t Context::num_nodes() const { return static_cast<int64_t>(impl_->runtime->Nodes().size()); }

int64_t Context::num_cores() const {
  int64_t n = 0;
  for (const auto& node : impl_->runtime->Nodes()) n += node.cores;
  return n;
}

std::vector<NodeStatus> Context::nodes() const {
  std::vector<NodeStatus> out;
  for (const auto& n : impl_->runtime->Nodes()) {
    out.push_back({n.id, n.address, n.cores, n.memory_bytes, n.memory_used, n.num_objects,
                   n.tasks_run, n.live});
  }
  return out;
}

}  // namespace nums
