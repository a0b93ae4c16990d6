#pragma once
/// Internal to the store module: a minimal SQL session abstraction over SQLite and libpq,
/// so the store's logic and queries are written once. SQL uses `$1..$n` placeholders on
/// both backends (SQLite binds them by name). Values are 64-bit integers, text or NULL.
/// No SQLite or libpq header appears here.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace tether::store::sql {

/// One result cell.
class Value {
 public:
  Value() = default;
  static Value ofInt(int64_t v) { return Value(Storage(std::in_place_index<1>, v)); }
  static Value ofText(std::string v) {
    return Value(Storage(std::in_place_index<2>, std::move(v)));
  }

  bool isNull() const { return v_.index() == 0; }
  /// NULL reads as 0; text is parsed (0 when not a number).
  int64_t asInt() const;
  /// NULL reads as ""; integers are formatted.
  std::string asText() const;
  std::optional<int64_t> optInt() const;
  std::optional<std::string> optText() const;

 private:
  using Storage = std::variant<std::monostate, int64_t, std::string>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

/// One bound parameter. Text parameters view caller-owned memory for the call's duration.
struct Param {
  enum class Type { kInt, kText };
  Type type = Type::kText;
  bool null = true;
  int64_t i = 0;
  std::string_view s;

  static Param integer(int64_t v) { return {Type::kInt, false, v, {}}; }
  static Param text(std::string_view v) { return {Type::kText, false, 0, v}; }
  static Param nullInt() { return {Type::kInt, true, 0, {}}; }
  static Param nullText() { return {Type::kText, true, 0, {}}; }
  static Param optInt(const std::optional<int64_t>& v) { return v ? integer(*v) : nullInt(); }
  static Param optText(const std::optional<std::string>& v) { return v ? text(*v) : nullText(); }
};

using Row = std::vector<Value>;

/// One row of a streamed result, valid only inside the callback. Integer columns of
/// PostgreSQL (int2/4/8, bool) and SQLite read as integers; NULL reads as 0 / "".
class RowView {
 public:
  virtual ~RowView() = default;
  virtual bool isNull(int column) const = 0;
  virtual int64_t integer(int column) const = 0;
  virtual std::string_view text(int column) const = 0;
  std::optional<int64_t> optInteger(int column) const {
    if (isNull(column)) return std::nullopt;
    return integer(column);
  }
};
using RowCallback = std::function<void(const RowView&)>;

struct ResultSet {
  std::vector<Row> rows;
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

/// One database connection. Used by one thread at a time (it is checked out of a pool).
class Session {
 public:
  virtual ~Session() = default;

  /// Runs one statement. Errors carry the project's codes (kUnavailable for a lost
  /// connection or a busy database, kAlreadyExists for a unique violation, kTimeout for a
  /// lock or statement timeout, kStore otherwise) and the database's message.
  virtual core::Result<ResultSet> query(std::string_view sql, std::span<const Param> params) = 0;
  core::Result<ResultSet> query(std::string_view sql, std::initializer_list<Param> params = {}) {
    return query(sql, std::span<const Param>(params.begin(), params.size()));
  }

  /// Runs one statement and hands each row to `on_row` without materializing the result
  /// (large reads: bulk health).
  virtual core::Status forEach(std::string_view sql, std::span<const Param> params,
                               const RowCallback& on_row) = 0;

  /// Runs several statements without parameters (migrations).
  virtual core::Status script(std::string_view sql) = 0;

  /// False once the connection failed in a way that makes it unusable.
  virtual bool healthy() const = 0;
  /// Cheap check before reuse of an idle connection (PostgreSQL: the server did not close
  /// it meanwhile).
  virtual bool stillUsable() { return healthy(); }
  /// Makes the pool discard this session when it is returned (state unknown).
  virtual void markBroken() {}
};

class Pool;

/// Returns a session to its pool (or discards it when broken).
struct LeaseReturn {
  std::shared_ptr<Pool> pool;
  void operator()(Session* session) const;
};
using Lease = std::unique_ptr<Session, LeaseReturn>;

/// A bounded pool of sessions created on demand by a factory. Thread-safe.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  using Factory = std::function<core::Result<std::unique_ptr<Session>>()>;

  /// `clock` measures the acquire timeout (a real-time wait for another thread's session).
  static std::shared_ptr<Pool> create(std::string name, size_t max_size,
                                      std::chrono::milliseconds acquire_timeout, Factory factory,
                                      const core::Clock& clock);

  /// An idle session, a new one (when below the limit), or one returned within the acquire
  /// timeout (kUnavailable after it). A factory failure is returned as is.
  core::Result<Lease> acquire();

