// TLS on every connection of a cluster: certificates made with the OpenSSL API (checked by the
// `openssl` command as the reference), a real cluster of `nums` processes started with --tls
// on loopback, and in-process daemons for the cases a cluster cannot show (a plaintext daemon,
// a certificate for another address).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/head_daemon.h"
#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/tls.h"
#include "engine/cluster/transport.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/testing.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;
using engine::Block;
using engine::Device;
using engine::ObjectRef;
using engine::TaskSpec;
using engine::cluster::CertifiedKey;
using engine::cluster::Connection;
using engine::cluster::ThriftRuntime;
using namespace std::chrono_literals;

// `openssl verify -CAfile ca cert`: the reference for a chain of ours. Returns its output.
std::string OpenSslVerify(const fs::path& ca, const fs::path& cert, int* status) {
  const std::string cmd =
      "openssl verify -CAfile '" + ca.string() + "' '" + cert.string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (p != nullptr && fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  *status = p == nullptr ? -1 : pclose(p);
  return out;
}

void Write(const fs::path& path, const std::string& text, unsigned mode = 0600) {
  engine::cluster::WritePemFile(path.string(), text, mode);
}

unsigned ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(TlsCertificateTest, IssuedCertificatesChainToTheCaAndNameTheirAddresses) {
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  const CertifiedKey leaf = engine::cluster::NewCertificate(
      ca, "test node", {"127.0.0.1", "node-7.example", "::1", "10.1.2.3"});
  EXPECT_EQ(
      engine::cluster::SubjectAltNames(leaf.cert_pem),
      (std::vector<std::string>{"IP:127.0.0.1", "DNS:node-7.example", "IP:::1", "IP:10.1.2.3"}));
  Write(dir / "ca.pem", ca.cert_pem);
  Write(dir / "leaf.pem", leaf.cert_pem);
  int status = 0;
  std::string out = OpenSslVerify(dir / "ca.pem", dir / "leaf.pem", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("OK"), std::string::npos) << out;
  // Another CA's certificate does not verify against this one.
  const CertifiedKey other = engine::cluster::NewCertificateAuthority("other CA");
  Write(dir / "other.pem", other.cert_pem);
  out = OpenSslVerify(dir / "other.pem", dir / "leaf.pem", &status);
  EXPECT_NE(status, 0) << out;
  // A signing request issued by the CA keeps the requester's key: the key it made signs.
  const auto kr = engine::cluster::NewKeyAndRequest("requester");
  const std::string issued = engine::cluster::IssueCertificate(ca, kr.request_pem, {"localhost"});
  EXPECT_NO_THROW(engine::cluster::TlsServer::FromPem({issued, kr.key_pem}));
  EXPECT_THROW(engine::cluster::TlsServer::FromPem({issued, leaf.key_pem}), AuthError);
  EXPECT_EQ(engine::cluster::SubjectAltNames(issued), std::vector<std::string>{"DNS:localhost"});
}

TEST(TlsCertificateTest, BadRequestsAndNamesAreRefused) {
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  const auto kr = engine::cluster::NewKeyAndRequest("requester");
  EXPECT_THROW(engine::cluster::IssueCertificate(ca, "not a request", {"127.0.0.1"}), ValueError);
  // A request whose body was changed after it was signed.
  std::string tampered = kr.request_pem;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_THROW(engine::cluster::IssueCertificate(ca, tampered, {"127.0.0.1"}), ValueError);
  EXPECT_THROW(engine::cluster::IssueCertificate(ca, kr.request_pem, {}), ValueError);
  ExpectThrowWith<ValueError>(
      [&] { engine::cluster::IssueCertificate(ca, kr.request_pem, {"a,DNS:evil"}); },
      {"'a,DNS:evil'", "neither an IP address nor a DNS name"});
}

TEST(TlsCertificateTest, NamesCoverTheAdvertisedHostAndEveryInterfaceOfAWildcard) {
  const auto loop = engine::cluster::CertificateNames("127.0.0.1", "127.0.0.1", {"extra.name"});
  EXPECT_EQ(loop, (std::vector<std::string>{"127.0.0.1", "localhost", "extra.name"}));
  const auto any = engine::cluster::CertificateNames("0.0.0.0", "10.0.0.5", {});
  EXPECT_EQ(any.front(), "10.0.0.5");
  EXPECT_NE(std::find(any.begin(), any.end(), "127.0.0.1"), any.end());  // lo is an interface
  EXPECT_EQ(std::find(any.begin(), any.end(), "0.0.0.0"), any.end());
}

TEST(TlsCertificateTest, AKeyFileOpenToOthersIsRefused) {
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  Write(dir / "ca.key", ca.key_pem, 0644);
  ExpectThrowWith<AuthError>(
      [&] { engine::cluster::ReadPemFile((dir / "ca.key").string(), "TLS CA key", true); },
      {"ca.key", "0644", "chmod 600"});
  Write(dir / "ca.key", ca.key_pem, 0600);
  EXPECT_EQ(engine::cluster::ReadPemFile((dir / "ca.key").string(), "TLS CA key", true),
            ca.key_pem);
  EXPECT_THROW(engine::cluster::TlsClient::FromCaFile((dir / "missing.pem").string()), AuthError);
  Write(dir / "empty.pem", "no certificate here\n");
  EXPECT_THROW(engine::cluster::TlsClient::FromCaFile((dir / "empty.pem").string()), AuthError);
}

// A head and two nodes started with --tls: the head makes the CA, the nodes have it issue theirs.
class TlsClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LocalClusterOptions options;
    options.nodes = 2;
    options.head_args = {"--tls"};
    options.node_args = {"--tls"};
    cluster_ = new LocalCluster(options);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static std::string Token() { return engine::cluster::ReadToken(cluster_->token_file()); }
  static std::string Ca() { return (cluster_->state_dir() / "tls" / "ca.pem").string(); }
  static void ExpectAllRunning() {
    for (pid_t pid : std::vector<pid_t>(cluster_->pids())) {
      EXPECT_TRUE(cluster_->Running(pid)) << "pid " << pid;
    }
    EXPECT_EQ(cluster_->pids().size(), 3u);
  }
  static LocalCluster* cluster_;
};

