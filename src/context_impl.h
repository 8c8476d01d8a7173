#pragma once
// What a Context holds: the runtime every array of the context submits to, and the layout facts
// (node grid, cores) the array layer plans with.

#include <memory>
#include <vector>

#include "engine/kernel_registry.h"
#include "engine/runtime.h"
#include "nums/array_grid.hpp"
#include "nums/context.hpp"
#include "optimizer/device_model.h"
#include "optimizer/plan.h"

namespace nums {

/// InitOptions::device: every task on the CPU, on the GPU, or the placement's choice per step.
enum class DeviceMode : uint8_t { kCpu, kGpu, kAuto };

struct Context::Impl {
  std::shared_ptr<engine::Runtime> runtime;
  NodeGrid node_grid;
  int64_t num_nodes = 1;
  int64_t cores = 1;                                    ///< over all nodes
  optimizer::Policy policy = optimizer::Policy::kLshs;  ///< where block ops run
  /// Elementwise operations are recorded and run fused, one task per block (src/expression.h);
  /// NUMS_FUSE=0 in the environment turns it off (each operation its own tasks).
  bool fuse = true;
  /// Where block operations run by default on each node (InitOptions::device; src/devices.h).
  DeviceMode device = DeviceMode::kCpu;
  /// Device mode "auto" on a cluster where some node has a GPU: each node's measured rates,
  /// with which the placement picks the device of every step. Empty otherwise.
  std::vector<optimizer::NodeRates> rates;
};

/// The registry with every kernel the array layer uses, filled once.
std::shared_ptr<const engine::KernelRegistry> DefaultKernels();

}  // namespace nums
