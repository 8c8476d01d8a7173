#pragma once
// The one place that speaks Thrift's transport layer: limits, the framed transport, servers,
// authenticated client connections, and the adapter that turns Thrift's exceptions into ours.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
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

#include "engine/cluster/gen/nums_types.h"
#include "engine/cluster/log.h"
#include "engine/cluster/rpc_stats.h"
#include "engine/cluster/tls.h"
#include "engine/cluster/token.h"
#include "nums/errors.hpp"

namespace nums::engine::cluster {

/// Object bytes travel in chunks of this size, far below every frame limit.
constexpr int64_t kChunkBytes = int64_t{1} << 20;
/// Largest frame either end accepts: a chunk plus its envelope, or a batch of tasks.
constexpr int kMaxFrameBytes = 64 << 20;
/// Largest message either end accepts (one message is one frame here).
constexpr int kMaxMessageBytes = 64 << 20;
/// Largest frame a server accepts before the connection has authenticated: room for an
/// Authenticate call, nothing a peer could make it allocate much for.
constexpr int kPreAuthFrameBytes = 4096;

/// The limits every transport of ours carries, on both ends.
std::shared_ptr<apache::thrift::TConfiguration> Limits();

/// How long a server lets its connections take, and how many it serves at once.
struct ServerLimits {
  /// A connection that has not authenticated this long after it was accepted is closed.
  std::chrono::milliseconds auth_timeout{5000};
  /// An authenticated connection that has begun sending a frame must finish it within this, and
  /// a reply must leave within this.
  std::chrono::milliseconds frame_timeout{60000};
  /// An authenticated connection idle between calls this long is closed; 0: never. Drivers and
  /// peers keep their connections open while idle, so the default is never: TCP keepalive drops
  /// the connections of peers that vanished, and max_connections bounds the rest.
  std::chrono::milliseconds idle_timeout{0};
  /// Connections served at once. At the cap a new connection replaces the oldest one that has
  /// not authenticated, or is refused when all have; either is logged.
  int64_t max_connections = 4096;
};

class ConnectionRegistry;

/// One accepted connection as its server sees it: the peer, whether it has authenticated, and
/// whether it is idle, in the middle of a frame or being served (read by the server's watchdog).
class ConnectionState {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Phase : int { kIdle, kInFrame, kServing };

  /// `fd` < 0: a connection no server watches (a handler made outside RunningServer).
  ConnectionState(int fd, std::string peer, std::weak_ptr<ConnectionRegistry> registry = {});
  ~ConnectionState();
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;

  const std::string& peer() const { return peer_; }
  bool authenticated() const { return authenticated_.load(std::memory_order_acquire); }
  /// Lifts the pre-authentication limits.
  void MarkAuthenticated() { authenticated_.store(true, std::memory_order_release); }
  /// The largest frame the peer may send now.
  int max_frame_bytes() const { return authenticated() ? kMaxFrameBytes : kPreAuthFrameBytes; }
  void SetPhase(Phase phase);
  /// Leaves the server's watch; called before the socket closes, so that the watchdog never
  /// shuts down a descriptor number reused by another connection.
  void Release();