LocalCluster* TlsClusterTest::cluster_ = nullptr;

TEST_F(TlsClusterTest, TheHeadKeepsItsCaAndKeysInTheStateDirectory) {
  const fs::path tls = cluster_->state_dir() / "tls";
  for (const char* f : {"ca.pem", "ca.key", "head.pem", "head.key"}) {
    EXPECT_TRUE(fs::exists(tls / f)) << f;
  }
  EXPECT_EQ(ModeOf(tls / "ca.key"), 0600u);
  EXPECT_EQ(ModeOf(tls / "head.key"), 0600u);
  EXPECT_EQ(ModeOf(tls), 0700u);
  int status = 0;
  const std::string out = OpenSslVerify(tls / "ca.pem", tls / "head.pem", &status);
  EXPECT_EQ(status, 0) << out;
  const auto sans = engine::cluster::SubjectAltNames(
      engine::cluster::ReadPemFile((tls / "head.pem").string(), "cert", false));
  EXPECT_NE(std::find(sans.begin(), sans.end(), "IP:127.0.0.1"), sans.end());
}

TEST_F(TlsClusterTest, ArrayWorkRunsEndToEndWithPullsBetweenNodes) {
  // Engine level: a block put on node 0 and copied by a task on node 1, which pulls it from
  // node 0 over a TLS connection between the nodes.
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token(), Ca());
  const int64_t n = (int64_t{3} << 20) / 8 + 11;  // 3 MiB and a bit: several chunks
  ObjectRef a = rt->Put(Ramp(n, 2.0), 0);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "hop"})[0];
  const Block got = rt->Get(b, 60s);
  EXPECT_EQ(Values(got), Values(Ramp(n, 2.0)));
  const auto nodes = rt->Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_GE(nodes[1].net_in_bytes, n * 8);
  EXPECT_GE(nodes[0].net_out_bytes, n * 8);

  // Array level through nums::init: a reduction and a product over blocks on both nodes,
  // against a dense reference.
  Context ctx =
      init({.address = cluster_->address(), .token_file = cluster_->token_file(), .tls_ca = Ca()});
  ASSERT_EQ(ctx.num_nodes(), 2);
  const NDArray x = RandomNDArray({37, 5}, float64, 11);
  const BlockArray bx = from_ndarray(x, {8, 5});  // the context just made
  const NDArray col_sums = bx.sum(0).get();
  const NDArray gram = matmul(bx.T(), bx).get();
  for (int64_t j = 0; j < 5; ++j) {
    double s = 0;
    for (int64_t i = 0; i < 37; ++i) s += x.at<double>({i, j});
    EXPECT_NEAR(col_sums.at<double>({j}), s, 1e-9);
    for (int64_t k = 0; k < 5; ++k) {
      double g = 0;
      for (int64_t i = 0; i < 37; ++i) g += x.at<double>({i, j}) * x.at<double>({i, k});
      EXPECT_NEAR(gram.at<double>({j, k}), g, 1e-9);
    }
  }
  ExpectAllRunning();
}

