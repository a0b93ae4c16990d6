#pragma once
/// The HTTP/1.1 server (Boost.Beast on Asio with C++20 coroutines behind this header).
///
/// Keep-alive; per-request limits (header bytes -> 431, body bytes -> 413); read and idle
/// timeouts so a slow client cannot hold a worker; X-Request-Id accepted or generated and
/// echoed; JSON 404 and 405 with Allow; request metrics (count by route and status,
/// duration histogram); graceful stop that drains in-flight requests for a bounded time.
/// Thread-safety: start/stop from one thread; handlers run on the I/O threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/result.h"
#include "http/router.h"
#include "http/tls_server.h"

namespace tether::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (tests)
  size_t io_threads = 2;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{15'000};   // whole request (headers + body)
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive between requests
  std::chrono::milliseconds write_timeout{30'000};  // a stalled reader of our response
  std::chrono::milliseconds drain_timeout{10'000};  // graceful stop bound
  /// Connections served at once (`server.max_connections`); past it the server stops
  /// accepting until one closes (the kernel's backlog holds the rest).
  size_t max_connections = 10'000;
  /// Set: the listener speaks TLS only, with these credentials (shared by the listeners and
  /// reloaded in place: each new connection takes the current ones).
  std::shared_ptr<TlsCredentials> tls;
  /// The access log (`log.access`; http/request_log.h).
  bool access_log = true;
};

class Server {
 public:
  /// `router` and `metrics` must outlive the server. `metrics` may be null.
  Server(ServerOptions options, const Router& router, core::MetricsRegistry* metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts the I/O threads. kUnavailable when the address cannot be bound.
  core::Status start();
  /// The bound port (after start).
  uint16_t port() const;
  /// Stops accepting, lets in-flight requests finish for up to drain_timeout, then closes
  /// everything and joins the threads. Idempotent.
  void stop();
  /// Runs `fn` on an I/O thread after `delay` (real time). For handlers that answer later.
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  /// Number of connections currently open (tests).
  size_t openConnections() const;
  /// Turns the access log on or off (SIGHUP applies `log.access`). Any thread.
  void setAccessLog(bool on);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::http
