#pragma once
// What a Context holds: the runtime every array of the context submits to.

#include <memory>

#include "engine/runtime.h"
#include "nums/context.hpp"

namespace nums {

struct Context::Impl {
  std::shared_ptr<engine::Runtime> runtime;
};

/// The registry with every kernel the array layer uses, filled once.
std::shared_ptr<const engine::KernelRegistry> DefaultKernels();

}  // namespace nums
