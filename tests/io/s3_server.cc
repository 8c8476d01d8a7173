#include "tests/io/s3_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace nums::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Reachable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

S3Server& S3Server::Get() {
  static S3Server server;
  return server;
}

S3Server::S3Server() {
  const std::string script = NUMS_S3RVER_JS;
  if (!std::filesystem::exists(script)) {
    throw std::runtime_error("the S3 test server is not installed at " + script +
                             ": run scripts/install-deps.sh");
  }
  dir_ = (std::filesystem::temp_directory_path() / ("nums-s3rver-" + std::to_string(::getpid())))
             .string();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_ + "/data");
  const std::string log = dir_ + "/log";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    if (!std::freopen(log.c_str(), "w", stdout) || !std::freopen(log.c_str(), "a", stderr)) {
      ::_exit(126);
    }
    const std::string data = dir_ + "/data";
    ::execlp("node", "node", script.c_str(), "-d", data.c_str(), "-a", "127.0.0.1", "-p", "0",
             "--configure-bucket", kBucket, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // s3rver prints "S3rver listening on 127.0.0.1:PORT" once it serves.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int port = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = ReadAll(log);
    const size_t at = text.find("listening on 127.0.0.1:");
    if (at != std::string::npos) {
      port = std::atoi(text.c_str() + at + std::strlen("listening on 127.0.0.1:"));
      if (port > 0 && Reachable(port)) break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the S3 test server (node " + script + ") exited: " + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (port == 0) throw std::runtime_error("the S3 test server did not start: " + ReadAll(log));
  endpoint_ = "http://127.0.0.1:" + std::to_string(port);
}

S3Server::~S3Server() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void S3Server::UseInEnvironment() const {
  ::setenv("AWS_ENDPOINT_URL", endpoint_.c_str(), 1);
  ::setenv("AWS_ACCESS_KEY_ID", kAccessKey, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", kSecretKey, 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::setenv("AWS_MAX_ATTEMPTS", "3", 1);
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_ENDPOINT_URL_S3");
}

}  // namespace nums::testing
