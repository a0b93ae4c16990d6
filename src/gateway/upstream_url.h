#pragma once
/// Where a connection's calls go: its configured URL split into the origin the connection
/// pool is keyed by and the base path and query that targets are built on. Pure functions;
/// thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::gateway {

/// One upstream origin (scheme, host, port) and the trust used to reach it.
struct UpstreamOrigin {
  bool tls = false;
  std::string host;  // DNS name (lower case) or IP literal (IPv6 without brackets)
  uint16_t port = 0;
  bool host_is_ip = false;  // no SNI for IP literals (RFC 6066 §3); verified as an IP SAN
  std::string host_header;  // Host header value: host[:port], IPv6 in brackets
  std::string ca_bundle;    // extra trusted PEM file (empty: system roots only)
  std::string key;          // pool key: identical keys may share a connection
};

/// A parsed connection URL.
struct UpstreamEndpoint {
  UpstreamOrigin origin;
  std::string base_path;   // encoded, never empty ("/" for the root)
  std::string base_query;  // encoded, without '?', often empty
};

/// Parses an absolute http(s) URL (as the config validated it). kInvalidArgument otherwise.
/// `ca_bundle` becomes part of the origin (and of its pool key).
core::Result<UpstreamEndpoint> parseUpstreamUrl(std::string_view url,
                                                std::string_view ca_bundle = {});

/// Request target for an MCP call: the base path and query, unchanged.
std::string mcpTarget(const UpstreamEndpoint& endpoint);

/// The raw (still percent-encoded) rest of an `/api/{name}/...` request path, with its
/// leading '/', or "" for `/api/{name}`. Segments are not decoded, so `%2F` stays encoded.
std::string_view apiRemainder(std::string_view raw_path);

/// Refuses a request target (as received) that must never reach an upstream: a byte outside
/// printable ASCII (control bytes, raw non-ASCII: they must be percent-encoded) or a
/// `#fragment` (never part of a request target, RFC 9112 §3.2). kInvalidArgument naming the
/// problem; OK otherwise.
core::Status checkRequestTarget(std::string_view target);

/// Request target for an API call: base path joined with `remainder` (as apiRemainder gives
/// it) and the base query merged with the client's `query`. kInvalidArgument when the
/// remainder holds a "." or ".." segment (also percent-encoded), a backslash or an encoded
/// slash or backslash (%2F, %5C): upstreams that decode or normalise them would step outside
/// the connection's base path.
core::Result<std::string> apiTarget(const UpstreamEndpoint& endpoint, std::string_view remainder,
                                    std::string_view query);

}  // namespace tether::gateway
