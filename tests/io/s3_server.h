#pragma once
// A real S3-compatible server on loopback for the io tests: npm's s3rver (installed into .deps/
// by scripts/install-deps.sh), started once per process on a free port with one bucket, and the
// AWS environment variables pointing this process (and the nodes it starts) at it.

#include <string>

namespace nums::testing {

class S3Server {
 public:
  /// The process's server, started on first use; fails the test (throws std::runtime_error) when
  /// node or s3rver is missing or it does not come up.
  static S3Server& Get();

  /// "http://127.0.0.1:PORT"
  const std::string& endpoint() const { return endpoint_; }
  /// A bucket that exists.
  static constexpr const char* kBucket = "nums-test";
  /// The credentials s3rver accepts.
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  /// Sets AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
  /// AWS_MAX_ATTEMPTS for this server, and clears AWS_PROFILE, AWS_SESSION_TOKEN and
  /// AWS_ENDPOINT_URL_S3.
  void UseInEnvironment() const;

  ~S3Server();

 private:
  S3Server();
  int pid_ = -1;
  std::string dir_;
  std::string endpoint_;
};

}  // namespace nums::testing