  /// Adds an already-open session to the idle set (used for the first connection).
  void adopt(std::unique_ptr<Session> session);

  /// Closes idle sessions (shutdown).
  void clearIdle();

  /// Use `create` (leases keep the pool alive through a shared_ptr).
  Pool(std::string name, size_t max_size, std::chrono::milliseconds acquire_timeout,
       Factory factory, const core::Clock& clock)
      : name_(std::move(name)),
        max_size_(max_size),
        acquire_timeout_(acquire_timeout),
        factory_(std::move(factory)),
        clock_(clock) {}

 private:
  friend struct LeaseReturn;
  void giveBack(std::unique_ptr<Session> session);

  const std::string name_;
  const size_t max_size_;
  const std::chrono::milliseconds acquire_timeout_;
  const Factory factory_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Session>> idle_;
  size_t open_ = 0;  // idle + checked out + being created
};

/// Runs `fn()` between `begin_sql` and COMMIT on `session`; rolls back when `fn` or the
/// commit fails. `fn` returns a Status or a Result, which is returned.
template <class F>
auto inTransaction(Session& session, std::string_view begin_sql, F&& fn) -> decltype(fn()) {
  using R = decltype(fn());
  TETHER_TRY(session.query(begin_sql));
  R result = fn();
  if (!result.ok()) {
    (void)session.query("ROLLBACK");
    return result;
  }
  if (auto commit = session.query("COMMIT"); !commit.ok()) {
    (void)session.query("ROLLBACK");
    return R(std::move(commit).takeError());
  }
  return result;
}

enum class Dialect { kSqlite, kPostgres };

/// Token-change subscribers of one database, shared by its backends. Thread-safe.
/// Always held by shared_ptr (a Subscription may outlive the store).
class Subscribers : public std::enable_shared_from_this<Subscribers> {
 public:
  Subscription add(TokenChangeCallback callback);
  void dispatch(const TokenChange& change);

 private:
  void remove(uint64_t id);
  std::recursive_mutex mu_;  // held while dispatching, so unsubscribing waits for it
  uint64_t next_id_ = 1;
  std::vector<std::pair<uint64_t, TokenChangeCallback>> callbacks_;
};

/// A database behind the store.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Dialect dialect() const = 0;
  /// A session for reads. SQLite: one of the WAL readers.
  virtual core::Result<Lease> reader() = 0;
  /// A session for writes and transactions. SQLite: the single writer.
  virtual core::Result<Lease> writer() = 0;
  /// "BEGIN IMMEDIATE" (SQLite: take the write lock up front) or "BEGIN".
  virtual std::string_view beginSql() const = 0;
  /// Runs `fn` with the migration lock held (PostgreSQL: advisory lock; SQLite: the write
  /// transaction that `fn` opens is exclusive anyway).
  virtual core::Status withMigrationLock(Session& session,
                                         const std::function<core::Status()>& fn) = 0;
  virtual std::unique_ptr<LockManager> makeLockManager() = 0;
  virtual Subscription subscribe(TokenChangeCallback callback) = 0;
  /// After a committed token write: SQLite dispatches in-process; PostgreSQL does nothing
  /// (a trigger NOTIFYs and the listener dispatches).
  virtual void announce(const TokenChange& change) = 0;
  /// Starts background work once the schema exists (PostgreSQL: the LISTEN thread).
  virtual core::Status start() { return core::okStatus(); }
  virtual std::string describe() const = 0;

  /// Connection-definition change subscribers (store/connection_definition_store.h): the
  /// store calls them after its own committed writes; PostgreSQL's listener also calls them
  /// on every replica's NOTIFY and after reconnecting.
  const std::shared_ptr<Subscribers>& definitionSubscribers() const {
    return definition_subscribers_;
  }

 private:
  std::shared_ptr<Subscribers> definition_subscribers_ = std::make_shared<Subscribers>();
};

/// SQLite backend (sqlite_backend.cc). Opens the writer, switches to WAL. `wait_clock`
/// measures the real-time waits for a pooled session and for a refresh lock.
core::Result<std::unique_ptr<Backend>> openSqliteBackend(const SqliteOptions& options,
                                                         const core::Clock& wait_clock);
/// PostgreSQL backend (pg_backend.cc). Connects with retries as configured. `wait_clock`
/// measures the real-time waits for a pooled session.
core::Result<std::unique_ptr<Backend>> openPostgresBackend(const PostgresOptions& options,
                                                           const core::Clock& wait_clock);

}  // namespace tether::store::sql