TEST_F(TlsClusterTest, APlaintextClientIsRefusedAndTheDaemonKeepsServing) {
  // Without the CA the driver speaks plaintext: the head drops it in the handshake.
  EXPECT_THROW(ThriftRuntime::Connect(cluster_->address(), Token()), ClusterError);
  EXPECT_THROW(init({.address = cluster_->address(), .token_file = cluster_->token_file()}),
               ClusterError);
  // A plaintext client to a node, too.
  auto rt = ThriftRuntime::Connect(cluster_->address(), Token(), Ca());
  const auto nodes = rt->Nodes();
  const auto [host, port] = engine::cluster::SplitAddress(nodes.at(1).address);
  Connection<wire::NodeClient> plain(host, port, Token(), true, 10s);
  EXPECT_ANY_THROW(plain.Invoke("Node.Ping", [](wire::NodeClient& c) { c.Ping(); }));
  // The daemons serve the TLS clients that follow.
  Connection<wire::NodeClient> tls(host, port, Token(), true, 10s,
                                   engine::cluster::TlsClient::FromCaFile(Ca()));
  EXPECT_NO_THROW(tls.Invoke("Node.Ping", [](wire::NodeClient& c) { c.Ping(); }));
  auto again = ThriftRuntime::Connect(cluster_->address(), Token(), Ca());
  EXPECT_EQ(again->Nodes().size(), 2u);
  ExpectAllRunning();
}

TEST_F(TlsClusterTest, AWrongCaIsRefused) {
  const fs::path dir = MakeTempDir();
  Write(dir / "other.pem", engine::cluster::NewCertificateAuthority("nums cluster CA").cert_pem,
        0644);
  ExpectThrowWith<ClusterError>(
      [&] { ThriftRuntime::Connect(cluster_->address(), Token(), (dir / "other.pem").string()); },
      {"TLS handshake with " + cluster_->address(), "certificate"});
  EXPECT_THROW(init({.address = cluster_->address(),
                     .token_file = cluster_->token_file(),
                     .tls_ca = (dir / "other.pem").string()}),
               ClusterError);
  ExpectAllRunning();
}

TEST_F(TlsClusterTest, TheTokenIsStillCheckedOverTls) {
  EXPECT_THROW(ThriftRuntime::Connect(cluster_->address(), "not-the-token", Ca()), AuthError);
  // And nothing but Authenticate passes before it, a certificate request included.
  const auto [host, port] = engine::cluster::SplitAddress(cluster_->address());
  auto tls = engine::cluster::TlsClient::FromCaFile(Ca());
  Connection<wire::HeadClient> wrong(host, port, "not-the-token", false, 10s, tls);
  EXPECT_THROW(wrong.Invoke("Head.ListNodes",
                            [](wire::HeadClient& c) {
                              std::vector<wire::NodeW> out;
                              c.ListNodes(out);
                            }),
               AuthError);
  ExpectAllRunning();
}

TEST_F(TlsClusterTest, TheNumsToolTalksTlsWithTlsAndIsRefusedWithout) {
  std::string out;
  const std::vector<std::string> base{"--state-dir", cluster_->state_dir().string(), "status",
                                      "--address", cluster_->address()};
  std::vector<std::string> args = base;
  args.push_back("--tls");
  ASSERT_EQ(RunNumsTool(args, &out), 0) << out;
  EXPECT_NE(out.find("2 node(s)"), std::string::npos) << out;
  EXPECT_EQ(out.find("unreachable"), std::string::npos) << out;
  EXPECT_NE(RunNumsTool(base, &out), 0) << out;
}

