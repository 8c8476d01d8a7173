#include "optimizer/device_model.h"

#include <cmath>
#include <limits>
#include <string>

#include "nums/errors.hpp"

namespace nums::optimizer {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

void CheckFigure(double value, const char* what) {
  if (!(value >= 0)) {  // negative or NaN
    throw ValueError(std::string("device model: ") + what + " must be >= 0, got " +
                     std::to_string(value));
  }
}

void CheckFigure(int64_t value, const char* what) {
  if (value < 0) {
    throw ValueError(std::string("device model: ") + what + " must be >= 0, got " +
                     std::to_string(value));
  }
}

// amount / rate, where nothing to do is free and an unknown rate makes any work unaffordable.
double Over(double amount, double rate) {
  if (amount == 0) return 0;
  return rate > 0 ? amount / rate : kInfinity;
}

}  // namespace

std::string_view DeviceName(Device device) {
  switch (device) {
    case Device::kCpu:
      return "cpu";
    case Device::kGpu:
      return "gpu";
  }
  return "device";
}

void CheckRates(const NodeRates& rates) {
  CheckFigure(rates.cpu_flops, "cpu_flops");
  CheckFigure(rates.cpu_bytes_per_s, "cpu_bytes_per_s");
  CheckFigure(rates.gpu_flops, "gpu_flops");
  CheckFigure(rates.gpu_bytes_per_s, "gpu_bytes_per_s");
  CheckFigure(rates.link_bytes_per_s, "link_bytes_per_s");
}

void StepWork::Check() const {
  CheckFigure(flops, "flops");
  CheckFigure(bytes, "bytes");
  CheckFigure(host_input_bytes, "host_input_bytes");
  CheckFigure(gpu_input_bytes, "gpu_input_bytes");
}

double StepSeconds(const NodeRates& rates, Device device, const StepWork& work) {
  CheckRates(rates);
  work.Check();
  if (device == Device::kCpu) {
    return Over(work.flops, rates.cpu_flops) +
           Over(static_cast<double>(work.bytes), rates.cpu_bytes_per_s) +
           Over(static_cast<double>(work.gpu_input_bytes), rates.link_bytes_per_s);
  }
  if (!rates.has_gpu() || !work.gpu_kernel) return kInfinity;
  return Over(work.flops, rates.gpu_flops) +
         Over(static_cast<double>(work.bytes), rates.gpu_bytes_per_s) +
         Over(static_cast<double>(work.host_input_bytes), rates.link_bytes_per_s) +
         kGpuLaunchSeconds;
}

Device ChooseDevice(const NodeRates& rates, const StepWork& work) {
  CheckRates(rates);
  work.Check();
  if (!rates.has_gpu() || !work.gpu_kernel) return Device::kCpu;
  return StepSeconds(rates, Device::kGpu, work) < StepSeconds(rates, Device::kCpu, work)
             ? Device::kGpu
             : Device::kCpu;
}

}  // namespace nums::optimizer
