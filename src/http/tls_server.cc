#include "http/tls_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

#include "http/tls_stream.h"

namespace tether::http {

namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2: forward secrecy and AEAD only (TLS 1.3 suites are OpenSSL's defaults).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The wire form of the one protocol the server speaks.
constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

// ALPN: http/1.1 when the client offers it; otherwise no ALPN answer (the handshake goes on).
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  unsigned int i = 0;
  while (i < inlen) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// The first OpenSSL error in the queue, as text (the queue is cleared).
std::string opensslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

int refusePassphrase(char*, int, int, void*) { return -1; }

std::string fingerprintOf(SSL_CTX* ctx) {
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!leaf || X509_digest(leaf, EVP_sha256(), md, &n) != 1) return {};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

core::Result<std::shared_ptr<ssl::context>> makeContext(const std::string& cert_file,
                                                        const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SSLv2 |
                                  SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return core::Error(core::Errc::kInternal, "TLS cipher list refused: " + opensslError());
  }
  SSL_CTX_set_alpn_select_cb(native, selectAlpn, nullptr);
  SSL_CTX_set_default_passwd_cb(native, refusePassphrase);
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    return core::Error(core::Errc::kConfig,
                       "server.tls.cert: cannot use \"" + cert_file + "\": " + opensslError());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return core::Error(core::Errc::kConfig,
                       "server.tls.key: cannot use \"" + key_file +
                           "\" (unreadable, encrypted or not PEM): " + opensslError());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return core::Error(core::Errc::kConfig, "server.tls.key: \"" + key_file +
                                                "\" is not the private key of the certificate "
                                                "in \"" +
                                                cert_file + "\"");
  }
  return ctx;
}

}  // namespace

core::Result<std::shared_ptr<TlsCredentials>> TlsCredentials::load(const std::string& cert_file,
                                                                   const std::string& key_file) {
  auto credentials = std::make_shared<TlsCredentials>();
  TETHER_TRY(credentials->reload(cert_file, key_file));
  return credentials;
}

core::Status TlsCredentials::reload(const std::string& cert_file, const std::string& key_file) {
  auto ctx = makeContext(cert_file, key_file);
  if (!ctx.ok()) return std::move(ctx).takeError();
  std::string fingerprint = fingerprintOf((*ctx)->native_handle());
  std::lock_guard lock(mu_);
  context_ = std::move(ctx).value();
  fingerprint_ = std::move(fingerprint);
  return {};
}

std::shared_ptr<boost::asio::ssl::context> TlsCredentials::current() const {
  std::lock_guard lock(mu_);
  return context_;
}

std::string TlsCredentials::fingerprint() const {
  std::lock_guard lock(mu_);
  return fingerprint_;
}

}  // namespace tether::http
