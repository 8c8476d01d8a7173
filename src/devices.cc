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

std::string no_gpu_reason(const engine::NodeInfo& node) {
  const bool here = engine::DiscoverGpus().empty() && node.address.rfind("embedded:", 0) == 0;
  return here ? " (" + engine::NoGpuReason() + ")" : std::string();
}

namespace {
// The device the kept blocks among some operands agree on; ValueError naming `op` when they
// do not.
struct KeptDevice {
  TaskDevice kept;
  void Add(const engine::ObjectRef& ref, const char* op) {
    if (!device_pinned(ref)) return;
    if (kept.pinned && ref.device() != kept.device) {
      throw ValueError(std::string(op) +
                       ": operands are kept to different devices (cpu and gpu, by "
                       "BlockArray::to); move one with to(nums::cpu) or to(nums::gpu)");
    }
    kept = {ref.device(), true};
  }
};
}  // namespace

void check_devices(const std::vector<BlockArray>& operands, const char* op) {
  KeptDevice kept;
  for (const BlockArray& x : operands) {
    const auto& impl = LazyAccess::raw(x);
    std::lock_guard lock(impl->expr_mu);
    if (!impl->blocks.empty()) kept.Add(impl->blocks.front(), op);
  }
}

TaskDevice task_device(const Context::Impl& ctx, const std::vector<engine::TaskArg>& args,
                       const char* kernel) {
  KeptDevice kept;
  bool on_gpu = false;
  for (const engine::TaskArg& a : args) {
    const auto* ref = std::get_if<engine::ObjectRef>(&a);
    if (!ref || !*ref) continue;
    on_gpu = on_gpu || ref->device() == engine::Device::kCuda;
    kept.Add(*ref, UserOp::current() ? UserOp::current() : kernel);
  }
  if (kept.kept.pinned) return kept.kept;
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
                         ") holds blocks of the array but has no GPU" + detail::no_gpu_reason(n));
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
