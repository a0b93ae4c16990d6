#pragma once
// Internal to the libcurl client (curl_http_client.cc): how a request with a ConnectGuard is
// pinned to the addresses its guard checked. Not for other modules (it includes curl.h).

#include <curl/curl.h>

#include <string>
#include <vector>

#include "http/http_client.h"

namespace tether::http::detail {

/// One guarded transfer's decision; lives on the stack of CurlHttpClient::send.
struct ConnectPin {
  UrlTarget target;
  const ConnectGuard* guard = nullptr;
  /// Every address the host resolved to, each passed by the guard. Empty when a proxy
  /// resolves the name (the client could not).
  std::vector<IpAddress> addresses;
  /// The configured proxy's addresses (the operator's choice, wherever they are).
  std::vector<IpAddress> proxy_addresses;
  /// The CURLOPT_RESOLVE entry "host:port:addr,..." pinning a name; empty for IP literals.
  std::string resolve_entry;
  /// Set by the socket callback when it refused an address.
  std::string refused;
};

/// What preparing a pin found: kNone, or the error to answer with (before any connection).
struct PinOutcome {
  TransportError error = TransportError::kNone;
  std::string message;
};

/// Resolves `pin.target.host` (unless it is an IP literal) with `resolver` within `timeout`,
/// has `pin.guard` check every address and fills the pin. `proxy`: the proxy setting that
/// may carry the request (empty: none); a name this process cannot resolve is then left to
/// the proxy, and the proxy's addresses are allowed for sockets.
PinOutcome preparePin(ConnectPin& pin, const HostResolver& resolver,
                      std::chrono::milliseconds timeout, const std::string& proxy);

/// CURLOPT_OPENSOCKETFUNCTION for guarded transfers (clientp: the ConnectPin): opens the
/// socket only for an address among the pin's checked ones or the proxy's (or, when the
/// name was left to a proxy and libcurl connects directly, one the guard passes).
curl_socket_t openPinnedSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address);

}  // namespace tether::http::detail
