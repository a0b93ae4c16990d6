#pragma once
/// TokenSource: one OAuth connection's access token, kept valid for as long as the IdP
/// allows (DESIGN.md §3–§5).
///
/// - `acquire`/`token` answer from an in-memory cache (no store read on the hot path) and
///   refresh when the token is within the access lead of expiry. Concurrent callers share
///   one refresh (singleflight); across replicas the store lock is taken, the row re-read
///   after taking it (another replica may have refreshed already), and the write is
///   compare-and-swap on the version read.
/// - Transient failures keep the tokens, back off exponentially with full jitter
///   (Retry-After as the floor) and heal on the next success; terminal ones follow
///   DESIGN.md §3: lead event, delete only if the row still holds the rejected refresh
///   token (else use the rotated one), `token_deleted_revoked`, needs_reauth.
/// - A rotated refresh token is persisted before the new access token is handed out; when
///   that write fails the tokens stay in memory (with the store lock held, so no other
///   replica refreshes from the stale row) and the write is retried until it succeeds.
///
/// Thread-safety: every method may be called from any thread. `acquire` never blocks: the
/// refresh runs on the blocking pool and `done` is called there (or inline when cached).
/// `token`, `refreshNow` and `keeperRefresh` block the calling thread: never call them on a
/// server I/O thread.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/thread_pool.h"
#include "events/recorder.h"
#include "http/http_client.h"
#include "lifecycle/policy.h"
#include "lifecycle/token_provider.h"
#include "oauth/token_endpoint_client.h"
#include "store/store.h"

namespace tether::lifecycle {

/// What a connection needs for its lifecycle (derived from the config).
struct ConnectionSpec {
  store::ConnectionKey key;
  oauth::OAuthClientConfig oauth;
  bool client_credentials = false;  // grant: client_credentials (never needs re-auth)
  std::optional<Duration> refresh_max_lifetime;
  std::string idp_host;
};

/// The in-memory view of a connection (admin API, metrics, tests).
struct SourceStatus {
  store::ConnectionState state = store::ConnectionState::kNotConnected;
  std::string reason;
  std::string last_error_code;
  int consecutive_failures = 0;
  std::optional<TimePoint> next_attempt_at;
  std::optional<TimePoint> expires_at;
  bool persist_pending = false;  // a rotated token waits to be written
};

/// Test and fault-injection hooks; all optional. Called on the refreshing thread.
struct Hooks {
  std::function<void()> before_idp_call;
  std::function<void()> after_idp_response;
};

struct SourceDeps {
  store::Store* store = nullptr;
  http::HttpClient* http = nullptr;
  events::Recorder* recorder = nullptr;
  core::ThreadPool* pool = nullptr;
  const core::Clock* clock = nullptr;
  Settings settings;
  Hooks hooks;
};

class TokenSource : public TokenProvider, public std::enable_shared_from_this<TokenSource> {
 public:
  /// `deps` is shared by every source of a Lifecycle (one copy of settings and hooks).
  TokenSource(ConnectionSpec spec, std::shared_ptr<const SourceDeps> deps);
  ~TokenSource();
  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;

  const store::ConnectionKey& key() const { return spec_.key; }
  const ConnectionSpec& spec() const { return spec_; }

  /// Loads the state row (failure count, backoff, needs_reauth) so a restart continues
  /// where the last process stopped. Returns true when the row has a next-due time (the
  /// keeper will see the connection). Blocking.
  bool loadState();

  /// A valid access token, async. `done` runs inline when cached, else on the pool.
  void acquire(std::string actor, TokenCallback done) override;

  /// Blocking form of acquire.
  TokenResult token(std::string actor = std::string(events::kActorToolCall));

  /// An upstream rejected the token of `version` with 401: the next acquire refreshes
  /// (once; repeated 401s within Settings::invalidate_window of the token's issue do not).
  /// Returns true when a refresh will happen.
  bool invalidate(int64_t version) override;

  /// Refreshes at the IdP now (admin "refresh now"), unless the row was already refreshed
  /// by someone else since this source's cached version. Blocking.
  TokenResult refreshNow(std::string actor);

  /// Keeper entry: refreshes when due (or the backoff elapsed), retries a pending persist,
  /// and writes the next due time. Blocking.
  void keeperRefresh();

  /// The store announced a change of the token row (any replica): drop a stale cache.
  void onTokenChanged(const store::TokenChange& change);

  /// A connect flow stored fresh tokens: forget needs_reauth and failures.
  void onConnected();

  /// The token endpoint and client the connect flow resolved (discovery, registration)
  /// replace the configured ones for every later refresh. `idp_host` goes into events.
  void setOAuthConfig(oauth::OAuthClientConfig config, std::string idp_host);

  /// The OAuth settings refreshes use now (the configured ones until setOAuthConfig).
  oauth::OAuthClientConfig oauthConfig() const;

