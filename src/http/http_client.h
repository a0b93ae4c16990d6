#pragma once
/// The one outbound HTTP client that every IdP and upstream call goes through.
///
/// Guarantees: connect and total deadlines; TLS verification always on (system roots plus
/// an optional per-request CA bundle), with SNI and host-name verification; a maximum
/// response size (the transfer is aborted past it); no redirect is followed unless asked;
/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY honoured when `use_proxy` is set (IdP calls);
/// connections are reused between calls to the same origin.
///
/// Thread-safety: implementations are safe to call from many threads at once. `send`
/// blocks the calling thread and must never run on a server I/O thread; `sendAsync` runs
/// the transfer on the client's own worker threads and calls `done` there.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "http/headers.h"

namespace tether::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{30'000};
  size_t max_response_bytes = 1 << 20;  // 1 MiB
  bool follow_redirects = false;
  std::string ca_bundle_path;  // optional PEM file trusted in addition to the system roots
  bool use_proxy = false;      // honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

/// Why a transfer produced no complete response.
enum class TransportError {
  kNone,
  kDns,             // host name did not resolve
  kConnect,         // refused, unreachable
  kTls,             // handshake or verification failed
  kTimeout,         // connect or total deadline passed
  kReset,           // connection dropped / reset / closed early
  kTooLarge,        // response exceeded max_response_bytes
  kProtocol,        // malformed HTTP from the peer
  kInvalidRequest,  // bad URL or option on our side
  kOther,
};

const char* transportErrorName(TransportError e);

struct ClientResult {
  TransportError error = TransportError::kNone;
  /// True once the whole request was handed to the peer: a failure after this point means
  /// the server may have acted on it (a one-time-use refresh token may be consumed).
  bool request_sent = false;
  std::string error_message;  // human text, never contains request secrets
  ClientResponse response;    // meaningful only when ok()

  bool ok() const { return error == TransportError::kNone; }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  /// Performs the request on the calling thread.
  virtual ClientResult send(const ClientRequest& request) = 0;

  /// Performs the request on the client's worker threads; `done` runs there, exactly once.
  /// Destroying the client aborts the transfer in flight and completes every queued call
  /// with kOther; `done` must therefore not destroy the client itself.
  virtual void sendAsync(ClientRequest request, std::function<void(ClientResult)> done) = 0;
};

struct HttpClientOptions {
  size_t worker_threads = 4;  // for sendAsync
  std::string user_agent = "tether";
};

/// The production client (libcurl, HTTP/1.1). Request headers are sent exactly as given (no
/// implicit Accept, Expect or Content-Type; Host, User-Agent and the body's Content-Length are
/// added; a caller's Content-Length or Transfer-Encoding is dropped, framing follows `body`).
/// Redirects, when followed, stop after 5 hops. With `use_proxy`, http_proxy /
/// HTTP_PROXY (http URLs), https_proxy / HTTPS_PROXY (https URLs), ALL_PROXY as a fallback and
/// NO_PROXY are read at each call. Connections and TLS sessions are pooled per CA bundle, so
/// trust granted by one bundle never carries over to a request without it.
std::unique_ptr<HttpClient> makeHttpClient(const HttpClientOptions& options = {});

}  // namespace tether::http
