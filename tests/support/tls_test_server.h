#pragma once
/// A scriptable HTTP/1.1 test server (plain TCP or TLS) on 127.0.0.1 and an OS-chosen port,
/// for integration tests of HTTP clients. Each accepted connection runs the test's handler on
/// its own thread with blocking I/O, so a test can script any behaviour byte by byte:
/// answer, stall, close after reading the request, send an oversized body, act as a proxy.
///
/// Every request read through `TestConnection::readRequest` is recorded on the server
/// (method, target, headers, raw head, body) before the handler sees it, so once a client call
/// returns the test can assert what the server received without waiting.
///
/// Thread-safety: the accessors of TestServer may be called from any thread; a
/// TestConnection belongs to its handler's thread. The destructor (or stop()) closes the
/// listener and every connection, unblocking handlers, and joins all threads.
/// Boost.Asio is an implementation detail: this header does not include it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::testing {

struct ReceivedRequest {
  size_t connection_id = 0;  // 1-based, in accept order
  std::string method;
  std::string target;   // as on the request line: origin-form, absolute-form or authority
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string head;  // request line and header block exactly as received (ends CRLF CRLF)
  std::string body;  // de-chunked when sent chunked

  /// First value of `name` (case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
};

/// One accepted connection, used by a handler on its own thread.
class TestConnection {
 public:
  virtual ~TestConnection() = default;

  /// Reads one complete request (head and body, Content-Length or chunked) and records it on
  /// the server. nullopt when the peer closed, on an I/O or parse error, or when stopping.
  virtual std::optional<ReceivedRequest> readRequest() = 0;
  /// Reads and records only the request line and headers, leaving any body unread (to act
  /// on a request before its body arrives). `body` is empty.
  virtual std::optional<ReceivedRequest> readRequestHead() = 0;
  /// Writes all of `bytes`; false when the peer is gone.
  virtual bool write(std::string_view bytes) = 0;
  /// Reads and discards until the peer closes the connection (or the server stops). This is
  /// how a handler "stalls": it returns as soon as the client gives up.
  virtual void waitForPeerClose() = 0;
  /// Closes gracefully (TLS close_notify, then FIN).
  virtual void close() = 0;
  /// Closes abortively (TCP RST).
  virtual void abort() = 0;
  /// SNI host name the client sent (TLS only; empty otherwise).
  virtual std::string serverName() const = 0;
  virtual size_t id() const = 0;
};

struct TestServerOptions {
  bool tls = false;
  std::string cert_path;  // PEM, for tls
  std::string key_path;   // PEM, for tls
};

class TestServer {
 public:
  using Handler = std::function<void(TestConnection&)>;

  /// Binds 127.0.0.1:0 and starts accepting. Throws std::runtime_error if it cannot.
  explicit TestServer(Handler handler, TestServerOptions options = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const;
  /// "http://127.0.0.1:<port><path>" (https with tls); `host` replaces the authority's host.
  std::string url(std::string_view path = "/", std::string_view host = "127.0.0.1") const;
  /// TCP connections accepted so far.
  size_t acceptedConnections() const;
  /// TLS handshakes that failed (the client refused our certificate, for instance).
  size_t failedHandshakes() const;
  /// Every request read so far, in order.
  std::vector<ReceivedRequest> requests() const;
  /// Stops accepting, closes every connection and joins all threads. Idempotent.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// A handler answering every request of a keep-alive connection with `responder(request)`
/// (a complete raw response) until the peer closes or sends `Connection: close`.
TestServer::Handler serveHttp(std::function<std::string(const ReceivedRequest&)> responder);

/// A complete HTTP/1.1 response with a Content-Length matching `body`.
std::string httpResponse(int status, std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace tether::testing
