// The S3 client: one libcurl easy handle per thread (connections are reused), requests signed by
// io/s3_sign, retried with capped exponential backoff and full jitter on network errors, 5xx,
// throttling and timeouts.

#include "io/s3.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "io/s3_config.h"
#include "io/s3_sign.h"
#include "nums/errors.hpp"

namespace nums::io {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

// Ranges and parts read or sent by one request when a large transfer is split.
constexpr int64_t kRangeBytes = int64_t{8} << 20;
constexpr int kParallelTransfers = 4;

struct Request {
  Request(std::string m, S3Location l) : method(std::move(m)), loc(std::move(l)) {}
  std::string method;
  S3Location loc;
  bool bucket_only = false;  // a bucket request (listing): no key in the path
  Params query;
  std::vector<std::pair<std::string, std::string>> headers;  // sent unsigned (Range, If-Match)
  const char* body = nullptr;
  int64_t body_bytes = 0;
  // A successful reply's body goes here when set (exactly `sink_bytes`), else to Response::body.
  char* sink = nullptr;
  int64_t sink_bytes = 0;
};

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  int64_t sunk = 0;                            // bytes written to the sink
};

struct Counters {
  std::atomic<int64_t> attempts{0}, retries{0}, parts_uploaded{0}, bytes_sent{0}, bytes_received{0};
};
Counters& TheCounters() {
  static Counters c;
  return c;
}

struct CurlHandle {
  CURL* handle = nullptr;
  ~CurlHandle() {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }
};

CURL* ThreadCurl() {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  thread_local CurlHandle c;
  if (c.handle == nullptr) {
    c.handle = curl_easy_init();
    if (c.handle == nullptr) throw IOError("S3: curl_easy_init failed");
  } else {
    curl_easy_reset(c.handle);  // keeps the connection cache
  }
  return c.handle;
}

std::string AmzDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string XmlUnescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    static const std::pair<const char*, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (const auto& [name, c] : kEntities) {
      if (s.compare(i, std::strlen(name), name) == 0) {
        out += c;
        i += std::strlen(name) - 1;
        done = true;
        break;
      }
    }
    if (!done) out += s[i];
  }
  return out;
}

// Every <tag>...</tag> of `xml`, from `from`, in order.
std::vector<std::string> XmlAll(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    const size_t begin = pos + open.size();
    const size_t end = xml.find(close, begin);
    if (end == std::string::npos) break;
    out.push_back(XmlUnescape(xml.substr(begin, end - begin)));
    pos = end + close.size();
  }
  return out;
}

std::string XmlFirst(const std::string& xml, const std::string& tag) {
  std::vector<std::string> all = XmlAll(xml, tag);
  return all.empty() ? "" : all.front();
}

std::string Describe(const Request& r) {
  return r.bucket_only ? "s3://" + r.loc.bucket : r.loc.url();
}

std::string EndpointOf(const S3Config& c) {
  return c.endpoint.empty() ? "AWS S3 in " + c.region : c.endpoint;
}

[[noreturn]] void ThrowHttpError(const Request& r, const S3Config& c, const Response& resp) {
  std::string code = XmlFirst(resp.body, "Code");
  const std::string message = XmlFirst(resp.body, "Message");
  if (code.empty()) code = "no S3 error code in the reply";
  throw IOError("S3 " + r.method + " " + Describe(r) + " failed: HTTP " +
                std::to_string(resp.status) + ", " + code +
                (message.empty() ? "" : ": " + message) + " (endpoint " + EndpointOf(c) + ")");
}

bool RetryableStatus(const Response& resp) {
  if (resp.status >= 500 || resp.status == 429) return true;
  const std::string code = XmlFirst(resp.body, "Code");
  return code == "SlowDown" || code == "RequestTimeout" || code == "Throttling";
}

bool RetryableCurl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

void Backoff(int attempt) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const double cap_ms = std::min(2000.0, 50.0 * static_cast<double>(int64_t{1} << attempt));
  std::uniform_real_distribution<double> jitter(0.0, cap_ms);
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(jitter(rng)));
}

