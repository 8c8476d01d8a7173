// The S3 client (signing, configuration, requests) and .npy on S3, against npm's s3rver on
// loopback (tests/io/s3_server.h) and AWS's published signing examples.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "io/s3.h"
#include "io/s3_config.h"
#include "io/s3_sign.h"
#include "io/storage.h"
#include "nums/nums.hpp"
#include "src/array_impl.h"
#include "tests/io/io_testing.h"
#include "tests/io/s3_server.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

using io::S3Location;
namespace fs = std::filesystem;

// ---- SigV4 against the examples of AWS's "Signature Calculations for the Authorization
// Header" page (access key AKIAIOSFODNN7EXAMPLE, 2013-05-24, us-east-1, examplebucket).

constexpr const char* kExampleKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(S3Sign, GetObjectExample) {
  io::SigV4Request r{"GET",
                     "examplebucket.s3.amazonaws.com",
                     "/test.txt",
                     {},
                     {{"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", kEmptyHash},
                      {"x-amz-date", "20130524T000000Z"}},
                     kEmptyHash};
  EXPECT_EQ(io::SigV4Authorization(r, "20130524T000000Z", "us-east-1", kExampleKey, kExampleSecret),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature="
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3Sign, PutObjectExampleEncodesThePath) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = io::Sha256Hex(body.data(), body.size());
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  io::SigV4Request r{"PUT",
                     "examplebucket.s3.amazonaws.com",
                     "/" + io::UriEncode("test$file.text", true),
                     {},
                     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"x-amz-date", "20130524T000000Z"},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                      {"x-amz-content-sha256", hash}},
                     hash};
  EXPECT_EQ(r.path, "/test%24file.text");
  const std::string auth =
      io::SigV4Authorization(r, "20130524T000000Z", "us-east-1", kExampleKey, kExampleSecret);
  EXPECT_NE(auth.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-storage-class,"),
            std::string::npos)
      << auth;
  EXPECT_NE(auth.find("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
            std::string::npos)
      << auth;
}

