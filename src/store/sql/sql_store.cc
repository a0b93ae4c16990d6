// The SQL `Store`: opens a backend, migrates and verifies the schema and the sealing key,
// then assembles the per-interface parts (parts.h) over one shared StoreContext.

#include <fmt/format.h>

#include "core/log.h"
#include "store/sql/columns.h"
#include "store/sql/migrations.h"
#include "store/sql/parts.h"

namespace tether::store {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;
using sql::Param;
using sql::StoreContext;
using sql::withContext;

// Every interface forwards to its part; the store itself owns opening, the key check,
// key rotation and the locks.
class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<sql::Backend> backend, std::shared_ptr<const Sealer> sealer,
           const core::Clock& clock)
      : ctx_(std::move(backend), std::move(sealer), clock),
        tokens_(sql::makeTokenStore(ctx_)),
        states_(sql::makeStateStore(ctx_)),
        events_(sql::makeEventStore(ctx_)),
        flows_(sql::makeFlowStore(ctx_)),
        clients_(sql::makeClientStore(ctx_)),
        registry_(sql::makeConnectionRegistry(ctx_)),
        sessions_(sql::makeSessionRevocationStore(ctx_)),
        outbox_(sql::makeOutboxStore(ctx_)),
        definitions_(sql::makeConnectionDefinitionStore(ctx_)) {}

  Status open() {
    sql::Backend& backend = ctx_.backend();
    TETHER_TRY_ASSIGN(const sql::MigrationOutcome migrated,
                      sql::annotated("migrate", backend.describe(),
                                     [&] { return sql::migrate(backend, ctx_.nowMs()); }));
    migrations_applied_ = migrated.applied;
    schema_version_ = migrated.schema_version;
    TETHER_TRY(verifyTables());
    TETHER_TRY(verifyKey());
    TETHER_TRY(backend.start());
    locks_ = backend.makeLockManager();
    return core::okStatus();
  }

  // ---- Store -------------------------------------------------------------------------
  LockManager& locks() override { return *locks_; }
  OutboxStore& outbox() override { return *outbox_; }
  ConnectionDefinitionStore& definitions() override { return *definitions_; }

  Status ping() override {
    return sql::annotated("ping", describe(), [&]() -> Status {
      TETHER_TRY_ASSIGN(sql::Lease lease, ctx_.backend().reader());
      TETHER_TRY(lease->query("SELECT 1"));
      return core::okStatus();
    });
  }

  Result<RotationReport> rotateKeys() override { return sql::rotateKeys(ctx_); }
  int migrationsAppliedAtOpen() const override { return migrations_applied_; }
  int schemaVersion() const override { return schema_version_; }
  std::string describe() const override { return ctx_.backend().describe(); }

  // ---- TokenStore --------------------------------------------------------------------
  Result<std::optional<TokenRecord>> getToken(const ConnectionKey& key) override {
    return tokens_->getToken(key);
  }
  Result<int64_t> putToken(const TokenRecord& token, int64_t expected_version) override {
    return tokens_->putToken(token, expected_version);
  }
  Result<bool> deleteToken(const ConnectionKey& key,
                           std::optional<int64_t> expected_version) override {
    return tokens_->deleteToken(key, expected_version);
  }
  Result<ConditionalDelete> deleteTokenIfRefreshTokenIs(const ConnectionKey& key,
                                                        std::string_view refresh_token) override {
    return tokens_->deleteTokenIfRefreshTokenIs(key, refresh_token);
  }
  Subscription subscribeTokenChanges(TokenChangeCallback callback) override {
    return tokens_->subscribeTokenChanges(std::move(callback));
  }

  // ---- StateStore --------------------------------------------------------------------
  Result<std::optional<StateRecord>> getState(const ConnectionKey& key) override {
    return states_->getState(key);
  }
  Status putState(const StateRecord& state) override { return states_->putState(state); }
  Status setNextDue(const ConnectionKey& key, std::optional<TimePoint> due) override {
    return states_->setNextDue(key, due);
  }
  Result<std::vector<DueConnection>> dueConnections(TimePoint until, int limit) override {
    return states_->dueConnections(until, limit);
  }
  Result<std::vector<DueConnection>> claimDue(TimePoint until, int limit, std::string_view owner,
                                              Duration lease) override {
    return states_->claimDue(until, limit, owner, lease);
  }
  Status releaseClaim(const ConnectionKey& key, std::string_view owner) override {
    return states_->releaseClaim(key, owner);
  }

  // ---- EventStore --------------------------------------------------------------------
  Result<int64_t> appendEvent(const AuthEvent& event) override {
    return events_->appendEvent(event);
  }
  Result<std::vector<AuthEvent>> recentEvents(const ConnectionKey& key, int limit) override {
    return events_->recentEvents(key, limit);
  }
  Result<std::vector<AuthEvent>> latestEventPerConnection() override {
    return events_->latestEventPerConnection();
  }
  Result<int64_t> pruneEvents(Duration retention) override {
    return events_->pruneEvents(retention);
  }

  // ---- FlowStore ---------------------------------------------------------------------
  Result<CreateFlowResult> createPendingFlow(const PendingFlow& flow) override {
    return flows_->createPendingFlow(flow);
  }
  Result<TakenFlow> takeFlow(std::string_view state) override { return flows_->takeFlow(state); }
  Result<int64_t> expirePendingFlows() override { return flows_->expirePendingFlows(); }
  Result<bool> cancelPendingFlow(const ConnectionKey& key) override {
    return flows_->cancelPendingFlow(key);
  }

  // ---- ClientStore -------------------------------------------------------------------
  Status putClient(const OAuthClient& client) override { return clients_->putClient(client); }
  Result<std::optional<OAuthClient>> getClient(std::string_view issuer) override {
    return clients_->getClient(issuer);
  }
  Result<bool> deleteClient(std::string_view issuer) override {
    return clients_->deleteClient(issuer);
  }
  Status putEndpoints(const OAuthEndpoints& endpoints) override {
    return clients_->putEndpoints(endpoints);
  }
  Result<std::optional<OAuthEndpoints>> getEndpoints(const ConnectionKey& key) override {
    return clients_->getEndpoints(key);
  }

  // ---- ConnectionRegistry ------------------------------------------------------------
  Status syncConnections(std::span<const ConnectionInfo> connections) override {
    return registry_->syncConnections(connections);
  }
  Status updateConnections(std::span<const ConnectionInfo> upserted,
                           std::span<const ConnectionKey> removed) override {
    return registry_->updateConnections(upserted, removed);
  }
  Result<std::vector<ConnectionInfo>> listConnections() override {
    return registry_->listConnections();
  }
  Result<std::vector<HealthRow>> bulkHealth() override { return registry_->bulkHealth(); }
  Result<std::vector<HealthRow>> healthOf(std::span<const ConnectionKey> keys) override {
    return registry_->healthOf(keys);
  }
  Status recordLastUse(std::span<const LastUse> uses) override {
    return registry_->recordLastUse(uses);
  }
  Status recordConnectOutcome(const ConnectOutcome& outcome) override {
    return registry_->recordConnectOutcome(outcome);
  }
  Result<ConnectionActivity> activity(const ConnectionKey& key) override {
    return registry_->activity(key);
  }

  // ---- SessionRevocationStore --------------------------------------------------------
  Status revokeSession(std::string_view session_id, TimePoint expires_at) override {
    return sessions_->revokeSession(session_id, expires_at);
  }
  Result<bool> isSessionRevoked(std::string_view session_id) override {
    return sessions_->isSessionRevoked(session_id);
  }
  Result<int64_t> pruneSessionRevocations() override {
    return sessions_->pruneSessionRevocations();
  }

 private:
  Status verifyTables() {
    sql::Backend& backend = ctx_.backend();
    TETHER_TRY_ASSIGN(sql::Lease lease,
                      sql::annotated("open", backend.describe(), [&] { return backend.reader(); }));
    for (std::string_view table : sql::requiredTables()) {
      auto r = lease->query(fmt::format("SELECT 1 FROM {} LIMIT 1", table));
      if (!r.ok()) {
        return Error(Errc::kStore,
                     fmt::format("store: open {}: table '{}' is missing or unreadable although "
                                 "the migrations are recorded (the schema is damaged; restore "
                                 "a backup or re-create the database): {}",
                                 backend.describe(), table, r.error().message));
      }
    }
    return core::okStatus();
  }

  // Verifies the sealer against the key-check value, writing it on first open.
  Status verifyKey() {
    const Sealer& sealer = ctx_.sealer();
    const std::string aad = sql::keyCheckAad();
    TETHER_TRY_ASSIGN(const std::string sealed, sql::annotated("open", "key check", [&] {
                        return sealer.seal(sql::kKeyCheckPlaintext, aad);
                      }));
    TETHER_TRY_ASSIGN(const std::string stored, sql::annotated("open", describe(), [&] {
                        return readOrWriteKeyCheck(sealed);
                      }));
    auto opened = sealer.open(stored, aad);
    if (!opened.ok() || *opened != sql::kKeyCheckPlaintext) {
      return Error(Errc::kCrypto,
                   fmt::format("store: open {}: the configured sealing key ({}) does not match "
                               "the key this store was written with: {}. Configure the "
                               "original key (with the new one first, to rotate)",
                               describe(), sealer.describe(),
                               opened.ok() ? "key check value differs" : opened.error().message));
    }
    return core::okStatus();
  }

  // Writes `sealed` as the key-check value unless one exists; returns the stored value.
  Result<std::string> readOrWriteKeyCheck(const std::string& sealed) {
    constexpr auto c = sql::columns("value");
    TETHER_TRY_ASSIGN(sql::Lease lease, ctx_.backend().writer());
    TETHER_TRY(lease->query(
        "INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING",
        {Param::text(sealed)}));
    TETHER_TRY_ASSIGN(sql::ResultSet r,
                      lease->query("SELECT " + c.sql() + " FROM meta WHERE key = 'key_check'"));
    if (r.rows.empty()) return Error(Errc::kStore, "the key check value vanished");
    return r.rows[0][c("value")].asText();
  }

  StoreContext ctx_;  // first: the parts and the locks refer to it
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<StateStore> states_;
  std::unique_ptr<EventStore> events_;
  std::unique_ptr<FlowStore> flows_;
  std::unique_ptr<ClientStore> clients_;
  std::unique_ptr<ConnectionRegistry> registry_;
  std::unique_ptr<SessionRevocationStore> sessions_;
  std::unique_ptr<OutboxStore> outbox_;
  std::unique_ptr<ConnectionDefinitionStore> definitions_;
  std::unique_ptr<LockManager> locks_;
  int migrations_applied_ = 0;
  int schema_version_ = 0;
};

}  // namespace

