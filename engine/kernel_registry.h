#pragma once
// KernelRegistry: op name + device -> a function over blocks. Filled by explicit Register*() calls
// before a runtime starts, read-only (and so lock-free) afterwards.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/block.h"
#include "engine/task.h"
#include "nums/errors.hpp"

namespace nums::engine {

struct GpuServices;  // engine/gpu.h

/// What a kernel sees: its input blocks and inline scalars, each in argument order, and the
/// services of the node it runs on. Its declared outputs are already allocated: Block::Allocate
/// hands them out.
struct KernelContext {
  std::span<const Block> inputs;
  std::span<const Scalar> scalars;
  int64_t num_returns = 1;
  NodeId node = 0;
  MemoryPool* pool = nullptr;  ///< the node's memory (also the thread's current pool)
  std::string_view spill_dir;  ///< the node's spill directory; empty without one
  /// The GPU a CUDA kernel runs on (its streams and handles); null for CPU kernels. The pool is
  /// then that GPU's, so Block::Allocate hands out device memory.
  GpuServices* gpu = nullptr;

  /// The i-th scalar as T; throws ValueError when it is missing or of another type.
  template <typename T>
  const T& scalar(size_t i) const {
    if (i >= scalars.size() || !std::holds_alternative<T>(scalars[i])) {
      throw ValueError("kernel scalar argument " + std::to_string(i) + " is missing or mistyped");
    }
    return std::get<T>(scalars[i]);
  }
};

using KernelFn = std::function<std::vector<Block>(const KernelContext&)>;
/// Whether a kernel computes a task with these inputs and scalars (it reads their dtypes and
/// shapes only) or would refuse it: a GPU kernel that covers fewer cases than its CPU twin says
/// so ahead, and the node runs the CPU kernel instead.
using KernelAccepts =
    std::function<bool(std::span<const Block> inputs, std::span<const Scalar> scalars)>;

class KernelRegistry {
 public:
  /// Adds or replaces the kernel `name` for `device`; without `accepts` it takes every task.
  void Register(std::string name, Device device, KernelFn fn, KernelAccepts accepts = nullptr);
  /// Null when there is no such kernel.
  const KernelFn* Find(std::string_view name, Device device) const;
  /// Whether kernel `name` for `device` takes these inputs (true for one without a predicate,
  /// false for no such kernel).
  bool Accepts(std::string_view name, Device device, std::span<const Block> inputs,
               std::span<const Scalar> scalars) const;

 private:
  struct Key {
    std::string name;
    Device device;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<std::string>()(k.name) ^ static_cast<size_t>(k.device);
    }
  };
  struct Entry {
    KernelFn fn;
    KernelAccepts accepts;
  };
  std::unordered_map<Key, Entry, KeyHash> kernels_;
};

/// The engine's own kernels: "engine.noop" (no inputs, `num_returns` empty blocks) and
/// "engine.identity" (returns its inputs), used by tests and benchmarks.
void RegisterEngineKernels(KernelRegistry& registry);

}  // namespace nums::engine
