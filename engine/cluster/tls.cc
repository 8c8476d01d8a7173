#include "engine/cluster/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "nums/errors.hpp"

namespace nums::engine::cluster {
namespace {

using apache::thrift::TConfiguration;
using apache::thrift::transport::SSLContext;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TSSLException;
using apache::thrift::transport::TSSLSocket;
using apache::thrift::transport::TTransportException;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using RequestPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BigNumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr long kCaDays = 3650;
constexpr long kCertDays = 365;

// OpenSSL's queued errors as text (and the queue cleared), for messages.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

[[noreturn]] void Fail(const std::string& what) {
  throw ClusterError("TLS: " + what + ": " + OpenSslErrors());
}

void InitOpenSsl() {
  static const bool done = [] {
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                         nullptr) != 1) {
      Fail("cannot initialise OpenSSL");
    }
    return true;
  }();
  (void)done;
}

KeyPtr NewKey() {
  InitOpenSsl();
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) Fail("cannot generate an EC P-256 key");
  return key;
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    Fail("cannot write a private key");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) Fail("cannot write a certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

BioPtr ReadBio(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) Fail("out of memory");
  return bio;
}

KeyPtr ParseKey(const std::string& pem) {
  InitOpenSsl();
  auto bio = ReadBio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw AuthError("TLS: the private key does not parse: " + OpenSslErrors());
  return key;
}

CertPtr ParseCert(const std::string& pem) {
  InitOpenSsl();
  auto bio = ReadBio(pem);
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw AuthError("TLS: the certificate does not parse: " + OpenSslErrors());
  return cert;
}

bool IsIp(const std::string& name) {
  in6_addr addr{};
  return inet_pton(AF_INET, name.c_str(), &addr) == 1 ||
         inet_pton(AF_INET6, name.c_str(), &addr) == 1;
}

// Letters, digits, '-' and '.' only: a name that goes into an extension's text unescaped.
bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.front() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

void SetName(X509_NAME* name, const std::string& common_name) {
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("nums cluster"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    Fail("cannot set the subject name '" + common_name + "'");
  }
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    Fail(std::string("cannot add the extension ") + OBJ_nid2sn(nid) + " = " + value);
  }
}

// A version 3 certificate with a random 127-bit serial, valid from an hour ago (clocks of
// machines differ) for `days`.
CertPtr NewCert(EVP_PKEY* subject_key, const X509_NAME* subject, long days) {
  CertPtr cert(X509_new());
  BigNumPtr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600) == nullptr ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    Fail("cannot make a certificate");
  }
  return cert;
}

// Signs `cert` as issued by `ca` for a server and client of the cluster naming `names`.
std::string SignLeaf(CertPtr cert, const CertifiedKey& ca, const std::vector<std::string>& names) {
  if (names.empty()) throw ValueError("TLS: a certificate needs at least one name");
  std::string san;
  for (const auto& name : names) {
    if (!san.empty()) san += ",";
    if (IsIp(name)) {
      san += "IP:" + name;
    } else if (IsDnsName(name)) {
      san += "DNS:" + name;
    } else {
      throw ValueError("TLS: '" + name + "' is neither an IP address nor a DNS name");
    }
  }
  const CertPtr ca_cert = ParseCert(ca.cert_pem);
  const KeyPtr ca_key = ParseKey(ca.key_pem);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    Fail("cannot set the issuer");
  }
  AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature");
  AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  AddExtension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  AddExtension(cert.get(), ca_cert.get(), NID_subject_alt_name, san);
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) Fail("cannot sign a certificate");
  return CertPem(cert.get());
}

std::shared_ptr<SSLContext> NewContext() {
  InitOpenSsl();
  auto ctx = std::make_shared<SSLContext>(apache::thrift::transport::SSLTLS);
  if (SSL_CTX_set_min_proto_version(ctx->get(), TLS1_2_VERSION) != 1) {
    Fail("cannot require TLS 1.2");
  }
  return ctx;
}

