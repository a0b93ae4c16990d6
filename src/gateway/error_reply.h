#pragma once
/// The gateway's own answers — when it refuses a call or cannot complete it — built from
/// the one error table (core/errors.h), so every surface speaks alike:
///   - MCP POST: a JSON-RPC error object `{"jsonrpc":"2.0","id":<id>,"error":{"code":
///     <table jsonrpc code>,"message":...,"data":{"code":<name>,"connection":...}}}`, the id
///     copied from the request when it is a single request object (else null);
///   - everything else: `{"error":{"code":<name>,"message":...,"connection":...}}`;
///   - the HTTP status from the table (424 needs_reauth, 503 temporarily_unavailable, ...),
///     never 401 for a token problem: a 401 makes MCP clients start their own OAuth dance
///     against the gateway.
/// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "http/message.h"
#include "lifecycle/token_provider.h"

namespace tether::gateway {

/// How to shape an error for one request.
struct ErrorShape {
  bool jsonrpc = false;                        // an MCP POST: answer with a JSON-RPC error object
  std::string_view request_body;               // the JSON-RPC request, for its id
  std::string_view connection;                 // "kind/name", empty when unknown
  std::string_view reconnect_url;              // portal link, set for needs_reauth
  std::optional<int64_t> retry_after_seconds;  // sets Retry-After (and data.retry_after)
};

/// The response for `error` in `shape`.
http::Response errorResponse(const core::Error& error, const ErrorShape& shape);

/// The raw JSON text of a JSON-RPC request's `id` (a number or a string) when `body` is a
/// single request object with one; "null" otherwise (batches, notifications, garbage).
std::string jsonRpcId(std::string_view body);

/// <public_url>/portal/connections/<kind>/<name>
std::string reconnectUrl(std::string_view public_url, std::string_view kind, std::string_view name);

/// The actionable error for a token that cannot be had: names the connection and what to
/// do (needs_reauth: the portal link; temporarily unavailable: when to retry).
core::Error tokenError(const lifecycle::TokenError& error, const store::ConnectionKey& key,
                       std::string_view reconnect_url);

/// Seconds until `retry_at` (rounded up, at least 1); nullopt without a retry time.
std::optional<int64_t> retryAfterSeconds(const lifecycle::TokenError& error, core::TimePoint now);

}  // namespace tether::gateway
