#pragma once
/// When to refresh, when to give up, how long to back off: the pure rules of the token
/// lifecycle (DESIGN.md §3–§5), kept apart from I/O so they can be tested exhaustively.
/// Thread-safe (pure functions).

#include <chrono>
#include <optional>
#include <random>

#include "core/clock.h"
#include "store/types.h"

namespace tether::lifecycle {

using core::Duration;
using core::TimePoint;

struct Settings {
  Duration access_lead = std::chrono::minutes(5);  // refresh this long before expiry
  Duration refresh_lead = std::chrono::hours(1);   // ... and before a disclosed RT deadline
  Duration backoff_initial = std::chrono::seconds(10);
  Duration backoff_max = std::chrono::minutes(5);
  Duration jitter = std::chrono::seconds(30);  // spread of keeper work
  /// During an outage, at most one refresh_failed_transient event per this interval
  /// (state changes are always recorded).
  Duration transient_event_interval = std::chrono::minutes(15);
  /// Upstream 401s on a token within this long after it was issued do not trigger another
  /// refresh (no refresh storm when an upstream rejects every token).
  Duration invalidate_window = std::chrono::seconds(30);
  Duration lock_timeout = std::chrono::seconds(30);  // waiting for another replica's refresh
  Duration persist_retry_initial = std::chrono::seconds(1);
  Duration persist_retry_max = std::chrono::seconds(30);
  /// Keeper: tick, lease on claimed rows, refreshes at once.
  Duration keeper_interval = std::chrono::minutes(5);
  int keeper_concurrency = 8;
  /// MCP step-up: an upstream's insufficient_scope answer for scopes already asked for
  /// counts; the one that reaches this count no longer sends the grant back to re-auth
  /// (step_up_limit_reached instead). A challenge naming a new scope counts as the first.
  int max_step_ups = 3;
  Duration event_retention = std::chrono::hours(24 * 90);
  Duration prune_interval = std::chrono::hours(24);
};

/// The lead actually used for a lifetime: the configured lead, but at most half the
/// lifetime, so short-lived tokens are not refreshed on every call.
Duration effectiveLead(Duration configured, TimePoint issued, TimePoint expires);

/// When the access token should be refreshed (expires_at - effective lead), or nullopt when
/// the record has no expiry (never happens for records Tether writes).
std::optional<TimePoint> accessRefreshAt(const store::TokenRecord& token, const Settings& s);

/// The refresh token's hard deadline: the IdP-disclosed refresh_expires_at, or
/// authenticated_at + refresh_max_lifetime (operator-known), whichever comes first.
std::optional<TimePoint> refreshDeadline(const store::TokenRecord& token,
                                         std::optional<Duration> refresh_max_lifetime);

/// When the keeper should next look at a healthy connection: the earliest of the access
/// refresh time and the disclosed (idle) refresh deadline minus its lead, and the hard
/// deadline itself (to turn it into needs_reauth on time). `jitter_fraction` in [0,1)
/// moves it earlier by up to Settings::jitter (bounded by the lead) to spread load.
std::optional<TimePoint> nextDue(const store::TokenRecord& token, const Settings& s,
                                 std::optional<Duration> refresh_max_lifetime,
                                 double jitter_fraction);

/// True when the keeper should refresh now.
bool refreshDue(const store::TokenRecord& token, const Settings& s,
                std::optional<Duration> refresh_max_lifetime, TimePoint now);

/// Exponential backoff with full jitter: uniform in [1 s, min(max, initial * 2^(n-1))],
/// at least `retry_after`. `failures` counts from 1. `unit` in [0,1) is the random draw.
Duration backoffDelay(int failures, const Settings& s, std::optional<Duration> retry_after,
                      double unit);

}  // namespace tether::lifecycle