// A socket BIO that sends with MSG_NOSIGNAL. OpenSSL's own sends with no flags, so writing to
// a connection the peer closed would raise SIGPIPE and end a driver process that does not
// ignore it (Thrift's plain TSocket passes MSG_NOSIGNAL, and the library never changes a
// program's signal dispositions).
int FdOf(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

int BioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(FdOf(bio), data, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && BIO_sock_should_retry(-1) != 0) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int BioRead(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(FdOf(bio), out, static_cast<size_t>(len), 0);
  if (n == 0) BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
  if (n < 0 && BIO_sock_should_retry(-1) != 0) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long BioCtrl(BIO* bio, int cmd, long /*num*/, void* ptr) {
  switch (cmd) {
    case BIO_C_GET_FD:  // Thrift polls the descriptor it gets here
      if (ptr != nullptr) *static_cast<int*>(ptr) = FdOf(bio);
      return FdOf(bio);
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

const BIO_METHOD* NoSignalSocketMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "nums socket");
    if (m == nullptr || BIO_meth_set_write(m, BioWrite) != 1 ||
        BIO_meth_set_read(m, BioRead) != 1 || BIO_meth_set_ctrl(m, BioCtrl) != 1) {
      Fail("cannot make a socket BIO");
    }
    return m;
  }();
  return method;
}

// Replaces the descriptor BIOs SSL_set_fd gave `ssl` (the socket stays open: it is the
// TSocket's to close).
void UseNoSignalBio(SSL* ssl, int fd) {
  BIO* bio = BIO_new(NoSignalSocketMethod());
  if (bio == nullptr) Fail("cannot make a socket BIO");
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // one reference, for both directions
}

// Closing a connection whose handshake never finished: there is nothing to shut down, so no
// close_notify (Thrift's close would log "shutdown while in init" for each such connection).
void DropUnfinished(SSL*& ssl, bool handshaken) {
  if (ssl != nullptr && !handshaken) {
    SSL_free(ssl);
    ssl = nullptr;
  }
}

// The client end: checks the dialled address against the certificate inside the handshake, so
// that a mismatch fails it with OpenSSL's reason.
class ClientTlsSocket final : public TSSLSocket {
 public:
  ClientTlsSocket(std::shared_ptr<SSLContext> ctx, const std::string& host, int port,
                  std::shared_ptr<TConfiguration> config)
      : TSSLSocket(std::move(ctx), host, port, std::move(config)) {
    server(false);
  }
  // TSSLSocket's destructor closes with its own close(), after ours is gone.
  ~ClientTlsSocket() override { DropUnfinished(ssl_, checkHandshake()); }

  void Handshake() {
    if (ssl_ == nullptr) {
      initializeHandshakeParams();
      if (ssl_ == nullptr) throw TSSLException("cannot set the socket up for TLS");
      UseNoSignalBio(ssl_, static_cast<int>(socket_));
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    const std::string host = getHost();
    const int ok = IsIp(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (ok != 1) throw TSSLException("cannot check certificates for '" + host + "'");
    try {
      initializeHandshake();
    } catch (const TTransportException&) {
      const long rc = SSL_get_verify_result(ssl_);
      refused_ = rc != X509_V_OK;
      if (refused_) {
        throw TSSLException(std::string("its certificate is refused: ") +
                            X509_verify_cert_error_string(rc));
      }
      throw;
    }
  }
  /// Whether the last handshake failed on the peer's certificate.
  bool refused() const { return refused_; }
  void close() override {
    DropUnfinished(ssl_, checkHandshake());
    TSSLSocket::close();
  }

 private:
  bool refused_ = false;
};

class ServedTlsSocket final : public TSSLSocket, public ServedConnection {
 public:
  ServedTlsSocket(std::shared_ptr<SSLContext> ctx, THRIFT_SOCKET fd,
                  std::shared_ptr<THRIFT_SOCKET> interrupt, std::shared_ptr<TConfiguration> config)
      : TSSLSocket(std::move(ctx), fd, std::move(interrupt), std::move(config)) {
    server(true);
  }
  ~ServedTlsSocket() override { DropUnfinished(ssl_, checkHandshake()); }
  // The handshake starts on the first read or write; the BIO is swapped in just before.
  uint32_t read(uint8_t* buf, uint32_t len) override {
    Prepare();
    try {
      return TSSLSocket::read(buf, len);
    } catch (const TTransportException&) {
      failed_ = !checkHandshake();
      throw;
    }
  }
  // After a failed handshake the server's cleanup flushes and closes: nothing can be sent, and
  // trying again would only log the handshake's failure twice more.
  void write(const uint8_t* buf, uint32_t len) override {
    if (failed_) return;
    Prepare();
    TSSLSocket::write(buf, len);
  }
  uint32_t write_partial(const uint8_t* buf, uint32_t len) override {
    if (failed_) return len;
    Prepare();
    return TSSLSocket::write_partial(buf, len);
  }
  void flush() override {
    if (!failed_) TSSLSocket::flush();
  }
  void close() override {
    DropUnfinished(ssl_, checkHandshake());
    TSSLSocket::close();
  }

 private:
  void Prepare() {
    if (ssl_ != nullptr || !TSocket::isOpen()) return;
    initializeHandshakeParams();
    if (ssl_ == nullptr) {
      throw TTransportException(TTransportException::NOT_OPEN, "cannot set the socket up for TLS");
    }
    UseNoSignalBio(ssl_, static_cast<int>(socket_));
  }
  bool failed_ = false;  // the handshake failed: the connection is being dropped
};

}  // namespace

CertifiedKey NewCertificateAuthority(const std::string& common_name) {
  KeyPtr key = NewKey();
  using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
  NamePtr name(X509_NAME_new());
  if (!name) Fail("out of memory");
  SetName(name.get(), common_name);
  CertPtr cert = NewCert(key.get(), name.get(), kCaDays);
  if (X509_set_issuer_name(cert.get(), name.get()) != 1) Fail("cannot set the issuer");
  AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) Fail("cannot sign the CA certificate");
  return {CertPem(cert.get()), KeyPem(key.get())};
}

KeyAndRequest NewKeyAndRequest(const std::string& common_name) {
  KeyPtr key = NewKey();
  RequestPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) Fail("cannot make a signing request");
  SetName(X509_REQ_get_subject_name(req.get()), common_name);
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    Fail("cannot sign a signing request");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    Fail("cannot write a signing request");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return {KeyPem(key.get()), std::string(data, static_cast<size_t>(n))};
}

