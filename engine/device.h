#pragma once
// Device: where a block lives and a task runs on its node: host memory and cores, or a GPU.

#include <cstdint>
#include <string_view>

namespace nums::engine {

enum class Device : uint8_t { kCpu, kCuda };
std::string_view DeviceName(Device d);

}  // namespace nums::engine
