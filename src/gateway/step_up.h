#pragma once
/// What the caller of an MCP / API call hears when the upstream answered 403
/// `error="insufficient_scope"` (MCP 2025-11-25 "Step-Up Authorization Flow"): an
/// actionable error from the one error table naming the connection, the scopes the upstream
/// asked for and the connection's reconnect link. Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "core/result.h"
#include "lifecycle/token_provider.h"
#include "oauth/www_authenticate.h"

namespace tether::gateway {

/// The error for `outcome` (the lifecycle's decision) of `challenge` on connection `label`:
///   - kReauth: needs_reauth (424): reconnect at `reconnect_url`, Tether will ask for the
///     scopes named;
///   - kLimitReached: permission_denied (403): the upstream keeps refusing after N
///     re-authorizations, Tether stopped asking; what the operator can check;
///   - kStale: temporarily_unavailable (503): a newer token is in use, retry;
///   - a refused challenge (challenge.refused) or kRefused: upstream_error (502) saying why;
///   - kUnsupported: permission_denied (403) naming the scopes.
core::Error stepUpError(const lifecycle::StepUp& outcome, const oauth::InsufficientScope& challenge,
                        std::string_view label, std::string_view reconnect_url);

/// reauth | limit_reached | stale | refused | unsupported (for logs).
std::string_view stepUpKindName(lifecycle::StepUp::Kind kind);

}  // namespace tether::gateway