TEST(S3Sign, ListObjectsExampleSortsTheQuery) {
  io::SigV4Request r{"GET",
                     "examplebucket.s3.amazonaws.com",
                     "/",
                     {{"prefix", "J"}, {"max-keys", "2"}},
                     {{"x-amz-content-sha256", kEmptyHash}, {"x-amz-date", "20130524T000000Z"}},
                     kEmptyHash};
  EXPECT_EQ(io::CanonicalQueryString(r.query), "max-keys=2&prefix=J");
  const std::string auth =
      io::SigV4Authorization(r, "20130524T000000Z", "us-east-1", kExampleKey, kExampleSecret);
  EXPECT_NE(auth.find("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            std::string::npos)
      << auth;
}

TEST(S3Sign, UriEncodingKeepsOnlyUnreservedBytes) {
  EXPECT_EQ(io::UriEncode("a b/c+d~e_f.g-h", true), "a%20b/c%2Bd~e_f.g-h");
  EXPECT_EQ(io::UriEncode("a/b=c&d", false), "a%2Fb%3Dc%26d");
  EXPECT_EQ(io::UriEncode("\xc3\xa9", false), "%C3%A9");
  EXPECT_EQ(io::CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(io::CanonicalQueryString({{"uploadId", "x y"}, {"partNumber", "3"}}),
            "partNumber=3&uploadId=x%20y");
}

// ---- Configuration: environment variables and ~/.aws profiles.

// Sets and restores environment variables around a test.
class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    Save(name);
    ::setenv(name, value.c_str(), 1);
  }
  void Unset(const char* name) {
    Save(name);
    ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second.first) {
        ::setenv(it->first.c_str(), it->second.second.c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  void Save(const char* name) {
    const char* v = std::getenv(name);
    saved_.push_back({name, {v != nullptr, v ? v : ""}});
  }
  std::vector<std::pair<std::string, std::pair<bool, std::string>>> saved_;
};

const char* const kAwsVariables[] = {
    "AWS_PROFILE",      "AWS_ACCESS_KEY_ID",  "AWS_SECRET_ACCESS_KEY",      "AWS_SESSION_TOKEN",
    "AWS_REGION",       "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",           "AWS_ENDPOINT_URL_S3",
    "AWS_MAX_ATTEMPTS", "AWS_CONFIG_FILE",    "AWS_SHARED_CREDENTIALS_FILE"};

class S3ConfigTest : public ::testing::Test {
 protected:
  S3ConfigTest() {
    for (const char* v : kAwsVariables) env_.Unset(v);
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", dir_.file("credentials"));
    env_.Set("AWS_CONFIG_FILE", dir_.file("config"));
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name)) << text;
  }
  ScopedEnv env_;
  TempDir dir_;
};

TEST_F(S3ConfigTest, NothingConfiguredMeansAnonymousAwsInUsEast1) {
  const io::S3Config c = io::LoadS3Config();
  EXPECT_TRUE(c.access_key.empty());
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_TRUE(c.endpoint.empty());
  EXPECT_EQ(c.max_attempts, 5);
}

TEST_F(S3ConfigTest, ProfilesComeFromBothFilesAndTheEnvironmentWins) {
  Write("credentials",
        "[default]\naws_access_key_id = DKEY\naws_secret_access_key = DSECRET\n"
        "[work]\naws_access_key_id=WKEY\naws_secret_access_key=WSECRET\n"
        "aws_session_token = WTOKEN\n");
  Write("config",
        "[default]\nregion = eu-west-1\n[profile work]\nregion = ap-south-1\n"
        "endpoint_url = http://127.0.0.1:9000/\nmax_attempts = 7\ns3 =\n  addressing_style = "
        "path\n");
  io::S3Config c = io::LoadS3Config();
  EXPECT_EQ(c.access_key, "DKEY");
  EXPECT_EQ(c.secret_key, "DSECRET");
  EXPECT_EQ(c.region, "eu-west-1");

  env_.Set("AWS_PROFILE", "work");
  c = io::LoadS3Config();
  EXPECT_EQ(c.access_key, "WKEY");
  EXPECT_EQ(c.session_token, "WTOKEN");
  EXPECT_EQ(c.region, "ap-south-1");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c.max_attempts, 7);

  env_.Set("AWS_ACCESS_KEY_ID", "EKEY");
  env_.Set("AWS_SECRET_ACCESS_KEY", "ESECRET");
  env_.Set("AWS_REGION", "us-west-2");
  env_.Set("AWS_ENDPOINT_URL_S3", "https://s3.example.test");
  c = io::LoadS3Config();
  EXPECT_EQ(c.access_key, "EKEY");
  EXPECT_EQ(c.secret_key, "ESECRET");
  EXPECT_TRUE(c.session_token.empty());
  EXPECT_EQ(c.region, "us-west-2");
  EXPECT_EQ(c.endpoint, "https://s3.example.test");
}

TEST_F(S3ConfigTest, CredentialsInTheConfigFileAreUsedWhenTheCredentialsFileHasNone) {
  Write("config", "[profile cfg]\naws_access_key_id = CKEY\naws_secret_access_key = CSECRET\n");
  env_.Set("AWS_PROFILE", "cfg");
  const io::S3Config c = io::LoadS3Config();
  EXPECT_EQ(c.access_key, "CKEY");
  EXPECT_EQ(c.secret_key, "CSECRET");
}

TEST_F(S3ConfigTest, BadValuesRaiseValueErrorNamingTheirSource) {
  env_.Set("AWS_PROFILE", "nowhere");
  ExpectThrowWith<ValueError>([] { io::LoadS3Config(); }, {"AWS_PROFILE", "nowhere"});
  env_.Unset("AWS_PROFILE");
  env_.Set("AWS_ENDPOINT_URL", "127.0.0.1:9000");
  ExpectThrowWith<ValueError>([] { io::LoadS3Config(); }, {"AWS_ENDPOINT_URL", "http://"});
  env_.Unset("AWS_ENDPOINT_URL");
  env_.Set("AWS_MAX_ATTEMPTS", "many");
  ExpectThrowWith<ValueError>([] { io::LoadS3Config(); }, {"AWS_MAX_ATTEMPTS", "many"});
}

