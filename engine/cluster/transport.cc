#include "engine/cluster/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TProtocolException.h>
#include <thrift/transport/TServerSocket.h>

namespace nums::engine::cluster {

using apache::thrift::TApplicationException;
using apache::thrift::TConfiguration;
using apache::thrift::TException;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TProtocol;
using apache::thrift::protocol::TProtocolException;
using apache::thrift::protocol::TType;
using apache::thrift::transport::TServerSocket;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;
using Clock = std::chrono::steady_clock;

std::shared_ptr<TConfiguration> Limits() {
  static const auto config = std::make_shared<TConfiguration>(kMaxMessageBytes, kMaxFrameBytes);
  return config;
}

// The accepted connections of one server, and the watchdog thread that closes those past their
// deadline (not authenticated in time, stalled in a frame, idle too long).
class ConnectionRegistry : public std::enable_shared_from_this<ConnectionRegistry> {
 public:
  ConnectionRegistry(const ServerLimits& limits, std::string what)
      : limits_(limits), what_(std::move(what)) {}
  ~ConnectionRegistry() { Stop(); }

  void StartWatching() {
    watchdog_ = std::thread([this] {
      try {
        Watch();
      } catch (const std::exception& e) {
        Log().error("{}: the connection watchdog stopped: {}", what_, e.what());
      } catch (...) {
        Log().error("{}: the connection watchdog stopped: an exception of unknown type", what_);
      }
    });
  }

  /// The state of accepted socket `fd` from `peer`, or null when the cap refuses it.
  std::shared_ptr<ConnectionState> Admit(int fd, const std::string& peer) {
    std::lock_guard lock(mu_);
    if (stop_) return nullptr;
    const int64_t open = static_cast<int64_t>(conns_.size()) - closing_;
    if (open >= limits_.max_connections) {
      auto victim = std::find_if(conns_.begin(), conns_.end(),
                                 [](const auto& s) { return !s->closing_ && !s->authenticated(); });
      if (victim == conns_.end()) {
        WarnLimited(what_ + ".cap", what_ + ": " + std::to_string(open) +
                                        " connections, the cap (max " +
                                        std::to_string(limits_.max_connections) +
                                        "), all authenticated: refusing " + peer);
        return nullptr;
      }
      CloseLocked(**victim,
                  "the cap of " + std::to_string(limits_.max_connections) +
                      " connections is reached and it has not authenticated (for " + peer + ")",
                  what_ + ".cap");
    }
    auto state = std::make_shared<ConnectionState>(fd, peer, weak_from_this());
    state->registered_ = true;
    state->it_ = conns_.insert(conns_.end(), state);
    return state;
  }

  void Remove(ConnectionState& state) {
    std::lock_guard lock(mu_);
    if (!state.registered_) return;
    state.registered_ = false;
    if (state.closing_) --closing_;
    conns_.erase(state.it_);
  }

  /// Refuses new connections, shuts down every open one and joins the watchdog.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (!stop_) {
        stop_ = true;
        for (auto& s : conns_) {
          if (!s->closing_) ::shutdown(s->fd_, SHUT_RDWR);
        }
      }
      cv_.notify_all();
    }
    if (watchdog_.joinable()) watchdog_.join();
  }

 private:
  void Watch() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) return;
      const auto now = Clock::now();
      for (auto& s : conns_) {
        if (s->closing_) continue;
        const auto since = Clock::time_point(Clock::duration(s->since_ns_.load()));
        const auto phase = s->phase_.load();
        if (!s->authenticated()) {
          if (now - s->accepted_ > limits_.auth_timeout) {
            CloseLocked(*s,
                        "it did not authenticate within " +
                            std::to_string(limits_.auth_timeout.count()) + " ms",
                        what_ + ".auth_timeout");
          }
        } else if (phase == ConnectionState::Phase::kInFrame) {
          if (now - since > limits_.frame_timeout) {
            CloseLocked(*s,
                        "it sent part of a frame and nothing for " +
                            std::to_string(limits_.frame_timeout.count()) + " ms",
                        what_ + ".frame_timeout");
          }
        } else if (phase == ConnectionState::Phase::kIdle && limits_.idle_timeout.count() > 0 &&
                   now - since > limits_.idle_timeout) {
          CloseLocked(*s, "it was idle for " + std::to_string(limits_.idle_timeout.count()) + " ms",
                      what_ + ".idle_timeout");
        }
      }
    }
  }

  // Shuts the socket down (its thread then reads end-of-file and ends the connection).
  void CloseLocked(ConnectionState& s, const std::string& why, const std::string& key) {
    s.closing_ = true;
    ++closing_;
    ::shutdown(s.fd_, SHUT_RDWR);
    WarnLimited(key, what_ + ": closing the connection from " + s.peer_ + ": " + why);
  }

  const ServerLimits limits_;
  const std::string what_;
  std::mutex mu_;  // guards conns_, closing_, stop_ and the registered_/closing_ of each state
  std::condition_variable cv_;
  std::list<std::shared_ptr<ConnectionState>> conns_;  // in order of admission
  int64_t closing_ = 0;                                // of conns_, those shut down already
  bool stop_ = false;
  std::thread watchdog_;
};

