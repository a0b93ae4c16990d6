#pragma once
/// Inbound TLS: the certificate and key the listeners present (`server.tls`), reloadable
/// while they run.
///
/// Policy (one place): TLS 1.2 and 1.3 only; for 1.2 ECDHE key exchange with AEAD ciphers
/// (AES-GCM, ChaCha20-Poly1305) in the server's order; for 1.3 OpenSSL's defaults; no
/// compression, no renegotiation; ALPN answers `http/1.1` (a client offering only other
/// protocols gets no ALPN answer and speaks HTTP/1.1 or leaves).
///
/// Thread-safety: every member may be called from any thread. A reload swaps the context
/// that the next handshakes use; connections already established keep theirs.

#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"

namespace boost::asio::ssl {
class context;
}

namespace tether::http {

class TlsCredentials {
 public:
  /// Reads the PEM certificate chain and private key. kConfig naming the file and the
  /// problem (unreadable, not PEM, encrypted, key not matching the certificate).
  static core::Result<std::shared_ptr<TlsCredentials>> load(const std::string& cert_file,
                                                            const std::string& key_file);

  /// Reads the files again (possibly other paths). On success new handshakes use them; on
  /// failure nothing changes and the error says why.
  core::Status reload(const std::string& cert_file, const std::string& key_file);

  /// The context for a new connection (kept alive by the connection while it lasts).
  std::shared_ptr<boost::asio::ssl::context> current() const;

  /// SHA-256 fingerprint of the leaf certificate in use, as "AB:CD:...", for logs.
  std::string fingerprint() const;

  /// Use load().
  TlsCredentials() = default;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::string fingerprint_;
};

}  // namespace tether::http
