#include "gateway/upstream_pool.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

namespace tether::gateway::upstream {

std::atomic<size_t>& openConnectionCount() {
  static std::atomic<size_t> count{0};
  return count;
}

std::atomic<size_t>& readBufferBytes() {
  static std::atomic<size_t> bytes{0};
  return bytes;
}

// Plain: one recv(MSG_PEEK | MSG_DONTWAIT). TLS: one non-blocking read through the stream
// (the socket is non-blocking: one recv() that finds nothing; a post-handshake message such
// as a session ticket is consumed and does not count), then nothing may be left in
// OpenSSL's buffers or in the input BIO Asio feeds it from.
bool reusable(Conn& c) {
  if (c.buffer.size() != 0) return false;
  if (!c.tls) {
    char byte;
    const ssize_t n = ::recv(c.lowest().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  SSL* ssl = c.tls->native_handle();
  if (SSL_has_pending(ssl) == 1) return false;
  char byte;
  boost::system::error_code ec;
  c.tls->read_some(asio::buffer(&byte, 1), ec);  // the socket is non-blocking
  if (ec != asio::error::would_block && ec != asio::error::try_again) return false;
  return SSL_has_pending(ssl) != 1 && BIO_ctrl_pending(SSL_get_rbio(ssl)) == 0;
}

std::shared_ptr<ssl::context> PoolService::sslContext(const std::string& ca_bundle,
                                                      std::string& error) {
  auto it = ssl_.find(ca_bundle);
  if (it != ssl_.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (!ca_bundle.empty()) {
    ctx->load_verify_file(ca_bundle, ec);
    if (ec) {
      error = "cannot load the CA bundle " + ca_bundle + ": " + ec.message();
      return nullptr;
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ssl_.emplace(ca_bundle, ctx);
  return ctx;
}

void PoolService::shutdown() {
  shut_down_ = true;
  idle_.clear();
  ssl_.clear();
}

// The calling thread's pool: asio::use_service locks the service registry and searches it;
// an I/O thread runs one io_context, so the last answer is kept per thread.
PoolService& poolOf(asio::io_context& ctx) {
  thread_local asio::io_context* t_ctx = nullptr;
  thread_local PoolService* t_pool = nullptr;
  if (t_ctx != &ctx) {
    t_pool = &asio::use_service<PoolService>(ctx);
    t_ctx = &ctx;
  }
  return *t_pool;
}

}  // namespace tether::gateway::upstream
