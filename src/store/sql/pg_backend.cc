// PostgreSQL backend (libpq C API): a pool of query connections, a pool of connections
// that hold session advisory locks, and a LISTEN thread for token-change notifications.

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cstring>
#include <thread>

#include "core/digest.h"
#include "core/log.h"
#include "store/sql/columns.h"
#include "store/sql/sql.h"
#include "store/sql/store_context.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

constexpr const char* kChannel = "tether_token_changed";
// Connection definitions (migration 8's trigger): the payload is not read, any change wakes.
constexpr const char* kDefinitionsChannel = "tether_connections_changed";
// Advisory lock key serializing migrations across replicas (any constant, distinct from the
// refresh-lock keys, which are hashes).
constexpr int64_t kMigrationLockKey = 0x7465746865720001;  // "tether" + 1

// PostgreSQL type OIDs (from catalog/pg_type_d.h, which is not a client header).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct NotifyFreer {
  void operator()(PGnotify* n) const { PQfreemem(n); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// "host:port/dbname" from a connection string, without any password.
std::string describeTarget(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  if (opts == nullptr) return "postgres:(invalid connection string)";
  std::string host;
  std::string port;
  std::string db;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "host") == 0) host = o->val;
    if (std::strcmp(o->keyword, "hostaddr") == 0 && host.empty()) host = o->val;
    if (std::strcmp(o->keyword, "port") == 0) port = o->val;
    if (std::strcmp(o->keyword, "dbname") == 0) db = o->val;
  }
  PQconninfoFree(opts);
  return fmt::format("postgres:{}:{}/{}", host.empty() ? "localhost" : host,
                     port.empty() ? "5432" : port, db);
}

struct ConnectSettings {
  std::string dsn;
  std::string target;
  Duration connect_timeout;
  Duration statement_timeout;  // 0: none
};

void ignoreNotice(void*, const char*) {}

Result<ConnPtr> connect(const ConnectSettings& s) {
  const std::string timeout =
      std::to_string(std::max<int64_t>(2, (s.connect_timeout.count() + 999) / 1000));
  const std::string options = fmt::format("-c statement_timeout={}", s.statement_timeout.count());
  // Our defaults first: values in the caller's connection string (expanded from dbname,
  // which comes last) override them.
  const char* keys[] = {"connect_timeout",  "application_name", "options",
                        "keepalives",       "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "dbname",           nullptr};
  const char* values[] = {timeout.c_str(), "tether", options.c_str(), "1", "30", "10", "3",
                          s.dsn.c_str(),   nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (conn == nullptr) return Error(Errc::kUnavailable, "libpq could not allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Error(Errc::kUnavailable, fmt::format("cannot connect to {}: {}", s.target,
                                                 trimmed(PQerrorMessage(conn.get()))));
  }
  PQsetNoticeProcessor(conn.get(), ignoreNotice, nullptr);
  return conn;
}

class PgSession final : public Session {
 public:
  using Session::query;
  explicit PgSession(ConnPtr conn) : conn_(std::move(conn)) {}

  Result<ResultSet> query(std::string_view sql, std::span<const Param> params) override {
    PgResultPtr res = exec(sql, params);
    return collect(res.get());
  }

  Status forEach(std::string_view sql, std::span<const Param> params,
                 const RowCallback& on_row) override {
    PgResultPtr res = exec(sql, params);
    PGresult* r = res.get();
    const ExecStatusType status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return error(r);
    ResultRow view(r, integerColumns(r));
    const int rows = PQntuples(r);
    for (int i = 0; i < rows; ++i) {
      view.row = i;
      on_row(view);
    }
    return core::okStatus();
  }

  Status script(std::string_view sql) override {
    const std::string sql_z(sql);
    PgResultPtr res(PQexec(conn_.get(), sql_z.c_str()));
    TETHER_TRY(collect(res.get()));
    return core::okStatus();
  }

  bool healthy() const override {
    return !broken_ && PQstatus(conn_.get()) == CONNECTION_OK &&
           PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
  }

