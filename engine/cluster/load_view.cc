#include "engine/cluster/load_view.h"

namespace nums::engine::cluster {

void LoadView::Report(NodeId node, const NodeLoad& load, int64_t queued_bytes,
                      Clock::time_point asked) {
  std::lock_guard lock(mu_);
  if (node < 0 || node >= static_cast<NodeId>(reports_.size())) return;
  Entry& e = reports_[static_cast<size_t>(node)];
  if (asked < e.asked) return;
  e = Entry{load, queued_bytes, asked};
}

std::vector<NodeLoad> LoadView::Loads() const {
  std::lock_guard lock(mu_);
  std::vector<NodeLoad> out;
  out.reserve(reports_.size());
  for (const Entry& e : reports_) {
    NodeLoad load = e.load;
    load.memory_used += e.queued_bytes;
    out.push_back(load);
  }
  return out;
}

int64_t OutputBytes(const std::vector<const TaskRecord*>& tasks) {
  int64_t n = 0;
  for (const TaskRecord* t : tasks) {
    for (const OutputSpec& out : t->outputs) n += out.nbytes();
  }
  return n;
}

}  // namespace nums::engine::cluster
