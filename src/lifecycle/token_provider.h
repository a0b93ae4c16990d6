#pragma once
/// What the data plane needs from the token lifecycle: a valid access token, async, and a
/// way to report that an upstream rejected one. `TokenSource` implements it; gateway tests
/// may use a fake. Thread-safety: implementations are safe to call from any thread, and
/// `acquire` never blocks (it answers inline from a cache or later from a worker thread).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/result.h"
#include "store/types.h"

namespace tether::lifecycle {

/// A usable access token.
struct AccessToken {
  std::string value;
  std::string type = "Bearer";
  core::TimePoint expires_at{};
  int64_t version = 0;  // store version it came from (0: in memory only, not yet persisted)
};

/// Why no token can be had.
struct TokenError {
  enum class Kind {
    kNeedsReauth,             // a human must (re)connect: never connected, revoked, expired
    kTemporarilyUnavailable,  // refreshes fail transiently; retry at `retry_at`
  };
  Kind kind = Kind::kTemporarilyUnavailable;
  /// needs_reauth: not_connected, invalid_grant, client_rejected (a client Tether
  /// registered itself), no_refresh_token, refresh_expired, rotation_response_lost, ...;
  /// temporarily unavailable: the last failure's code (http_403, transport_timeout,
  /// store_unavailable, ...), or needs_client_fix (the IdP rejected Tether's client
  /// credentials; `idp_code` says how).
  std::string reason;
  std::string idp_code;  // the IdP's RFC 6749 code when it gave one
  std::optional<core::TimePoint> retry_at;

  /// core::Error (kNeedsReauth / kTemporarilyUnavailable) with a message naming the
  /// connection and what to do.
  core::Error toError(const store::ConnectionKey& key) const {
    std::string why = reason;
    if (!idp_code.empty() && idp_code != reason) why += ", identity provider said " + idp_code;
    if (kind == Kind::kNeedsReauth) {
      const std::string what = reason == "not_connected" ? "has never been connected"
                                                         : "must be re-authorized (" + why + ")";
      return core::Error(core::Errc::kNeedsReauth, "connection " + key.str() + " " + what +
                                                       ": connect it again from the Tether portal");
    }
    if (reason == "needs_client_fix") {
      // The IdP rejected Tether's client credentials: callers cannot fix it, an operator can.
      std::string msg = "connection " + key.str() +
                        " cannot get a token: the identity provider rejected Tether's client "
                        "credentials";
      if (!idp_code.empty()) msg += " (" + idp_code + ")";
      return core::Error(core::Errc::kTemporarilyUnavailable,
                         msg + "; an operator must fix the connection's client settings");
    }
    std::string msg = "connection " + key.str() + " cannot get a token right now (" + why + ")";
    if (retry_at) msg += "; retry after " + core::formatRfc3339(*retry_at);
    return core::Error(core::Errc::kTemporarilyUnavailable, msg);
  }
};

/// What the lifecycle made of an upstream's 403 insufficient_scope answer (MCP step-up).
struct StepUp {
  enum class Kind {
    kReauth,        // the grant is needs_reauth (insufficient_scope): reconnect for `scopes`
    kLimitReached,  // the bound of step-ups in a row is reached: the grant stays as it is
    kStale,         // the token answered is no longer the current one: retry the call
    kRefused,       // the scopes asked for would be past the scope bounds: nothing changed
    kUnsupported,   // this provider does not do step-up
  };
  Kind kind = Kind::kUnsupported;
  std::string scopes;  // what the next connect asks for besides its own selection
  int step_ups = 0;    // insufficient_scope answers in a row so far
};

/// A token (never null) or why none can be had.
using TokenResult = core::Result<std::shared_ptr<const AccessToken>, TokenError>;

using TokenCallback = std::function<void(const TokenResult&)>;

class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  /// A valid access token. `done` runs inline when cached, else on a worker thread.
  /// `actor` is recorded with any refresh it causes (e.g. "system:tool-call").
  virtual void acquire(std::string actor, TokenCallback done) = 0;
  /// An upstream answered 401 to the token of `version`: the next acquire refreshes once.
  /// Repeated 401s shortly after a refresh do not refresh again (no storm). Returns true
  /// when a refresh will happen.
  virtual bool invalidate(int64_t version) = 0;
  /// An upstream answered 403 insufficient_scope to the token of `version`, naming
  /// `challenged` (space-separated, already bounded by oauth::parseScopeList). Never blocks:
  /// the decision is made in memory, the state row and event are written on a worker.
  virtual StepUp stepUp(int64_t version, const std::string& challenged) {
    (void)version;
    (void)challenged;
    return {};
  }
};

}  // namespace tether::lifecycle
