#pragma once
/// Internal: the numbered schema migrations of each dialect and the migrator. A migration
/// is never edited once released; schema changes append a new one.

#include <span>
#include <string_view>

#include "core/result.h"
#include "store/sql/sql.h"

namespace tether::store::sql {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sqlite;
  std::string_view postgres;
};

/// All migrations, in version order.
std::span<const Migration> allMigrations();

/// Tables the store needs (checked at open, after migrating).
std::span<const std::string_view> requiredTables();

struct MigrationOutcome {
  int applied = 0;         // migrations applied by this call
  int schema_version = 0;  // highest applied afterwards
};

/// Applies every migration not yet recorded in `schema_migrations`, each in its own
/// transaction (SQLite: all in one write transaction), under the backend's migration lock
/// so concurrent starters serialize. kStore when the database is newer than this binary.
core::Result<MigrationOutcome> migrate(Backend& backend, int64_t now_ms);

}  // namespace tether::store::sql