ConnectionState::ConnectionState(int fd, std::string peer,
                                 std::weak_ptr<ConnectionRegistry> registry)
    : fd_(fd), peer_(std::move(peer)), registry_(std::move(registry)) {
  SetPhase(Phase::kIdle);
}

ConnectionState::~ConnectionState() = default;

void ConnectionState::SetPhase(Phase phase) {
  since_ns_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  phase_.store(phase, std::memory_order_relaxed);
}

void ConnectionState::Release() {
  if (auto registry = registry_.lock()) registry->Remove(*this);
}

FramedTransport::~FramedTransport() {
  if (state_) state_->Release();
}

void FramedTransport::close() {
  if (state_) state_->Release();
  TFramedTransport::close();
}

uint32_t FramedTransport::readEnd() {
  const uint32_t n = TFramedTransport::readEnd();
  resetConsumedMessageSize();
  in_message_ = false;
  return n;
}

uint32_t FramedTransport::readSlow(uint8_t* buf, uint32_t len) {
  if (in_message_) {
    throw TTransportException(TTransportException::CORRUPTED_DATA,
                              "a message runs past the end of its frame");
  }
  return TFramedTransport::readSlow(buf, len);
}

bool FramedTransport::readFrame() {
  using Phase = ConnectionState::Phase;
  if (state_) state_->SetPhase(Phase::kIdle);
  uint8_t header[4];
  uint32_t got = 0;
  while (got < sizeof(header)) {
    const uint32_t n = transport_->read(header + got, static_cast<uint32_t>(sizeof(header)) - got);
    if (n == 0) {
      if (got == 0) return false;  // end of file between frames
      throw TTransportException(TTransportException::END_OF_FILE,
                                "end of file inside a frame header");
    }
    if (got == 0 && state_) state_->SetPhase(Phase::kInFrame);
    got += n;
  }
  int32_t size = 0;
  std::memcpy(&size, header, sizeof(size));
  size = static_cast<int32_t>(ntohl(static_cast<uint32_t>(size)));
  const int64_t limit = state_ ? state_->max_frame_bytes() : maxFrameSize_;
  if (size < 0 || size > limit) {
    throw TTransportException(
        TTransportException::CORRUPTED_DATA,
        "a frame of " + std::to_string(size) + " bytes, the limit is " + std::to_string(limit) +
            (state_ && !state_->authenticated() ? " before authentication" : ""));
  }
  if (static_cast<uint32_t>(size) > rBufSize_) {
    rBuf_.reset(new uint8_t[static_cast<size_t>(size)]);
    rBufSize_ = static_cast<uint32_t>(size);
  }
  transport_->readAll(rBuf_.get(), static_cast<uint32_t>(size));
  setReadBuffer(rBuf_.get(), static_cast<uint32_t>(size));
  in_message_ = true;
  if (state_) state_->SetPhase(Phase::kServing);
  return true;
}

