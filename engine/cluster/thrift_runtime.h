#pragma once
// ThriftRuntime: the driver's Runtime for a cluster of node daemons. It asks the head for the
// nodes, then talks to each node directly over Thrift: tasks go to the node that runs them and
// blocks are put and fetched in chunks. Recovery and batching are ClusterRuntime's.

#include <memory>
#include <string>

#include "engine/cluster/cluster_runtime.h"

namespace nums::engine::cluster {

class ThriftRuntime final : public ClusterRuntime {
 public:
  /// Connects to the head at `address` ("host:port") with the cluster token and lists the nodes.
  /// A non-empty `tls_ca_file` makes every connection TLS, each daemon's certificate checked
  /// against that CA and the address dialled. Throws ValueError for a bad address, AuthError for
  /// a refused token or an unreadable CA file, ClusterError when the head cannot be reached (a
  /// failed TLS handshake included) or has no nodes.
  static std::shared_ptr<ThriftRuntime> Connect(const std::string& address,
                                                const std::string& token,
                                                const std::string& tls_ca_file = "");

 private:
  using ClusterRuntime::ClusterRuntime;
};

}  // namespace nums::engine::cluster
