#pragma once
// Seeded benchmark databases (SQLite file or a throwaway PostgreSQL database) shared by the
// store and admin benchmarks. Rows are seeded with SQL for speed.

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/random.h"
#include "store/store.h"

namespace tether::store::bench {

inline const TimePoint kNow = core::fromUnixSeconds(1'800'000'000);
inline constexpr int64_t kNowMs = 1'800'000'000'000;

inline std::shared_ptr<const Sealer> benchSealer() {
  static const std::shared_ptr<const Sealer> sealer(
      makeAesGcmSealer({SealingKey::fromBytes(std::string(32, 'b')).value()}).value());
  return sealer;
}

// ---- database fixtures ----------------------------------------------------------------

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct PgCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};

// Seeds `n` connections: registry, state (with a spread of next_due_at), tokens for 4 of
// 5, one event each with a failure as the newest lifecycle event for 1 in 10.
inline std::string seedSql(bool postgres, int n) {
  const std::string name = postgres ? "'conn-' || lpad(i::text, 6, '0')" : "printf('conn-%06d', i)";
  const std::string from =
      postgres ? " FROM generate_series(0, " + std::to_string(n - 1) + ") AS g(i)" : " FROM seq";
  const std::string with = postgres ? ""
                                    : "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT "
                                      "i + 1 FROM seq WHERE i < " +
                                          std::to_string(n - 1) + ") ";
  const std::string now = std::to_string(kNowMs);
  std::string sql;
  sql += with + "INSERT INTO connections SELECT 'mcp', " + name +
         ", 'oauth', 1, 'idp.example.com', 1, 0" + from + ";";
  sql += with +
         "INSERT INTO connection_state (kind, name, state, reason, last_error_code, "
         "consecutive_failures, next_due_at, updated_at) SELECT 'mcp', " +
         name +
         ", CASE WHEN i % 10 = 0 THEN 'refresh_failing' WHEN i % 25 = 1 THEN 'needs_reauth' ELSE "
         "'connected' END, '', CASE WHEN i % 10 = 0 THEN 'invalid_client' ELSE '' END, i % 3, " +
         now + " + (i % 1000 - 500) * 60000 + i, " + now + from + ";";
  sql += with + "INSERT INTO tokens SELECT 'mcp', " + name +
         ", 'ts1:00000000:sealed', 'ts1:00000000:sealed', 'fp', 'Bearer', 'read', " + now +
         " + 3600000, NULL, " + now + ", 'admin:bench', NULL, 'idp.example.com', i + 1, " + now +
         from + " WHERE i % 5 <> 4;";
  sql += with +
         "INSERT INTO auth_events (at, kind, name, type, actor, idp_host, correlation_id, "
         "detail) SELECT " +
         now + ", 'mcp', " + name +
         ", CASE WHEN i % 10 = 0 THEN 'refresh_failed_transient' ELSE 'refresh_succeeded' END, "
         "'system:background-refresh', 'idp.example.com', '', '{}'" +
         from + ";";
  sql +=
      "INSERT INTO event_heads SELECT kind, name, id, at, id, at, CASE WHEN type = "
      "'refresh_failed_transient' THEN 1 ELSE 0 END FROM auth_events;";
  sql += "ANALYZE;";
  return sql;
}

class BenchDatabase {
 public:
  static std::unique_ptr<BenchDatabase> sqlite(int n) {
    auto db = std::make_unique<BenchDatabase>();
    db->dir_ =
        (std::filesystem::temp_directory_path() / ("tether-bench-" + core::newId())).string();
    std::filesystem::create_directories(db->dir_);
    SqliteOptions o;
    o.path = db->dir_ + "/bench.db";
    if (!db->open(o)) return nullptr;
    sqlite3* raw = nullptr;
    sqlite3_open(o.path.c_str(), &raw);
    std::unique_ptr<sqlite3, SqliteCloser> conn(raw);
    const std::string sql = "BEGIN;" + seedSql(false, n) + "COMMIT;";
    char* err = nullptr;
    if (sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      db->error_ = err != nullptr ? err : "seed failed";
      sqlite3_free(err);
    }
    return db;
  }

  static std::unique_ptr<BenchDatabase> postgres(int n) {
    auto db = std::make_unique<BenchDatabase>();
    const char* admin = std::getenv("TETHER_TEST_PG_DSN");
    if (admin == nullptr) {
      db->error_ = "TETHER_TEST_PG_DSN is not set: run under scripts/with-postgres.sh";
      return db;
    }
    db->admin_dsn_ = admin;
    db->pg_name_ = "tether_bench_" + core::newId().substr(0, 12);
    if (!db->pgExec(db->admin_dsn_, "CREATE DATABASE " + db->pg_name_)) return db;
    PostgresOptions o;
    o.dsn = db->admin_dsn_ + " dbname=" + db->pg_name_;
    o.listen = false;
    if (!db->open(o)) return db;
    db->pgExec(o.dsn, seedSql(true, n));
    return db;
  }

  ~BenchDatabase() {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (!pg_name_.empty()) pgExec(admin_dsn_, "DROP DATABASE " + pg_name_ + " WITH (FORCE)");
  }

  Store* store() { return error_.empty() ? store_.get() : nullptr; }
  const std::string& error() const { return error_; }

 private:
  template <class Options>
  bool open(const Options& backend) {
    StoreOptions o;
    o.backend = backend;
    o.sealer = benchSealer();
    o.clock = &clock_;
    auto s = openStore(std::move(o));
    if (!s.ok()) {
      error_ = s.error().message;
      return false;
    }
    store_ = std::move(s).value();
    return true;
  }

  bool pgExec(const std::string& dsn, const std::string& sql) {
    std::unique_ptr<PGconn, PgCloser> c(PQconnectdb(dsn.c_str()));
    std::unique_ptr<PGresult, PgResultClearer> r(PQexec(c.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      error_ = PQerrorMessage(c.get());
      return false;
    }
    return true;
  }

  core::ManualClock clock_{kNow};
  std::unique_ptr<Store> store_;
  std::string dir_;
  std::string admin_dsn_;
  std::string pg_name_;
  std::string error_;
};

}  // namespace tether::store::bench