Result<std::unique_ptr<Store>> openStore(StoreOptions options) {
  if (!options.sealer) {
    return Error(Errc::kConfig,
                 "store: no sealer: configure a sealing key, or explicitly allow plaintext "
                 "storage");
  }
  const core::Clock& clock = options.clock != nullptr ? *options.clock : core::systemClock();
  // Waits for a pooled connection or a refresh lock are real-time waits on other threads,
  // processes or the PostgreSQL server (whose lock_timeout runs on its own clock), so they
  // are measured on the system clock even when the store's clock is a test clock.
  const core::Clock& wait_clock = core::systemClock();
  Result<std::unique_ptr<sql::Backend>> backend =
      std::holds_alternative<SqliteOptions>(options.backend)
          ? sql::openSqliteBackend(std::get<SqliteOptions>(options.backend), wait_clock)
          : sql::openPostgresBackend(std::get<PostgresOptions>(options.backend), wait_clock);
  if (!backend.ok()) return withContext(backend.error(), "open", "");
  auto store =
      std::make_unique<SqlStore>(std::move(backend).value(), std::move(options.sealer), clock);
  TETHER_TRY(store->open());
  core::log::info("store opened", {{"database", store->describe()},
                                   {"schema_version", store->schemaVersion()},
                                   {"migrations_applied", store->migrationsAppliedAtOpen()}});
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tether::store
