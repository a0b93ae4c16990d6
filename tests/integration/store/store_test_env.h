#pragma once
// Shared helpers for the store integration tests: a fresh database per test (a temporary
// SQLite file or a new PostgreSQL database on the server from scripts/with-postgres.sh),
// raw SQL access that bypasses the store, child processes, and private PostgreSQL clusters
// for fault tests.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace tether::store::testing {

enum class BackendKind { kSqlite, kPostgres };

std::string backendName(BackendKind kind);

/// The message PostgreSQL tests fail with when the environment lacks the server.
inline constexpr const char* kNeedPostgres =
    "TETHER_TEST_PG_DSN is not set: run the store tests under scripts/with-postgres.sh "
    "(e.g. scripts/with-postgres.sh ctest --test-dir build) — PostgreSQL tests never skip";

/// $TETHER_TEST_PG_DSN, or nullopt.
std::optional<std::string> pgAdminDsn();
/// Directory holding initdb, pg_ctl and pg_dump ($TETHER_TEST_PG_BIN), or nullopt.
std::optional<std::string> pgBinDir();

/// `dsn` with dbname replaced.
std::string withDbname(const std::string& dsn, const std::string& dbname);

/// A 32-byte test key derived from `seed`.
SealingKey testKey(char seed);
std::shared_ptr<const Sealer> aesSealer(std::vector<SealingKey> keys);

/// A fresh, empty database. Destroying it removes the file or drops the database.
class TestDatabase {
 public:
  /// nullptr (after recording a test failure) when PostgreSQL is not configured.
  static std::unique_ptr<TestDatabase> create(BackendKind kind);
  ~TestDatabase();

  BackendKind kind() const { return kind_; }
  const std::string& sqlitePath() const { return sqlite_path_; }
  const std::string& pgDsn() const { return pg_dsn_; }
  /// "sqlite" + path or "postgres" + DSN: the arguments of store_migrate_helper.
  std::vector<std::string> helperArgs() const;

  /// Options for openStore on this database; fast failure settings for tests.
  StoreOptions options(std::shared_ptr<const Sealer> sealer, const core::Clock* clock) const;

  /// Runs SQL directly (not through the store).
  core::Status rawExec(const std::string& sql) const;
  /// First column of the first row of `sql` (nullopt for no row or NULL).
  core::Result<std::optional<std::string>> rawQueryOne(const std::string& sql) const;

  explicit TestDatabase(BackendKind kind) : kind_(kind) {}  // use create()

 private:
  BackendKind kind_;
  std::string dir_;
  std::string sqlite_path_;
  std::string admin_dsn_;
  std::string pg_dbname_;
  std::string pg_dsn_;
};

/// Runs argv (PATH lookup) and returns its exit status (-1 if it could not run); stdout
/// goes to `output` when given, stderr to ours.
int runCommand(const std::vector<std::string>& argv, std::string* output = nullptr);

/// A child process started with a pipe on stdin (used as a start barrier).
struct Child {
  int pid = -1;
  int stdin_fd = -1;
};
Child spawnWithStdinPipe(const std::vector<std::string>& argv);
/// Waits for the child; returns its exit status.
int waitChild(const Child& child);

/// A PostgreSQL cluster owned by one test: its own data directory, port and socket dir,
/// started and stopped at will (never the shared cluster other tests use).
class PrivateCluster {
 public:
  /// initdb only (not started). nullptr (after recording a failure) when it cannot.
  static std::unique_ptr<PrivateCluster> create();
  ~PrivateCluster();

  bool start();
  bool stop();  // fast shutdown: clients are disconnected
  std::string dsn() const;

  PrivateCluster() = default;  // use create()

 private:
  std::vector<std::string> asPostgres(std::vector<std::string> argv) const;
  std::string bin_;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

/// Reads a whole file ("" when missing).
std::string readFile(const std::string& path);

}  // namespace tether::store::testing
