#include "engine/cluster/transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <thrift/transport/TServerSocket.h>

namespace nums::engine::cluster {

using apache::thrift::TConfiguration;
using apache::thrift::transport::TServerSocket;
using apache::thrift::transport::TSocket;

std::shared_ptr<TConfiguration> Limits() {
  static const auto config = std::make_shared<TConfiguration>(kMaxMessageBytes, kMaxFrameBytes);
  return config;
}

uint32_t FramedTransport::readEnd() {
  const uint32_t n = TFramedTransport::readEnd();
  resetConsumedMessageSize();
  return n;
}

// The bound port, handed from the listen callback to the constructor (-1: not yet, 0: failed).
struct RunningServer::Listening {
  std::mutex mu;  // guards port
  std::condition_variable cv;
  int port = -1;
  void Set(int p) {
    std::lock_guard lock(mu);
    if (port < 0) port = p;
    cv.notify_all();
  }
};

RunningServer::RunningServer(std::shared_ptr<apache::thrift::TProcessorFactory> processors,
                             const std::string& bind_host, int port, const char* what) {
  auto listening = std::make_shared<Listening>();
  auto socket = std::make_shared<TServerSocket>(bind_host, port);
  socket->setListenCallback([listening](THRIFT_SOCKET fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int bound = 0;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      bound = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    }
    listening->Set(bound);
  });
  server_ = std::make_unique<apache::thrift::server::TThreadedServer>(
      std::move(processors), socket, std::make_shared<FramedTransportFactory>(),
      // Bounded strings and containers, and versioned messages only: a garbage frame fails at
      // once instead of making the server allocate what its first bytes claim.
      std::make_shared<apache::thrift::protocol::TBinaryProtocolFactory>(
          kMaxFrameBytes, kMaxFrameBytes / 8, /*strict_read=*/true, /*strict_write=*/true));
  thread_ = std::thread([server = server_.get(), listening, what] {
    try {
      server->serve();
    } catch (const std::exception& e) {
      spdlog::error("{} server stopped: {}", what, e.what());
    }
    listening->Set(0);  // returned without listening: unblock the constructor
  });
  std::unique_lock lock(listening->mu);
  listening->cv.wait(lock, [&] { return listening->port >= 0; });
  port_ = listening->port;
  lock.unlock();
  if (port_ == 0) {
    server_->stop();
    thread_.join();
    throw ClusterError(std::string(what) + ": cannot listen on " + bind_host + ":" +
                       std::to_string(port));
  }
}

RunningServer::~RunningServer() {
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

void Session::Authenticate(const char* rpc, const std::string& token) {
  if (!TokenEquals(token, token_)) {
    spdlog::warn("{} refused: wrong cluster token from {}", rpc, peer_);
    wire::AuthFailure e;
    e.message = "wrong cluster token";
    throw e;
  }
  authenticated_ = true;
  spdlog::debug("{}: {} authenticated", rpc, peer_);
}

void Session::Require(const char* rpc) const {
  if (authenticated_) return;
  spdlog::warn("{} refused: {} has not authenticated", rpc, peer_);
  wire::AuthFailure e;
  e.message = std::string(rpc) + " refused: the connection has not authenticated";
  throw e;
}

}  // namespace nums::engine::cluster
