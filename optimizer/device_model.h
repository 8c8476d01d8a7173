#pragma once
// DeviceModel: what one block step costs in time on each device of a node (CPU or GPU), from
// rates the node measured once when it started. LSHS places a step on a node by its loads first;
// this model then picks the device on that node.

#include <cstdint>
#include <string_view>

namespace nums::optimizer {

/// Where on a node a step runs and its result lives: host memory or the GPU's.
enum class Device : uint8_t { kCpu, kGpu };

/// "cpu", "gpu".
std::string_view DeviceName(Device device);

/// A node's measured rates: float64 GEMM flop/s, streaming bytes/s (read + write) of the CPU
/// and of the GPU, and host <-> GPU copy bytes/s. Zero means unknown, or absent for the GPU.
struct NodeRates {
  double cpu_flops = 0;
  double cpu_bytes_per_s = 0;
  double gpu_flops = 0;
  double gpu_bytes_per_s = 0;
  double link_bytes_per_s = 0;

  bool has_gpu() const { return gpu_flops > 0; }
  friend bool operator==(const NodeRates&, const NodeRates&) = default;
};

/// Throws ValueError when a rate is negative or not a number.
void CheckRates(const NodeRates& rates);

/// What one step asks of a device: its floating-point work, the bytes its kernel streams (inputs
/// read and output written), and where its inputs are before it runs. Each distinct input counts
/// once; an input fetched from another node arrives in host memory.
struct StepWork {
  double flops = 0;
  int64_t bytes = 0;             ///< read and written by the kernel
  int64_t host_input_bytes = 0;  ///< of the inputs, those in host memory
  int64_t gpu_input_bytes = 0;   ///< of the inputs, those in the GPU's memory
  bool gpu_kernel = false;       ///< whether the op has a GPU kernel at all

  /// Throws ValueError when a figure is negative or not a number.
  void Check() const;
};

/// What a GPU step costs before any work: the launch of its kernel(s) and their synchronisation.
inline constexpr double kGpuLaunchSeconds = 10e-6;

/// Seconds `work` takes on `device` of a node with `rates`: flops / the device's flop rate +
/// bytes / its bandwidth + the inputs held on the other device / the link's rate, plus
/// kGpuLaunchSeconds on the GPU. A term with nothing to do costs 0 whatever the rate; one whose
/// rate is unknown (0) costs +infinity, as does the GPU of a node without one or an op without
/// a GPU kernel. Throws ValueError for negative rates or work.
double StepSeconds(const NodeRates& rates, Device device, const StepWork& work);

/// The device `work` runs on: kCpu when the node has no GPU or the op has no GPU kernel,
/// otherwise the one with the smaller StepSeconds (kCpu on a tie, both infinite included).
/// Throws ValueError for negative rates or work.
Device ChooseDevice(const NodeRates& rates, const StepWork& work);

}  // namespace nums::optimizer