// `nums job submit --tls` reaches a TLS head, and the job is given the CA ($NUMS_TLS_CA): here the
// job is `nums status`, which then talks TLS to the head and both nodes.
TEST_F(TlsClusterTest, JobsAreSubmittedOverTlsAndTheirDriversConnectOverIt) {
  const std::string dir = cluster_->state_dir().string();
  std::string out;
  ASSERT_EQ(RunNumsTool({"--state-dir", dir, "job", "submit", "--tls", "--", NumsTool(),
                         "--state-dir", dir, "status"},
                        &out),
            0)
      << out;
  EXPECT_NE(out.find("2 node(s)"), std::string::npos) << out;
  EXPECT_EQ(out.find("unreachable"), std::string::npos) << out;
  EXPECT_NE(RunNumsTool({"--state-dir", dir, "job", "list"}, &out), 0) << out;
  ExpectAllRunning();
}

// An in-process head serving TLS with `cert` (or plaintext without), for one test.
std::unique_ptr<engine::cluster::HeadDaemon> StartHead(const fs::path& dir, const CertifiedKey* ca,
                                                       const CertifiedKey* cert) {
  engine::cluster::HeadDaemonOptions options;
  options.token = "token";
  if (cert != nullptr) {
    Write(dir / "ca.pem", ca->cert_pem, 0644);
    Write(dir / "head.pem", cert->cert_pem, 0644);
    Write(dir / "head.key", cert->key_pem, 0600);
    options.tls = {.enabled = true,
                   .ca_file = (dir / "ca.pem").string(),
                   .cert_file = (dir / "head.pem").string(),
                   .key_file = (dir / "head.key").string()};
  }
  return engine::cluster::HeadDaemon::Start(options);
}

std::vector<wire::NodeW> List(Connection<wire::HeadClient>& head) {
  std::vector<wire::NodeW> out;
  head.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(out); });
  return out;
}

