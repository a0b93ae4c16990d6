#pragma once
/// Internal to the lifecycle module (include only from src/lifecycle/*.cc): the runner
/// behind a TokenSource. It keeps the cached token and the connection's `State`, lets one
/// refresh or operator action run at a time (singleflight), and does the I/O: the store
/// lock, the token and state rows, the IdP call, the events. What an outcome does to the
/// state is decided by lifecycle/transitions.h; every change goes through `transition`.
///
/// Thread-safety: as TokenSource. `mu_` guards everything below it and is never held
/// during I/O; `in_flight_` marks the one runner, which alone owns `held_lock_`.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/token_source.h"
#include "lifecycle/transitions.h"

namespace tether::lifecycle::detail {

/// The in-memory token of a stored record (the secrets other than the access token stay in
/// the store).
inline std::shared_ptr<const AccessToken> makeAccess(const store::TokenRecord& r) {
  auto t = std::make_shared<AccessToken>();
  t->value = r.access_token;
  t->type = r.token_type.empty() ? "Bearer" : r.token_type;
  t->expires_at = r.expires_at.value_or(core::TimePoint{});
  t->version = r.version;
  return t;
}

/// No token, and why.
inline TokenResult refused(TokenError::Kind kind, std::string reason, std::string idp_code,
                           std::optional<core::TimePoint> retry_at = std::nullopt) {
  return TokenError{kind, std::move(reason), std::move(idp_code), retry_at};
}

/// The cached token as a result: a null cache (deleted meanwhile) is "not available now",
/// never a success without a token.
inline TokenResult served(std::shared_ptr<const AccessToken> token) {
  if (!token) return refused(TokenError::Kind::kTemporarilyUnavailable, "not_connected", "");
  return TokenResult(std::move(token));
}

class SourceRunner : public std::enable_shared_from_this<SourceRunner> {
 public:
  SourceRunner(ConnectionSpec spec, std::shared_ptr<const SourceDeps> deps);

  const ConnectionSpec& spec() const { return spec_; }
  bool loadState();
  void acquire(std::string actor, TokenCallback done);
  TokenResult token(std::string actor);
  bool invalidate(int64_t version);
  StepUp stepUp(int64_t version, const std::string& challenged);
  TokenResult refreshNow(std::string actor);
  core::Result<bool> deleteToken(const std::string& actor);
  void keeperRefresh();
  void onTokenChanged(const store::TokenChange& change);
  void onConnected();
  void setOAuthConfig(oauth::OAuthClientConfig config, std::string idp_host);
  std::optional<TokenResult> clientSettingsChanged(oauth::OAuthClientConfig config,
                                                   std::string idp_host, std::string actor);
  oauth::OAuthClientConfig oauthConfig() const;
  SourceStatus status() const;

  std::string idpHost() const;

 private:
  enum class Mode { kOnDemand, kForced, kKeeper };
  /// One refresh: who asked, how, and (once the IdP answered) its answer.
  struct Attempt {
    Mode mode = Mode::kOnDemand;
    std::string actor;
    std::string correlation;
    int depth = 0;        // re-entries after another replica rotated the token
    TimePoint started{};  // when the row was read (the refreshed token's last_refreshed_at)
    const oauth::GrantResult* grant = nullptr;
    double duration_ms = 0;
    // Started in needs_client_fix: a success is a recovery (our own token write announces
    // itself as TokenWritten before the success is applied).
    bool from_client_fix = false;
  };
  /// What the lifecycle needs to know about the cached token (the secrets stay in the
  /// store; only the access token is in memory, once, in cache_).
  struct TokenMeta {
    std::optional<TimePoint> expires_at;
    TimePoint authenticated_at{};
    std::optional<TimePoint> last_refreshed_at;
    std::optional<TimePoint> refresh_expires_at;
    bool has_refresh_token = false;
    int64_t version = 0;
    std::string scope;  // granted (MCP step-up asks for it plus the challenged ones)
    static TokenMeta of(const store::TokenRecord& record);
    /// A TokenRecord carrying just these fields, for the policy functions.
    store::TokenRecord asRecord() const;
  };
  /// A refreshed record the store has not taken yet; the runner keeps the store lock
  /// meanwhile so no other replica refreshes off the stale row.
  struct PendingPersist {
    store::TokenRecord record;
    int64_t expected_version = 0;
    TimePoint next_retry{};
    Duration delay{};
  };
  /// Set by setOAuthConfig (connections resolved by the connect flow).
  struct Resolved {
    oauth::OAuthClientConfig oauth;
    std::string idp_host;
  };