GuardedProtocol::GuardedProtocol(std::shared_ptr<FramedTransport> transport)
    : TVirtualProtocol(transport), framed_(transport.get()) {
  setStrict(/*strict_read=*/true, /*strict_write=*/true);
  setStringSizeLimit(kMaxFrameBytes);
  setContainerSizeLimit(kMaxFrameBytes);
}

namespace {

// The fewest bytes a value of `type` takes in the binary protocol.
int64_t MinBytes(TType type) {
  switch (type) {
    case apache::thrift::protocol::T_BOOL:
    case apache::thrift::protocol::T_BYTE:
    case apache::thrift::protocol::T_STRUCT:  // its field stop
      return 1;
    case apache::thrift::protocol::T_I16:
      return 2;
    case apache::thrift::protocol::T_I32:
    case apache::thrift::protocol::T_STRING:  // its length
      return 4;
    case apache::thrift::protocol::T_I64:
    case apache::thrift::protocol::T_DOUBLE:
      return 8;
    case apache::thrift::protocol::T_LIST:
    case apache::thrift::protocol::T_SET:  // element type and count
      return 5;
    case apache::thrift::protocol::T_MAP:  // key and value types, count
      return 6;
    default:
      throw TProtocolException(TProtocolException::INVALID_DATA,
                               "unknown type code " + std::to_string(static_cast<int>(type)));
  }
}

}  // namespace

void GuardedProtocol::CheckFits(int64_t count, int64_t min_bytes, const char* what) const {
  const int64_t left = framed_->Remaining();
  if (count < 0) throw TProtocolException(TProtocolException::NEGATIVE_SIZE);
  if (count * min_bytes > left) {
    throw TProtocolException(TProtocolException::SIZE_LIMIT,
                             std::string("a ") + what + " of " + std::to_string(count) +
                                 " entries needs at least " + std::to_string(count * min_bytes) +
                                 " bytes, and its frame has " + std::to_string(left) + " left");
  }
}

uint32_t GuardedProtocol::readMessageBegin(std::string& name, TMessageType& type, int32_t& seqid) {
  // Thrift's reads the name through its own readString, which would allocate whatever length
  // the first bytes claim.
  int32_t version = 0;
  uint32_t n = readI32(version);
  if (version >= 0 || (version & VERSION_MASK) != VERSION_1) {
    throw TProtocolException(TProtocolException::BAD_VERSION, "not a versioned binary message");
  }
  type = static_cast<TMessageType>(version & 0xff);
  n += readString(name);
  n += readI32(seqid);
  return n;
}

uint32_t GuardedProtocol::readMapBegin(TType& key_type, TType& value_type, uint32_t& size) {
  const uint32_t n = TBinaryProtocolT::readMapBegin(key_type, value_type, size);
  CheckFits(size, MinBytes(key_type) + MinBytes(value_type), "map");
  return n;
}

uint32_t GuardedProtocol::readListBegin(TType& elem_type, uint32_t& size) {
  const uint32_t n = TBinaryProtocolT::readListBegin(elem_type, size);
  CheckFits(size, MinBytes(elem_type), "list");
  return n;
}

uint32_t GuardedProtocol::readSetBegin(TType& elem_type, uint32_t& size) {
  const uint32_t n = TBinaryProtocolT::readSetBegin(elem_type, size);
  CheckFits(size, MinBytes(elem_type), "set");
  return n;
}

uint32_t GuardedProtocol::readString(std::string& str) {
  int32_t size = 0;
  const uint32_t n = readI32(size);
  CheckFits(size, 1, "string");
  return n + readStringBody(str, size);
}

uint32_t GuardedProtocol::readBinary(std::string& str) { return readString(str); }

namespace {

// An accepted plaintext socket with its connection's state.
class ServedSocket final : public TSocket, public ServedConnection {
 public:
  using TSocket::TSocket;
};

ServedConnection* ServedOf(const std::shared_ptr<TTransport>& transport) {
  return dynamic_cast<ServedConnection*>(transport.get());
}

// Accepts through the registry (the cap) and keeps serving when accept() fails (out of file
// descriptors, a connection reset before it was accepted): Thrift's server stops on any such
// error.
class GuardedServerSocket final : public TServerSocket {
 public:
  GuardedServerSocket(const std::string& host, int port, std::shared_ptr<ConnectionRegistry> reg,
                      ServerLimits limits, std::string what, std::shared_ptr<const TlsServer> tls)
      : TServerSocket(host, port),
        registry_(std::move(reg)),
        limits_(limits),
        what_(std::move(what)),
        tls_(std::move(tls)) {}