TEST(S3Url, ParsesBucketAndKey) {
  const S3Location loc = io::ParseS3Url("s3://bkt/a/b/c.npy");
  EXPECT_EQ(loc.bucket, "bkt");
  EXPECT_EQ(loc.key, "a/b/c.npy");
  EXPECT_EQ(loc.url(), "s3://bkt/a/b/c.npy");
  ExpectThrowWith<ValueError>([] { io::ParseS3Url("s3:///key"); }, {"bucket"});
  ExpectThrowWith<ValueError>([] { io::ParseS3Url("http://x/y"); }, {"s3://"});
}

// ---- Requests against the loopback server.

class S3Test : public ::testing::Test {
 protected:
  S3Test() {
    for (const char* v : kAwsVariables) env_.Unset(v);
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    env_.Set("AWS_CONFIG_FILE", "/nonexistent/config");
    S3Server::Get().UseInEnvironment();
  }
  // A key unique to the test.
  static std::string Url(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string("s3://") + S3Server::kBucket + "/" + info->name() + "/" + name;
  }
  static std::string Bytes(int64_t n, uint64_t seed) {
    std::string s(static_cast<size_t>(n), '\0');
    std::mt19937_64 rng(seed);
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  }
  ScopedEnv env_;
};

TEST_F(S3Test, ObjectsRoundTripThroughTheStorageApi) {
  const std::string url = Url("dir/a b+c$é.bin");  // a key that must be encoded
  const std::string data = Bytes(100'000, 1);
  io::WriteObject(url, data.data(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(io::ObjectSize(url), 100'000);
  EXPECT_EQ(io::ReadObject(url), data);
  std::string part(1000, '\0');
  io::ReadObjectRange(url, part.data(), 1000, 5000);
  EXPECT_EQ(part, data.substr(5000, 1000));

  io::WriteObject(Url("dir/sub/x"), "x", 1);
  EXPECT_EQ(io::ListObjects(Url("dir")), (std::vector<std::string>{"a b+c$é.bin", "sub/x"}));
  io::RemoveObject(url);
  EXPECT_EQ(io::ObjectSize(url), std::nullopt);
  EXPECT_EQ(io::ReadObjectIfExists(url), std::nullopt);
  EXPECT_EQ(io::ListObjects(Url("dir")), (std::vector<std::string>{"sub/x"}));
  io::RemoveObject(url);  // a missing key is not an error
}

TEST_F(S3Test, LargeObjectsUseMultipartUploadsAndParallelRangedReads) {
  const int64_t n = 2 * io::kS3PartBytes + 12345;  // three parts, the last short
  const std::string data = Bytes(n, 2);
  const std::string url = Url("big");
  const io::S3Counters before = io::S3CountersNow();
  io::WriteObject(url, data.data(), n);
  EXPECT_EQ(io::S3CountersNow().parts_uploaded - before.parts_uploaded, 3);
  const auto info = io::S3Head(io::ParseS3Url(url));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->size, n);
  std::string back(static_cast<size_t>(n - 7), '\0');
  io::ReadObjectRange(url, back.data(), n - 7, 7);
  EXPECT_TRUE(back == data.substr(7));
}

TEST_F(S3Test, AnUncompletedMultipartUploadLeavesNoObject) {
  const S3Location loc = io::ParseS3Url(Url("uncompleted"));
  const std::string id = io::S3CreateMultipartUpload(loc);
  const std::string part = Bytes(io::kS3MinPartBytes, 3);
  io::S3UploadPart(loc, id, 1, part.data(), static_cast<int64_t>(part.size()));
  EXPECT_EQ(io::S3Head(loc), std::nullopt);
  ExpectThrowWith<ValueError>([&] { io::S3UploadPart(loc, id, 10001, "x", 1); }, {"10001"});
}

TEST_F(S3Test, AMissingKeyRaisesIOErrorNamingIt) {
  const std::string url = Url("missing.npy");
  ExpectThrowWith<IOError>([&] { io::ReadObject(url); }, {url, "NoSuchKey"});
  std::string buf(4, '\0');
  ExpectThrowWith<IOError>([&] { io::ReadObjectRange(url, buf.data(), 4, 0); },
                           {url, "404", "NoSuchKey"});
}

TEST_F(S3Test, AMissingBucketRaisesIOErrorNamingIt) {
  const std::string url = "s3://no-such-bucket-here/x.npy";
  ExpectThrowWith<IOError>([&] { io::ObjectSize(url); }, {"no-such-bucket-here", "NoSuchBucket"});
  ExpectThrowWith<IOError>([&] { io::ReadObject(url); }, {"no-such-bucket-here", "NoSuchBucket"});
  ExpectThrowWith<IOError>([&] { io::WriteObject(url, "x", 1); },
                           {"no-such-bucket-here", "404", "NoSuchBucket"});
}

TEST_F(S3Test, WrongCredentialsRaiseIOErrorWithTheStatusAndCode) {
  io::WriteObject(Url("secret"), "x", 1);
  env_.Set("AWS_ACCESS_KEY_ID", "NOT-A-KEY");
  for (auto op : std::vector<std::function<void()>>{
           [&] { io::ReadObject(Url("secret")); }, [&] { io::ObjectSize(Url("secret")); },
           [&] { io::WriteObject(Url("other"), "y", 1); }}) {
    ExpectThrowWith<IOError>(op, {Url("").substr(0, 10), "403", "InvalidAccessKeyId"});
  }
}

TEST_F(S3Test, AnUnreachableEndpointRaisesIOErrorAfterItsRetries) {
  // A port nothing listens on: bound, then closed.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  env_.Set("AWS_ENDPOINT_URL", endpoint);
  env_.Set("AWS_MAX_ATTEMPTS", "3");
  const auto start = std::chrono::steady_clock::now();
  ExpectThrowWith<IOError>([&] { io::ReadObject(Url("x")); },
                           {"cannot reach endpoint", endpoint, "after 3 attempts"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// A TCP proxy in front of the S3 server that answers the first `failures` connections itself
// (503 SlowDown, or a dropped connection) and forwards the rest: a throttling or flaky server.
class FlakyProxy {
 public:
  enum class Fault { kSlowDown, kDrop };
  FlakyProxy(int upstream_port, int failures, Fault fault)
      : upstream_(upstream_port), failures_(failures), fault_(fault) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 64);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FlakyProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    accept_thread_.join();
    for (auto& t : pumps_) t.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int refused() const { return refused_; }

 private:
  void AcceptLoop() {
    for (;;) {
      const int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      if (stop_) {
        ::close(c);
        return;
      }
      if (refused_ < failures_) {
        ++refused_;
        if (fault_ == Fault::kSlowDown) {
          char buf[65536];
          (void)::recv(c, buf, sizeof(buf), 0);  // the request's head
          const std::string body =
              "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
              "</Error>";
          const std::string reply =
              "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
              "Connection: close\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body;
          (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
        ::close(c);
        continue;
      }
      pumps_.emplace_back([this, c] { Pump(c); });
    }
  }
  void Pump(int client) {
    const int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(upstream_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
      char buf[65536];
      bool open = true;
      while (open && !stop_) {
        if (::poll(fds, 2, 200) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
          const ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
          if (n <= 0 || ::send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
            open = false;
          }
        }
      }
    }
    ::close(up);
    ::close(client);
  }
  int upstream_, failures_;
  Fault fault_;
  int listen_fd_ = -1, port_ = 0;
  std::atomic<int> refused_{0};
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::vector<std::thread> pumps_;
};

int PortOf(const std::string& endpoint) {
  return std::atoi(endpoint.c_str() + endpoint.rfind(':') + 1);
}

TEST_F(S3Test, ThrottlingAndDroppedConnectionsAreRetried) {
  const std::string data = Bytes(300'000, 4);
  for (auto fault : {FlakyProxy::Fault::kSlowDown, FlakyProxy::Fault::kDrop}) {
    FlakyProxy proxy(PortOf(S3Server::Get().endpoint()), 2, fault);
    env_.Set("AWS_ENDPOINT_URL", proxy.endpoint());
    env_.Set("AWS_MAX_ATTEMPTS", "4");
    const io::S3Counters before = io::S3CountersNow();
    io::WriteObject(Url("flaky"), data.data(), static_cast<int64_t>(data.size()));
    EXPECT_EQ(proxy.refused(), 2);
    EXPECT_EQ(io::S3CountersNow().retries - before.retries, 2);
    EXPECT_EQ(io::ReadObject(Url("flaky")), data);
  }
}

TEST_F(S3Test, ThrottlingBeyondTheAttemptsRaisesIOErrorWithTheCode) {
  FlakyProxy proxy(PortOf(S3Server::Get().endpoint()), 100, FlakyProxy::Fault::kSlowDown);
  env_.Set("AWS_ENDPOINT_URL", proxy.endpoint());
  env_.Set("AWS_MAX_ATTEMPTS", "3");
  ExpectThrowWith<IOError>([&] { io::ReadObject(Url("x")); }, {Url("x"), "503", "SlowDown"});
  EXPECT_EQ(proxy.refused(), 3);
}

// ---- .npy on S3: the same bytes as a local save, and back bit-identically.

class NpyS3Test : public EmbeddedIoTest {
 protected:
  NpyS3Test() {
    for (const char* v : kAwsVariables) env_.Unset(v);
    S3Server::Get().UseInEnvironment();
  }
  ScopedEnv env_;
};

TEST_F(NpyS3Test, SaveWritesTheBytesOfALocalSaveAndLoadReadsThemBack) {
  struct Case {
    Shape shape, blocks, read_blocks;
  };
  const std::vector<Case> cases = {{{7, 5}, {3, 2}, {2, 4}},
                                   {{13}, {4}, {5}},
                                   {{2, 3, 4}, {1, 2, 3}, {2, 1, 4}},
                                   {{}, {}, {}},
                                   {{0, 4}, {0, 2}, {}},
                                   {{1, 1}, {1, 1}, {}}};
  uint64_t seed = 1;
  for (DType t : AllDTypes()) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(c.shape));
      const NDArray want = SpecialNDArray(c.shape, t, seed++);
      const BlockArray x = from_ndarray(want, c.blocks);
      const std::string url = std::string("s3://") + S3Server::kBucket + "/npy/x.npy";
      io::save(x, url);
      io::save(x, dir_.file("x.npy"));
      EXPECT_EQ(io::ReadObject(url), ReadFileBytes(dir_.path() / "x.npy"));
      const BlockArray y = io::load(*ctx_, url, {.block_shape = c.read_blocks});
      EXPECT_SAME_BYTES(y.get(), want);
    }
  }
}

TEST_F(NpyS3Test, LargeArraysGoUpInPartsFromTheirNodesAndComeBackExactly) {
  // 12 MiB of float64 in blocks of 1000 rows: regrouped into parts of at least 5 MiB.
  const Shape shape{49'152, 32};
  const NDArray want = SpecialNDArray(shape, float64, 7);
  const BlockArray x = from_ndarray(want, {1000, 16});
  const std::string url = std::string("s3://") + S3Server::kBucket + "/npy/large.npy";
  const io::S3Counters before = io::S3CountersNow();
  io::save(x, url);
  EXPECT_EQ(io::S3CountersNow().parts_uploaded - before.parts_uploaded, 3);
  // Column blocks read spans of rows; Fortran order is covered by the local tests.
  EXPECT_SAME_BYTES(io::load(*ctx_, url, {.block_shape = {5000, 8}}).get(), want);
  EXPECT_SAME_BYTES(io::load(*ctx_, url).get(), want);
}

TEST_F(NpyS3Test, NumpyReadsTheObjectAndNumsReadsNumpysUpload) {
  const NDArray a = SpecialNDArray({6, 4}, int32, 9);
  const std::string url = std::string("s3://") + S3Server::kBucket + "/npy/np.npy";
  io::save(from_ndarray(a, {4, 3}), url);
  const std::string bytes = io::ReadObject(url);
  std::ofstream(dir_.file("down.npy"), std::ios::binary).write(bytes.data(), bytes.size());
  WriteRawBytes(a, dir_.path() / "a.raw");
  PythonResult r = RunPython(
      "import numpy as np\n"
      "a = np.load('down.npy')\n"
      "assert a.dtype == np.int32 and a.shape == (6, 4), (a.dtype, a.shape)\n"
      "assert a.tobytes() == open('a.raw', 'rb').read()\n"
      "np.save('f.npy', np.asfortranarray(np.arange(24.0).reshape(4, 6)).astype('>f8'))\n",
      dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string f = ReadFileBytes(dir_.path() / "f.npy");
  const std::string furl = std::string("s3://") + S3Server::kBucket + "/npy/f.npy";
  io::WriteObject(furl, f.data(), static_cast<int64_t>(f.size()));
  const NDArray got = io::load(*ctx_, furl, {.block_shape = {3, 4}}).get();
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 6; ++j) EXPECT_EQ(got.at<double>({i, j}), 6.0 * i + j);
  }
}

TEST_F(NpyS3Test, AFailedSaveLeavesTheOldObject) {
  const std::string url = std::string("s3://") + S3Server::kBucket + "/npy/kept.npy";
  const NDArray old = SpecialNDArray({4, 4}, float64, 3);
  io::save(from_ndarray(old, {2, 4}), url);
  auto src = from_ndarray(SpecialNDArray({4, 4}, float64, 4), {2, 4});
  auto impl = std::make_shared<BlockArray::Impl>(*src.impl());
  // A block whose task fails on its node (it reads a file that does not exist).
  impl->blocks[1] = detail::submit(
      *impl->ctx, "io.npy.read",
      {engine::Scalar{dir_.file("gone.npy")}, detail::int_scalar(128), detail::shape_scalar({4, 4}),
       detail::shape_scalar({2, 0}), detail::shape_scalar({2, 4}),
       detail::int_scalar(static_cast<int64_t>(float64)), engine::Scalar{false},
       engine::Scalar{false}},
      impl->blocks[1].node(), engine::OutputSpec{float64, {2, 4}});
  ExpectThrowWith<IOError>([&] { io::save(BlockArray(impl), url); }, {"gone.npy"});
  EXPECT_SAME_BYTES(io::load(*ctx_, url).get(), old);
}

TEST_F(NpyS3Test, LoadErrorsNameTheObject) {
  const std::string url = std::string("s3://") + S3Server::kBucket + "/npy/none.npy";
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, url); }, {url, "NoSuchKey"});
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, "s3://no-such-bucket-here/x.npy"); },
                           {"no-such-bucket-here", "NoSuchBucket"});
  io::WriteObject(url, "\x93NUMPY", 6);
  ExpectThrowWith<IOError>([&] { io::load(*ctx_, url); }, {url});
}

