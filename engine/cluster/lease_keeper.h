#pragma once
// LeaseKeeper: the driver's side of its session lease. A thread of its own renews the lease on
// every node (Node.KeepAlive) well before it runs out, over connections of its own, so that a
// busy driver keeps its objects and a killed one loses them within seconds: the nodes notice the
// lease connection close, or the lease run out.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/cluster/node_client.h"

namespace nums::engine::cluster {

class LeaseKeeper {
 public:
  /// Called with each node's load from its answer to a renewal sent at `asked`.
  using LoadSink = std::function<void(int64_t node, const NodeLoad& load,
                                      std::chrono::steady_clock::time_point asked)>;

  /// A lease of `ttl`, renewed every `ttl / 8` (at least every second) on each of `nodes`,
  /// over clients from `dial`; each answer's load goes to `on_load` (may be null).
  LeaseKeeper(const std::vector<Member>& nodes, const NodeDialer& dial, uint64_t session,
              std::chrono::milliseconds ttl, LoadSink on_load = nullptr);
  /// Stops renewing; the nodes free the session's objects once the lease runs out.
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  /// Node `node` runs a new process at its address: renew there on a new connection.
  void Reconnect(int64_t node);

 private:
  struct Link;
  void Loop();

  const uint64_t session_;
  const std::chrono::milliseconds ttl_;
  const LoadSink on_load_;
  std::vector<std::unique_ptr<Link>> links_;  // used by the thread only, but for `reconnect`
  std::mutex mu_;                             // guards stop_ and each link's reconnect flag
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace nums::engine::cluster
