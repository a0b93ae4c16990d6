#pragma once
/// The durable store: sealed tokens, connection state, auth events, pending OAuth flows,
/// registered OAuth clients, revoked portal sessions, refresh locks and token-change
/// notifications, on SQLite (the embedded default; one process per file) or PostgreSQL (for
/// several replicas). See docs/storage.md.
///
/// BLOCKING API. Every call here does database I/O and blocks the calling thread
/// (SQLite file I/O and busy waits, PostgreSQL round trips and lock waits). Never call it
/// on an I/O (Asio) thread: offload to the blocking-work pool and resume the coroutine
/// with the result. All objects are thread-safe unless stated otherwise.
///
/// ERRORS are values (`core::Result`); messages name the operation and the connection and
/// never contain a secret:
///   kConflict      compare-and-swap lost (the row changed since it was read)
///   kCrypto        a sealed value does not open (names the table, column and row)
///   kUnavailable   database locked past the busy timeout, PostgreSQL unreachable
///   kTimeout       a lock wait passed its deadline
///   kStore         anything unexpected (missing table, constraint, ...)
///   kInvalidArgument / kNotFound  caller mistakes, unknown keys

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/sealer.h"
#include "store/types.h"

namespace tether::store {

/// RAII registration of a callback; destroying it unsubscribes, waiting for a callback in
/// flight on another thread to return (destroying it from inside the callback is fine).
/// Move-only; may outlive the store.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, {})) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, {});
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  void reset() {
    if (cancel_) std::exchange(cancel_, {})();
  }

 private:
  std::function<void()> cancel_;
};

/// Called for every token change, after its commit, on a store-owned thread (the PostgreSQL
/// LISTEN thread, or the SQLite dispatcher thread) — never on the writer's thread, so a
/// writer may hold a lock its callback also takes. Callbacks of one store run one at a
/// time in arrival order; they must be quick and must not block. Do not destroy the
/// Subscription while holding a lock the callback takes.
using TokenChangeCallback = std::function<void(const TokenChange&)>;

/// Sealed OAuth tokens, one row per connection, with compare-and-swap writes.
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  /// The connection's tokens, opened; nullopt when it has none. kCrypto when a sealed
  /// column does not open.
  virtual core::Result<std::optional<TokenRecord>> getToken(const ConnectionKey& key) = 0;

  /// Writes `token` only if the stored version still equals `expected_version` (0: only if
  /// no row exists). Returns the new version; kConflict when the row changed meanwhile.
  virtual core::Result<int64_t> putToken(const TokenRecord& token, int64_t expected_version) = 0;

  /// Deletes the row; with `expected_version`, only while it still has that version
  /// (kConflict otherwise). Returns false when there was no row.
  virtual core::Result<bool> deleteToken(const ConnectionKey& key,
                                         std::optional<int64_t> expected_version) = 0;

  /// Deletes the row only if it still holds `refresh_token`, in one atomic statement that
  /// compares the SHA-256 fingerprint column (the refresh token itself is never stored
  /// in plaintext). Used after an IdP rejected that token: if another refresher rotated
  /// it meanwhile, the row is kept (kTokenChanged).
  virtual core::Result<ConditionalDelete> deleteTokenIfRefreshTokenIs(
      const ConnectionKey& key, std::string_view refresh_token) = 0;

  /// Registers `callback` for token changes made through any store on the same database:
  /// other replicas via PostgreSQL LISTEN/NOTIFY, other `Store` objects on the same SQLite
  /// file in this process. Also called for this store's own writes.
  virtual Subscription subscribeTokenChanges(TokenChangeCallback callback) = 0;
};

/// Connection lifecycle state and the keeper's indexed due set.
class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual core::Result<std::optional<StateRecord>> getState(const ConnectionKey& key) = 0;

  /// Creates or replaces the state row (all fields, next_due_at included). Leaves a
  /// keeper claim on the row in place.
  virtual core::Status putState(const StateRecord& state) = 0;

  /// Sets (or clears, with nullopt) only next_due_at, creating a not_connected row if none.
  virtual core::Status setNextDue(const ConnectionKey& key, std::optional<TimePoint> due) = 0;

  /// Connections with next_due_at <= `until`, earliest first (ties by kind, name), at most
  /// `limit`. Served from an index, never a full scan.
  virtual core::Result<std::vector<DueConnection>> dueConnections(TimePoint until, int limit) = 0;

  /// Like dueConnections, but atomically claims the rows for `owner` for `lease` (from the
  /// store clock's now) and skips rows another owner holds an unexpired claim on, so each
  /// due connection goes to exactly one replica (PostgreSQL: FOR UPDATE SKIP LOCKED).
  virtual core::Result<std::vector<DueConnection>> claimDue(TimePoint until, int limit,
                                                            std::string_view owner,
                                                            Duration lease) = 0;

  /// Drops `owner`'s claim on the row (no-op if someone else holds it).
  virtual core::Status releaseClaim(const ConnectionKey& key, std::string_view owner) = 0;
};