 private:
  friend class ConnectionRegistry;
  const int fd_;
  const std::string peer_;
  const std::weak_ptr<ConnectionRegistry> registry_;
  const Clock::time_point accepted_ = Clock::now();
  std::atomic<bool> authenticated_{false};
  std::atomic<Phase> phase_{Phase::kIdle};
  std::atomic<int64_t> since_ns_{0};  // when phase_ began, steady clock
  // Guarded by the registry's mutex:
  bool registered_ = false;
  bool closing_ = false;  // the watchdog shut the socket down
  std::list<std::shared_ptr<ConnectionState>>::iterator it_;
};

/// A framed transport that (1) resets the consumed-bytes counter in readEnd(): Thrift 0.17 never
/// resets it on server connections, so a long-lived one would fail with "MaxMessageSize reached"
/// after kMaxMessageBytes in total; (2) never lets a message read past its frame (one message
/// is one frame here; Thrift would block reading the next frame); (3) on a server, takes its
/// frame limit and phase from the connection's state.
class FramedTransport final : public apache::thrift::transport::TFramedTransport {
 public:
  explicit FramedTransport(std::shared_ptr<apache::thrift::transport::TTransport> inner,
                           std::shared_ptr<ConnectionState> state = nullptr)
      : TFramedTransport(std::move(inner), Limits()), state_(std::move(state)) {}
  ~FramedTransport() override;
  uint32_t readEnd() override;
  uint32_t readSlow(uint8_t* buf, uint32_t len) override;
  void close() override;

  /// Bytes of the current frame not read yet.
  int64_t Remaining() const { return rBound_ - rBase_; }
  /// Reads the current frame again from its start.
  void Rewind() { rBase_ = rBuf_.get(); }
  /// Skips the rest of the current frame.
  void DiscardFrame() { rBase_ = rBound_; }
  const std::shared_ptr<ConnectionState>& state() const { return state_; }

 protected:
  bool readFrame() override;

 private:
  const std::shared_ptr<ConnectionState> state_;
  bool in_message_ = false;  // a frame is loaded and its message not ended
};

/// The binary protocol (strict, versioned messages), where every string, list, set and map must
/// fit in what is left of its frame (a list of N structs needs N bytes at least) before anything
/// is allocated for it. Thrift 0.17's own checks count a struct as 0 bytes and compare against
/// the message limit, not the frame, so a 36-byte message could make a server allocate gigabytes.
class GuardedProtocol final
    : public apache::thrift::protocol::TVirtualProtocol<
          GuardedProtocol,
          apache::thrift::protocol::TBinaryProtocolT<apache::thrift::transport::TTransport>> {
 public:
  explicit GuardedProtocol(std::shared_ptr<FramedTransport> transport);
  uint32_t readMessageBegin(std::string& name, apache::thrift::protocol::TMessageType& type,
                            int32_t& seqid);
  uint32_t readMapBegin(apache::thrift::protocol::TType& key_type,
                        apache::thrift::protocol::TType& value_type, uint32_t& size);
  uint32_t readListBegin(apache::thrift::protocol::TType& elem_type, uint32_t& size);
  uint32_t readSetBegin(apache::thrift::protocol::TType& elem_type, uint32_t& size);
  uint32_t readString(std::string& str);
  uint32_t readBinary(std::string& str);
  FramedTransport& framed() const { return *framed_; }

 private:
  /// Throws TProtocolException unless `count` values of at least `min_bytes` each fit.
  void CheckFits(int64_t count, int64_t min_bytes, const char* what) const;
  FramedTransport* const framed_;
};

/// "host:port" -> (host, port); throws ValueError.
std::pair<std::string, int> SplitAddress(const std::string& address);
/// The peer's "host:port" of an accepted connection, for logs.
std::string PeerOf(const apache::thrift::TConnectionInfo& info);
/// The state of an accepted connection (a fresh unwatched one when `info` is not of RunningServer).
std::shared_ptr<ConnectionState> StateOf(const apache::thrift::TConnectionInfo& info);

/// A thread-per-connection server (persistent peer connections never exhaust a pool) serving
/// on a thread of its own; stops and joins when destroyed. Each connection must authenticate
/// first, within limits.auth_timeout, in frames of kPreAuthFrameBytes at most: any other call
/// before is answered with AuthFailure (field 1 of every call's exceptions, see nums.thrift)
/// without reading its arguments. No exception of a handler or of Thrift leaves a connection's
/// thread: the connection is closed instead, and the server keeps serving. With `tls` every
/// connection is TLS (a peer that does not complete the handshake is dropped, and counts
/// against the authentication deadline like one that does not authenticate).
class RunningServer {
 public:
  /// Listens on bind_host:port (0 picks a free port); throws ClusterError when it cannot.
  RunningServer(std::shared_ptr<apache::thrift::TProcessorFactory> processors,
                const std::string& bind_host, int port, const char* what,
                const ServerLimits& limits = {}, std::shared_ptr<const TlsServer> tls = nullptr);
  ~RunningServer();
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  int port() const { return port_; }