 protected:
  std::shared_ptr<TTransport> acceptImpl() override {
    for (;;) {
      std::shared_ptr<TTransport> accepted;
      try {
        accepted = TServerSocket::acceptImpl();
      } catch (const TTransportException& e) {
        if (e.getType() != TTransportException::UNKNOWN) throw;  // interrupted: stopping
        WarnLimited(what_ + ".accept", what_ + ": accept failed (" + e.what() + "); retrying");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      auto socket = std::static_pointer_cast<TSocket>(accepted);
      ServedConnection* served = ServedOf(accepted);
      std::string peer = "unknown peer";
      try {
        peer = socket->getPeerAddress() + ":" + std::to_string(socket->getPeerPort());
      } catch (const TException&) {
      }
      served->state = registry_->Admit(socket->getSocketFD(), peer);
      if (!served->state) {
        socket->close();
        continue;
      }
      Configure(*socket);
      return socket;
    }
  }

  std::shared_ptr<TSocket> createSocket(THRIFT_SOCKET client) override {
    // A TLS connection shakes hands on its first read, in its own thread: a peer that stalls
    // the handshake holds no one else up, and misses the authentication deadline.
    if (tls_) {
      return tls_->Accepted(client, interruptableChildren_ ? pChildInterruptSockReader_ : nullptr,
                            Limits());
    }
    if (interruptableChildren_) {
      return std::make_shared<ServedSocket>(client, pChildInterruptSockReader_, Limits());
    }
    return std::make_shared<ServedSocket>(client, Limits());
  }

 private:
  // Replies that cannot leave within frame_timeout fail; TCP keepalive finds peers that
  // vanished (about 2 minutes) while their connection is idle.
  void Configure(TSocket& socket) const {
    socket.setNoDelay(true);
    socket.setSendTimeout(static_cast<int>(limits_.frame_timeout.count()));
    const int fd = socket.getSocketFD();
    const int on = 1, idle_s = 60, interval_s = 10, probes = 6;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
  }

  const std::shared_ptr<ConnectionRegistry> registry_;
  const ServerLimits limits_;
  const std::string what_;
  const std::shared_ptr<const TlsServer> tls_;
};

// Wraps each accepted socket in a FramedTransport with the connection's state (the stock
// factory drops our limits).
class FramedTransportFactory final : public apache::thrift::transport::TTransportFactory {
 public:
  std::shared_ptr<TTransport> getTransport(std::shared_ptr<TTransport> trans) override {
    ServedConnection* served = ServedOf(trans);
    return std::make_shared<FramedTransport>(std::move(trans), served ? served->state : nullptr);
  }
};

class GuardedProtocolFactory final : public apache::thrift::protocol::TProtocolFactory {
 public:
  std::shared_ptr<TProtocol> getProtocol(std::shared_ptr<TTransport> trans) override {
    return std::make_shared<GuardedProtocol>(std::static_pointer_cast<FramedTransport>(trans));
  }
};

// Answers a call with `x` instead of its result.
void ReplyException(TProtocol& out, const std::string& name, int32_t seqid,
                    const TApplicationException& x) {
  out.writeMessageBegin(name, apache::thrift::protocol::T_EXCEPTION, seqid);
  x.write(&out);
  out.writeMessageEnd();
  out.getTransport()->writeEnd();
  out.getTransport()->flush();
}

// Answers a call with an AuthFailure: field 1 of every call's result (nums.thrift).
void ReplyAuthFailure(TProtocol& out, const std::string& name, int32_t seqid,
                      const std::string& message) {
  wire::AuthFailure failure;
  failure.message = message;
  out.writeMessageBegin(name, apache::thrift::protocol::T_REPLY, seqid);
  out.writeStructBegin("result");
  out.writeFieldBegin("auth", apache::thrift::protocol::T_STRUCT, 1);
  failure.write(&out);
  out.writeFieldEnd();
  out.writeFieldStop();
  out.writeStructEnd();
  out.writeMessageEnd();
  out.getTransport()->writeEnd();
  out.getTransport()->flush();
}

// Lets only Authenticate through before the connection has authenticated (the arguments of any
// other call are never read), and keeps every exception inside the connection's thread.
class GuardedProcessor final : public apache::thrift::TProcessor {
 public:
  GuardedProcessor(std::shared_ptr<apache::thrift::TProcessor> inner,
                   std::shared_ptr<ConnectionState> state, std::string what)
      : inner_(std::move(inner)), state_(std::move(state)), what_(std::move(what)) {}

