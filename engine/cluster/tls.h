#pragma once
// TLS for the cluster's Thrift connections: the cluster CA and the certificates it issues
// (OpenSSL's EVP_PKEY / X509 API, no external tools), and the TLS contexts clients and servers
// build their sockets from.
//
// Every connection's server presents a certificate signed by the cluster CA and naming the
// addresses it is dialled at (IP literals as IP SANs, other names as DNS SANs); every client
// checks the chain against the CA and the address it dialled against the SANs. Clients present
// no certificate: the cluster token, sent after the handshake, authenticates them as before.
//
// Thrift 0.17's TSSLSocketFactory initialises OpenSSL when the first factory is made and cleans
// it up (CONF_modules_unload, ...) when the last one is destroyed, under everyone still using
// it. No factory is made here: the contexts are Thrift's SSLContext made directly, and OpenSSL
// 3 initialises itself once per process (OPENSSL_init_ssl).

#include <memory>
#include <string>
#include <vector>

#include <thrift/transport/TSSLSocket.h>

namespace nums::engine::cluster {

class ConnectionState;

/// The PEM text of a certificate and of its private key.
struct CertifiedKey {
  std::string cert_pem;
  std::string key_pem;
};

/// A new cluster CA: an EC P-256 key and a self-signed CA certificate valid for 10 years.
/// Throws ClusterError when OpenSSL fails.
CertifiedKey NewCertificateAuthority(const std::string& common_name);

/// A new EC P-256 key and a certificate signing request for it (PEM), for a daemon that has
/// its certificate issued elsewhere (a node asks its head).
struct KeyAndRequest {
  std::string key_pem;
  std::string request_pem;
};
KeyAndRequest NewKeyAndRequest(const std::string& common_name);

/// Issues a certificate (valid for one year, for TLS servers and clients) for the key of
/// `request_pem`, signed by `ca`, naming `names`: IP literals become IP SANs, the rest DNS SANs.
/// Throws ValueError for a request that does not parse or whose signature does not verify, or
/// for no names or a name that is neither an IP address nor a DNS name.
std::string IssueCertificate(const CertifiedKey& ca, const std::string& request_pem,
                             const std::vector<std::string>& names);

/// A new key and a certificate for it signed by `ca` naming `names` (see IssueCertificate).
CertifiedKey NewCertificate(const CertifiedKey& ca, const std::string& common_name,
                            const std::vector<std::string>& names);

/// The names a daemon's certificate carries: `advertise` (the host it registers or writes to
/// head.addr), `bind_host` unless it is a wildcard (0.0.0.0, ::), then every local interface
/// address and the machine's host name when it is one, and `extra`; no duplicates.
std::vector<std::string> CertificateNames(const std::string& bind_host,
                                          const std::string& advertise,
                                          const std::vector<std::string>& extra);

/// The subject alternative names of a PEM certificate ("IP:127.0.0.1", "DNS:localhost"), for
/// tests and logs.
std::vector<std::string> SubjectAltNames(const std::string& cert_pem);

/// The text of a PEM file; `what` names it in errors. A private key (`secret`) must not be
/// accessible by group or others, as the token file. Throws AuthError.
std::string ReadPemFile(const std::string& path, const char* what, bool secret);

/// Writes `text` to `path` with `mode` (0600 for keys) atomically: a temporary file renamed.
/// Throws IOError.
void WritePemFile(const std::string& path, const std::string& text, unsigned mode);

/// A client's TLS: verifies the peer's chain against the cluster CA and the dialled address
/// against its certificate's SANs.
class TlsClient {
 public:
  /// From the CA's PEM text; throws AuthError when it holds no certificate.
  static std::shared_ptr<const TlsClient> FromCaPem(const std::string& ca_pem);
  /// From a CA file (ReadPemFile); throws AuthError.
  static std::shared_ptr<const TlsClient> FromCaFile(const std::string& path);

  /// A TLS socket to host:port, not open yet.
  std::shared_ptr<apache::thrift::transport::TSocket> NewSocket(
      const std::string& host, int port,
      std::shared_ptr<apache::thrift::TConfiguration> config) const;
  /// Runs the handshake on a socket of NewSocket() that is open. A certificate that does not
  /// chain to the CA or does not name the address throws ClusterError with OpenSSL's reason;
  /// any other failure (a plaintext daemon closes the connection) a TTransportException naming
  /// `address`, which the caller's Call() turns into ClusterError (NodeLostError for a node).
  static void Handshake(apache::thrift::transport::TSocket& socket, const std::string& address);

 private:
  explicit TlsClient(std::shared_ptr<apache::thrift::transport::SSLContext> ctx)
      : ctx_(std::move(ctx)) {}
  std::shared_ptr<apache::thrift::transport::SSLContext> ctx_;
};

/// An accepted socket (plain or TLS) with the state of its connection.
class ServedConnection {
 public:
  virtual ~ServedConnection() = default;
  std::shared_ptr<ConnectionState> state;
};

/// A server's TLS: its certificate and key; accepted sockets shake hands on their first read.
class TlsServer {
 public:
  /// Throws AuthError when the key does not match the certificate or either does not parse.
  static std::shared_ptr<const TlsServer> FromPem(const CertifiedKey& key);
  /// From files (ReadPemFile; the key must be private to its owner).
  static std::shared_ptr<const TlsServer> FromFiles(const std::string& cert_file,
                                                    const std::string& key_file);

  /// The server side of accepted socket `fd`: a TSocket that is also a ServedConnection.
  std::shared_ptr<apache::thrift::transport::TSocket> Accepted(
      THRIFT_SOCKET fd, std::shared_ptr<THRIFT_SOCKET> interrupt,
      std::shared_ptr<apache::thrift::TConfiguration> config) const;

 private:
  explicit TlsServer(std::shared_ptr<apache::thrift::transport::SSLContext> ctx)
      : ctx_(std::move(ctx)) {}
  std::shared_ptr<apache::thrift::transport::SSLContext> ctx_;
};

/// How a process takes part in a TLS cluster: `enabled` turns TLS on for every connection it
/// makes and serves; `ca_file` is the cluster CA clients verify against; `cert_file` and
/// `key_file` are a daemon's own (empty for a node: its head issues one at start).
struct TlsOptions {
  bool enabled = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

}  // namespace nums::engine::cluster
