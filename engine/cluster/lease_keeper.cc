#include "engine/cluster/lease_keeper.h"

#include <algorithm>

#include "engine/cluster/log.h"

namespace nums::engine::cluster {
namespace {

// A node that did not answer is tried again after this long, so that one unreachable node does
// not hold up the renewals of the others.
constexpr auto kRetryUnreachable = std::chrono::seconds(5);
constexpr auto kIoTimeout = std::chrono::seconds(2);

}  // namespace

struct LeaseKeeper::Link {
  std::unique_ptr<NodeClient> client;
  std::chrono::steady_clock::time_point retry_after{};
  bool reconnect = false;  // guarded by LeaseKeeper::mu_
  bool ended = false;      // the node said the session has ended
};

LeaseKeeper::LeaseKeeper(const std::vector<Member>& nodes, const NodeDialer& dial, uint64_t session,
                         std::chrono::milliseconds ttl, LoadSink on_load)
    : session_(session), ttl_(ttl), on_load_(std::move(on_load)) {
  for (const Member& n : nodes) {
    auto link = std::make_unique<Link>();
    link->client = dial(n, kIoTimeout);
    links_.push_back(std::move(link));
  }
  thread_ = std::thread([this] { Loop(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void LeaseKeeper::Reconnect(int64_t node) {
  std::lock_guard lock(mu_);
  if (node >= 0 && node < static_cast<int64_t>(links_.size())) {
    links_[static_cast<size_t>(node)]->reconnect = true;
  }
  cv_.notify_all();
}

void LeaseKeeper::Loop() {
  const auto every = std::min<std::chrono::milliseconds>(ttl_ / 8, std::chrono::seconds(1));
  std::unique_lock lock(mu_);
  while (!stop_) {
    std::vector<bool> reconnect;
    for (auto& l : links_) {
      reconnect.push_back(l->reconnect);
      l->reconnect = false;
    }
    lock.unlock();
    for (size_t i = 0; i < links_.size(); ++i) {
      Link& link = *links_[i];
      if (reconnect[i]) {
        link.client->Reconnect();
        link.retry_after = {};
        link.ended = false;
      }
      const auto now = std::chrono::steady_clock::now();
      if (link.ended || now < link.retry_after) continue;
      try {
        const NodeLoad load = link.client->KeepAlive(session_, ttl_);
        if (on_load_) on_load_(static_cast<int64_t>(i), load, now);
      } catch (const ClusterError& e) {
        // The node answered: this session's objects there are gone.
        Log().error("{}", e.what());
        link.ended = true;
      } catch (const std::exception& e) {
        WarnLimited("Node.KeepAlive",
                    "renewing the driver's lease on node " + std::to_string(i) + ": " + e.what());
        link.retry_after = now + kRetryUnreachable;
      } catch (...) {
        WarnLimited("Node.KeepAlive", "renewing the driver's lease on node " + std::to_string(i) +
                                          ": an exception of unknown type");
        link.retry_after = now + kRetryUnreachable;
      }
    }
    lock.lock();
    cv_.wait_for(lock, every, [&] { return stop_; });
  }
}

}  // namespace nums::engine::cluster
