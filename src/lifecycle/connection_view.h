#pragma once
/// What an operator sees of one OAuth connection, derived in one place from the lifecycle's
/// records (the token row, the state row the lifecycle writes, the recent auth events): the
/// admin list, health and detail and the portal's status card show these fields and derive
/// nothing themselves. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/shown_state.h"
#include "store/types.h"

namespace tether::lifecycle {

/// The newest revocation in a connection's recent history.
struct Revocation {
  core::TimePoint at{};
  std::string reason;  // the IdP's code when it gave one, else Tether's reason
  std::string idp_host;
};

/// The newest connect attempt that failed, while no later one completed.
struct ConnectFailure {
  core::TimePoint at{};
  std::string reason;     // Tether's reason (e.g. "token_exchange_failed", "access_denied")
  std::string idp_error;  // the IdP's error code when it gave one
  std::string actor;      // who started the attempt (admin:<id>)
};

/// One connection as list, health, detail and the portal show it.
struct ConnectionView {
  /// store::shownConnectionState of the recorded state and whether a token is stored.
  store::ConnectionState state = store::ConnectionState::kNotConnected;
  /// The portal's status card: "connected", "refresh_failing", "needs_reauth",
  /// "needs_client_fix" (the IdP rejected Tether's client credentials; the grant is kept
  /// until the client settings are fixed), "revoked" (no token since the IdP revoked it),
  /// "never_connected" or "not_connected".
  std::string status = "never_connected";
  bool has_token = false;
  /// The code to show: the last error code, else (needing re-auth) the revocation's reason.
  std::string error_code;
  std::optional<Revocation> last_revocation;
  std::optional<ConnectFailure> last_connect_failure;
  /// When refreshing stops being possible (refresh token expiry or refresh_max_lifetime).
  std::optional<core::TimePoint> refresh_deadline;
  bool reauthorize_soon = false;  // the deadline is within kReauthorizeSoon
};

/// Within this long of the refresh deadline the portal asks for a reconnect.
inline constexpr core::Duration kReauthorizeSoon = std::chrono::hours(24 * 7);

/// The view of one connection. `recent` is its newest events first (any number).
ConnectionView viewOf(const std::optional<store::TokenRecord>& token,
                      const std::optional<store::StateRecord>& state,
                      const std::vector<store::AuthEvent>& recent,
                      std::optional<core::Duration> refresh_max_lifetime, core::TimePoint now);

}  // namespace tether::lifecycle