TEST_F(S3Test, RangedReadsOfAReplacedObjectRaiseIOError) {
  // What a block read checks: the object is still the version whose header the driver read.
  const std::string url = Url("replaced");
  io::WriteObject(url, "first", 5);
  const auto info = io::S3Head(io::ParseS3Url(url));
  ASSERT_TRUE(info.has_value());
  std::string buf(5, '\0');
  io::S3GetRange(io::ParseS3Url(url), buf.data(), 5, 0, info->etag);
  EXPECT_EQ(buf, "first");
  io::WriteObject(url, "other", 5);
  ExpectThrowWith<IOError>(
      [&] { io::S3GetRange(io::ParseS3Url(url), buf.data(), 5, 0, info->etag); },
      {url, "replaced"});
}

// ---- zarr on S3: chunks as objects under a prefix, metadata last.

TEST_F(NpyS3Test, ZarrStoresOnS3RoundTripAndZarrPythonReadsThem) {
  const std::string store = std::string("s3://") + S3Server::kBucket + "/zarr/a.zarr";
  uint64_t seed = 30;
  // Every dtype once and every compressor once (their full product runs on local files in
  // zarr_test.cc): each write replaces the same keys of the same store.
  std::vector<std::pair<std::string, DType>> cases;
  for (DType t : AllDTypes()) cases.emplace_back("zstd", t);
  for (const std::string compressor : {"", "zlib", "lz4", "blosc"}) {
    cases.emplace_back(compressor, float64);
    cases.emplace_back(compressor, int16);
  }
  for (const auto& [compressor, t] : cases) {
    {
      SCOPED_TRACE(compressor + " " + std::string(dtype_name(t)));
      const NDArray want = SpecialNDArray({11, 7}, t, seed++);
      io::write_zarr(from_ndarray(want, {4, 3}), store, {.compressor = compressor});
      EXPECT_SAME_BYTES(io::read_zarr(*ctx_, store, {.block_shape = {5, 7}}).get(), want);
      EXPECT_SAME_BYTES(io::read(*ctx_, store).get(), want);
    }
  }
  // Copied down key by key, the store opens in zarr-python with the same values.
  const NDArray want = SpecialNDArray({9, 6}, float64, 99);
  io::write_zarr(from_ndarray(want, {4, 4}), store,
                 {.compressor = "zstd", .order = 'F', .attributes = {{"k", int64_t{3}}}});
  for (const std::string& key : io::ListObjects(store)) {
    const std::string bytes = io::ReadObject(io::JoinPath(store, key));
    fs::create_directories((dir_.path() / "down" / key).parent_path());
    std::ofstream(dir_.path() / "down" / key, std::ios::binary).write(bytes.data(), bytes.size());
  }
  WriteRawBytes(want, dir_.path() / "want.raw");
  const PythonResult r = RunPython(
      "import zarr, numpy as np\n"
      "z = zarr.open('down', mode='r')\n"
      "a = np.ascontiguousarray(z[...])\n"
      "assert a.shape == (9, 6) and z.chunks == (4, 4) and z.order == 'F', (a.shape, z.chunks)\n"
      "assert a.tobytes() == open('want.raw', 'rb').read()\n"
      "assert z.attrs['k'] == 3\n"
      "print('zarr ok')\n",
      dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(std::get<int64_t>(io::read_zarr_attributes(store).at("k")), 3);
}

TEST_F(NpyS3Test, ZarrOnS3ErrorsNameTheStore) {
  const std::string store = std::string("s3://") + S3Server::kBucket + "/zarr/none.zarr";
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, store); }, {store});
  ExpectThrowWith<IOError>([&] { io::read_zarr(*ctx_, "s3://no-such-bucket-here/z.zarr"); },
                           {"no-such-bucket-here", "NoSuchBucket"});
}

