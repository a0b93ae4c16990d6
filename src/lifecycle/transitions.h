#pragma once
/// The token lifecycle's state machine (DESIGN.md §3–§5) as pure functions over a state
/// value: what each outcome of a refresh does to a connection's state, and what the runner
/// (TokenSource) must do about it. No store, no HTTP, no clock and no randomness here: the
/// runner passes `now` and its random draw in, and does the I/O the effects ask for.
/// Thread-safe (pure functions).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/clock.h"
#include "lifecycle/policy.h"
#include "store/types.h"

namespace tether::lifecycle {

/// One connection's lifecycle state: what the state row holds, plus the throttle of
/// refresh_failed_transient events (memory only).
struct State {
  store::ConnectionState state = store::ConnectionState::kNotConnected;
  std::string reason;           // Tether's reason: invalid_grant, http_503, deleted_by_admin...
  std::string last_error_code;  // the IdP's code when it gave one, else the reason
  int failures = 0;             // consecutive
  std::optional<TimePoint> first_failure_at;
  std::optional<TimePoint> next_attempt_at;  // backing off until then (refresh_failing)
  std::optional<TimePoint> revoked_at;
  std::optional<TimePoint> last_transient_event_at;
  int64_t suppressed_transient = 0;  // transient failures not recorded since the last event
  std::string step_up_scopes;        // MCP step-up: what the next connect asks for besides
  int step_ups = 0;                  // insufficient_scope answers in a row (see Settings)
};

/// What happened to a connection. Each is one transition of `apply`.
namespace event {
/// Fresh tokens from the IdP, stored (a refresh succeeded, or a connect flow finished).
struct Succeeded {};
/// A stored token was taken into use; `newer` when it is not the one already held.
struct Adopted {
  bool newer = false;
};
/// Fresh tokens the store did not take: served from memory while the write is retried.
struct PersistFailed {};
/// The refresh failed for now (IdP 5xx or 429, a timeout, the store or the lock).
struct TransientFailure {
  std::string code;      // Tether's classification: http_503, transport_timeout, ...
  std::string idp_code;  // the IdP's RFC 6749 code when it gave one
  std::optional<Duration> retry_after;
  double unit = 0;  // the random draw in [0,1) for the backoff's jitter
  /// An operator must fix the configuration (e.g. no token endpoint can be found); the
  /// event says so (error_class "configuration") and retries wait the longest backoff.
  bool configuration = false;
};
/// A human must reconnect: the IdP rejected the grant, or a local deadline passed.
struct TerminalFailure {
  std::string reason;  // invalid_grant, refresh_expired, no_refresh_token, ...
  std::string idp_code;
};
/// The IdP rejected Tether's *client* (invalid_client, unauthorized_client; see
/// rejectsClient), not the grant: needs_client_fix, the tokens are kept, no refresh until
/// the client settings change (ClientSettingsChanged).
struct ClientRejected {
  std::string reason;  // Tether's code (the classification's): invalid_client, ...
  std::string idp_code;
};
/// The connection's OAuth client settings changed (API or portal edit, reload).
struct ClientSettingsChanged {};
/// No token is stored; `stored` is the state row read then (needs_reauth stays).
struct NoToken {
  std::optional<store::StateRecord> stored;
};
/// Some replica wrote the token row: a connection that needed re-auth may be connected.
struct TokenWritten {};
/// An operator deleted the token.
struct Deleted {
  std::string reason = "deleted_by_admin";
};
/// An upstream answered 403 insufficient_scope to the current token (MCP step-up).
struct InsufficientScope {
  std::string granted;     // the token's granted scope (may be empty: not disclosed)
  std::string challenged;  // the challenge's scopes, bounded (oauth/scopes.h)
};
}  // namespace event

using Event =
    std::variant<event::Succeeded, event::Adopted, event::PersistFailed, event::TransientFailure,
                 event::TerminalFailure, event::NoToken, event::TokenWritten, event::Deleted,
                 event::InsufficientScope, event::ClientRejected, event::ClientSettingsChanged>;

/// What an InsufficientScope event made of the grant.
enum class StepUpEffect {
  kNone,          // not a step-up event
  kReauth,        // needs_reauth (insufficient_scope); the next connect asks for more
  kLimitReached,  // the bound was reached now: record step_up_limit_reached, stay as is
  kLimitHeld,     // the bound was reached before: nothing new to record
  kRefused,       // the union of the scopes would be past the scope bounds: nothing changes
};

/// What the runner must do besides storing the new state.
struct Effects {
  bool recovered = false;         // Succeeded after refresh_failing: the event says so
  bool record_transient = false;  // record refresh_failed_transient now
  int64_t suppressed = 0;         // transient failures left unrecorded before this one
  bool write_state = false;       // the state row must be written
  StepUpEffect step_up = StepUpEffect::kNone;
  /// ClientSettingsChanged on a connection that waits for them (needs_client_fix, or
  /// backing off in refresh_failing): refresh at the IdP now, with the new settings.
  bool refresh_now = false;
};

struct Transition {
  State state;
  Effects effects;
};

/// The transition `event` makes from `state` at `now`.
Transition apply(State state, const Event& event, TimePoint now, const Settings& settings);

/// The IdP's terminal code says Tether's client is wrong (invalid_client,
/// unauthorized_client), not the user's grant (DESIGN.md §3).
bool rejectsClient(std::string_view code);

/// Backing off: refresh_failing with the next attempt still ahead (no IdP call before it).
bool backingOff(const State& state, TimePoint now);

/// The keeper leaves the connection alone: it needs a human (needs_reauth,
/// needs_client_fix), or it backs off (unless a rotated token waits to be persisted).
bool keeperSkips(const State& state, TimePoint now, bool persist_pending);

/// What to do before calling the IdP, from the stored row alone (the deadline rules).
enum class Verdict {
  kCallIdp,         // refresh at the IdP
  kAdopt,           // no refresh token but the access token still works: use it
  kRefreshExpired,  // the refresh deadline passed: terminal, refresh_skipped_expired
  kNoRefreshToken,  // nothing to refresh with: terminal, refresh_skipped_no_token
};
Verdict localVerdict(const store::TokenRecord& row, bool client_credentials,
                     std::optional<Duration> refresh_max_lifetime, TimePoint now);

/// When the keeper should look at the connection next: the end of the backoff, the token's
/// due time (`token`, when connected), at once for a client_credentials connection without
/// a token, a pending persist's retry, or never (a human must act). `unit` in [0,1).
std::optional<TimePoint> keeperNextDue(const State& state,
                                       const std::optional<store::TokenRecord>& token,
                                       bool client_credentials,
                                       std::optional<TimePoint> persist_retry, TimePoint now,
                                       const Settings& settings,
                                       std::optional<Duration> refresh_max_lifetime, double unit);

/// The wait before the next write of a rotated token the store refused: doubled, capped.
Duration nextPersistDelay(Duration current, const Settings& settings);

/// The state row for `state` (the store sets updated_at).
store::StateRecord toRecord(const State& state, const store::ConnectionKey& key,
                            std::optional<TimePoint> next_due);

/// The state a restarted process continues from.
State fromRecord(const store::StateRecord& record);

}  // namespace tether::lifecycle
