#pragma once
/// What a webhook says and when: which event a state change is (the one rule for it), and
/// the JSON body. A body holds the connection, its state, the IdP host, the IdP's error
/// code, Tether's reason, the next attempt and a portal link; never a token, a secret, an
/// IdP response body or an `error_description`. Thread-safe (pure functions).

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/clock.h"
#include "store/types.h"

namespace tether::webhooks {

/// The event a state change is, if any: `before` is the row being replaced (nullopt: none,
/// i.e. not_connected), `after` the new one.
///   -> needs_reauth     needs_reauth (a reconnect is needed; also when a client Tether
///                       registered itself was rejected: the reconnect registers anew)
///   -> needs_client_fix needs_client_fix (the IdP rejected Tether's client credentials;
///                       an operator fixes the client settings, no re-consent)
///   -> refresh_failing  refresh_failing, once per episode (entering the state)
///   refresh_failing -> connected   recovered
///   not_connected / needs_reauth / needs_client_fix -> connected   connected (an operator
///                       fixed the client settings, or someone reconnected)
/// Staying in a state, and any change to not_connected, is no event.
std::optional<config::WebhookEvent> eventForChange(const std::optional<store::StateRecord>& before,
                                                   const store::StateRecord& after);

/// True when the IdP rejected Tether's client rather than the grant.
bool isClientRejection(std::string_view reason, std::string_view idp_code);

/// The facts a payload is built from.
struct PayloadFacts {
  std::string type;  // an event name, or "test"
  core::TimePoint at{};
  store::ConnectionKey key;  // empty for "test"
  std::string state;         // connection state name; empty for "test"
  std::string idp_host;
  std::string idp_error_code;  // RFC 6749 code; anything else is dropped
  std::string reason;          // Tether's reason code
  int consecutive_failures = 0;
  std::optional<core::TimePoint> next_attempt_at;
  std::optional<core::TimePoint> refresh_deadline;  // reauthorize_soon
  std::string portal_url;
};

/// The facts of a state change `event` for `after`. `public_url` has no trailing slash.
PayloadFacts factsFor(config::WebhookEvent event, const store::StateRecord& after,
                      std::string_view idp_host, std::string_view public_url, core::TimePoint now);

/// The JSON body, Standard Webhooks shape: {"type","timestamp","data":{...}}.
std::string buildPayload(const PayloadFacts& facts);

/// "https://tether.example/portal/connections/mcp/name" (kind and name percent-encoded).
std::string portalUrl(std::string_view public_url, const store::ConnectionKey& key);

}  // namespace tether::webhooks