std::string IssueCertificate(const CertifiedKey& ca, const std::string& request_pem,
                             const std::vector<std::string>& names) {
  InitOpenSsl();
  auto bio = ReadBio(request_pem);
  RequestPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) throw ValueError("TLS: the signing request does not parse: " + OpenSslErrors());
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  // The signature proves that the requester holds the key the certificate will name.
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    throw ValueError("TLS: the signing request's signature does not verify: " + OpenSslErrors());
  }
  CertPtr cert = NewCert(key, X509_REQ_get_subject_name(req.get()), kCertDays);
  return SignLeaf(std::move(cert), ca, names);
}

CertifiedKey NewCertificate(const CertifiedKey& ca, const std::string& common_name,
                            const std::vector<std::string>& names) {
  KeyAndRequest kr = NewKeyAndRequest(common_name);
  return {IssueCertificate(ca, kr.request_pem, names), std::move(kr.key_pem)};
}

std::vector<std::string> CertificateNames(const std::string& bind_host,
                                          const std::string& advertise,
                                          const std::vector<std::string>& extra) {
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  };
  add(advertise);
  const bool wildcard = bind_host == "0.0.0.0" || bind_host == "::" || bind_host.empty();
  if (!wildcard) add(bind_host);
  if (wildcard || bind_host == "127.0.0.1" || bind_host == "::1" || bind_host == "localhost") {
    add("localhost");
  }
  if (wildcard) {
    // Every address of this machine's interfaces: peers may dial any of them.
    ifaddrs* addrs = nullptr;
    if (getifaddrs(&addrs) == 0) {
      for (ifaddrs* a = addrs; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_UP) == 0) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (a->ifa_addr->sa_family == AF_INET) {
          inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                    sizeof(text));
        } else if (a->ifa_addr->sa_family == AF_INET6) {
          const auto* in6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
          if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) continue;  // needs a scope to dial
          inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
        }
        add(text);
      }
      freeifaddrs(addrs);
    }
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0 && IsDnsName(host)) add(host);
  }
  for (const auto& name : extra) add(name);
  return names;
}

