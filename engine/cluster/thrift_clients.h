#pragma once
// The driver's Thrift clients: the only driver code that speaks the generated wire:: clients.
// Thrift's exceptions become nums errors here (see Call in transport.h).

#include <memory>
#include <string>

#include "engine/cluster/node_client.h"
#include "engine/cluster/tls.h"

namespace nums::engine::cluster {

/// Dials node daemons with the cluster token. Each client keeps two connections, each used by
/// one call at a time: one for every call, the other (dialled when first needed) for the second
/// half of a large object's chunks, which move two at a time. With `tls` every connection is
/// TLS, checked against its CA.
NodeDialer ThriftDialer(std::string token, std::shared_ptr<const TlsClient> tls = nullptr);

/// The head at `host:port`, over one connection used by one call at a time.
std::unique_ptr<HeadClient> ConnectThriftHead(const std::string& host, int port,
                                              const std::string& token,
                                              std::shared_ptr<const TlsClient> tls = nullptr);

}  // namespace nums::engine::cluster
