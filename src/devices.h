#pragma once
// Devices in the array layer: on which device of its node each block task runs. The context's
// default (InitOptions::device) decides, unless an input was kept to a device by
// BlockArray::to (its tasks follow it), or, in mode "auto", the placement chose the device of
// the plan step being submitted.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/runtime.h"
#include "engine/task.h"
#include "nums/block_array.hpp"
#include "src/context_impl.h"

namespace nums::detail {

struct TaskDevice {
  engine::Device device = engine::Device::kCpu;
  bool pinned = false;  ///< kept to by an input: the task's outputs are kept to it too
};

/// The device of a task reading `args` (see the file comment). Throws ValueError naming the
/// user's call (or `kernel`) when two inputs are kept to different devices.
TaskDevice task_device(const Context::Impl& ctx, const std::vector<engine::TaskArg>& args,
                       const char* kernel);

/// Throws ValueError naming `op` when two of `operands` are kept to different devices: checked
/// by an operation before it submits anything (task_device checks each task too).
void check_devices(const std::vector<BlockArray>& operands, const char* op);

/// " (why)" after "node N has no GPU" when the node is embedded in this process, which then
/// knows the reason (no driver, no device, a build without CUDA); empty otherwise.
std::string no_gpu_reason(const engine::NodeInfo& node);

/// Where a block lives: the device of the task that made it (host for blocks that were put).
engine::Device block_device(const engine::ObjectRef& ref);

/// Whether `ref` was kept to its device by BlockArray::to (or made from such a block).
bool device_pinned(const engine::ObjectRef& ref);

/// While it lives, tasks this thread submits without a kept input run on `device`: the
/// placement's choice for one step of a plan in mode "auto".
class StepDevice {
 public:
  explicit StepDevice(engine::Device device) : outer_(current_), has_outer_(active_) {
    current_ = device;
    active_ = true;
  }
  ~StepDevice() {
    current_ = outer_;
    active_ = has_outer_;
  }
  StepDevice(const StepDevice&) = delete;
  StepDevice& operator=(const StepDevice&) = delete;
  static bool active() { return active_; }
  static engine::Device current() { return current_; }

 private:
  engine::Device outer_;
  bool has_outer_;
  static thread_local engine::Device current_;
  static thread_local bool active_;
};

}  // namespace nums::detail
