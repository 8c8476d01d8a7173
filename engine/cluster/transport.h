#pragma once
// The one place that speaks Thrift's transport layer: limits, the framed transport, servers,
// authenticated client connections, and the adapter that turns Thrift's exceptions into ours.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <thrift/TConfiguration.h>
#include <thrift/Thrift.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <spdlog/spdlog.h>

#include "engine/cluster/gen/nums_types.h"
#include "engine/cluster/token.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {

/// Object bytes travel in chunks of this size, far below every frame limit.
constexpr int64_t kChunkBytes = int64_t{1} << 20;
/// Largest frame either end accepts: a chunk plus its envelope, or a batch of tasks.
constexpr int kMaxFrameBytes = 64 << 20;
/// Largest message either end accepts (one message is one frame here).
constexpr int kMaxMessageBytes = 64 << 20;

/// The limits every transport of ours carries, on both ends.
std::shared_ptr<apache::thrift::TConfiguration> Limits();

/// A framed transport whose readEnd() also resets the consumed-bytes counter. Thrift 0.17 never
/// resets it on server connections, so a long-lived one would fail with "MaxMessageSize reached"
/// after kMaxMessageBytes in total.
class FramedTransport final : public apache::thrift::transport::TFramedTransport {
 public:
  explicit FramedTransport(std::shared_ptr<apache::thrift::transport::TTransport> inner)
      : TFramedTransport(std::move(inner), Limits()) {}
  uint32_t readEnd() override;
};

/// Wraps each accepted socket in a FramedTransport (the stock factory drops our limits).
class FramedTransportFactory final : public apache::thrift::transport::TTransportFactory {
 public:
  std::shared_ptr<apache::thrift::transport::TTransport> getTransport(
      std::shared_ptr<apache::thrift::transport::TTransport> trans) override {
    return std::make_shared<FramedTransport>(std::move(trans));
  }
};

/// A thread-per-connection server (persistent peer connections never exhaust a pool) serving
/// on a thread of its own; stops and joins when destroyed.
class RunningServer {
 public:
  /// Listens on bind_host:port (0 picks a free port); throws ClusterError when it cannot.
  RunningServer(std::shared_ptr<apache::thrift::TProcessorFactory> processors,
                const std::string& bind_host, int port, const char* what);
  ~RunningServer();
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  int port() const { return port_; }

 private:
  struct Listening;
  std::unique_ptr<apache::thrift::server::TThreadedServer> server_;
  std::thread thread_;
  int port_ = 0;
};

/// "host:port" -> (host, port); throws ValueError.
std::pair<std::string, int> SplitAddress(const std::string& address);
/// The peer's "host:port" of an accepted connection, for logs.
std::string PeerOf(const apache::thrift::TConnectionInfo& info);

/// Runs `fn` and rethrows Thrift's exceptions as nums errors naming `what` (a call and its peer):
/// AuthFailure -> AuthError, RequestError -> its code, transport or protocol failures ->
/// NodeLostError when `peer_is_node`, ClusterError otherwise. Sets `*broken` on transport failure.
template <typename Fn>
decltype(auto) Call(const std::string& what, bool peer_is_node, bool* broken, Fn&& fn) {
  try {
    return fn();
  } catch (const wire::AuthFailure& e) {
    throw AuthError(what + ": " + e.message);
  } catch (const wire::RequestError& e) {
    throw_error(static_cast<ErrorCode>(e.code), e.message);
  } catch (const apache::thrift::TException& e) {
    if (broken != nullptr) *broken = true;
    const std::string msg = what + " failed: " + e.what();
    if (peer_is_node) throw NodeLostError(msg);
    throw ClusterError(msg);
  }
}

