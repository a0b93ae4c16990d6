#include "store/sql/migrations.h"

#include <fmt/format.h>

#include <array>
#include <set>

#include "core/log.h"
#include "store/sql/columns.h"
#include "store/sql/migrations/versions.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

constexpr std::array<std::string_view, 15> kTables = {
    "meta",
    "counters",
    "connections",
    "tokens",
    "connection_state",
    "auth_events",
    "event_heads",
    "pending_flows",
    "oauth_clients",
    "oauth_endpoints",
    "session_revocations",
    "webhook_outbox",
    "webhook_notices",
    "connection_activity",
    "connection_definitions",
};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL, applied_at BIGINT NOT NULL)";

Result<std::set<int>> appliedVersions(Session& s) {
  constexpr auto c = columns("version");
  TETHER_TRY_ASSIGN(ResultSet r, s.query("SELECT " + c.sql() + " FROM schema_migrations"));
  std::set<int> out;
  for (const auto& row : r.rows) out.insert(static_cast<int>(row[c("version")].asInt()));
  return out;
}

Status checkNotNewer(const std::set<int>& applied) {
  const int known = allMigrations().back().version;
  if (!applied.empty() && *applied.rbegin() > known) {
    return Error(Errc::kStore,
                 fmt::format("the database schema is at version {}, newer than this Tether "
                             "build knows ({}); upgrade Tether",
                             *applied.rbegin(), known));
  }
  return core::okStatus();
}

Status applyOne(Session& s, Dialect dialect, const Migration& m, int64_t now_ms) {
  const std::string_view script = dialect == Dialect::kSqlite ? m.sqlite : m.postgres;
  if (auto st = s.script(script); !st.ok()) {
    return Error(st.error().code, fmt::format("migration {} ({}) failed: {}", m.version, m.name,
                                              st.error().message));
  }
  TETHER_TRY(
      s.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
              {Param::integer(m.version), Param::text(m.name), Param::integer(now_ms)}));
  core::log::info("store migration applied",
                  {{"version", m.version}, {"name", std::string(m.name)}});
  return core::okStatus();
}

// SQLite: one BEGIN IMMEDIATE transaction for the lot; it excludes other writers, including
// another process starting at the same time (which waits for the busy timeout).
Result<MigrationOutcome> migrateSqlite(Session& s, int64_t now_ms) {
  return inTransaction(s, "BEGIN IMMEDIATE", [&]() -> Result<MigrationOutcome> {
    TETHER_TRY(s.query(kCreateMigrationsTable));
    TETHER_TRY_ASSIGN(const std::set<int> applied, appliedVersions(s));
    TETHER_TRY(checkNotNewer(applied));
    MigrationOutcome out;
    for (const auto& m : allMigrations()) {
      if (applied.count(m.version) != 0) continue;
      TETHER_TRY(applyOne(s, Dialect::kSqlite, m, now_ms));
      ++out.applied;
    }
    return out;
  });
}

// PostgreSQL: the caller holds an advisory lock; each migration is its own transaction.
Result<MigrationOutcome> migratePostgres(Session& s, int64_t now_ms) {
  TETHER_TRY(s.query(kCreateMigrationsTable));
  TETHER_TRY_ASSIGN(const std::set<int> applied, appliedVersions(s));
  TETHER_TRY(checkNotNewer(applied));
  MigrationOutcome out;
  for (const auto& m : allMigrations()) {
    if (applied.count(m.version) != 0) continue;
    TETHER_TRY(
        inTransaction(s, "BEGIN", [&] { return applyOne(s, Dialect::kPostgres, m, now_ms); }));
    ++out.applied;
  }
  return out;
}

}  // namespace

std::span<const Migration> allMigrations() {
  // The schema's history, oldest first: one line a migration (each in migrations/vNN_*.cc,
  // declared in migrations/versions.h). A function-local copy: other files' static
  // initializers (tests' constants) may ask for the list before this file's would have run.
  static const std::array kMigrations = {
      migrations::kV01InitialSchema,
      migrations::kV02NotifyReplicas,
      migrations::kV03ConnectFlowEndpoints,
      migrations::kV04SessionRevocations,
      migrations::kV05WebhookOutbox,
      migrations::kV06ClientRegisteredEvent,
      migrations::kV07StepUp,
      migrations::kV08ConnectionDefinitions,
      migrations::kV09NeedsClientFix,
      migrations::kV10ConnectionActivity,
  };
  return kMigrations;
}
std::span<const std::string_view> requiredTables() { return kTables; }

Result<MigrationOutcome> migrate(Backend& backend, int64_t now_ms) {
  TETHER_TRY_ASSIGN(Lease lease, backend.writer());
  Session& s = *lease;
  Result<MigrationOutcome> outcome = MigrationOutcome{};
  TETHER_TRY(backend.withMigrationLock(s, [&]() -> Status {
    outcome = backend.dialect() == Dialect::kSqlite ? migrateSqlite(s, now_ms)
                                                    : migratePostgres(s, now_ms);
    if (!outcome.ok()) return outcome.error();
    return core::okStatus();
  }));
  outcome->schema_version = allMigrations().back().version;
  return outcome;
}

}  // namespace tether::store::sql
