#pragma once
// What a Context holds: the runtime every array of the context submits to, and the layout facts
// (node grid, cores) the array layer plans with.

#include <memory>

#include "engine/kernel_registry.h"
#include "engine/runtime.h"
#include "nums/array_grid.hpp"
#include "nums/context.hpp"
#include "optimizer/plan.h"

namespace nums {

struct Context::Impl {
  std::shared_ptr<engine::Runtime> runtime;
  NodeGrid node_grid;
  int64_t num_nodes = 1;
  int64_t cores = 1;                                    ///< over all nodes
  optimizer::Policy policy = optimizer::Policy::kLshs;  ///< where block ops run
  /// Elementwise operations are recorded and run fused, one task per block (src/expression.h);
  /// NUMS_FUSE=0 in the environment turns it off (each operation its own tasks).
  bool fuse = true;
  /// Where block operations run on each node: its CPU cores, or its first GPU (InitOptions).
  engine::Device device = engine::Device::kCpu;
};

/// The registry with every kernel the array layer uses, filled once.
std::shared_ptr<const engine::KernelRegistry> DefaultKernels();

}  // namespace nums