TEST(TlsDaemonTest, ATlsClientToAPlaintextDaemonFailsWithAClearClusterError) {
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  Write(dir / "ca.pem", ca.cert_pem, 0644);
  auto head = StartHead(dir, nullptr, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(head->port());
  ExpectThrowWith<ClusterError>(
      [&] { ThriftRuntime::Connect(address, "token", (dir / "ca.pem").string()); },
      {"TLS handshake with " + address + " failed", "without --tls"});
  // The plaintext head still serves plaintext clients.
  Connection<wire::HeadClient> plain("127.0.0.1", head->port(), "token", false, 10s);
  EXPECT_TRUE(List(plain).empty());
}

TEST(TlsDaemonTest, ACertificateThatDoesNotNameTheDialledAddressIsRefused) {
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  const CertifiedKey elsewhere = engine::cluster::NewCertificate(ca, "head", {"10.9.8.7", "h.x"});
  auto head = StartHead(dir, &ca, &elsewhere);
  auto tls = engine::cluster::TlsClient::FromCaFile((dir / "ca.pem").string());
  Connection<wire::HeadClient> conn("127.0.0.1", head->port(), "token", false, 10s, tls);
  try {
    List(conn);
    ADD_FAILURE() << "a certificate for 10.9.8.7 was accepted for 127.0.0.1";
  } catch (const ClusterError& e) {
    EXPECT_NE(std::string(e.what()).find("IP address mismatch"), std::string::npos) << e.what();
  }
  // The same CA's certificate for the right address is accepted by the same client.
  const fs::path dir2 = MakeTempDir();
  const CertifiedKey here = engine::cluster::NewCertificate(ca, "head", {"127.0.0.1"});
  auto head2 = StartHead(dir2, &ca, &here);
  Connection<wire::HeadClient> ok("127.0.0.1", head2->port(), "token", false, 10s, tls);
  EXPECT_TRUE(List(ok).empty());
  // A DNS name is checked the same way.
  Connection<wire::HeadClient> by_name("localhost", head2->port(), "token", false, 10s, tls);
  EXPECT_THROW(List(by_name), ClusterError);
}

TEST(TlsDaemonTest, AHeadWithoutTheCaKeyIssuesNoCertificates) {
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  const CertifiedKey cert = engine::cluster::NewCertificate(ca, "head", {"127.0.0.1"});
  auto head = StartHead(dir, &ca, &cert);
  auto tls = engine::cluster::TlsClient::FromCaFile((dir / "ca.pem").string());
  Connection<wire::HeadClient> conn("127.0.0.1", head->port(), "token", false, 10s, tls);
  const auto kr = engine::cluster::NewKeyAndRequest("node");
  ExpectThrowWith<ClusterError>(
      [&] {
        conn.Invoke("Head.SignCertificate", [&](wire::HeadClient& c) {
          std::string out;
          c.SignCertificate(out, kr.request_pem, {"127.0.0.1"});
        });
      },
      {"holds no CA key", "--tls-cert"});
}

TEST(TlsDaemonTest, WritingToAClosedTlsConnectionRaisesNoSigpipe) {
  // A driver does not ignore SIGPIPE; OpenSSL's socket writes would raise it. With the default
  // disposition a regression ends this test program.
  signal(SIGPIPE, SIG_DFL);
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("test CA");
  const CertifiedKey cert = engine::cluster::NewCertificate(ca, "head", {"127.0.0.1"});
  auto head = StartHead(dir, &ca, &cert);
  auto tls = engine::cluster::TlsClient::FromCaFile((dir / "ca.pem").string());
  Connection<wire::HeadClient> conn("127.0.0.1", head->port(), "token", false, 10s, tls);
  EXPECT_TRUE(List(conn).empty());
  head.reset();  // closes the connection under the client
  std::this_thread::sleep_for(50ms);
  // The request goes out on a closed connection (the peer answers with a reset), the reply is
  // an end of file, and closing sends a close_notify into the reset socket: EPIPE, no signal.
  EXPECT_THROW(List(conn), ClusterError);
  EXPECT_THROW(List(conn), ClusterError);  // and the head is gone
}

// The operator's own PKI: a CA made beforehand, the head and each node given their files.
TEST(TlsOperatorCertificatesTest, DaemonsServeTheCertificatesTheyAreGiven) {
  const fs::path dir = MakeTempDir();
  const CertifiedKey ca = engine::cluster::NewCertificateAuthority("operator CA");
  Write(dir / "ca.pem", ca.cert_pem, 0644);
  std::vector<std::vector<std::string>> node_args;
  for (const char* name : {"head", "node0", "node1"}) {
    const CertifiedKey c = engine::cluster::NewCertificate(ca, name, {"127.0.0.1"});
    Write(dir / (std::string(name) + ".pem"), c.cert_pem, 0644);
    Write(dir / (std::string(name) + ".key"), c.key_pem, 0600);
    if (std::string(name) != "head") {
      node_args.push_back({"--tls-ca", (dir / "ca.pem").string(), "--tls-cert",
                           (dir / (std::string(name) + ".pem")).string(), "--tls-key",
                           (dir / (std::string(name) + ".key")).string()});
    }
  }
  LocalClusterOptions options;
  options.nodes = 2;
  options.head_args = {"--tls-ca",   (dir / "ca.pem").string(),
                       "--tls-cert", (dir / "head.pem").string(),
                       "--tls-key",  (dir / "head.key").string()};
  options.node_args_each = node_args;
  LocalCluster cluster(options);
  EXPECT_FALSE(fs::exists(cluster.state_dir() / "tls" / "ca.key"));
  auto rt =
      ThriftRuntime::Connect(cluster.address(), engine::cluster::ReadToken(cluster.token_file()),
                             (dir / "ca.pem").string());
  ObjectRef a = rt->Put(Ramp(1000, 1.0), 0);
  ObjectRef b = rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {a}, 1, "hop"})[0];
  EXPECT_EQ(Values(rt->Get(b, 60s)), Values(Ramp(1000, 1.0)));
  EXPECT_GE(rt->Nodes()[1].net_in_bytes, 8000);
}

}  // namespace
}  // namespace nums::testing
