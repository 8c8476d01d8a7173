#pragma once
// AWS Signature Version 4 for S3 requests. We sign ourselves (OpenSSL's HMAC-SHA256) rather than
// through libcurl's CURLOPT_AWS_SIGV4: libcurl 7.88 neither sends x-amz-content-sha256 nor
// canonicalises query strings, and a signer of our own is checked against AWS's published
// examples (tests/io/s3_sign_test.cc).

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nums::io {

/// What SigV4 signs of a request.
struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  std::string host;    // the Host header: "bucket.s3.amazonaws.com", "127.0.0.1:9000"
  std::string path;    // the URI path, already encoded (UriEncode(..., true))
  /// Query parameters, not encoded ("uploadId", "abc"); a parameter without value has "".
  std::vector<std::pair<std::string, std::string>> query;
  /// Headers to sign besides host (names in any case), e.g. x-amz-date, x-amz-content-sha256.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

/// The Authorization header's value for `request` at `amz_date` ("20130524T000000Z").
std::string SigV4Authorization(const SigV4Request& request, const std::string& amz_date,
                               const std::string& region, const std::string& access_key,
                               const std::string& secret_key, const std::string& service = "s3");

/// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and '/' when `keep_slash`), as SigV4
/// wants for paths and query strings.
std::string UriEncode(const std::string& s, bool keep_slash);

/// The query string as SigV4 canonicalises it: encoded, sorted by name then value, "a=1&b=".
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

/// Lower-case hex SHA-256 of `n` bytes.
std::string Sha256Hex(const void* data, size_t n);

}  // namespace nums::io