struct Transfer {
  const Request* request;
  Response* response;
  int64_t body_sent = 0;
  bool sink_overrun = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  const bool to_sink =
      t->request->sink != nullptr && t->response->status >= 200 && t->response->status < 300;
  if (!to_sink) {
    t->response->body.append(data, bytes);
    return bytes;
  }
  if (t->response->sunk + static_cast<int64_t>(bytes) > t->request->sink_bytes) {
    t->sink_overrun = true;
    return 0;  // aborts the transfer
  }
  std::memcpy(t->request->sink + t->response->sunk, data, bytes);
  t->response->sunk += static_cast<int64_t>(bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new status line (after 100 Continue or a redirect)
    t->response->headers.clear();
    const size_t sp = line.find(' ');
    t->response->status =
        sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    const size_t b = value.find_first_not_of(" \t");
    const size_t e = value.find_last_not_of(" \t\r\n");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    t->response->headers[name] = value;
  }
  return size * n;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const int64_t left = t->request->body_bytes - t->body_sent;
  const int64_t chunk = std::min<int64_t>(left, static_cast<int64_t>(size * n));
  if (chunk > 0) std::memcpy(buffer, t->request->body + t->body_sent, static_cast<size_t>(chunk));
  t->body_sent += chunk;
  return static_cast<size_t>(chunk);
}

struct Address {
  std::string scheme_host;  // "https://bucket.s3.us-east-1.amazonaws.com"
  std::string host;         // the Host header
  std::string path;         // encoded, as signed
};

// Path-style on a configured endpoint; virtual-hosted on AWS unless the bucket has dots (they
// do not match AWS's wildcard certificate).
Address AddressOf(const S3Config& c, const S3Location& loc, bool bucket_only) {
  const std::string key_path = bucket_only ? "" : UriEncode(loc.key, true);
  const std::string bucket_path =
      "/" + UriEncode(loc.bucket, false) + (bucket_only ? "" : "/" + key_path);
  if (!c.endpoint.empty()) {
    return {c.endpoint, c.endpoint.substr(c.endpoint.find("://") + 3), bucket_path};
  }
  if (loc.bucket.find('.') == std::string::npos) {
    const std::string host = loc.bucket + ".s3." + c.region + ".amazonaws.com";
    return {"https://" + host, host, "/" + key_path};
  }
  const std::string host = "s3." + c.region + ".amazonaws.com";
  return {"https://" + host, host, bucket_path};
}