 private:
  struct Listening;
  std::shared_ptr<ConnectionRegistry> registry_;
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
/// declared; any other exception, of any type, becomes a RequestError with its nums code,
/// logged under `rpc`. Its duration goes to ProcessRpcLatencies().
template <typename Fn>
decltype(auto) Serve(const char* rpc, Fn&& fn) {
  RpcTimer timer(rpc);
  auto refuse = [rpc](ErrorCode code, const std::string& what) {
    Log().warn("{} failed: {}", rpc, what);
    wire::RequestError r;
    r.code = static_cast<int8_t>(code);
    r.message = std::string(rpc) + ": " + what;
    return r;
  };
  try {
    return fn();
  } catch (const wire::AuthFailure&) {
    throw;
  } catch (const wire::RequestError&) {
    throw;
  } catch (const Error& e) {
    wire::RequestError r = refuse(e.code(), e.what());
    r.message = e.what();
    throw r;
  } catch (const std::exception& e) {
    throw refuse(ErrorCode::kError, e.what());
  } catch (...) {
    throw refuse(ErrorCode::kError, "an exception of unknown type");
  }
}

/// One server connection's authentication, kept in the connection's state: every call but
/// Authenticate is refused (and logged, rate-limited) until the peer has presented the token.
class Session {
 public:
  Session(std::string token, std::shared_ptr<ConnectionState> state)
      : token_(std::move(token)), state_(std::move(state)) {}
  /// Throws AuthFailure for a wrong token.
  void Authenticate(const char* rpc, const std::string& token);
  /// Throws AuthFailure unless authenticated.
  void Require(const char* rpc) const;
  bool authenticated() const { return state_->authenticated(); }
  const std::string& peer() const { return state_->peer(); }

 private:
  const std::string token_;
  const std::shared_ptr<ConnectionState> state_;
};

/// One authenticated client connection (a Head or Node client), reopened after a failure. Not
/// thread-safe: each thread keeps its own or locks around it. With `tls` it is a TLS connection
/// that checks the peer's certificate; a certificate refused throws ClusterError (even from a
/// node: it is not lost, the settings disagree).
template <typename Client>
class Connection {
 public:
  Connection(std::string host, int port, std::string token, bool peer_is_node,
             std::chrono::milliseconds io_timeout = std::chrono::seconds(60),
             std::shared_ptr<const TlsClient> tls = nullptr)
      : host_(std::move(host)),
        port_(port),
        token_(std::move(token)),
        peer_is_node_(peer_is_node),
        io_timeout_(io_timeout),
        tls_(std::move(tls)) {}
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
        auto socket =
            tls_ ? tls_->NewSocket(host_, port_, Limits())
                 : std::make_shared<apache::thrift::transport::TSocket>(host_, port_, Limits());
        socket->setConnTimeout(5000);
        socket->setRecvTimeout(static_cast<int>(io_timeout_.count()));
        socket->setSendTimeout(static_cast<int>(io_timeout_.count()));
        socket->setNoDelay(true);
        auto transport = std::make_shared<FramedTransport>(socket);
        auto protocol = std::make_shared<GuardedProtocol>(transport);
        transport_ = transport;  // closed below when the handshake fails
        transport->open();
        if (tls_) TlsClient::Handshake(*socket, address());
        auto client = std::make_unique<Client>(protocol);
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
  const std::shared_ptr<const TlsClient> tls_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<Client> client_;
};

}  // namespace nums::engine::cluster