  // An idle connection has nothing to read; if the socket is readable, the server sent a
  // termination notice or closed it (restart, shutdown, pg_terminate_backend).
  bool stillUsable() override {
    if (!healthy()) return false;
    pollfd p{PQsocket(conn_.get()), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  void markBroken() override { broken_ = true; }

 private:
  // 0: text, 1: integer, 2: boolean (read as 0/1).
  static std::vector<int> integerColumns(PGresult* res) {
    const int cols = PQnfields(res);
    std::vector<int> kinds(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      const Oid t = PQftype(res, c);
      kinds[static_cast<size_t>(c)] =
          (t == kInt8Oid || t == kInt4Oid || t == kInt2Oid) ? 1 : (t == kBoolOid ? 2 : 0);
    }
    return kinds;
  }

  static int64_t parseInt(const char* text, int length) {
    int64_t v = 0;
    std::from_chars(text, text + length, v);
    return v;
  }

  struct ResultRow final : RowView {
    ResultRow(PGresult* r, std::vector<int> k) : res(r), kinds(std::move(k)) {}
    bool isNull(int c) const override { return PQgetisnull(res, row, c) != 0; }
    int64_t integer(int c) const override {
      if (isNull(c)) return 0;
      const char* v = PQgetvalue(res, row, c);
      if (kinds[static_cast<size_t>(c)] == 2) return v[0] == 't' ? 1 : 0;
      return parseInt(v, PQgetlength(res, row, c));
    }
    std::string_view text(int c) const override {
      return std::string_view(PQgetvalue(res, row, c),
                              static_cast<size_t>(PQgetlength(res, row, c)));
    }
    PGresult* res;
    std::vector<int> kinds;
    int row = 0;
  };

  PgResultPtr exec(std::string_view sql, std::span<const Param> params) {
    const std::string sql_z(sql);
    const size_t n = params.size();
    std::vector<Oid> types(n);
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    std::vector<int> formats(n, 1);  // binary: text is its raw bytes, int8 is big-endian
    std::vector<uint64_t> ints(n);
    for (size_t i = 0; i < n; ++i) {
      const Param& p = params[i];
      types[i] = p.type == Param::Type::kInt ? kInt8Oid : kTextOid;
      if (p.null) {
        values[i] = nullptr;
      } else if (p.type == Param::Type::kInt) {
        ints[i] = htobe64(static_cast<uint64_t>(p.i));
        values[i] = reinterpret_cast<const char*>(&ints[i]);
        lengths[i] = 8;
      } else {
        values[i] = p.s.data() != nullptr ? p.s.data() : "";
        lengths[i] = static_cast<int>(p.s.size());
      }
    }
    return PgResultPtr(PQexecParams(conn_.get(), sql_z.c_str(), static_cast<int>(n), types.data(),
                                    values.data(), lengths.data(), formats.data(), 0));
  }

  Result<ResultSet> collect(PGresult* res) {
    const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      ResultSet out;
      const char* affected = PQcmdTuples(res);
      if (affected != nullptr && *affected != '\0') out.affected = std::atoll(affected);
      const int rows = PQntuples(res);
      const int cols = PQnfields(res);
      ResultRow view(res, integerColumns(res));
      out.rows.reserve(static_cast<size_t>(rows));
      for (int r = 0; r < rows; ++r) {
        view.row = r;
        Row row;
        row.reserve(static_cast<size_t>(cols));
        for (int c = 0; c < cols; ++c) {
          if (view.isNull(c)) {
            row.emplace_back();
          } else if (view.kinds[static_cast<size_t>(c)] != 0) {
            row.push_back(Value::ofInt(view.integer(c)));
          } else {
            row.push_back(Value::ofText(std::string(view.text(c))));
          }
        }
        out.rows.push_back(std::move(row));
      }
      return out;
    }
    return error(res);
  }

  Error error(PGresult* res) {
    const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary =
        res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = trimmed(primary != nullptr ? primary : PQerrorMessage(conn_.get()));
    const std::string_view code = state != nullptr ? state : "";
    if (PQstatus(conn_.get()) != CONNECTION_OK || code.starts_with("08") || code == "57P01" ||
        code == "57P02" || code == "57P03") {
      broken_ = true;
      return Error(Errc::kUnavailable, "lost the PostgreSQL connection: " + message);
    }
    if (code == "53300") return Error(Errc::kUnavailable, message);
    if (code == "23505") return Error(Errc::kAlreadyExists, message);
    if (code == "23514") return Error(Errc::kInvalidArgument, message);
    if (code == "55P03" || code == "57014") return Error(Errc::kTimeout, message);
    if (code == "40001" || code == "40P01") {
      return Error(Errc::kUnavailable, message + " (retry)");
    }
    if (code == "42P01") {
      return Error(Errc::kStore,
                   message +
                       " (a table is missing: the schema is damaged; restore the database "
                       "from a backup or re-create it)");
    }
    return Error(Errc::kStore, message);
  }

  ConnPtr conn_;
  bool broken_ = false;
};

Result<std::unique_ptr<Session>> openSession(const ConnectSettings& settings) {
  TETHER_TRY_ASSIGN(ConnPtr conn, connect(settings));
  return std::unique_ptr<Session>(std::make_unique<PgSession>(std::move(conn)));
}

constexpr auto kLocked = columns("pg_try_advisory_lock($1) AS locked");
constexpr auto kUnlocked = columns("pg_advisory_unlock($1) AS unlocked");

int64_t refreshLockKey(const ConnectionKey& key) {
  std::string material = "tether-refresh-lock";
  material += '\0';
  material += key.kind;
  material += '\0';
  material += key.name;
  // The first 8 bytes of the digest, big-endian: every replica (and version) must agree.
  const std::string digest = core::sha256(material);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(digest[i]);
  return static_cast<int64_t>(v);
}

class PgLock final : public LockGuard::Impl {
 public:
  PgLock(Lease lease, int64_t lock_key) : lease_(std::move(lease)), lock_key_(lock_key) {}
  ~PgLock() override { release(); }
  void release() override {
    if (!lease_) return;
    static const std::string sql = "SELECT " + kUnlocked.sql();
    auto r = lease_->query(sql, {Param::integer(lock_key_)});
    // If the unlock did not run, closing the connection releases the lock server-side.
    if (!r.ok() || r->rows.empty() || r->rows[0][kUnlocked("unlocked")].asInt() != 1) {
      lease_->markBroken();
    }
    lease_.reset();
  }