  // --- singleflight (refresh.cc runs the refresh itself) ---
  void startRefresh(Mode mode, std::string actor);
  /// Waits until no refresh or action runs, then marks this thread as the one.
  void beginExclusive();
  void complete(const TokenResult& result);
  TokenResult runExclusive(Mode mode, const std::string& actor);
  core::Result<bool> deleteExclusive(const std::string& actor);

  // --- the refresh (refresh.cc) ---
  TokenResult runRefresh(Mode mode, const std::string& actor);
  TokenResult refreshLocked(Attempt& a);
  TokenResult callIdp(Attempt& a, const store::TokenRecord& row, int64_t expected_version);
  TokenResult persistRefreshed(const Attempt& a, const store::TokenRecord& before,
                               store::TokenRecord after, int64_t expected_version);
  bool retryPendingPersist();
  TokenResult terminal(Attempt& a, const store::TokenRecord& row, store::EventType lead_event,
                       event::TerminalFailure failure);
  TokenResult transient(const Attempt& a, const store::TokenRecord* row,
                        event::TransientFailure failure);
  /// The IdP rejected Tether's client (invalid_client, unauthorized_client): records
  /// refresh_failed_client_rejected and keeps the tokens; needs_client_fix, or needs_reauth
  /// for a client Tether registered itself (the next connect registers a new one).
  TokenResult clientRejected(Attempt& a, const store::TokenRecord* row,
                             event::ClientRejected failure);
  TokenResult needsReauthFromStore();
  /// client_credentials with only an issuer: true while no token endpoint is known.
  bool needsTokenEndpoint() const;
  /// Finds the token endpoint in the issuer's metadata and keeps it (setOAuthConfig);
  /// the failure to record otherwise (token_endpoint_unknown: a configuration error;
  /// discovery_unavailable: the issuer did not answer). token_endpoint_discovery.cc.
  std::optional<event::TransientFailure> discoverTokenEndpoint(const std::string& correlation);

  // --- state and cache (call with mu_ held where noted) ---
  /// Applies `e` to the state (mu_ held).
  Effects transition(const Event& e, TimePoint now);
  TokenResult adopt(const store::TokenRecord& record);
  /// Writes the state row (snapshot taken under mu_) with `next_due`.
  void writeState(std::optional<TimePoint> next_due);
  std::optional<TimePoint> computeNextDue(const store::TokenRecord& record);
  double randomUnit();                // mu_ held
  TokenResult cachedOrError() const;  // mu_ held
  /// The cached token when it needs no refresh (mu_ held).
  std::shared_ptr<const AccessToken> freshCached(TimePoint now) const;
  std::shared_ptr<const Resolved> resolved() const;

  const ConnectionSpec spec_;
  const std::shared_ptr<const SourceDeps> deps_ptr_;
  const SourceDeps& deps_;
  // Which HTTP Basic form the IdP accepted (the token endpoint client is built per refresh,
  // so an idle connection carries no second copy of its OAuth settings).
  std::atomic<oauth::BasicForm> basic_form_{oauth::BasicForm::kEncoded};
  std::atomic<bool> state_loaded_{false};

  mutable std::mutex mu_;
  // --- guarded by mu_ ---
  State state_;
  std::shared_ptr<const Resolved> resolved_;
  std::shared_ptr<const AccessToken> cache_;
  std::optional<TokenMeta> meta_;  // of the cached token (or newer, unpersisted)
  bool invalidated_ = false;
  bool in_flight_ = false;           // one refresh or action at a time in this process
  std::condition_variable idle_cv_;  // signalled when in_flight_ drops
  std::vector<TokenCallback> waiters_;
  int64_t forced_from_version_ = 0;
  std::unique_ptr<PendingPersist> pending_;  // rare: not worth a TokenRecord inline
  uint64_t rng_state_ = 0;  // splitmix64: 8 bytes, not mt19937's 2.5 KB per connection
  // The IdP rejected the client settings this runner holds (needs_client_fix seen here, not
  // only read from the store): no IdP call until they change. A runner that only read the
  // state (a restart, a connection rebuilt with edited settings) checks once.
  bool client_rejected_here_ = false;
  // --- owned by whoever holds in_flight_ ---
  // The store lock for this connection, kept across refreshes while a rotated token waits
  // to be persisted.
  store::LockGuard held_lock_;
};

}  // namespace tether::lifecycle::detail
