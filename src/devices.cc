#include "src/devices.h"

#include <string>

#include "engine/gpu.h"
#include "nums/errors.hpp"
#include "src/array_impl.h"

namespace nums {

const char* device_name(Device device) { return device == Device::kGpu ? "gpu" : "cpu"; }

namespace detail {

thread_local engine::Device StepDevice::current_ = engine::Device::kCpu;
thread_local bool StepDevice::active_ = false;

engine::Device block_device(const engine::ObjectRef& ref) {
  return ref ? ref.device() : engine::Device::kCpu;
}

bool device_pinned(const engine::ObjectRef& ref) { return ref && ref.device_pinned(); }

namespace {
[[noreturn]] void throw_mixed(const char* op) {
  throw ValueError(std::string(op) +
                   ": operands are kept to different devices (cpu and gpu, by BlockArray::to); "
                   "move one with to(nums::cpu) or to(nums::gpu)");
}
}  // namespace

void check_devices(const std::vector<BlockArray>& operands, const char* op) {
  bool pinned = false;
  engine::Device kept = engine::Device::kCpu;
  for (const BlockArray& x : operands) {
    const auto& impl = LazyAccess::raw(x);
    std::lock_guard lock(impl->expr_mu);
    if (impl->blocks.empty() || !device_pinned(impl->blocks.front())) continue;
    const engine::Device d = block_device(impl->blocks.front());
    if (pinned && d != kept) throw_mixed(op);
    pinned = true;
    kept = d;
  }
}

TaskDevice task_device(const Context::Impl& ctx, const std::vector<engine::TaskArg>& args,
                       const char* kernel) {
  bool pinned = false, on_gpu = false;
  engine::Device kept = engine::Device::kCpu;
  for (const engine::TaskArg& a : args) {
    const auto* ref = std::get_if<engine::ObjectRef>(&a);
    if (!ref || !*ref) continue;
    const engine::Device d = block_device(*ref);
    on_gpu = on_gpu || d == engine::Device::kCuda;
    if (!device_pinned(*ref)) continue;
    if (pinned && d != kept) throw_mixed(UserOp::current() ? UserOp::current() : kernel);
    pinned = true;
    kept = d;
  }
  if (pinned) return {kept, true};
  if (StepDevice::active()) return {StepDevice::current(), false};
  switch (ctx.device) {
    case DeviceMode::kCpu:
      return {engine::Device::kCpu, false};
    case DeviceMode::kGpu:
      return {engine::Device::kCuda, false};
    case DeviceMode::kAuto:  // outside a plan: where the data is
      return {on_gpu ? engine::Device::kCuda : engine::Device::kCpu, false};
  }
  return {engine::Device::kCpu, false};
}

}  // namespace detail

BlockArray BlockArray::to(Device device) const {
  detail::UserOp scope("to");
  const auto& in = *impl();
  Context::Impl& ctx = *in.ctx;
  const engine::Device target =
      device == Device::kGpu ? engine::Device::kCuda : engine::Device::kCpu;
  if (target == engine::Device::kCuda && !in.blocks.empty()) {
    std::vector<bool> holds(static_cast<size_t>(ctx.num_nodes), false);
    for (const auto& b : in.blocks) holds.at(static_cast<size_t>(ctx.runtime->Location(b))) = true;
    for (const engine::NodeInfo& n : ctx.runtime->Nodes()) {
      if (n.gpus > 0 || n.id < 0 || n.id >= ctx.num_nodes || !holds[static_cast<size_t>(n.id)]) {
        continue;
      }
      throw ClusterError("to(nums::gpu): node " + std::to_string(n.id) + " (" + n.address +
                         ") holds blocks of the array but has no GPU" +
                         (engine::DiscoverGpus().empty() && n.address.rfind("embedded:", 0) == 0
                              ? " (" + engine::NoGpuReason() + ")"
                              : std::string()));
    }
  }
  // A task per block that copies it onto the device (the node stages it) and keeps it there:
  // astype to the block's own dtype, which every device takes for every dtype.
  std::vector<engine::ObjectRef> out;
  out.reserve(in.blocks.size());
  engine::SubmitBatch batch(*ctx.runtime);
  size_t i = 0;
  detail::for_each_entry(in.grid.grid_shape(), [&](const Shape& entry) {
    const engine::ObjectRef& b = in.blocks[i++];
    engine::TaskSpec spec{"array.astype",
                          target,
                          ctx.runtime->Location(b),
                          {b, detail::int_scalar(static_cast<int64_t>(dtype()))},
                          1,
                          "array.astype (in to)",
                          {engine::OutputSpec{dtype(), in.grid.block_shape_at(entry)}}};
    spec.device_pinned = true;
    out.push_back(ctx.runtime->Submit(std::move(spec))[0]);
  });
  batch.Send();
  return detail::make_array(in.ctx, in.grid, std::move(out));
}

Device BlockArray::device() const {
  for (const auto& b : impl()->blocks) {
    if (detail::block_device(b) == engine::Device::kCuda) return Device::kGpu;
  }
  return Device::kCpu;
}

}  // namespace nums