/// Append-only auth events with an index per connection and one on time.
class EventStore {
 public:
  virtual ~EventStore() = default;

  /// Appends `event`; returns its id. kInvalidArgument for a type outside EventType, an
  /// empty key, or a detail that is not a JSON object.
  virtual core::Result<int64_t> appendEvent(const AuthEvent& event) = 0;

  /// The newest `limit` events of one connection, newest first; equal times are ordered
  /// by id, newest first (stable).
  virtual core::Result<std::vector<AuthEvent>> recentEvents(const ConnectionKey& key,
                                                            int limit) = 0;

  /// The newest event of every connection that has events, in one query, ordered by key.
  virtual core::Result<std::vector<AuthEvent>> latestEventPerConnection() = 0;

  /// Deletes events older than now - `retention` (through the time index); returns how many.
  virtual core::Result<int64_t> pruneEvents(Duration retention) = 0;
};

/// Pending interactive OAuth flows, keyed by a SHA-256 of the `state` parameter.
class FlowStore {
 public:
  virtual ~FlowStore() = default;

  /// Stores `flow` (state, key, verifier, return URL, ... and expires_at) unless an
  /// unexpired flow is already pending for the connection; then returns that one.
  virtual core::Result<CreateFlowResult> createPendingFlow(const PendingFlow& flow) = 0;

  /// Takes the flow for `state` exactly once (atomically deleted). kNotFound when unknown,
  /// already taken, or expired (an expired flow is consumed too).
  virtual core::Result<PendingFlow> takePendingFlow(std::string_view state) = 0;

  /// Deletes every expired flow; returns how many.
  virtual core::Result<int64_t> expirePendingFlows() = 0;

  /// Deletes the connection's pending flow, if any (admin cancel, reconnect restart).
  virtual core::Result<bool> cancelPendingFlow(const ConnectionKey& key) = 0;
};

/// OAuth clients registered per issuer, and the endpoints each connection resolved.
class ClientStore {
 public:
  virtual ~ClientStore() = default;
  /// Creates or replaces the client of `client.issuer`.
  virtual core::Status putClient(const OAuthClient& client) = 0;
  virtual core::Result<std::optional<OAuthClient>> getClient(std::string_view issuer) = 0;
  virtual core::Result<bool> deleteClient(std::string_view issuer) = 0;

  /// Creates or replaces the resolved endpoints of `endpoints.key`.
  virtual core::Status putEndpoints(const OAuthEndpoints& endpoints) = 0;
  virtual core::Result<std::optional<OAuthEndpoints>> getEndpoints(const ConnectionKey& key) = 0;
};

/// The registry of configured connections and the bulk health view over it.
class ConnectionRegistry {
 public:
  virtual ~ConnectionRegistry() = default;

  /// Makes the registry equal to `connections` (upserts them, removes others). Tokens,
  /// state and events of removed connections are kept (they reappear if re-added).
  virtual core::Status syncConnections(std::span<const ConnectionInfo> connections) = 0;

  virtual core::Result<std::vector<ConnectionInfo>> listConnections() = 0;

  /// One row per registered connection (ordered by key), from a single query however many
  /// connections exist.
  virtual core::Result<std::vector<HealthRow>> bulkHealth() = 0;
};

/// Signed-out portal sessions, shared by every store on the database: a sign-out holds
/// after a restart and on every replica. Ids are the sessions' random nonces (at most
/// kMaxSessionIdBytes); only sessions whose signature was checked belong here.
class SessionRevocationStore {
 public:
  static constexpr size_t kMaxSessionIdBytes = 128;

  virtual ~SessionRevocationStore() = default;

  /// Records that the session is signed out until `expires_at` (the session's own expiry;
  /// after it the cookie is refused anyway). Idempotent. Also deletes every revocation
  /// whose expiry passed (store clock), so the table holds at most one session lifetime
  /// of sign-outs. kInvalidArgument for an empty or too long id.
  virtual core::Status revokeSession(std::string_view session_id, TimePoint expires_at) = 0;

  /// True while a revocation of the session is recorded and unexpired.
  virtual core::Result<bool> isSessionRevoked(std::string_view session_id) = 0;

  /// Deletes expired revocations; returns how many.
  virtual core::Result<int64_t> pruneSessionRevocations() = 0;
};

class LockManager;

