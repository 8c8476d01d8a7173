#pragma once
// Where S3 requests go and how they are signed, resolved as the AWS tools resolve them, in the
// process that makes the request (each node reads its own environment and files).

#include <cstdint>
#include <string>

namespace nums::io {

/// The settings of one S3 request.
struct S3Config {
  std::string access_key;  // empty: anonymous (unsigned) requests
  std::string secret_key;
  std::string session_token;  // sent as x-amz-security-token when set
  std::string region = "us-east-1";
  /// "scheme://host[:port]" of an S3-compatible server; empty: AWS (virtual-hosted addressing).
  std::string endpoint;
  /// Attempts per request (the first and its retries).
  int64_t max_attempts = 5;
};

/// Resolves the settings:
/// - profile: AWS_PROFILE, else "default";
/// - credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the
///   profile's section of AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), else of
///   AWS_CONFIG_FILE (~/.aws/config, "[profile NAME]" or "[default]"); none: anonymous;
/// - region: AWS_REGION, AWS_DEFAULT_REGION, the config profile's `region`, else us-east-1;
/// - endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the config profile's `endpoint_url`;
/// - attempts: AWS_MAX_ATTEMPTS, the config profile's `max_attempts`, else 5.
/// ValueError naming the variable or file for a malformed value (an endpoint without a scheme,
/// a non-numeric attempt count, a profile named but found nowhere).
S3Config LoadS3Config();

}  // namespace nums::io