  bool process(std::shared_ptr<TProtocol> in, std::shared_ptr<TProtocol> out,
               void* context) override {
    auto& framed = static_cast<GuardedProtocol&>(*in).framed();
    std::string name;
    TMessageType type = apache::thrift::protocol::T_CALL;
    int32_t seqid = 0;
    try {
      in->readMessageBegin(name, type, seqid);
    } catch (const TTransportException&) {
      throw;  // end of file, a closed or oversized frame: the connection ends
    } catch (const std::exception& e) {
      WarnLimited(what_ + ".protocol",
                  what_ + ": closing the connection from " + state_->peer() + ": " + e.what());
      return false;
    }
    const std::string rpc = what_ + "." + name;
    if (!state_->authenticated() &&
        !(name == "Authenticate" && type == apache::thrift::protocol::T_CALL)) {
      framed.DiscardFrame();
      in->getTransport()->readEnd();
      WarnLimited(what_ + ".unauthenticated",
                  rpc + " refused: " + state_->peer() + " has not authenticated");
      if (type == apache::thrift::protocol::T_CALL) {
        ReplyAuthFailure(*out, name, seqid, rpc + " refused: the connection has not authenticated");
      }
      return true;
    }
    framed.Rewind();
    try {
      return inner_->process(in, out, context);
    } catch (const TProtocolException& e) {
      // Arguments that announce more than their frame holds, or malformed ones: nothing was
      // written yet, so the caller hears why before the connection closes.
      WarnLimited(what_ + ".protocol", rpc + " from " + state_->peer() + ": " + e.what());
      if (type == apache::thrift::protocol::T_CALL) {
        try {
          ReplyException(
              *out, name, seqid,
              TApplicationException(TApplicationException::PROTOCOL_ERROR, rpc + ": " + e.what()));
        } catch (const std::exception&) {
          // The peer is gone already.
        }
      }
      return false;
    } catch (const TTransportException&) {
      throw;
    } catch (const std::exception& e) {
      WarnLimited(what_ + ".internal", rpc + " from " + state_->peer() + ": " + e.what());
      return false;
    } catch (...) {
      WarnLimited(what_ + ".internal",
                  rpc + " from " + state_->peer() + ": an exception of unknown type");
      return false;
    }
  }

 private:
  const std::shared_ptr<apache::thrift::TProcessor> inner_;
  const std::shared_ptr<ConnectionState> state_;
  const std::string what_;
};

class GuardedProcessorFactory final : public apache::thrift::TProcessorFactory {
 public:
  GuardedProcessorFactory(std::shared_ptr<apache::thrift::TProcessorFactory> inner,
                          std::string what)
      : inner_(std::move(inner)), what_(std::move(what)) {}
  std::shared_ptr<apache::thrift::TProcessor> getProcessor(
      const apache::thrift::TConnectionInfo& info) override {
    return std::make_shared<GuardedProcessor>(inner_->getProcessor(info), StateOf(info), what_);
  }

