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
///
/// One header per interface: token_store.h, state_store.h, event_store.h, flow_store.h,
/// client_store.h, connection_registry.h, session_revocation_store.h, lock_manager.h,
/// outbox_store.h, connection_definition_store.h. This
/// header gathers them into the `Store` aggregate and declares `openStore`.

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "core/clock.h"
#include "core/result.h"
#include "store/client_store.h"
#include "store/connection_definition_store.h"
#include "store/connection_registry.h"
#include "store/event_store.h"
#include "store/flow_store.h"
#include "store/lock_manager.h"
#include "store/outbox_store.h"
#include "store/sealer.h"
#include "store/session_revocation_store.h"
#include "store/state_store.h"
#include "store/token_store.h"
#include "store/types.h"

namespace tether::store {

/// One open store: every interface over one database. Create with `openStore`.
class Store : public TokenStore,
              public StateStore,
              public EventStore,
              public FlowStore,
              public ClientStore,
              public ConnectionRegistry,
              public SessionRevocationStore {
 public:
  virtual LockManager& locks() = 0;

  /// The webhook outbox (store/outbox_store.h), over the same database.
  virtual OutboxStore& outbox() = 0;

  /// Connections made through the admin API (store/connection_definition_store.h).
  virtual ConnectionDefinitionStore& definitions() = 0;

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
