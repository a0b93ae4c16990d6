#pragma once
/// TokenSource: one OAuth connection's access token, kept valid for as long as the IdP
/// allows (DESIGN.md §3–§5), and the one owner of the connection's state.
///
/// - `acquire`/`token` answer from an in-memory cache (no store read on the hot path) and
///   refresh when the token is within the access lead of expiry. Concurrent callers share
///   one refresh (singleflight); across replicas the store lock is taken, the row re-read
///   after taking it (another replica may have refreshed already), and the write is
///   compare-and-swap on the version read.
/// - What each outcome does to the state (success, transient, terminal, persist failure,
///   the refresh deadline) is decided by the pure transitions of lifecycle/transitions.h;
///   this class is their runner: singleflight, locks, store and IdP I/O, events.
/// - Operator actions (refresh now, delete token) run here too, one at a time with any
///   refresh, so a refresh in flight cannot bring back state an operator just deleted.
///
/// Thread-safety: every method may be called from any thread. `acquire` never blocks: the
/// refresh runs on the blocking pool and `done` is called there (or inline when cached).
/// `token`, `refreshNow`, `deleteToken` and `keeperRefresh` block the calling thread: never
/// call them on a server I/O thread.

#include <functional>
#include <memory>
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
  /// No auth.client_id configured: the client is one Tether registered itself (RFC 7591)
  /// or its CIMD client_id. When the IdP rejects it, it is registered afresh at the next
  /// connect (needs_reauth), not fixed by an operator (needs_client_fix).
  bool client_registered = false;
  std::optional<Duration> refresh_max_lifetime;
  std::string idp_host;
  /// The configured issuer. A client_credentials connection without a token_url finds its
  /// token endpoint in the issuer's metadata (RFC 8414, then OpenID Connect discovery).
  std::string issuer;
  std::vector<std::string> discovery_allowed_hosts;  // discovery.allowed_hosts
};

/// The in-memory view of a connection (metrics, tests, the admin's refresh answer).
struct SourceStatus {
  store::ConnectionState state = store::ConnectionState::kNotConnected;
  std::string reason;
  std::string last_error_code;
  int consecutive_failures = 0;
  std::optional<TimePoint> next_attempt_at;
  std::optional<TimePoint> expires_at;
  bool persist_pending = false;  // a rotated token waits to be written
  std::string step_up_scopes;    // MCP step-up: asked for at the next connect
  int step_ups = 0;
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
  /// Set when webhooks are configured: every state row is written together with the
  /// messages it derives (store::OutboxStore::putStateAndEnqueue, one transaction).
  store::OutboxDeriver outbox;
};

namespace detail {
class SourceRunner;
}

class TokenSource : public TokenProvider {
 public:
  /// `deps` is shared by every source of a Lifecycle (one copy of settings and hooks).
  TokenSource(ConnectionSpec spec, std::shared_ptr<const SourceDeps> deps);
  ~TokenSource() override;
  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;

  const store::ConnectionKey& key() const { return spec().key; }
  const ConnectionSpec& spec() const;

  /// Loads the state row so a restart continues where the last process stopped. True when
  /// the row has a next-due time (the keeper will see the connection). Blocking.
  bool loadState();

  /// A valid access token, async. `done` runs inline when cached, else on the pool.
  void acquire(std::string actor, TokenCallback done) override;
  /// Blocking form of acquire.
  TokenResult token(std::string actor = std::string(events::kActorToolCall));
  /// An upstream rejected the token of `version` with 401: the next acquire refreshes
  /// (once; repeated 401s within Settings::invalidate_window of its issue do not).
  bool invalidate(int64_t version) override;
  /// MCP step-up (see TokenProvider::stepUp and the InsufficientScope transition): the grant
  /// turns needs_reauth (reason insufficient_scope, event step_up_required) and remembers
  /// the union of its granted and the challenged scopes for the next connect; at
  /// Settings::max_step_ups answers in a row for scopes already asked for, it stays as it
  /// is and step_up_limit_reached is recorded once.
  StepUp stepUp(int64_t version, const std::string& challenged) override;

  /// Admin "refresh now": refreshes at the IdP, unless the row was already refreshed by
  /// someone else since this source's cached version. Blocking.
  TokenResult refreshNow(std::string actor);
  /// Admin "delete token": waits for a refresh in flight, deletes the stored token under the
  /// refresh lock, records token_deleted_admin by `actor`, and leaves the connection
  /// not_connected (reason deleted_by_admin) in memory and in the store. True when a token
  /// was deleted. Blocking.
  core::Result<bool> deleteToken(const std::string& actor);
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
  /// The connection's OAuth client settings changed (API or portal edit, `SIGHUP`
  /// reload): `config` (the complete client settings, resolved endpoints included)
  /// replaces the ones refreshes use. A connection in needs_client_fix (or backing off in
  /// refresh_failing) refreshes at the IdP at once with them, keeping its grant: success
  /// makes it connected with no connect flow; a failure is classified as usual. Returns that
  /// refresh's result, or nullopt when the state needed none. `actor` (who changed the
  /// settings, e.g. admin:<id>) is recorded with that refresh's events. Blocking.
  std::optional<TokenResult> clientSettingsChanged(
      oauth::OAuthClientConfig config, std::string idp_host,
      std::string actor = std::string(events::kActorBackground));
  /// The OAuth settings refreshes use now (the configured ones until setOAuthConfig).
  oauth::OAuthClientConfig oauthConfig() const;
  /// The IdP host events name (the resolved one after setOAuthConfig).
  std::string idpHost() const;

  SourceStatus status() const;

 private:
  std::shared_ptr<detail::SourceRunner> runner_;  // shared with refreshes on the pool
};

}  // namespace tether::lifecycle