/// A held refresh lock; releases on destruction (which does I/O on PostgreSQL). Move-only.
/// A default-constructed or failed-try guard holds nothing.
class LockGuard {
 public:
  /// Implementation hook; `release` must be idempotent.
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual void release() = 0;
  };

  LockGuard() = default;
  LockGuard(ConnectionKey key, std::unique_ptr<Impl> impl)
      : key_(std::move(key)), impl_(std::move(impl)) {}
  LockGuard(LockGuard&&) noexcept = default;
  LockGuard& operator=(LockGuard&& other) noexcept {
    if (this != &other) {
      release();
      key_ = std::move(other.key_);
      impl_ = std::move(other.impl_);
    }
    return *this;
  }
  ~LockGuard() { release(); }

  bool held() const { return impl_ != nullptr; }
  const ConnectionKey& key() const { return key_; }
  void release() {
    if (impl_) {
      impl_->release();
      impl_.reset();
    }
  }

 private:
  ConnectionKey key_;
  std::unique_ptr<Impl> impl_;
};

/// "Exactly one refresher per connection" locks keyed on (kind, name). PostgreSQL:
/// session advisory locks on dedicated connections (shared by every replica on the
/// database). SQLite: an in-process table shared by every Store on the same file. Not
/// reentrant: a second lock of a held key fails or waits even in the same thread.
class LockManager {
 public:
  virtual ~LockManager() = default;

  /// Takes the lock if free right now; a guard with held() == false if someone has it.
  virtual core::Result<LockGuard> tryLock(const ConnectionKey& key) = 0;

  /// Waits up to `timeout` (real time) for the lock; kTimeout when the deadline passes.
  virtual core::Result<LockGuard> lock(const ConnectionKey& key, Duration timeout) = 0;
};

/// One open store: every interface above over one database. Create with `openStore`.
class Store : public TokenStore,
              public StateStore,
              public EventStore,
              public FlowStore,
              public ClientStore,
              public ConnectionRegistry,
              public SessionRevocationStore {
 public:
  virtual LockManager& locks() = 0;

  /// Cheap round trip for /readyz. kUnavailable when the database does not answer.
  virtual core::Status ping() = 0;

  /// Re-seals every sealed value (tokens, pending flows, clients, the key check) that is
  /// not yet under the sealer's primary key, in one transaction. The sealer must hold the
  /// old keys too, so the old values open (`tether keys rotate`). kCrypto naming the row
  /// when a value does not open; nothing is changed then.
  virtual core::Result<RotationReport> rotateKeys() = 0;

  /// Migrations applied by this `openStore` call (0 when the schema was current).
  virtual int migrationsAppliedAtOpen() const = 0;
  /// The schema version (highest migration applied).
  virtual int schemaVersion() const = 0;

  /// "sqlite:/var/lib/tether/tether.db" or "postgres:host:port/dbname" (no password).
  virtual std::string describe() const = 0;
};

/// SQLite: one process, and one store in it, per file. A second opener is refused (kStore,
/// naming the file); another process waits up to `busy_timeout` for the file first.
struct SqliteOptions {
  std::string path;              // a file; created when missing
  Duration busy_timeout{5000};   // wait for another writer's lock, then kUnavailable
  int read_connections = 4;      // WAL readers; writes go through one connection
  bool synchronous_full = true;  // PRAGMA synchronous=FULL (a rotated token is durable)
};

struct PostgresOptions {
  std::string dsn;            // libpq connection string or URI
  int pool_size = 8;          // connections for queries
  int lock_connections = 16;  // connections that hold advisory locks
  /// `openStore` tries to connect this many times, sleeping `connect_retry_delay` (doubling
  /// up to `connect_retry_max_delay`) in between, logging each failure.
  int connect_attempts = 10;
  Duration connect_retry_delay{500};
  Duration connect_retry_max_delay{10000};
  /// How to wait between attempts (tests inject a no-op or a hook); default sleeps.
  std::function<void(Duration)> sleep;
  Duration connect_timeout{5000};
  Duration statement_timeout{30000};
  bool listen = true;  // run the LISTEN thread for token-change notifications
};

struct StoreOptions {
  std::variant<SqliteOptions, PostgresOptions> backend;
  /// Required: an AES-GCM sealer, or the plaintext sealer when plaintext is explicitly
  /// allowed by configuration.
  std::shared_ptr<const Sealer> sealer;
  /// Source of "now" for timestamps, leases and expiry; must outlive the store. Default:
  /// the system clock.
  const core::Clock* clock = nullptr;
};

/// Opens the store: connects (PostgreSQL: retrying as configured), applies pending
/// migrations (PostgreSQL: under an advisory lock, so replicas may start together),
/// verifies every table exists, and checks the sealing key against the key-check value
/// (writing it on first use). Errors: kConfig (no sealer), kCrypto (wrong key, or the
/// store was written in the other mode), kUnavailable (unreachable, locked), kStore (also: a
/// SQLite file in use by another process or another store, naming the file).
core::Result<std::unique_ptr<Store>> openStore(StoreOptions options);

}  // namespace tether::store