// One attempt; the curl result code.
CURLcode Attempt(const S3Config& c, const Request& r, Response& resp, std::string& curl_error) {
  resp = Response{};
  const Address a = AddressOf(c, r.loc, r.bucket_only);
  const std::string &scheme_host = a.scheme_host, &host = a.host, &path = a.path;
  const std::string query = CanonicalQueryString(r.query);
  const std::string url = scheme_host + path + (query.empty() ? "" : "?" + query);

  const std::string amz_date = AmzDate();
  std::vector<std::pair<std::string, std::string>> signed_headers{
      {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}, {"x-amz-date", amz_date}};
  if (!c.session_token.empty())
    signed_headers.emplace_back("x-amz-security-token", c.session_token);

  curl_slist* list = nullptr;
  for (const auto& [k, v] : signed_headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  for (const auto& [k, v] : r.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  if (!c.access_key.empty()) {
    SigV4Request sr{r.method, host, path, r.query, signed_headers, "UNSIGNED-PAYLOAD"};
    list = curl_slist_append(
        list,
        ("Authorization: " + SigV4Authorization(sr, amz_date, c.region, c.access_key, c.secret_key))
            .c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip before a body

  CURL* h = ThreadCurl();
  Transfer t{&r, &resp, 0, false};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "..": send the path as signed
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  // A stalled transfer (under 1 KiB/s for 30 s) times out and is retried.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  if (r.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body_bytes));
  } else if (r.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body != nullptr ? r.body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body_bytes));
  } else if (r.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(list);
  if (rc == CURLE_WRITE_ERROR && t.sink_overrun) {
    throw IOError("S3 " + r.method + " " + Describe(r) + ": the server sent more than the " +
                  std::to_string(r.sink_bytes) + " bytes asked for");
  }
  if (rc != CURLE_OK) curl_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  return rc;
}

// Runs `r` until it succeeds (2xx), fails for good, or runs out of attempts. Returns the reply
// with any status in `accepted` as well (404 for lookups); throws IOError otherwise.
Response Perform(const Request& r, std::initializer_list<long> accepted = {}) {
  const S3Config c = LoadS3Config();
  Response resp;
  Counters& counters = TheCounters();
  for (int attempt = 0;; ++attempt) {
    std::string curl_error;
    ++counters.attempts;
    if (attempt > 0) ++counters.retries;
    const CURLcode rc = Attempt(c, r, resp, curl_error);
    const bool last = attempt + 1 >= c.max_attempts;
    if (rc != CURLE_OK) {
      if (!last && RetryableCurl(rc)) {
        Backoff(attempt);
        continue;
      }
      throw IOError("S3 " + r.method + " " + Describe(r) + " failed: cannot reach endpoint " +
                    EndpointOf(c) + ": " + curl_error + " (after " + std::to_string(attempt + 1) +
                    (attempt == 0 ? " attempt)" : " attempts)"));
    }
    if (resp.status >= 200 && resp.status < 300) {
      // CompleteMultipartUpload can fail after its 200 has been sent: the error is in the body.
      if (r.sink == nullptr && resp.body.rfind("<Error>") != std::string::npos &&
          r.method == "POST") {
        if (!last && RetryableStatus(resp)) {
          Backoff(attempt);
          continue;
        }
        ThrowHttpError(r, c, resp);
      }
      counters.bytes_sent += r.body_bytes;
      counters.bytes_received +=
          r.sink != nullptr ? resp.sunk : static_cast<int64_t>(resp.body.size());
      return resp;
    }
    if (std::find(accepted.begin(), accepted.end(), resp.status) != accepted.end()) return resp;
    if (!last && RetryableStatus(resp)) {
      Backoff(attempt);
      continue;
    }
    ThrowHttpError(r, c, resp);
  }
}

std::string StripQuotes(const std::string& etag) {
  std::string out;
  for (char ch : etag) {
    if (ch != '"') out += ch;
  }
  return out;
}

// Runs f(i) for i in [0, n) on up to kParallelTransfers threads; rethrows the first error once
// all have stopped.
template <class F>
void ParallelFor(int64_t n, const F& f) {
  if (n <= 1) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (int64_t i = next++; i < n; i = next++) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (error) return;
      }
      try {
        f(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  const int64_t count = std::min<int64_t>(n, kParallelTransfers);
  for (int64_t t = 1; t < count; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

std::string S3HttpUrl(const S3Location& loc, const S3Config& config) {
  const Address a = AddressOf(config, loc, false);
  return a.scheme_host + a.path;
}

S3Counters S3CountersNow() {
  const Counters& c = TheCounters();
  return {c.attempts.load(), c.retries.load(), c.parts_uploaded.load(), c.bytes_sent.load(),
          c.bytes_received.load()};
}

S3Location ParseS3Url(const std::string& url) {
  if (url.rfind("s3://", 0) != 0) throw ValueError("not an s3:// URL: '" + url + "'");
  const std::string rest = url.substr(5);
  const size_t slash = rest.find('/');
  S3Location loc{rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1)};
  if (loc.bucket.empty()) throw ValueError("s3 URL without a bucket: '" + url + "'");
  return loc;
}

std::optional<S3ObjectInfo> S3Head(const S3Location& loc) {
  Request r{"HEAD", loc};
  Response resp = Perform(r, {400, 401, 403, 404});
  if (resp.status >= 200 && resp.status < 300) {
    S3ObjectInfo info;
    info.size = std::strtoll(resp.headers["content-length"].c_str(), nullptr, 10);
    info.etag = resp.headers["etag"];
    return info;
  }
  // A HEAD reply has no body, so it cannot tell a missing key from a missing bucket or name
  // the error: a GET of the first byte does.
  Request get{"GET", loc};
  get.headers = {{"Range", "bytes=0-0"}};
  Response detail = Perform(get, {404, 416});
  if (detail.status == 404 && XmlFirst(detail.body, "Code") != "NoSuchBucket") {
    return std::nullopt;
  }
  if (detail.status == 404) ThrowHttpError(get, LoadS3Config(), detail);
  ThrowHttpError(r, LoadS3Config(), resp);  // the GET worked: report what HEAD said
}

std::optional<std::string> S3GetIfExists(const S3Location& loc) {
  Request r{"GET", loc};
  Response resp = Perform(r, {404});
  if (resp.status == 404) {
    if (XmlFirst(resp.body, "Code") == "NoSuchBucket") ThrowHttpError(r, LoadS3Config(), resp);
    return std::nullopt;
  }
  return std::move(resp.body);
}

void S3GetRange(const S3Location& loc, void* buf, int64_t n, int64_t offset,
                const std::string& etag) {
  if (n <= 0) return;
  const int64_t parts = (n + kRangeBytes - 1) / kRangeBytes;
  ParallelFor(parts, [&](int64_t i) {
    const int64_t begin = i * kRangeBytes;
    const int64_t len = std::min(kRangeBytes, n - begin);
    Request r{"GET", loc};
    r.headers = {{"Range", "bytes=" + std::to_string(offset + begin) + "-" +
                               std::to_string(offset + begin + len - 1)}};
    if (!etag.empty()) r.headers.emplace_back("If-Match", etag);
    r.sink = static_cast<char*>(buf) + begin;
    r.sink_bytes = len;
    Response resp = Perform(r);
    if (!etag.empty() && resp.headers.count("etag") &&
        StripQuotes(resp.headers["etag"]) != StripQuotes(etag)) {
      throw IOError(loc.url() + " was replaced after it was opened for reading (ETag " +
                    resp.headers["etag"] + ", expected " + etag +
                    "): its blocks can no longer be read consistently (read it again)");
    }
    if (resp.sunk != len) {
      throw IOError(loc.url() + " is truncated: expected at least " +
                    std::to_string(offset + begin + len) + " bytes, a ranged GET at byte " +
                    std::to_string(offset + begin) + " returned " + std::to_string(resp.sunk));
    }
  });
}

void S3Put(const S3Location& loc, const void* data, int64_t n) {
  const char* bytes = static_cast<const char*>(data);
  if (n <= kS3PartBytes) {
    Request r{"PUT", loc};
    r.body = bytes;
    r.body_bytes = n;
    Perform(r);
    return;
  }
  const std::string upload_id = S3CreateMultipartUpload(loc);
  try {
    const int64_t parts = (n + kS3PartBytes - 1) / kS3PartBytes;
    std::vector<std::pair<int64_t, std::string>> etags(static_cast<size_t>(parts));
    ParallelFor(parts, [&](int64_t i) {
      const int64_t begin = i * kS3PartBytes;
      etags[static_cast<size_t>(i)] = {i + 1, S3UploadPart(loc, upload_id, i + 1, bytes + begin,
                                                           std::min(kS3PartBytes, n - begin))};
    });
    S3CompleteMultipartUpload(loc, upload_id, etags);
  } catch (...) {
    try {
      S3AbortMultipartUpload(loc, upload_id);
    } catch (...) {  // the upload's own error is the one to report
    }
    throw;
  }
}

void S3Delete(const S3Location& loc) {
  Request r{"DELETE", loc};
  Perform(r, {404});
}

std::vector<std::string> S3List(const S3Location& prefix) {
  std::vector<std::string> keys;
  std::string token;
  for (;;) {
    Request r{"GET", prefix};
    r.bucket_only = true;
    r.query = {{"list-type", "2"}, {"prefix", prefix.key}};
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    Response resp = Perform(r);
    for (std::string& k : XmlAll(resp.body, "Key")) keys.push_back(std::move(k));
    if (XmlFirst(resp.body, "IsTruncated") != "true") break;
    token = XmlFirst(resp.body, "NextContinuationToken");
    if (token.empty()) break;
  }
  return keys;
}

std::string S3CreateMultipartUpload(const S3Location& loc) {
  Request r{"POST", loc};
  r.query = {{"uploads", ""}};
  Response resp = Perform(r);
  std::string id = XmlFirst(resp.body, "UploadId");
  if (id.empty()) {
    throw IOError("S3 POST " + loc.url() + "?uploads: the reply names no UploadId");
  }
  return id;
}

std::string S3UploadPart(const S3Location& loc, const std::string& upload_id, int64_t part_number,
                         const void* data, int64_t n) {
  if (part_number < 1 || part_number > 10000) {
    throw ValueError("S3 multipart upload of " + loc.url() + ": part number " +
                     std::to_string(part_number) + " is outside 1..10000");
  }
  Request r{"PUT", loc};
  r.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  r.body = static_cast<const char*>(data);
  r.body_bytes = n;
  Response resp = Perform(r);
  ++TheCounters().parts_uploaded;
  std::string etag = resp.headers["etag"];
  if (etag.empty()) {
    throw IOError("S3 PUT " + loc.url() + " part " + std::to_string(part_number) +
                  ": the reply has no ETag");
  }
  return etag;
}

void S3CompleteMultipartUpload(const S3Location& loc, const std::string& upload_id,
                               const std::vector<std::pair<int64_t, std::string>>& parts) {
  std::vector<std::pair<int64_t, std::string>> sorted = parts;
  std::sort(sorted.begin(), sorted.end());
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& [number, etag] : sorted) {
    xml += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + etag +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Request r{"POST", loc};
  r.query = {{"uploadId", upload_id}};
  r.headers = {{"Content-Type", "application/xml"}};
  r.body = xml.data();
  r.body_bytes = static_cast<int64_t>(xml.size());
  Perform(r);
}

void S3AbortMultipartUpload(const S3Location& loc, const std::string& upload_id) {
  Request r{"DELETE", loc};
  r.query = {{"uploadId", upload_id}};
  Perform(r, {404});
}

}  // namespace nums::io
