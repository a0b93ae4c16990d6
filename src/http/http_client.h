#pragma once
/// The one outbound HTTP client that every IdP and upstream call goes through.
///
/// Guarantees: connect and total deadlines; TLS verification always on (system roots plus
/// an optional per-request CA bundle), with SNI and host-name verification; a maximum
/// response size (the transfer is aborted past it); no redirect is followed unless asked;
/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY honoured when `use_proxy` is set (IdP calls);
/// connections are reused between calls to the same origin. A request with a `connect_guard`
/// (discovery's SSRF guard) is decided on the address actually connected to: the client
/// resolves the host itself, has the guard check every address, then pins the connection to
/// the checked addresses and checks again the address of each socket it opens.
///
/// Thread-safety: implementations are safe to call from many threads at once. `send`
/// blocks the calling thread and must never run on a server I/O thread; `sendAsync` runs
/// the transfer on the client's own worker threads and calls `done` there.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/headers.h"
#include "http/host_resolver.h"
#include "http/ip_address.h"

namespace tether::http {

/// The scheme, host and port of a URL exactly as this client reads it (libcurl's URL
/// parser, the one that connects): the host lower case, percent-decoded, IPv6 without
/// brackets, and numeric IPv4 spellings (`0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1`)
/// as dotted decimal. Policies about where a URL leads must look at this host, not at
/// another parser's (boost::urls reads `127.0.0.1.evil.example` as host 127.0.0.1).
struct UrlTarget {
  std::string scheme;  // "http" or "https"
  std::string host;
  uint16_t port = 0;  // explicit, else the scheme's default
};

/// nullopt unless `url` is an absolute http(s) URL with a host.
std::optional<UrlTarget> parseClientUrl(std::string_view url);

/// Decides which addresses a request may connect to (the SSRF guard of discovery).
/// Implementations must be thread-safe (called on the client's worker threads).
class ConnectGuard {
 public:
  virtual ~ConnectGuard() = default;
  /// Empty when the client may connect to `address` for `target`; otherwise why not, as one
  /// sentence naming the URL's host and the address (shown to the operator, no secrets).
  virtual std::string refusal(const UrlTarget& target, const IpAddress& address) const = 0;
};

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
  /// When set: the host is resolved by the client (within connect_timeout), every address
  /// must pass the guard before any connection is made, the connection is pinned to those
  /// addresses on a fresh handle (no pooled connection is reused), redirects are never
  /// followed, and each socket's address is checked again before it connects. A refusal is
  /// kInvalidRequest with the guard's sentence. Through a proxy (use_proxy) the proxy
  /// connects: a name the client cannot resolve itself is then left to the proxy.
  std::shared_ptr<const ConnectGuard> connect_guard = nullptr;
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
  kInvalidRequest,  // bad URL or option on our side, or an address a connect_guard refused
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
  /// Resolves host names for guarded requests; empty: the system resolver. A test seam.
  HostResolver resolver = nullptr;
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
