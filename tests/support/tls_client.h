#pragma once
// A blocking TLS client for tests (OpenSSL's C API over a loopback socket): connects,
// verifies the server against a CA file, tells the certificate's fingerprint and the
// protocol, and exchanges raw HTTP. Every read waits at most the deadline given.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tether::testing {

class TlsClient {
 public:
  /// Connects to 127.0.0.1:`port` and handshakes (ok() tells whether it worked). `ca_file`:
  /// the CA that must have signed the server's certificate. `max_version`: 0 or
  /// TLS1_2_VERSION / TLS1_3_VERSION.
  TlsClient(uint16_t port, const std::string& ca_file, int max_version = 0,
            std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (max_version) SSL_CTX_set_max_proto_version(ctx_, max_version);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(deadline.count() / 1000),
               static_cast<suseconds_t>((deadline.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool ok() const { return ok_; }
  std::string protocol() const { return ok_ ? SSL_get_version(ssl_) : ""; }

  /// SHA-256 of the server's certificate, hex.
  std::string fingerprint() const {
    if (!ok_) return {};
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return {};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(cert, EVP_sha256(), md, &n);
    X509_free(cert);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
      out.push_back(kHex[md[i] >> 4]);
      out.push_back(kHex[md[i] & 15]);
    }
    return out;
  }

  /// Sends `request` and reads until the answer holds `needle` (or the peer closes, or a
  /// read waits past the deadline). Returns everything read.
  std::string exchange(std::string_view request, std::string_view needle) {
    std::string got;
    if (!ok_ || SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) {
      return got;
    }
    char buf[4096];
    while (got.find(needle) == std::string::npos) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ERR_clear_error();
    return got;
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace tether::testing
