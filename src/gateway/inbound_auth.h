#pragma once
/// The gateway's side of Tether as an OAuth resource server (DESIGN.md §11): which
/// audience a token for `/mcp/{name}` or `/api/{name}` must name, the RFC 9728
/// protected-resource metadata routes, and the answers to a caller whose own credentials
/// are missing or bad. These are about the *caller's* token; a missing upstream token keeps
/// its own answers (503/424, gateway/error_reply.h), never 401.
///
///   - no credential, or a bad token: 401 with
///     `WWW-Authenticate: Bearer
///     resource_metadata="<public_url>/.well-known/oauth-protected-resource/mcp/{name}"` (plus
///     `error="invalid_token"` when a token was presented), so MCP clients discover the issuer and
///     sign the user in by themselves;
///   - a valid token that lacks a required scope: 403 with
///     `Bearer error="insufficient_scope", scope="..."` and the same resource_metadata.
/// A refused token is logged at info with the check that failed (identity::checkName) and
/// counted in `tether_inbound_token_rejections_total{check}` (a closed set); never the
/// token itself.
///
/// Thread-safety: immutable after construction; use from any thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"
#include "gateway/error_reply.h"
#include "gateway/header_policy.h"
#include "http/router.h"
#include "identity/validator.h"

namespace tether::gateway {

struct InboundOptions {
  std::string public_url;  // without a trailing slash
  std::string issuer;
  /// Empty: each resource's own URL (<public_url>/mcp/{name}, <public_url>/api/{name}).
  std::string audience;
  std::vector<std::string> scopes_supported;  // the required scopes, shown in the PRM
};

class InboundAuth {
 public:
  InboundAuth(InboundOptions options, std::shared_ptr<identity::Validator> validator,
              core::MetricsRegistry* metrics);

  identity::Validator& validator() const { return *validator_; }

  /// <public_url>/mcp/{name} or /api/{name} (the name percent-encoded).
  std::string resourceUrl(Surface surface, std::string_view name) const;
  /// The audience a token for this resource must name.
  std::string audience(Surface surface, std::string_view name) const;
  /// <public_url>/.well-known/oauth-protected-resource/{mcp|api}/{name}
  std::string metadataUrl(Surface surface, std::string_view name) const;

  /// The answer to a caller refused for its credentials: `error` is the guard's
  /// kUnauthenticated (no token: a bare challenge) or the token's rejection.
  http::Response refusal(const core::Error& error, const ErrorShape& shape, Surface surface,
                         std::string_view name, const identity::Rejection* rejection) const;

  /// Logs and counts a refused token (`connection` is "kind/name" as the caller wrote it,
  /// cut to 64 bytes; `request_id` for correlation).
  void noteRejection(const identity::Rejection& r, std::string_view connection,
                     std::string_view request_id) const;

  /// GET /.well-known/oauth-protected-resource/mcp/{name} and .../api/{name}.
  void registerRoutes(http::Router& router) const;

 private:
  InboundOptions options_;
  std::shared_ptr<identity::Validator> validator_;
  std::vector<core::Counter*> rejections_;  // by identity::Check; empty without metrics
};

}  // namespace tether::gateway