  SourceStatus status() const;

 private:
  enum class Mode { kOnDemand, kForced, kKeeper };

  void startRefresh(Mode mode, std::string actor);
  TokenResult runExclusive(Mode mode, const std::string& actor);
  TokenResult runRefresh(Mode mode, const std::string& actor);
  TokenResult refreshLocked(Mode mode, const std::string& actor, const std::string& correlation,
                            int depth);
  TokenResult adopt(const store::TokenRecord& record);
  /// Healthy again: clears failure, backoff and revocation state (call with mu_ held).
  void markConnected();
  TokenResult persistRefreshed(const store::TokenRecord& before, store::TokenRecord after,
                               int64_t expected_version, const oauth::GrantResult& grant,
                               double duration_ms, const std::string& actor,
                               const std::string& correlation);
  TokenResult terminal(const store::TokenRecord& row, store::EventType lead_event,
                       const std::string& reason, const oauth::GrantResult* grant,
                       const std::string& actor, const std::string& correlation, int depth);
  TokenResult transient(const store::TokenRecord* row, const std::string& code,
                        const std::string& idp_code, std::optional<Duration> retry_after,
                        const oauth::GrantResult* grant, double duration_ms,
                        const std::string& actor, const std::string& correlation);
  TokenResult needsReauthFromStore();
  bool retryPendingPersist();
  void writeState(std::optional<TimePoint> next_due);
  std::optional<TimePoint> computeNextDue(const store::TokenRecord& record);
  double randomUnit();  // call with mu_ held
  TokenResult cachedOrError(const std::unique_lock<std::mutex>& held) const;
  /// The cached token when it needs no refresh (call with mu_ held).
  std::shared_ptr<const AccessToken> freshCached(TimePoint now) const;
  void complete(const TokenResult& result);

  const ConnectionSpec spec_;
  const std::shared_ptr<const SourceDeps> deps_ptr_;
  const SourceDeps& deps_;
  // Which HTTP Basic form the IdP accepted (the token endpoint client is built per refresh,
  // so an idle connection carries no second copy of its OAuth settings).
  std::atomic<oauth::BasicForm> basic_form_{oauth::BasicForm::kEncoded};
  // Set by setOAuthConfig (connections resolved by the connect flow); null otherwise.
  struct Resolved {
    oauth::OAuthClientConfig oauth;
    std::string idp_host;
  };
  std::shared_ptr<const Resolved> resolved_;  // guarded by mu_
  std::shared_ptr<const Resolved> resolved() const;
  std::string idpHost() const;

  mutable std::mutex mu_;
  // --- guarded by mu_ ---
  std::shared_ptr<const AccessToken> cache_;
  // What the lifecycle needs to know about the cached token (the secrets stay in the
  // store; only the access token is in memory, once, in cache_).
  struct TokenMeta {
    std::optional<TimePoint> expires_at;
    TimePoint authenticated_at{};
    std::optional<TimePoint> last_refreshed_at;
    std::optional<TimePoint> refresh_expires_at;
    bool has_refresh_token = false;
    int64_t version = 0;
    /// A TokenRecord carrying just these fields, for the policy functions.
    store::TokenRecord asRecord() const;
  };
  static TokenMeta metaOf(const store::TokenRecord& record);
  std::optional<TokenMeta> meta_;  // of the cached token (or newer, unpersisted)
  bool invalidated_ = false;
  bool in_flight_ = false;  // one refresh at a time in this process; its runner owns held_lock_
  std::condition_variable idle_cv_;  // signalled when in_flight_ drops
  std::vector<TokenCallback> waiters_;
  int64_t forced_from_version_ = 0;
  store::ConnectionState state_ = store::ConnectionState::kNotConnected;
  std::string reason_;
  std::string last_error_code_;
  int failures_ = 0;
  std::optional<TimePoint> first_failure_at_;
  std::optional<TimePoint> next_attempt_at_;
  std::optional<TimePoint> revoked_at_;
  std::optional<TimePoint> last_transient_event_at_;
  int64_t suppressed_transient_ = 0;
  std::atomic<bool> state_loaded_{false};
  // A refreshed record the store has not taken yet, with the lock that keeps other
  // replicas from refreshing off the stale row meanwhile.
  struct PendingPersist {
    store::TokenRecord record;
    int64_t expected_version = 0;
    TimePoint next_retry{};
    Duration delay{};
  };
  std::unique_ptr<PendingPersist> pending_;  // rare: not worth a TokenRecord inline
  uint64_t rng_state_ = 0;  // splitmix64: 8 bytes, not mt19937's 2.5 KB per connection
  // Owned by whoever holds in_flight_: the store lock for this connection, kept across
  // refreshes while a rotated token waits to be persisted.
  store::LockGuard held_lock_;
};

}  // namespace tether::lifecycle
