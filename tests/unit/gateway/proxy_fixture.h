#pragma once
// Helpers for tests that drive the proxy end to end inside one process: a raw client that
// sends one request and parses the answer, a one-shot gate for upstream handler threads,
// bounded polling, and connection configs. One `using namespace testing::proxy;` also
// brings the support types these tests name (Gateway, TestServer, ...).

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "config/config.h"
#include "http/headers.h"
#include "support/raw_http.h"
#include "support/tls_test_server.h"
#include "unit/gateway/test_gateway.h"

namespace tether::testing::proxy {

using namespace std::chrono_literals;
using ::tether::testing::Gateway;
using ::tether::testing::httpResponse;
using ::tether::testing::RawConnection;
using ::tether::testing::ReceivedRequest;
using ::tether::testing::serveHttp;
using ::tether::testing::TestConnection;
using ::tether::testing::TestServer;

/// One answer as the client saw it.
struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;  // de-chunked
  bool chunked = false;
  bool complete_chunked = false;  // a chunked body that ended with its last chunk
  bool closed = false;            // fetch(): the gateway closed the connection within the deadline
  std::string raw;

  std::optional<std::string> header(std::string_view name) const {
    auto v = http::findHeader(headers, name);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  }
};

inline Reply parseReply(const std::string& raw) {
  Reply r;
  r.raw = raw;
  r.status = statusOf(raw);
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::string_view head(raw.data(), end);
  head.remove_prefix(std::min(head.size(), head.find("\r\n") + 2));
  while (!head.empty()) {
    const size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
    }
    if (eol == std::string_view::npos) break;
    head.remove_prefix(eol + 2);
  }
  std::string_view body(raw);
  body.remove_prefix(end + 4);
  auto te = http::findHeader(r.headers, "Transfer-Encoding");
  r.chunked = te && *te == "chunked";
  if (!r.chunked) {
    r.body = std::string(body);
    return r;
  }
  while (!body.empty()) {
    const size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) break;
    const size_t n = std::strtoul(std::string(body.substr(0, eol)).c_str(), nullptr, 16);
    if (n == 0) {
      r.complete_chunked = body.substr(eol) == "\r\n\r\n";
      break;
    }
    r.body.append(body.substr(eol + 2, n));
    body.remove_prefix(std::min(body.size(), eol + 2 + n + 2));
  }
  return r;
}

inline std::string requestText(std::string_view method, std::string_view path,
                               const http::Headers& headers, std::string_view body) {
  std::string req = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: gw\r\n";
  for (const auto& h : headers) req += h.name + ": " + h.value + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  req += body;
  return req;
}

/// Sends one request on a new connection and reads until the gateway closes it (bounded).
/// Reply::closed tells whether it did so in time; a connection that failed gives status 0.
inline Reply fetch(uint16_t port, std::string_view method, std::string_view path,
                   const http::Headers& headers = {}, std::string_view body = {},
                   std::chrono::milliseconds deadline = 10s) {
  RawConnection c(port);
  if (!c.connected()) return {};
  c.send(requestText(method, path, headers, body));
  const bool closed = c.readUntilClosed(deadline);
  Reply r = parseReply(c.received());
  r.closed = closed;
  return r;
}

inline const http::Headers kMcpPostHeaders = {{"Content-Type", "application/json"},
                                              {"Accept", "application/json, text/event-stream"}};

/// Waits (bounded) for a condition that has no notification of its own.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = 5s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// A one-shot gate a thread waits on (bounded) until another opens it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds deadline = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

inline std::string chunk(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

inline config::ConnectionConfig connection(config::ConnectionKind kind, std::string name,
                                           std::string url, config::AuthMode mode) {
  config::ConnectionConfig c;
  c.kind = kind;
  c.name = std::move(name);
  c.url = std::move(url);
  c.auth.mode = mode;
  return c;
}

inline config::ConnectionConfig bearerMcp(std::string name, std::string url,
                                          std::string token = "upstream-secret") {
  auto c = connection(config::ConnectionKind::kMcp, std::move(name), std::move(url),
                      config::AuthMode::kBearer);
  c.auth.bearer_token = std::move(token);
  return c;
}

inline config::ConnectionConfig bearerApi(std::string name, std::string url,
                                          std::string token = "upstream-secret") {
  auto c = bearerMcp(std::move(name), std::move(url), std::move(token));
  c.kind = config::ConnectionKind::kApi;
  return c;
}

inline config::ConnectionConfig openApi(std::string name, std::string url) {
  return connection(config::ConnectionKind::kApi, std::move(name), std::move(url),
                    config::AuthMode::kNone);
}

inline std::string jsonrpc(int id, std::string_view method) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) +
         R"(","params":{}})";
}

}  // namespace tether::testing::proxy
