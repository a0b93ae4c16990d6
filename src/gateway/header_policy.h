#pragma once
/// Which headers cross the gateway, in each direction. Pure functions over http::Headers;
/// thread-safe. The names themselves live in gateway/protocol.h.
///
/// Upstream requests: MCP relays an allow-list (protocol.h kMcpRequestHeaders); the API
/// proxy relays everything except hop-by-hop headers (and those the Connection header
/// names), the client's own credentials and identity (Authorization, Cookie, Host, Origin),
/// framing (Content-Length, Transfer-Encoding, Expect: the body is re-framed) and
/// X-Request-Id (replaced by the gateway's). Neither relays `traceparent` or `tracestate`: the
/// proxy adds them itself when the traceparent is valid. The caller then sets the upstream
/// credential.
/// Client responses: everything the upstream sent except hop-by-hop and framing headers,
/// WWW-Authenticate and X-Request-Id, then the relay policy (applyRelayPolicy).

#include <string_view>

#include "http/headers.h"

namespace tether::gateway {

enum class Surface { kMcp, kApi };

/// True for a hop-by-hop header name (fixed list or Proxy-*), case-insensitive.
bool isHopByHop(std::string_view name);

/// True when `name` is listed in any Connection header of `headers` (its hop-by-hop
/// extension, RFC 9110 §7.6.1), case-insensitive.
bool namedByConnection(const http::Headers& headers, std::string_view name);

/// The headers of the client's request that may be relayed to the upstream of `surface`.
/// Credentials are never among them; the caller adds Authorization (or the API key header).
http::Headers upstreamRequestHeaders(Surface surface, const http::Headers& inbound);

/// The same selection without copying: calls `relay(header)` for each header of `inbound`
/// that upstreamRequestHeaders() would keep, in order, except one named `also_skip` (the
/// credential header the caller sets itself; empty: none).
template <class Relay>
void forEachUpstreamRequestHeader(Surface surface, const http::Headers& inbound,
                                  std::string_view also_skip, Relay&& relay);

namespace detail {
bool hasConnectionHeader(const http::Headers& headers);
bool relaysRequestHeader(Surface surface, const http::Headers& inbound, bool check_connection,
                         std::string_view name);
bool sameHeaderName(std::string_view a, std::string_view b);
}  // namespace detail

template <class Relay>
void forEachUpstreamRequestHeader(Surface surface, const http::Headers& inbound,
                                  std::string_view also_skip, Relay&& relay) {
  const bool check_connection = detail::hasConnectionHeader(inbound);
  for (const auto& h : inbound) {
    if (!detail::relaysRequestHeader(surface, inbound, check_connection, h.name)) continue;
    if (!also_skip.empty() && detail::sameHeaderName(h.name, also_skip)) continue;
    relay(h);
  }
}

/// Removes from an upstream response's headers everything the client must not see.
void filterResponseHeaders(http::Headers& headers);

/// The relay policy: what every relayed answer (whole or streamed) carries, so that nothing
/// an upstream sends runs with the authority of the portal's origin (the gateway routes
/// share it). filterResponseHeaders() plus: the upstream's Set-Cookie headers are dropped
/// unless the connection opts in (`forward_set_cookie`) and its X-Content-Type-Options is
/// dropped; the answer then carries kRelayPolicyHeaderLines (set as the response's
/// fixed_header_lines): `X-Content-Type-Options: nosniff` and `Content-Security-Policy:
/// sandbox` (the upstream's own policies stay and apply as well: a browser enforces all),
/// which gives an HTML answer an opaque origin with scripts disabled. One pass.
void relayResponseHeaders(http::Headers& headers, bool forward_set_cookie);

/// The header lines every relayed answer carries (see relayResponseHeaders()).
inline constexpr std::string_view kRelayPolicyHeaderLines =
    "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: sandbox\r\n";

}  // namespace tether::gateway
