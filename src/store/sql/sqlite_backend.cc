// SQLite backend: one writer connection (WAL, BEGIN IMMEDIATE, busy timeout) and a small
// pool of reader connections. Statements are prepared once per connection and cached.
//
// One process per file, by design. Every connection opens through SQLite's "unix-excl"
// VFS: the first one takes an exclusive POSIX lock on the database file for the life of
// the process (another process gets SQLITE_BUSY, which becomes a clear "in use" error at
// open), and the WAL index lives on the heap, shared by this process's connections,
// instead of in a memory map of a "-shm" file. (A mapped file that shrinks or whose disk
// fails turns the next access into SIGBUS; a heap index makes every such failure an error
// value.) PRAGMA locking_mode=EXCLUSIVE gives the heap index too, but also locks out this
// process's own reader connections. mmap_size=0 keeps the database file itself unmapped.
// Inside the process, a registry refuses a second store on the same file.

#include <fmt/format.h>
#include <sqlite3.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <set>
#include <unordered_map>

#include "store/sql/columns.h"
#include "store/sql/local_coordinator.h"
#include "store/sql/sql.h"

namespace tether::store::sql {
namespace {

// What `PRAGMA journal_mode=WAL` answers.
constexpr auto kJournalMode = columns("journal_mode");

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Heap WAL index and an exclusive lock for this process (see the top of this file).
constexpr const char* kVfs = "unix-excl";

constexpr std::string_view kMissingTableHint =
    " (a table is missing: the schema is damaged; restore the database from a backup or "
    "re-create it)";

Error sqliteError(sqlite3* db, int rc, Duration busy_timeout) {
  const int primary = rc & 0xff;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(Errc::kUnavailable,
                   fmt::format("database is locked by another writer (busy timeout {} ms "
                               "passed): {}",
                               busy_timeout.count(), message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error(Errc::kAlreadyExists, std::move(message));
      }
      if (rc == SQLITE_CONSTRAINT_CHECK) return Error(Errc::kInvalidArgument, std::move(message));
      return Error(Errc::kStore, std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(Errc::kStore, "database file is corrupt: " + message);
    default:
      break;
  }
  if (message.starts_with("no such table")) message += kMissingTableHint;
  return Error(Errc::kStore, std::move(message));
}

std::string inUseMessage(const std::string& path, std::string_view by_whom) {
  return fmt::format(
      "the SQLite database {} is in use {} (is another Tether running on it?); a SQLite "
      "store serves one process — stop the other one, or use PostgreSQL to run several "
      "replicas",
      path, by_whom);
}

// The files open as a store in this process (canonical paths).
class OpenFiles {
 public:
  static bool claim(const std::string& path) {
    std::lock_guard lock(mu());
    return paths().insert(path).second;
  }
  static void release(const std::string& path) {
    std::lock_guard lock(mu());
    paths().erase(path);
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& paths() {
    static std::set<std::string> p;
    return p;
  }
};

// Holds a claim on a path; released on destruction unless handed on.
struct FileClaim {
  std::string path;
  ~FileClaim() {
    if (!path.empty()) OpenFiles::release(path);
  }
};

struct CachedStatement {
  StmtPtr stmt;
  std::vector<int> param_numbers;  // for bind position i+1: the $N it names
};

class SqliteSession final : public Session {
 public:
  using Session::query;
  SqliteSession(DbPtr db, Duration busy_timeout)
      : db_(std::move(db)), busy_timeout_(busy_timeout) {}

  static Result<std::unique_ptr<Session>> open(const SqliteOptions& options, bool writer) {
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, kVfs);
    DbPtr db(raw);
    if (rc != SQLITE_OK) {
      return Error(Errc::kUnavailable,
                   fmt::format("cannot open SQLite database {}: {}", options.path,
                               raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
    auto session = std::make_unique<SqliteSession>(std::move(db), options.busy_timeout);
    // A 16 MiB page cache per connection keeps the keyed tables of ~10,000 connections
    // in memory for bulk reads.
    std::string pragmas =
        fmt::format("PRAGMA synchronous={}; PRAGMA cache_size=-16384; PRAGMA mmap_size=0;",
                    options.synchronous_full ? "FULL" : "NORMAL");
    if (writer) {
      // journal_mode answers with a row; run it as a query to see the result. It is the
      // first access, so it takes the process lock: busy here means another process.
      auto mode = session->query("PRAGMA journal_mode=WAL");
      if (!mode.ok() && mode.error().code == Errc::kUnavailable) {
        return Error(Errc::kStore, inUseMessage(options.path, "by another process"));
      }
      TETHER_TRY(mode);
      if (mode->rows.empty() || mode->rows[0][kJournalMode("journal_mode")].asText() != "wal") {
        return Error(Errc::kStore, "SQLite refused to switch " + options.path + " to WAL mode");
      }
    } else {
      pragmas += "PRAGMA query_only=1;";
    }
    TETHER_TRY(session->script(pragmas));
    return std::unique_ptr<Session>(std::move(session));
  }

  Result<ResultSet> query(std::string_view sql, std::span<const Param> params) override {
    ResultSet out;
    auto st = run(
        sql, params,
        [&out](sqlite3_stmt* stmt, int columns) {
          Row row;
          row.reserve(static_cast<size_t>(columns));
          for (int c = 0; c < columns; ++c) {
            switch (sqlite3_column_type(stmt, c)) {
              case SQLITE_NULL:
                row.emplace_back();
                break;
              case SQLITE_INTEGER:
              case SQLITE_FLOAT:
                row.push_back(Value::ofInt(sqlite3_column_int64(stmt, c)));
                break;
              default:
                row.push_back(Value::ofText(std::string(columnText(stmt, c))));
            }
          }
          out.rows.push_back(std::move(row));
        },
        &out.affected);
    TETHER_TRY(st);
    return out;
  }

  Status forEach(std::string_view sql, std::span<const Param> params,
                 const RowCallback& on_row) override {
    return run(
        sql, params,
        [&on_row](sqlite3_stmt* stmt, int) {
          const StmtRow view(stmt);
          on_row(view);
        },
        nullptr);
  }

  Status script(std::string_view sql) override {
    std::string owned(sql);
    char* raw_error = nullptr;
    const int rc = sqlite3_exec(db_.get(), owned.c_str(), nullptr, nullptr, &raw_error);
    std::unique_ptr<char, decltype(&sqlite3_free)> error(raw_error, &sqlite3_free);
    if (rc != SQLITE_OK) return sqliteError(db_.get(), rc, busy_timeout_);
    return core::okStatus();
  }

  bool healthy() const override { return true; }

 private:
  static std::string_view columnText(sqlite3_stmt* stmt, int c) {
    const auto* text = static_cast<const char*>(sqlite3_column_blob(stmt, c));
    const int size = sqlite3_column_bytes(stmt, c);
    return text != nullptr ? std::string_view(text, static_cast<size_t>(size)) : std::string_view();
  }

  class StmtRow final : public RowView {
   public:
    explicit StmtRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
    bool isNull(int c) const override { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    int64_t integer(int c) const override { return sqlite3_column_int64(stmt_, c); }
    std::string_view text(int c) const override { return columnText(stmt_, c); }

   private:
    sqlite3_stmt* stmt_;
  };

  // Prepares (cached), binds, steps through every row, and resets the statement.
  template <class OnRow>
  Status run(std::string_view sql, std::span<const Param> params, OnRow&& on_row,
             int64_t* affected) {
    TETHER_TRY_ASSIGN(CachedStatement * prepared, prepare(sql));
    CachedStatement& cached = *prepared;
    sqlite3_stmt* stmt = cached.stmt.get();
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};

    for (size_t i = 0; i < cached.param_numbers.size(); ++i) {
      const int n = cached.param_numbers[i];
      if (n < 1 || static_cast<size_t>(n) > params.size()) {
        return Error(Errc::kInternal,
                     fmt::format("statement needs parameter ${}, {} given", n, params.size()));
      }
      const Param& p = params[static_cast<size_t>(n - 1)];
      const int pos = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (p.null) {
        rc = sqlite3_bind_null(stmt, pos);
      } else if (p.type == Param::Type::kInt) {
        rc = sqlite3_bind_int64(stmt, pos, p.i);
      } else {
        rc = sqlite3_bind_text64(stmt, pos, p.s.data(), p.s.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return sqliteError(db_.get(), rc, busy_timeout_);
    }

    const int columns = sqlite3_column_count(stmt);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sqliteError(db_.get(), rc, busy_timeout_);
      on_row(stmt, columns);
    }
    if (affected != nullptr && sqlite3_stmt_readonly(stmt) == 0) {
      *affected = sqlite3_changes64(db_.get());
    }
    return core::okStatus();
  }

  Result<CachedStatement*> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return &it->second;
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return sqliteError(db_.get(), rc, busy_timeout_);
    if (stmt == nullptr) return Error(Errc::kInternal, "empty SQL statement");
    CachedStatement cached;
    const int count = sqlite3_bind_parameter_count(stmt.get());
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt.get(), i);
      int n = 0;
      if (name != nullptr && name[0] == '$') {
        std::string_view digits(name + 1);
        std::from_chars(digits.data(), digits.data() + digits.size(), n);
      }
      if (n <= 0) return Error(Errc::kInternal, "SQL parameters must be written $1..$n");
      cached.param_numbers.push_back(n);
    }
    cached.stmt = std::move(stmt);
    auto [it, inserted] = cache_.emplace(std::move(key), std::move(cached));
    return &it->second;
  }

  DbPtr db_;
  Duration busy_timeout_;
  std::unordered_map<std::string, CachedStatement> cache_;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend(SqliteOptions options, std::shared_ptr<Pool> writer, std::shared_ptr<Pool> readers,
                std::string canonical_path, const core::Clock& wait_clock)
      : options_(std::move(options)),
        wait_clock_(wait_clock),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        canonical_path_(std::move(canonical_path)),
        coordinator_(LocalCoordinator::forPath(canonical_path_)) {}

  ~SqliteBackend() override {
    readers_->clearIdle();
    writer_->clearIdle();
    // Every connection is closed (the store returned its leases): the file may open again.
    OpenFiles::release(canonical_path_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  Result<Lease> reader() override { return readers_->acquire(); }
  Result<Lease> writer() override { return writer_->acquire(); }
  std::string_view beginSql() const override { return "BEGIN IMMEDIATE"; }

  Status withMigrationLock(Session&, const std::function<Status()>& fn) override {
    return fn();  // the migration's BEGIN IMMEDIATE excludes every other writer
  }

  std::unique_ptr<LockManager> makeLockManager() override {
    return makeLocalLockManager(coordinator_, wait_clock_);
  }
  Subscription subscribe(TokenChangeCallback callback) override {
    return coordinator_->subscribers()->add(std::move(callback));
  }
  void announce(const TokenChange& change) override { coordinator_->announce(change); }
  std::string describe() const override { return "sqlite:" + canonical_path_; }

 private:
  SqliteOptions options_;
  const core::Clock& wait_clock_;
  std::shared_ptr<Pool> writer_;
  std::shared_ptr<Pool> readers_;
  std::string canonical_path_;
  std::shared_ptr<LocalCoordinator> coordinator_;
};

}  // namespace

Result<std::unique_ptr<Backend>> openSqliteBackend(const SqliteOptions& options,
                                                   const core::Clock& wait_clock) {
  if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:")) {
    return Error(Errc::kConfig,
                 "SQLite store needs a file path (in-memory databases cannot be shared by the "
                 "writer and reader connections)");
  }
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(options.path, ec).string();
  if (ec) canonical = options.path;
  if (!OpenFiles::claim(canonical)) {
    return Error(Errc::kStore, inUseMessage(options.path, "by another store in this process"));
  }
  FileClaim claim{canonical};
  TETHER_TRY_ASSIGN(std::unique_ptr<Session> first, SqliteSession::open(options, /*writer=*/true));
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.busy_timeout);
  auto writer = Pool::create(
      "SQLite writer", 1, timeout, [options] { return SqliteSession::open(options, true); },
      wait_clock);
  writer->adopt(std::move(first));
  auto readers = Pool::create(
      "SQLite reader", static_cast<size_t>(std::max(1, options.read_connections)), timeout,
      [options] { return SqliteSession::open(options, false); }, wait_clock);
  auto backend = std::make_unique<SqliteBackend>(options, std::move(writer), std::move(readers),
                                                 canonical, wait_clock);
  claim.path.clear();  // the backend releases it
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace tether::store::sql