 private:
  const std::shared_ptr<apache::thrift::TProcessorFactory> inner_;
  const std::string what_;
};

}  // namespace

// The bound port, handed from the listen callback to the constructor (-1: not yet, 0: failed).
struct RunningServer::Listening {
  std::mutex mu;  // guards port and fd
  std::condition_variable cv;
  int port = -1;
  int fd = -1;
  void Set(int p, int socket = -1) {
    std::lock_guard lock(mu);
    if (port < 0) {
      port = p;
      fd = socket;
    }
    cv.notify_all();
  }
};

namespace {

// Thrift 0.17 calls the listen callback after bind() but before listen(): a client dialling the
// port at once would be refused. Waits (up to 5 s) until the socket accepts connections.
void AwaitListening(int fd) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    int accepting = 0;
    socklen_t len = sizeof(accepting);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || accepting != 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

RunningServer::RunningServer(std::shared_ptr<apache::thrift::TProcessorFactory> processors,
                             const std::string& bind_host, int port, const char* what,
                             const ServerLimits& limits, std::shared_ptr<const TlsServer> tls) {
  auto listening = std::make_shared<Listening>();
  registry_ = std::make_shared<ConnectionRegistry>(limits, what);
  auto socket = std::make_shared<GuardedServerSocket>(bind_host, port, registry_, limits, what,
                                                      std::move(tls));
  socket->setListenCallback([listening](THRIFT_SOCKET fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int bound = 0;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      bound = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    }
    listening->Set(bound, fd);
  });
  server_ = std::make_unique<apache::thrift::server::TThreadedServer>(
      std::make_shared<GuardedProcessorFactory>(std::move(processors), what), socket,
      std::make_shared<FramedTransportFactory>(), std::make_shared<GuardedProtocolFactory>());
  registry_->StartWatching();
  thread_ = std::thread([server = server_.get(), listening, what] {
    try {
      server->serve();
    } catch (const std::exception& e) {
      Log().error("{} server stopped: {}", what, e.what());
    } catch (...) {
      Log().error("{} server stopped: an exception of unknown type", what);
    }
    listening->Set(0);  // returned without listening: unblock the constructor
  });
  std::unique_lock lock(listening->mu);
  listening->cv.wait(lock, [&] { return listening->port >= 0; });
  port_ = listening->port;
  const int listen_fd = listening->fd;
  lock.unlock();
  if (port_ != 0 && listen_fd >= 0) AwaitListening(listen_fd);
  if (port_ == 0) {
    server_->stop();
    thread_.join();
    registry_->Stop();
    throw ClusterError(std::string(what) + ": cannot listen on " + bind_host + ":" +
                       std::to_string(port));
  }
}

RunningServer::~RunningServer() {
  registry_->Stop();  // every connection reads end-of-file, so serve() need not wait for peers
  server_->stop();
  thread_.join();
}

std::pair<std::string, int> SplitAddress(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    throw ValueError("address '" + address + "' is not HOST:PORT");
  }
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port <= 0 || port > 65535) throw ValueError("address '" + address + "' has a bad port");
  return {address.substr(0, colon), port};
}

std::string PeerOf(const apache::thrift::TConnectionInfo& info) {
  if (auto socket = std::dynamic_pointer_cast<TSocket>(info.transport)) {
    try {
      return socket->getPeerAddress() + ":" + std::to_string(socket->getPeerPort());
    } catch (const apache::thrift::TException&) {
      return "unknown peer";
    }
  }
  return "unknown peer";
}

std::shared_ptr<ConnectionState> StateOf(const apache::thrift::TConnectionInfo& info) {
  if (ServedConnection* served = ServedOf(info.transport)) {
    if (served->state) return served->state;
  }
  return std::make_shared<ConnectionState>(-1, PeerOf(info));
}

void Session::Authenticate(const char* rpc, const std::string& token) {
  if (!TokenEquals(token, token_)) {
    WarnLimited(std::string(rpc) + ".refused",
                std::string(rpc) + " refused: wrong cluster token from " + peer());
    wire::AuthFailure e;
    e.message = "wrong cluster token";
    throw e;
  }
  state_->MarkAuthenticated();
  Log().debug("{}: {} authenticated", rpc, peer());
}

void Session::Require(const char* rpc) const {
  if (authenticated()) return;
  WarnLimited(std::string(rpc) + ".refused",
              std::string(rpc) + " refused: " + peer() + " has not authenticated");
  wire::AuthFailure e;
  e.message = std::string(rpc) + " refused: the connection has not authenticated";
  throw e;
}

}  // namespace nums::engine::cluster
