#pragma once
/// Protocol constants of the data plane, in one place: the MCP Streamable HTTP header names
/// the gateway relays, the hop-by-hop headers it never relays (RFC 9110 §7.6.1), the
/// credentials it never forwards upstream, and the routes and portal path it serves.

#include <array>
#include <string_view>

namespace tether::gateway {

// --- MCP Streamable HTTP (2025-06-18, 2025-11-25 and the sessionless 2026-07-28 era) ------
inline constexpr std::string_view kMcpSessionId = "Mcp-Session-Id";
inline constexpr std::string_view kMcpProtocolVersion = "MCP-Protocol-Version";
inline constexpr std::string_view kLastEventId = "Last-Event-ID";
inline constexpr std::string_view kMcpMethod = "Mcp-Method";
inline constexpr std::string_view kMcpName = "Mcp-Name";

// --- General HTTP ---------------------------------------------------------------------
inline constexpr std::string_view kAccept = "Accept";
inline constexpr std::string_view kAuthorization = "Authorization";
inline constexpr std::string_view kConnection = "Connection";
inline constexpr std::string_view kContentLength = "Content-Length";
inline constexpr std::string_view kContentType = "Content-Type";
inline constexpr std::string_view kCookie = "Cookie";
inline constexpr std::string_view kHost = "Host";
inline constexpr std::string_view kOrigin = "Origin";
inline constexpr std::string_view kRetryAfter = "Retry-After";
inline constexpr std::string_view kSetCookie = "Set-Cookie";
inline constexpr std::string_view kSetCookie2 = "Set-Cookie2";
inline constexpr std::string_view kContentTypeOptions = "X-Content-Type-Options";
inline constexpr std::string_view kContentSecurityPolicy = "Content-Security-Policy";
inline constexpr std::string_view kSecFetchSite = "Sec-Fetch-Site";
/// The policy every relayed answer gets: an opaque origin, no scripts, no forms, no popups.
inline constexpr std::string_view kRelayedContentPolicy = "sandbox";
inline constexpr std::string_view kTransferEncoding = "Transfer-Encoding";
inline constexpr std::string_view kWwwAuthenticate = "WWW-Authenticate";
inline constexpr std::string_view kRequestId = "X-Request-Id";
/// W3C Trace Context: relayed unchanged when the traceparent is valid, else both dropped.
inline constexpr std::string_view kTraceparent = "traceparent";
inline constexpr std::string_view kTracestate = "tracestate";
inline constexpr std::string_view kEventStream = "text/event-stream";
inline constexpr std::string_view kApplicationJson = "application/json";

/// Request headers relayed to an MCP upstream (an allow-list: everything else the client
/// sent stays with the gateway). Mcp-Session-Id and MCP-Protocol-Version travel both ways.
inline constexpr std::array<std::string_view, 7> kMcpRequestHeaders = {
    kMcpSessionId, kMcpProtocolVersion, kLastEventId, kAccept, kContentType, kMcpMethod, kMcpName};

/// Hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy Keep-Alive and Proxy-Connection):
/// never relayed in either direction, nor any header that Connection names. Proxy-*
/// headers (Proxy-Authorization, Proxy-Authenticate, ...) are dropped by prefix.
inline constexpr std::array<std::string_view, 6> kHopByHopHeaders = {
    "Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade"};
inline constexpr std::string_view kProxyHeaderPrefix = "Proxy-";

/// Request headers that carry the client's own credentials or identify the client's view of
/// the gateway: never forwarded upstream (the gateway sets Authorization itself).
inline constexpr std::array<std::string_view, 4> kClientOnlyRequestHeaders = {
    kAuthorization, kCookie, kHost, kOrigin};

/// Response headers the gateway does not relay: framing (the server sets its own),
/// the upstream's authentication challenge (the client cannot answer it — Tether holds
/// the credentials — and an MCP client would start OAuth against the gateway) and the
/// upstream's request id (the gateway echoes its own).
inline constexpr std::array<std::string_view, 4> kDroppedResponseHeaders = {
    kContentLength, kTransferEncoding, kWwwAuthenticate, kRequestId};

// --- Routes and links --------------------------------------------------------------------
inline constexpr std::string_view kMcpRoute = "/mcp/{name}";
inline constexpr std::string_view kApiRoute = "/api/{name}/{path*}";
inline constexpr std::string_view kApiPrefix = "/api/";
/// Where an operator reconnects a connection: <public_url>/portal/connections/<kind>/<name>.
inline constexpr std::string_view kPortalConnectionsPath = "/portal/connections/";

/// The actor recorded with a refresh that a proxied call causes.
inline constexpr std::string_view kToolCallActor = "system:tool-call";

}  // namespace tether::gateway