 private:
  Lease lease_;
  int64_t lock_key_;
};

class PgLockManager final : public LockManager {
 public:
  explicit PgLockManager(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Result<LockGuard> tryLock(const ConnectionKey& key) override {
    return annotated("lock", key.str(), [&]() -> Result<LockGuard> {
      TETHER_TRY_ASSIGN(Lease lease, pool_->acquire());
      const int64_t k = refreshLockKey(key);
      static const std::string sql = "SELECT " + kLocked.sql();
      TETHER_TRY_ASSIGN(ResultSet r, lease->query(sql, {Param::integer(k)}));
      if (r.rows.empty() || r.rows[0][kLocked("locked")].asInt() != 1) return LockGuard();
      return LockGuard(key, std::make_unique<PgLock>(std::move(lease), k));
    });
  }

  Result<LockGuard> lock(const ConnectionKey& key, Duration timeout) override {
    if (timeout.count() <= 0) {
      auto tried = tryLock(key);
      if (tried.ok() && !tried->held()) {
        return Error(Errc::kTimeout, fmt::format("store: lock {}: held elsewhere", key.str()));
      }
      return tried;
    }
    TETHER_TRY_ASSIGN(Lease lease, annotated("lock", key.str(), [&] { return pool_->acquire(); }));
    Session& s = *lease;
    const int64_t k = refreshLockKey(key);
    const std::string ms = std::to_string(timeout.count());
    TETHER_TRY(annotated("lock", key.str(), [&] {
      return s.query("SELECT set_config('lock_timeout', $1, false)", {Param::text(ms)});
    }));
    auto r = s.query("SELECT pg_advisory_lock($1)", {Param::integer(k)});
    auto reset = s.query("SELECT set_config('lock_timeout', '0', false)");
    if (!reset.ok()) s.markBroken();
    if (!r.ok()) {
      if (r.error().code == Errc::kTimeout) {
        return Error(Errc::kTimeout, fmt::format("store: lock {}: still held elsewhere after {} ms",
                                                 key.str(), timeout.count()));
      }
      return withContext(r.error(), "lock", key.str());
    }
    return LockGuard(key, std::make_unique<PgLock>(std::move(lease), k));
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// Receives NOTIFYs on its own connection and hands them to the subscribers. Reconnects
// with backoff when the connection drops, then announces a resync (notifications sent
// meanwhile are lost).
class Listener {
 public:
  Listener(ConnectSettings settings, std::shared_ptr<Subscribers> subscribers,
           std::shared_ptr<Subscribers> definition_subscribers)
      : settings_(std::move(settings)),
        subscribers_(std::move(subscribers)),
        definition_subscribers_(std::move(definition_subscribers)) {}

  ~Listener() { stop(); }

  Status start() {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return Error(Errc::kInternal, "eventfd failed");
    TETHER_TRY(connectAndListen());
    thread_ = std::thread([this] { run(); });
    return core::okStatus();
  }

  void stop() {
    if (thread_.joinable()) {
      stop_.store(true);
      const uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
      thread_.join();
    }
    if (wake_fd_ >= 0) {
      ::close(wake_fd_);
      wake_fd_ = -1;
    }
    conn_.reset();
  }

 private:
  Status connectAndListen() {
    TETHER_TRY_ASSIGN(ConnPtr conn, connect(settings_));
    PgResultPtr res(PQexec(
        conn.get(), fmt::format("LISTEN {}; LISTEN {}", kChannel, kDefinitionsChannel).c_str()));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      return Error(Errc::kUnavailable, "LISTEN failed: " + trimmed(PQerrorMessage(conn.get())));
    }
    conn_ = std::move(conn);
    return core::okStatus();
  }

  // Waits up to `d` unless stopped; true when stopping.
  bool waitOrStop(Duration d) {
    pollfd p{wake_fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(d.count()));
    return stop_.load();
  }

  void run() {
    Duration backoff(100);
    bool logged_down = false;
    while (!stop_.load()) {
      if (!conn_) {
        if (auto st = connectAndListen(); !st.ok()) {
          if (!logged_down) {
            core::log::warn("store listener cannot reach PostgreSQL; retrying",
                            {{"database", settings_.target}, {"error", st.error().message}});
            logged_down = true;
          }
          if (waitOrStop(backoff)) break;
          backoff = std::min(backoff * 2, Duration(2000));
          continue;
        }
        core::log::info("store listener reconnected", {{"database", settings_.target}});
        logged_down = false;
        backoff = Duration(100);
        subscribers_->dispatch(TokenChange{{}, 0, false, true});
        definition_subscribers_->dispatch(TokenChange{{}, 0, false, true});
      }
      pollfd fds[2] = {{PQsocket(conn_.get()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (stop_.load()) break;
      if (fds[0].revents == 0) continue;
      if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK) {
        core::log::warn("store listener lost its PostgreSQL connection",
                        {{"database", settings_.target}});
        conn_.reset();
        continue;
      }
      for (;;) {
        std::unique_ptr<PGnotify, NotifyFreer> n(PQnotifies(conn_.get()));
        if (!n) break;
        if (std::string_view(n->relname) == kDefinitionsChannel) {
          definition_subscribers_->dispatch(TokenChange{});
          continue;
        }
        dispatch(n->extra != nullptr ? n->extra : "");
      }
    }
  }

  void dispatch(std::string_view payload) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(payload, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.get_object();
    const auto* kind = o.if_contains("kind");
    const auto* name = o.if_contains("name");
    const auto* version = o.if_contains("version");
    const auto* deleted = o.if_contains("deleted");
    if (kind == nullptr || name == nullptr || !kind->is_string() || !name->is_string()) return;
    TokenChange change;
    change.key = {std::string(kind->get_string()), std::string(name->get_string())};
    if (version != nullptr && version->is_int64()) change.version = version->get_int64();
    change.deleted = deleted != nullptr && deleted->is_bool() && deleted->get_bool();
    subscribers_->dispatch(change);
  }

  ConnectSettings settings_;
  std::shared_ptr<Subscribers> subscribers_;
  std::shared_ptr<Subscribers> definition_subscribers_;
  ConnPtr conn_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class PgBackend final : public Backend {
 public:
  PgBackend(PostgresOptions options, ConnectSettings settings, std::shared_ptr<Pool> pool,
            std::shared_ptr<Pool> lock_pool)
      : options_(std::move(options)),
        settings_(std::move(settings)),
        pool_(std::move(pool)),
        lock_pool_(std::move(lock_pool)) {}

  ~PgBackend() override {
    if (listener_) listener_->stop();
    pool_->clearIdle();
    lock_pool_->clearIdle();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  Result<Lease> reader() override { return pool_->acquire(); }
  Result<Lease> writer() override { return pool_->acquire(); }
  std::string_view beginSql() const override { return "BEGIN"; }

  Status withMigrationLock(Session& s, const std::function<Status()>& fn) override {
    TETHER_TRY(s.query("SELECT pg_advisory_lock($1)", {Param::integer(kMigrationLockKey)}));
    Status st = fn();
    auto unlocked = s.query("SELECT pg_advisory_unlock($1)", {Param::integer(kMigrationLockKey)});
    if (!unlocked.ok()) s.markBroken();  // closing the connection releases the lock
    return st;
  }

  std::unique_ptr<LockManager> makeLockManager() override {
    return std::make_unique<PgLockManager>(lock_pool_);
  }
  Subscription subscribe(TokenChangeCallback callback) override {
    return subscribers_->add(std::move(callback));
  }
  void announce(const TokenChange&) override {}  // the tokens_changed trigger NOTIFYs

  Status start() override {
    if (!options_.listen) return core::okStatus();
    listener_ = std::make_unique<Listener>(settings_, subscribers_, definitionSubscribers());
    return listener_->start();
  }

  std::string describe() const override { return settings_.target; }

 private:
  PostgresOptions options_;
  ConnectSettings settings_;
  std::shared_ptr<Pool> pool_;
  std::shared_ptr<Pool> lock_pool_;
  std::shared_ptr<Subscribers> subscribers_ = std::make_shared<Subscribers>();
  std::unique_ptr<Listener> listener_;
};

}  // namespace

Result<std::unique_ptr<Backend>> openPostgresBackend(const PostgresOptions& options,
                                                     const core::Clock& wait_clock) {
  if (options.dsn.empty()) return Error(Errc::kConfig, "PostgreSQL store needs a DSN");
  {
    char* err = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(options.dsn.c_str(), &err);
    if (err != nullptr) PQfreemem(err);  // may echo parts of the DSN: never shown
    if (parsed == nullptr) {
      return Error(Errc::kConfig, "the PostgreSQL connection string is invalid");
    }
    PQconninfoFree(parsed);
  }
  ConnectSettings settings{options.dsn, describeTarget(options.dsn), options.connect_timeout,
                           options.statement_timeout};
  const int attempts = std::max(1, options.connect_attempts);
  Duration delay = options.connect_retry_delay;
  std::unique_ptr<Session> first;
  for (int attempt = 1;; ++attempt) {
    auto session = openSession(settings);
    if (session.ok()) {
      first = std::move(session).value();
      if (attempt > 1) {
        core::log::info("store reached PostgreSQL",
                        {{"database", settings.target}, {"attempt", attempt}});
      }
      break;
    }
    if (attempt >= attempts) {
      core::log::error("store cannot reach PostgreSQL; giving up",
                       {{"database", settings.target},
                        {"attempts", attempts},
                        {"error", session.error().message}});
      return Error(Errc::kUnavailable,
                   fmt::format("{} unreachable after {} attempt(s): {}", settings.target, attempts,
                               session.error().message));
    }
    core::log::warn("store cannot reach PostgreSQL; retrying",
                    {{"database", settings.target},
                     {"attempt", attempt},
                     {"of", attempts},
                     {"retry_in_ms", static_cast<int64_t>(delay.count())},
                     {"error", session.error().message}});
    if (options.sleep) {
      options.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
    delay = std::min(delay * 2, options.connect_retry_max_delay);
  }

  const auto acquire_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(options.statement_timeout);
  auto pool = Pool::create(
      "PostgreSQL", static_cast<size_t>(std::max(1, options.pool_size)), acquire_timeout,
      [settings] { return openSession(settings); }, wait_clock);
  pool->adopt(std::move(first));
  ConnectSettings lock_settings = settings;
  lock_settings.statement_timeout = Duration(0);  // lock waits have their own deadline
  auto lock_pool = Pool::create(
      "PostgreSQL lock", static_cast<size_t>(std::max(1, options.lock_connections)),
      acquire_timeout, [lock_settings] { return openSession(lock_settings); }, wait_clock);
  return std::unique_ptr<Backend>(std::make_unique<PgBackend>(
      options, std::move(settings), std::move(pool), std::move(lock_pool)));
}

}  // namespace tether::store::sql
