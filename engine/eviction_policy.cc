#include "engine/eviction_policy.h"

#include <algorithm>

namespace nums::engine {
namespace {

bool FreeToDrop(const EvictionCandidate& c) { return c.on_disk || c.recomputable; }

}  // namespace

bool EvictionPolicy::EvictsBefore(const EvictionCandidate& a, const EvictionCandidate& b) {
  const bool a_unread = a.consumers == 0;
  const bool b_unread = b.consumers == 0;
  if (a_unread != b_unread) return a_unread;
  if (a_unread) {
    if (FreeToDrop(a) != FreeToDrop(b)) return FreeToDrop(a);
    if (a.last_use != b.last_use) return a.last_use < b.last_use;
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return a.id < b.id;
  }
  if (a.next_use != b.next_use) return a.next_use > b.next_use;
  if (FreeToDrop(a) != FreeToDrop(b)) return FreeToDrop(a);
  if (a.consumers != b.consumers) return a.consumers < b.consumers;
  if (a.last_use != b.last_use) return a.last_use < b.last_use;
  if (a.id != b.id) return a.id < b.id;
  // Only a caller listing one id twice gets here; bytes keeps even that independent of input order.
  return a.bytes > b.bytes;
}

std::vector<Eviction> EvictionPolicy::Choose(std::vector<EvictionCandidate> candidates,
                                             int64_t need) const {
  std::vector<Eviction> victims;
  if (need <= 0) return victims;
  std::erase_if(candidates, [](const EvictionCandidate& c) { return c.pinned || c.bytes <= 0; });
  std::sort(candidates.begin(), candidates.end(), EvictsBefore);
  int64_t freed = 0;
  for (const EvictionCandidate& c : candidates) {
    victims.push_back({c.id, c.bytes, FreeToDrop(c) ? EvictAction::kDrop : EvictAction::kWrite});
    // Compare against what is still missing so huge sizes cannot overflow the running sum.
    if (c.bytes >= need - freed) break;
    freed += c.bytes;
  }
  return victims;
}

}  // namespace nums::engine
