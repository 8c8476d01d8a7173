#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "engine/embedded_runtime.h"
#include "engine/kernel_registry.h"
#include "io/kernels.h"
#include "src/array_impl.h"
#include "src/devices.h"
#include "src/kernels/cpu/kernels.h"
#ifdef NUMS_WITH_CUDA
#include "src/kernels/cuda/register.h"
#endif

namespace nums {
namespace {

std::mutex current_mu;                     // guards current_ctx and initialised
std::weak_ptr<Context::Impl> current_ctx;  // the latest init(); weak so arrays decide its life
bool initialised = false;                  // init() was called: its context is never replaced

// A context over a started runtime: the layout facts the array layer plans with.
std::shared_ptr<Context::Impl> make_context(std::shared_ptr<engine::Runtime> runtime,
                                            optimizer::Policy policy) {
  auto impl = std::make_shared<Context::Impl>();
  impl->runtime = std::move(runtime);
  const auto nodes = impl->runtime->Nodes();
  impl->num_nodes = static_cast<int64_t>(nodes.size());
  impl->cores = 0;
  for (const auto& n : nodes) impl->cores += n.cores;
  impl->node_grid = NodeGrid::for_nodes(impl->num_nodes);
  impl->policy = policy;
  const char* fuse = std::getenv("NUMS_FUSE");
  impl->fuse = !(fuse && std::string(fuse) == "0");
  return impl;
}

// $NUMS_HOME, else ~/.nums.
std::string nums_home() {
  if (const char* nums = std::getenv("NUMS_HOME")) return nums;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.nums";
}

std::shared_ptr<Context::Impl> start_embedded(const InitOptions& options) {
  const auto policy = optimizer::ParsePolicy(options.placement);  // fails before starting
  engine::EmbeddedOptions eo;
  eo.nodes = options.nodes;
  eo.threads_per_node = options.threads_per_node;
  if (options.memory < 0) {
    throw ValueError("init: memory must be >= 0 bytes, got " + std::to_string(options.memory));
  }
  eo.memory_per_node = options.memory / std::max<int64_t>(options.nodes, 1);
  eo.spill_root = options.spill_dir.empty() ? nums_home() + "/spill" : options.spill_dir;
  return make_context(engine::EmbeddedRuntime::Start(eo, DefaultKernels()), policy);
}

std::shared_ptr<Context::Impl> connect_cluster(const InitOptions& options) {
  const auto policy = optimizer::ParsePolicy(options.placement);
  std::string token_file = options.token_file;
  if (const char* env = std::getenv("NUMS_TOKEN_FILE"); token_file.empty() && env && *env) {
    token_file = env;
  }
  if (token_file.empty()) token_file = nums_home() + "/token";
  std::string tls_ca = options.tls_ca;
  if (const char* env = std::getenv("NUMS_TLS_CA"); tls_ca.empty() && env != nullptr) tls_ca = env;
  return make_context(engine::cluster::ThriftRuntime::Connect(
                          options.address, engine::cluster::ReadToken(token_file), tls_ca),
                      policy);
}

// The cluster `options` name: $NUMS_ADDRESS stands in for an empty address.
std::shared_ptr<Context::Impl> start(InitOptions options) {
  if (const char* env = std::getenv("NUMS_ADDRESS"); options.address.empty() && env && *env) {
    options.address = env;
  }
  return options.address.empty() ? start_embedded(options) : connect_cluster(options);
}

}  // namespace

std::shared_ptr<const engine::KernelRegistry> DefaultKernels() {
  static const std::shared_ptr<const engine::KernelRegistry> registry = [] {
    auto r = std::make_shared<engine::KernelRegistry>();
    engine::RegisterEngineKernels(*r);
    kernels::RegisterCpuKernels(*r);
#ifdef NUMS_WITH_CUDA
    kernels::RegisterCudaKernels(*r);
#endif
    io::RegisterIoKernels(*r);
    return r;
  }();
  return registry;
}

namespace {

// InitOptions::device, checked before anything starts.
DeviceMode parse_device(const std::string& device) {
  if (device == "cpu") return DeviceMode::kCpu;
  if (device == "gpu") return DeviceMode::kGpu;
  if (device == "auto") return DeviceMode::kAuto;
  throw ValueError("init: device must be \"cpu\", \"gpu\" or \"auto\", got \"" + device + "\"");
}

// Every node must have a GPU for device "gpu": a node without one could run none of its tasks.
void check_gpus(const Context::Impl& ctx) {
  for (const engine::NodeInfo& n : ctx.runtime->Nodes()) {
    if (n.gpus > 0) continue;
    throw ClusterError("init: device \"gpu\", but node " + std::to_string(n.id) + " (" + n.address +
                       ") has no GPU" + detail::no_gpu_reason(n));
  }
}

// The rates device "auto" places with: none (every step on the CPU) unless a node has a GPU.
std::vector<optimizer::NodeRates> auto_rates(const Context::Impl& ctx) {
  std::vector<optimizer::NodeRates> rates(static_cast<size_t>(ctx.num_nodes));
  bool any_gpu = false;
  for (const engine::NodeInfo& n : ctx.runtime->Nodes()) {
    if (n.id < 0 || n.id >= ctx.num_nodes) continue;
    const engine::DeviceRates& r = n.rates;
    rates[static_cast<size_t>(n.id)] = optimizer::NodeRates{
        r.cpu_flops, r.cpu_bytes_per_s, r.gpu_flops, r.gpu_bytes_per_s, r.link_bytes_per_s};
    any_gpu = any_gpu || (n.gpus > 0 && r.gpu_flops > 0);
  }
  if (!any_gpu) rates.clear();
  return rates;
}

}  // namespace

Context init(const InitOptions& options) {
  const DeviceMode device = parse_device(options.device);
  auto impl = start(options);
  impl->device = device;
  if (device == DeviceMode::kGpu) check_gpus(*impl);
  if (device == DeviceMode::kAuto) impl->rates = auto_rates(*impl);
  if (options.timeline) {  // from past the end: only turns recording on, fetches nothing
    impl->runtime->Timeline(std::vector<int64_t>(static_cast<size_t>(impl->num_nodes), INT64_MAX),
                            true);
  }
  std::lock_guard lock(current_mu);
  current_ctx = impl;
  initialised = true;
  return Context(std::move(impl));
}

namespace detail {

std::shared_ptr<Context::Impl> current_context() {
  std::lock_guard lock(current_mu);
  if (auto ctx = current_ctx.lock()) return ctx;
  // Silently starting an embedded cluster here would compute on the wrong cluster.
  if (initialised) {
    throw ClusterError(
        "the context of the last nums::init() has ended (its Context and every array made on it "
        "were dropped): keep the Context that nums::init() returns, or call nums::init() again");
  }
  auto ctx = start({});
  current_ctx = ctx;
  return ctx;
}

}  // namespace detail

void Context::set_placement(const std::string& policy) {
  impl_->policy = optimizer::ParsePolicy(policy);
}

std::string Context::placement() const { return std::string(optimizer::PolicyName(impl_->policy)); }

int64_t Context::num_nodes() const { return impl_->num_nodes; }

int64_t Context::num_cores() const { return impl_->cores; }

std::vector<NodeStatus> Context::nodes() const {
  std::vector<NodeStatus> out;
  for (const auto& n : impl_->runtime->Nodes()) {
    NodeStatus s;
    s.id = n.id;
    s.address = n.address;
    s.cores = n.cores;
    s.memory_bytes = n.memory_bytes;
    s.memory_used = n.memory_used;
    s.num_objects = n.num_objects;
    s.tasks_run = n.tasks_run;
    s.net_in_bytes = n.net_in_bytes;
    s.net_out_bytes = n.net_out_bytes;
    s.live = n.live;
    s.spilled_bytes = n.spilled_bytes;
    s.spill_bytes_total = n.spill_bytes_total;
    s.restore_bytes_total = n.restore_bytes_total;
    s.gpus = n.gpus;
    for (const engine::GpuInfo& g : n.gpu_devices) {
      s.gpu_names.push_back(g.name);
      s.gpu_memory_bytes += g.memory_bytes;
    }
    s.gpu_memory_used = n.gpu_memory_used;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace nums