std::vector<std::string> SubjectAltNames(const std::string& cert_pem) {
  const CertPtr cert = ParseCert(cert_pem);
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const auto* s = n->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const auto* s = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16) {
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof(text));
        out.push_back(std::string("IP:") + text);
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string ReadPemFile(const std::string& path, const char* what, bool secret) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw AuthError(std::string("cannot read the ") + what + " '" + path + "'");
  }
  if (secret) {
    // As the token file: a key of ours that others may read is refused.
    const mode_t open_to = st.st_uid == geteuid() ? (S_IRWXG | S_IRWXO) : S_IRWXO;
    if ((st.st_mode & open_to) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
      throw AuthError(std::string("the ") + what + " '" + path + "' has mode " + mode +
                      ", open to others: refused; run chmod 600 '" + path + "'");
    }
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw AuthError(std::string("cannot read the ") + what + " '" + path + "'");
  return text.str();
}

void WritePemFile(const std::string& path, const std::string& text, unsigned mode) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw IOError("cannot write '" + tmp + "'");
  // The mode of open() is masked by the umask and ignored for a file that existed.
  bool ok = fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw IOError("cannot write '" + path + "'");
  }
}

std::shared_ptr<const TlsClient> TlsClient::FromCaPem(const std::string& ca_pem) {
  auto ctx = NewContext();
  X509_STORE* store = SSL_CTX_get_cert_store(ctx->get());
  auto bio = ReadBio(ca_pem);
  int count = 0;
  while (CertPtr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) Fail("cannot trust a CA certificate");
    ++count;
  }
  ERR_clear_error();  // the end of the text reads as an error
  if (count == 0) throw AuthError("TLS: the CA file holds no PEM certificate");
  SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_PEER, nullptr);
  return std::shared_ptr<const TlsClient>(new TlsClient(std::move(ctx)));
}

std::shared_ptr<const TlsClient> TlsClient::FromCaFile(const std::string& path) {
  try {
    return FromCaPem(ReadPemFile(path, "TLS CA file", /*secret=*/false));
  } catch (const AuthError& e) {
    throw AuthError(std::string(e.what()) + " (" + path + ")");
  }
}

std::shared_ptr<TSocket> TlsClient::NewSocket(const std::string& host, int port,
                                              std::shared_ptr<TConfiguration> config) const {
  return std::make_shared<ClientTlsSocket>(ctx_, host, port, std::move(config));
}

void TlsClient::Handshake(TSocket& socket, const std::string& address) {
  auto* tls = dynamic_cast<ClientTlsSocket*>(&socket);
  if (tls == nullptr) throw ClusterError("TLS: " + address + ": not a socket of TlsClient");
  try {
    tls->Handshake();
  } catch (const TTransportException& e) {
    const std::string message =
        "TLS handshake with " + address + " failed: " + e.what() +
        (tls->refused() ? ""
                        : " (a daemon without --tls, or a certificate not issued by this "
                          "cluster's CA for this address?)");
    // A refused certificate is a setting that differs, never a lost node; anything else (the
    // peer closed, reset or timed out) goes on as the transport failure it may be.
    if (tls->refused()) throw ClusterError(message);
    throw TTransportException(e.getType(), message);
  }
}

std::shared_ptr<const TlsServer> TlsServer::FromPem(const CertifiedKey& key) {
  auto ctx = NewContext();
  const CertPtr cert = ParseCert(key.cert_pem);
  const KeyPtr pkey = ParseKey(key.key_pem);
  if (SSL_CTX_use_certificate(ctx->get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx->get(), pkey.get()) != 1 ||
      SSL_CTX_check_private_key(ctx->get()) != 1) {
    throw AuthError("TLS: the private key does not match the certificate: " + OpenSslErrors());
  }
  // Clients present no certificate; the cluster token authenticates them.
  SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_NONE, nullptr);
  return std::shared_ptr<const TlsServer>(new TlsServer(std::move(ctx)));
}

std::shared_ptr<const TlsServer> TlsServer::FromFiles(const std::string& cert_file,
                                                      const std::string& key_file) {
  return FromPem({ReadPemFile(cert_file, "TLS certificate", /*secret=*/false),
                  ReadPemFile(key_file, "TLS private key", /*secret=*/true)});
}

std::shared_ptr<TSocket> TlsServer::Accepted(THRIFT_SOCKET fd,
                                             std::shared_ptr<THRIFT_SOCKET> interrupt,
                                             std::shared_ptr<TConfiguration> config) const {
  return std::make_shared<ServedTlsSocket>(ctx_, fd, std::move(interrupt), std::move(config));
}

}  // namespace nums::engine::cluster
