#pragma once
/// The closed set of auth event types (DESIGN.md §6) and how each one counts for the
/// "last IdP error code" rule of the bulk health query. Lives in `store` because the store
/// checks the type on write; the `events` module builds on it. Thread-safe (pure data).

#include <array>
#include <optional>
#include <string_view>

namespace tether::store {

/// Every auth event type. The store refuses any value outside this set (and the database
/// has a CHECK constraint with the same names). Adding a type needs a migration too.
enum class EventType {
  kConnectStarted,
  kConnectCompleted,
  kConnectFailed,
  kRefreshSucceeded,
  kRefreshFailedTransient,
  kRefreshFailedRevoked,
  kRefreshSkippedNoToken,
  kRefreshSkippedExpired,
  kRefreshRotationPersistenceFailed,
  kTokenDeletedRevoked,
  kTokenDeletedAdmin,
  kClientRegistered,    // Tether registered itself (RFC 7591) or adopted its CIMD client_id
  kWebhookGivenUp,      // a webhook message was not delivered within max_age (migration 5)
  kStepUpRequired,      // an upstream answered 403 insufficient_scope: reconnect for more
  kStepUpLimitReached,  // step-ups stopped at Settings::max_step_ups (a loop)
  /// The IdP rejected Tether's client credentials (invalid_client, unauthorized_client) on
  /// a refresh: the grant is kept, the connection needs_client_fix (migration 9).
  kRefreshFailedClientRejected,
  kConnectionCreated,   // an operator created the connection through the admin API (mig. 8)
  kConnectionUpdated,   // an operator changed it through the admin API
  kConnectionDeleted,   // an operator deleted it (its history stays readable)
};

inline constexpr std::array kAllEventTypes = {
    EventType::kConnectStarted,
    EventType::kConnectCompleted,
    EventType::kConnectFailed,
    EventType::kRefreshSucceeded,
    EventType::kRefreshFailedTransient,
    EventType::kRefreshFailedRevoked,
    EventType::kRefreshSkippedNoToken,
    EventType::kRefreshSkippedExpired,
    EventType::kRefreshRotationPersistenceFailed,
    EventType::kTokenDeletedRevoked,
    EventType::kTokenDeletedAdmin,
    EventType::kClientRegistered,
    EventType::kWebhookGivenUp,
    EventType::kStepUpRequired,
    EventType::kStepUpLimitReached,
    EventType::kRefreshFailedClientRejected,
    EventType::kConnectionCreated,
    EventType::kConnectionUpdated,
    EventType::kConnectionDeleted,
};

/// Wire and database name, e.g. "refresh_failed_transient". Empty for a value outside
/// the enum (which the store refuses).
std::string_view eventTypeName(EventType type);

/// Inverse of eventTypeName; nullopt for an unknown name.
std::optional<EventType> parseEventType(std::string_view name);

/// How an event counts for the health rule "the last IdP error code shows only while the
/// newest lifecycle event of the connection is a failure":
/// - kFailure: connect_failed, refresh_failed_transient, refresh_failed_revoked,
///   token_deleted_revoked (keeps the code that caused the deletion visible),
///   step_up_required, step_up_limit_reached, refresh_failed_client_rejected;
/// - kSuccess: connect_started (a reconnect), connect_completed, refresh_succeeded,
///   token_deleted_admin (an operator reset) — each clears the code;
/// - kNeutral: refresh_skipped_no_token, refresh_skipped_expired,
///   refresh_rotation_persistence_failed, client_registered, webhook_given_up,
///   connection_created, connection_updated, connection_deleted — not lifecycle
///   outcomes; they neither show nor clear a code.
enum class EventOutcome { kNeutral, kSuccess, kFailure };
EventOutcome eventOutcome(EventType type);

}  // namespace tether::store
