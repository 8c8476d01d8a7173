#include "engine/cluster/thrift_runtime.h"

#include "engine/cluster/thrift_clients.h"
#include "engine/cluster/transport.h"

namespace nums::engine::cluster {

std::shared_ptr<ThriftRuntime> ThriftRuntime::Connect(const std::string& address,
                                                      const std::string& token,
                                                      const std::string& tls_ca_file) {
  auto [host, port] = SplitAddress(address);
  std::shared_ptr<const TlsClient> tls;
  if (!tls_ca_file.empty()) tls = TlsClient::FromCaFile(tls_ca_file);
  return std::shared_ptr<ThriftRuntime>(new ThriftRuntime(ConnectThriftHead(host, port, token, tls),
                                                          ThriftDialer(token, tls), address));
}

}  // namespace nums::engine::cluster
