#include "engine/cluster/rpc_stats.h"

#include <cstring>

namespace nums::engine::cluster {

void RpcLatencies::Observe(const char* rpc, std::chrono::nanoseconds d) {
  for (size_t i = 0; i + 1 < kSlots; ++i) {
    Slot& slot = slots_[i];
    const char* name = slot.name.load(std::memory_order_acquire);
    if (name == nullptr) {
      // Claim the free slot; a racing handler may claim it first, perhaps for the same name.
      if (slot.name.compare_exchange_strong(name, rpc, std::memory_order_acq_rel)) {
        slot.seconds.Observe(d);
        return;
      }
    }
    if (name == rpc || std::strcmp(name, rpc) == 0) {
      slot.seconds.Observe(d);
      return;
    }
  }
  Slot& other = slots_[kSlots - 1];
  const char* none = nullptr;
  other.name.compare_exchange_strong(none, "other", std::memory_order_acq_rel);
  other.seconds.Observe(d);
}

void RpcLatencies::ForEach(
    const std::function<void(const std::string&, const LatencyHistogram&)>& fn) const {
  for (const Slot& slot : slots_) {
    const char* name = slot.name.load(std::memory_order_acquire);
    if (name != nullptr) fn(name, slot.seconds);
  }
}

RpcLatencies& ProcessRpcLatencies() {
  static RpcLatencies* table = new RpcLatencies();  // never destroyed: handlers may outlive main
  return *table;
}

}  // namespace nums::engine::cluster