// ---- HDF5 on S3: HDF5's read-only S3 driver for metadata and filtered data, ranged GETs for
// the rest.

TEST_F(NpyS3Test, Hdf5FilesOnS3ReadAsTheSameFileDoesLocally) {
  PythonResult r = RunPython(
      "import h5py, numpy as np\n"
      "a = np.arange(600.0).reshape(30, 20)\n"
      "with h5py.File('d.h5', 'w') as f:\n"
      "    f['contiguous'] = a\n"
      "    f.create_dataset('chunked', data=a.astype(np.int32), chunks=(7, 6))\n"
      "    f.create_dataset('gzip', data=a.astype(np.float32), chunks=(8, 20), "
      "compression='gzip')\n"
      "    f['contiguous'].attrs['units'] = 'm'\n"
      "    f['contiguous'].attrs['scale'] = 2.5\n",
      dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string local = dir_.file("d.h5");
  const std::string bytes = ReadFileBytes(local);
  const std::string url = std::string("s3://") + S3Server::kBucket + "/h5/d.h5";
  io::WriteObject(url, bytes.data(), static_cast<int64_t>(bytes.size()));
  for (const std::string ds : {"/contiguous", "/chunked", "/gzip"}) {
    SCOPED_TRACE(ds);
    for (const Shape& blocks : {Shape{}, Shape{9, 7}}) {
      const NDArray want = io::read_hdf5(*ctx_, local, ds, {.block_shape = blocks}).get();
      EXPECT_SAME_BYTES(io::read_hdf5(*ctx_, url, ds, {.block_shape = blocks}).get(), want);
    }
  }
  EXPECT_SAME_BYTES(io::read(*ctx_, url + ":/chunked").get(),
                    io::read_hdf5(*ctx_, local, "/chunked").get());
  const io::Attributes attrs = io::read_hdf5_attributes(url, "/contiguous");
  EXPECT_EQ(std::get<std::string>(attrs.at("units")), "m");
  EXPECT_EQ(std::get<double>(attrs.at("scale")), 2.5);
}

TEST_F(NpyS3Test, Hdf5OnS3ErrorsNameTheObject) {
  const std::string url = std::string("s3://") + S3Server::kBucket + "/h5/none.h5";
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, url, "/X"); }, {url, "NoSuchKey"});
  const std::string junk = std::string("s3://") + S3Server::kBucket + "/h5/junk.h5";
  io::WriteObject(junk, "not hdf5 at all", 15);
  ExpectThrowWith<IOError>([&] { io::read_hdf5(*ctx_, junk, "/X"); }, {junk});
  ExpectThrowWith<IOError>(
      [&] { io::write_hdf5(from_ndarray(SpecialNDArray({2}, float64, 1)), url, "/X"); },
      {url, "cannot write"});
}

}  // namespace
}  // namespace nums::testing
