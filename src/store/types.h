#pragma once
/// Plain data types the store reads and writes. Secrets appear here in the clear; the
/// store seals them on the way to the database and opens them on the way back.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "store/event_type.h"

namespace tether::store {

using core::Duration;
using core::TimePoint;

/// A connection's identity: kind ("mcp" | "api") and name.
struct ConnectionKey {
  std::string kind;
  std::string name;

  /// "kind/name", for messages and logs.
  std::string str() const { return kind + "/" + name; }
  friend auto operator<=>(const ConnectionKey&, const ConnectionKey&) = default;
};

/// One entry of the `connections` registry the app syncs from configuration at start.
struct ConnectionInfo {
  ConnectionKey key;
  std::string auth_mode;  // none | bearer | api_key | oauth
  bool has_oauth = false;
  std::string idp_host;  // informational; empty when unknown
};

/// The stored OAuth tokens of one connection (one row per (kind, name)).
struct TokenRecord {
  ConnectionKey key;
  std::string access_token;                  // sealed at rest
  std::optional<std::string> refresh_token;  // sealed at rest; SHA-256 fingerprint beside it
  std::string token_type = "Bearer";
  std::string scope;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> refresh_expires_at;  // as disclosed by the IdP
  TimePoint authenticated_at{};
  std::string authenticated_by;  // e.g. "admin:alice"
  std::optional<TimePoint> last_refreshed_at;
  std::string idp_host;
  /// Compare-and-swap version, assigned by the store on every write. Versions come from
  /// one store-wide counter, so they only grow, even across delete and re-create (no ABA).
  int64_t version = 0;
  TimePoint updated_at{};  // set by the store
};

/// Lifecycle state of a connection (DESIGN.md §4). kNeedsClientFix: the IdP rejected
/// Tether's client credentials (invalid_client, unauthorized_client); the grant is kept and
/// refreshed again when the connection's client settings change (migration 9).
enum class ConnectionState {
  kNotConnected,
  kConnected,
  kRefreshFailing,
  kNeedsReauth,
  kNeedsClientFix
};

/// "not_connected" | "connected" | "refresh_failing" | "needs_reauth" | "needs_client_fix".
std::string_view connectionStateName(ConnectionState state);
std::optional<ConnectionState> parseConnectionState(std::string_view name);

/// The connection-state row the lifecycle writes and the keeper schedules from.
struct StateRecord {
  ConnectionKey key;
  ConnectionState state = ConnectionState::kNotConnected;
  std::string reason;           // e.g. "invalid_grant", "no_refresh_token"
  std::string last_error_code;  // last IdP error code (RFC 6749 §5.2), empty if none
  int consecutive_failures = 0;
  std::optional<TimePoint> first_failure_at;
  std::optional<TimePoint> next_attempt_at;
  std::optional<TimePoint> revoked_at;
  std::optional<TimePoint> next_due_at;  // indexed: the keeper's "due set"
  TimePoint updated_at{};                // set by the store
  /// MCP step-up: the scopes the next connect flow asks for on top of its own selection
  /// (the union of the granted and the challenged scopes), empty when no upstream asked.
  std::string step_up_scopes;
  /// Consecutive insufficient_scope answers for scopes already asked for (lifecycle
  /// Settings::max_step_ups bounds the re-authorizations they cause).
  int step_ups = 0;
};

/// A member of the due set.
struct DueConnection {
  ConnectionKey key;
  TimePoint next_due{};
};

/// One auth event (the operator's history).
struct AuthEvent {
  int64_t id = 0;  // assigned by the store; orders events with the same time
  TimePoint at{};  // the epoch (default) means "now" by the store's clock
  ConnectionKey key;
  EventType type = EventType::kConnectStarted;
  std::string actor;  // system:background-refresh | system:tool-call | admin:<id>
  std::string idp_host;
  std::string correlation_id;
  std::string detail_json = "{}";  // a JSON object; sanitized by the events module
};

/// One line of the bulk OAuth health list.
struct HealthRow {
  ConnectionKey key;
  std::string auth_mode;
  bool has_oauth = false;
  /// From the state row; without one: connected when a token exists, else not_connected.
  ConnectionState state = ConnectionState::kNotConnected;
  bool needs_reauth = false;
  bool token_acquired = false;                 // a token row exists
  std::optional<TimePoint> token_acquired_at;  // its authenticated_at
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> refresh_expires_at;
  std::optional<TimePoint> last_refreshed_at;
  /// The last IdP error code, only while the newest lifecycle event (see `eventOutcome`)
  /// of the connection is a failure; empty otherwise.
  std::string last_error_code;
  std::string reason;
  int consecutive_failures = 0;
  std::optional<TimePoint> next_attempt_at;
  /// When a proxied call last reached the connection (the gateway's batched record).
  std::optional<TimePoint> last_used_at;
  /// The newest connect attempt, when it failed (cleared by a completed one).
  std::optional<TimePoint> connect_failed_at;
  std::string connect_failure_reason;     // Tether's reason, e.g. "invalid_client"
  std::string connect_failure_idp_error;  // the IdP's RFC 6749 code, sanitized; may be empty
};

/// When a proxied call last reached a connection.
struct LastUse {
  ConnectionKey key;
  TimePoint at{};
};

/// The upstream account that consented at the IdP, from the ID token's `sub`, `email` and
/// `name` claims (not verified: for display only, never for a decision). No token.
struct ConsentingAccount {
  std::string subject;
  std::string email;
  std::string name;
};

/// How a connect flow ended, as the list and the detail show it.
struct ConnectOutcome {
  ConnectionKey key;
  TimePoint at{};
  bool failed = false;
  std::string reason;         // failed: Tether's reason
  std::string idp_error;      // failed: the IdP's code, sanitized
  ConsentingAccount account;  // completed: from the ID token, empty when there was none
};

/// A connection's activity record: last use, last connect outcome, consenting account.
struct ConnectionActivity {
  std::optional<TimePoint> last_used_at;
  std::optional<TimePoint> connect_failed_at;  // the newest attempt failed
  std::string connect_failure_reason;
  std::string connect_failure_idp_error;
  std::optional<TimePoint> connected_at;  // the newest completed attempt
  ConsentingAccount account;              // of that attempt
};

/// An interactive OAuth connect flow waiting for its callback. Keyed by a SHA-256 of
/// `state`; the state itself is never stored.
struct PendingFlow {
  std::string state;  // input to create/take; empty in a flow read back from the store
  ConnectionKey key;
  std::string pkce_verifier;  // sealed at rest
  std::string return_url;
  std::string started_by;
  std::string issuer;
  std::string correlation_id;
  std::string client_id;          // the client the authorization URL was built for
  std::string authorization_url;  // sealed at rest (it carries the state)
  TimePoint created_at{};         // set by the store
  TimePoint expires_at{};
};

/// Result of `createPendingFlow`: either the new flow, or the one already pending for the
/// connection (whose `state` is unknown to the store, hence empty).
struct CreateFlowResult {
  bool created = false;
  PendingFlow flow;
};

/// An OAuth client registered at an issuer (static or RFC 7591 dynamic registration).
struct OAuthClient {
  std::string issuer;
  std::string client_id;
  std::optional<std::string> client_secret;      // sealed at rest
  std::optional<std::string> registration_json;  // sealed at rest (holds the access token)
  TimePoint created_at{};                        // set by the store
  TimePoint updated_at{};                        // set by the store
};

/// A connection's OAuth endpoints as the connect flow resolved them (configured, or found
/// by discovery), so the lifecycle can refresh after a restart without discovering again.
/// No secrets.
struct OAuthEndpoints {
  ConnectionKey key;
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string registration_endpoint;     // empty when the IdP has none
  std::string scopes;                    // the scopes the flow asked for
  std::string resource;                  // RFC 8707 resource sent; empty: none
  bool iss_parameter_supported = false;  // RFC 9207
  TimePoint updated_at{};                // set by the store
};

/// Announcement that a connection's token row changed (on any replica).
struct TokenChange {
  ConnectionKey key;
  int64_t version = 0;  // the row's version after the change (before it, for a delete)
  bool deleted = false;
  /// Notifications may have been missed (the listener reconnected): drop every cached
  /// token. `key` is empty then.
  bool resync = false;
};

/// What `deleteTokenIfRefreshTokenIs` did.
enum class ConditionalDelete {
  kDeleted,       // the row held that refresh token and is gone
  kTokenChanged,  // the row holds another refresh token (rotated meanwhile): kept
  kNoToken,       // no row
};

/// What `rotateKeys` did.
struct RotationReport {
  int64_t values_resealed = 0;  // sealed values rewritten under the primary key
  int64_t values_current = 0;   // values already under the primary key, left alone
};

}  // namespace tether::store
