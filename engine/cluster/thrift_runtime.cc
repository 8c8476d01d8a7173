#include "engine/cluster/thrift_runtime.h"

#include "engine/cluster/thrift_clients.h"
#include "engine/cluster/transport.h"

namespace nums::engine::cluster {

std::shared_ptr<ThriftRuntime> ThriftRuntime::Connect(const std::string& address,
                                                      const std::string& token) {
  auto [host, port] = SplitAddress(address);
  return std::shared_ptr<ThriftRuntime>(
      new ThriftRuntime(ConnectThriftHead(host, port, token), ThriftDialer(token), address));
}

}  // namespace nums::engine::cluster