/// Runs the body of RPC handler `rpc`: AuthFailure and RequestError go back to the caller as
/// declared; any other exception becomes a RequestError with its nums code, logged under `rpc`.
template <typename Fn>
decltype(auto) Serve(const char* rpc, Fn&& fn) {
  try {
    return fn();
  } catch (const wire::AuthFailure&) {
    throw;
  } catch (const wire::RequestError&) {
    throw;
  } catch (const Error& e) {
    spdlog::warn("{} failed: {}", rpc, e.what());
    wire::RequestError r;
    r.code = static_cast<int8_t>(e.code());
    r.message = e.what();
    throw r;
  } catch (const std::exception& e) {
    spdlog::warn("{} failed: {}", rpc, e.what());
    wire::RequestError r;
    r.code = static_cast<int8_t>(ErrorCode::kError);
    r.message = std::string(rpc) + ": " + e.what();
    throw r;
  }
}

/// One server connection's authentication state: every call but Authenticate is refused (and
/// logged) until the peer has presented the cluster token.
class Session {
 public:
  Session(std::string token, std::string peer) : token_(std::move(token)), peer_(std::move(peer)) {}
  /// Throws AuthFailure for a wrong token.
  void Authenticate(const char* rpc, const std::string& token);
  /// Throws AuthFailure unless authenticated.
  void Require(const char* rpc) const;
  bool authenticated() const { return authenticated_; }
  const std::string& peer() const { return peer_; }

 private:
  const std::string token_;
  const std::string peer_;
  bool authenticated_ = false;
};

/// One authenticated client connection (a Head or Node client), reopened after a failure. Not
/// thread-safe: each thread keeps its own or locks around it.
template <typename Client>
class Connection {
 public:
  Connection(std::string host, int port, std::string token, bool peer_is_node,
             std::chrono::milliseconds io_timeout = std::chrono::seconds(60))
      : host_(std::move(host)),
        port_(port),
        token_(std::move(token)),
        peer_is_node_(peer_is_node),
        io_timeout_(io_timeout) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }

  /// Calls `fn(client)`, opening and authenticating the connection first when needed. `what`
  /// names the call in errors.
  template <typename Fn>
  decltype(auto) Invoke(const char* what, Fn&& fn) {
    const std::string label = std::string(what) + " to " + address();
    if (!client_) Open(label);
    bool broken = false;
    struct CloseIfBroken {
      Connection* c;
      bool* broken;
      ~CloseIfBroken() {
        if (*broken) c->Close();
      }
    } guard{this, &broken};
    return Call(label, peer_is_node_, &broken, [&]() -> decltype(auto) { return fn(*client_); });
  }

  void Close() {
    if (transport_) {
      try {
        transport_->close();
      } catch (const apache::thrift::TException&) {
        // Closing a broken socket may fail; it is being dropped either way.
      }
    }
    client_.reset();
    transport_.reset();
  }

 private:
  void Open(const std::string& label) {
    bool broken = false;
    try {
      Call(label, peer_is_node_, &broken, [&] {
        auto socket = std::make_shared<apache::thrift::transport::TSocket>(host_, port_, Limits());
        socket->setConnTimeout(5000);
        socket->setRecvTimeout(static_cast<int>(io_timeout_.count()));
        socket->setSendTimeout(static_cast<int>(io_timeout_.count()));
        socket->setNoDelay(true);
        auto transport = std::make_shared<FramedTransport>(socket);
        auto protocol = std::make_shared<apache::thrift::protocol::TBinaryProtocol>(
            transport, kMaxFrameBytes, kMaxFrameBytes / 8, /*strict_read=*/true,
            /*strict_write=*/true);
        transport->open();
        auto client = std::make_unique<Client>(protocol);
        transport_ = transport;
        client->Authenticate(token_);
        client_ = std::move(client);
      });
    } catch (...) {
      Close();  // a refused or failed handshake leaves nothing half-open
      throw;
    }
  }

  const std::string host_;
  const int port_;
  const std::string token_;
  const bool peer_is_node_;
  const std::chrono::milliseconds io_timeout_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<Client> client_;
};

}  // namespace nums::engine::cluster
