#include "store_test_env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/encoding.h"
#include "core/random.h"

extern char** environ;

namespace tether::store::testing {
namespace {

using core::Errc;
using core::Error;

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

std::string makeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tether-store-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  return made != nullptr ? std::string(made) : std::string();
}

core::Result<std::optional<std::string>> pgRun(const std::string& dsn, const std::string& sql) {
  std::unique_ptr<PGconn, PgConnCloser> conn(PQconnectdb(dsn.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Error(Errc::kUnavailable, PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, PgResultClearer> res(PQexec(conn.get(), sql.c_str()));
  const auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error(Errc::kStore, PQerrorMessage(conn.get()));
  }
  if (status == PGRES_TUPLES_OK && PQntuples(res.get()) > 0 && PQnfields(res.get()) > 0 &&
      PQgetisnull(res.get(), 0, 0) == 0) {
    return std::optional<std::string>(PQgetvalue(res.get(), 0, 0));
  }
  return std::optional<std::string>();
}

core::Result<std::optional<std::string>> sqliteRun(const std::string& path,
                                                   const std::string& sql) {
  sqlite3* raw = nullptr;
  sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, SqliteCloser> db(raw);
  if (raw == nullptr) return Error(Errc::kUnavailable, "cannot open " + path);
  sqlite3_busy_timeout(raw, 5000);
  struct First {
    bool seen = false;
    std::optional<std::string> value;
  } first;
  char* err = nullptr;
  const int rc = sqlite3_exec(
      raw, sql.c_str(),
      [](void* ctx, int, char** values, char**) -> int {
        auto* f = static_cast<First*>(ctx);
        if (!f->seen) {
          f->seen = true;
          if (values[0] != nullptr) f->value = std::string(values[0]);
        }
        return 0;
      },
      &first, &err);
  std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(Errc::kStore, message);
  return first.value;
}

}  // namespace

std::string backendName(BackendKind kind) {
  return kind == BackendKind::kSqlite ? "SQLite" : "PostgreSQL";
}

std::optional<std::string> pgAdminDsn() {
  const char* dsn = std::getenv("TETHER_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') return std::nullopt;
  return std::string(dsn);
}

std::optional<std::string> pgBinDir() {
  const char* bin = std::getenv("TETHER_TEST_PG_BIN");
  if (bin == nullptr || *bin == '\0') return std::nullopt;
  return std::string(bin);
}

std::string withDbname(const std::string& dsn, const std::string& dbname) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  std::string out;
  auto add = [&out](const char* k, const std::string& v) {
    std::string escaped;
    for (char c : v) {
      if (c == '\'' || c == '\\') escaped += '\\';
      escaped += c;
    }
    if (!out.empty()) out += ' ';
    out += k;
    out += "='" + escaped + "'";
  };
  if (opts != nullptr) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || std::strcmp(o->keyword, "dbname") == 0) continue;
      add(o->keyword, o->val);
    }
    PQconninfoFree(opts);
  }
  add("dbname", dbname);
  return out;
}

SealingKey testKey(char seed) {
  std::string bytes(32, seed);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(bytes[i] + i);
  return SealingKey::fromBytes(bytes).value();
}

std::shared_ptr<const Sealer> aesSealer(std::vector<SealingKey> keys) {
  return std::shared_ptr<const Sealer>(makeAesGcmSealer(std::move(keys)).value());
}

std::unique_ptr<TestDatabase> TestDatabase::create(BackendKind kind) {
  auto db = std::make_unique<TestDatabase>(kind);
  if (kind == BackendKind::kSqlite) {
    db->dir_ = makeTempDir();
    if (db->dir_.empty()) {
      ADD_FAILURE() << "mkdtemp failed";
      return nullptr;
    }
    db->sqlite_path_ = db->dir_ + "/tether.db";
    return db;
  }
  auto admin = pgAdminDsn();
  if (!admin) {
    ADD_FAILURE() << kNeedPostgres;
    return nullptr;
  }
  db->admin_dsn_ = *admin;
  db->pg_dbname_ = "tether_test_" + core::newId().substr(0, 16);
  auto created = pgRun(db->admin_dsn_, "CREATE DATABASE " + db->pg_dbname_);
  if (!created.ok()) {
    ADD_FAILURE() << "CREATE DATABASE failed: " << created.error().message;
    return nullptr;
  }
  db->pg_dsn_ = withDbname(db->admin_dsn_, db->pg_dbname_);
  return db;
}

TestDatabase::~TestDatabase() {
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  if (!pg_dbname_.empty()) {
    (void)pgRun(admin_dsn_, "DROP DATABASE IF EXISTS " + pg_dbname_ + " WITH (FORCE)");
  }
}

std::vector<std::string> TestDatabase::helperArgs() const {
  if (kind_ == BackendKind::kSqlite) return {"sqlite", sqlite_path_};
  return {"postgres", pg_dsn_};
}

StoreOptions TestDatabase::options(std::shared_ptr<const Sealer> sealer,
                                   const core::Clock* clock) const {
  StoreOptions o;
  if (kind_ == BackendKind::kSqlite) {
    SqliteOptions s;
    s.path = sqlite_path_;
    s.busy_timeout = Duration(5000);
    s.read_connections = 2;
    o.backend = s;
  } else {
    PostgresOptions p;
    p.dsn = pg_dsn_;
    p.pool_size = 4;
    p.lock_connections = 4;
    p.connect_attempts = 1;
    p.connect_timeout = Duration(3000);
    p.statement_timeout = Duration(10000);
    o.backend = p;
  }
  o.sealer = std::move(sealer);
  o.clock = clock;
  return o;
}

core::Status TestDatabase::rawExec(const std::string& sql) const {
  auto r = rawQueryOne(sql);
  if (!r.ok()) return std::move(r).takeError();
  return core::okStatus();
}

core::Result<std::optional<std::string>> TestDatabase::rawQueryOne(const std::string& sql) const {
  return kind_ == BackendKind::kSqlite ? sqliteRun(sqlite_path_, sql) : pgRun(pg_dsn_, sql);
}

int runCommand(const std::vector<std::string>& argv, std::string* output) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipefd[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (output != nullptr) {
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (output != nullptr) {
    ::close(pipefd[1]);
    if (rc == 0) {
      char buf[65536];
      for (;;) {
        const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
        if (n <= 0) break;
        output->append(buf, static_cast<size_t>(n));
      }
    }
    ::close(pipefd[0]);
  }
  if (rc != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Child spawnWithStdinPipe(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipefd[2] = {-1, -1};
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[0], STDIN_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[0]);
  if (rc != 0) {
    ::close(pipefd[1]);
    return {};
  }
  return Child{pid, pipefd[1]};
}

int waitChild(const Child& child) {
  int status = 0;
  if (::waitpid(child.pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::unique_ptr<PrivateCluster> PrivateCluster::create() {
  auto bin = pgBinDir();
  if (!bin) {
    ADD_FAILURE() << "TETHER_TEST_PG_BIN is not set: run the store tests under "
                     "scripts/with-postgres.sh";
    return nullptr;
  }
  auto c = std::make_unique<PrivateCluster>();
  c->bin_ = *bin;
  c->dir_ = makeTempDir();
  if (c->dir_.empty()) {
    ADD_FAILURE() << "mkdtemp failed";
    return nullptr;
  }
  ::chmod(c->dir_.c_str(), 0755);
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(c->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      ADD_FAILURE() << "running as root needs a postgres user to own the cluster";
      return nullptr;
    }
  }
  // A free port: bind to port 0, read it back, release it.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  c->port_ = ntohs(addr.sin_port);
  ::close(s);

  const int rc =
      runCommand(c->asPostgres({c->bin_ + "/initdb", "-D", c->dir_ + "/data", "-A", "trust", "-U",
                                "tether", "--no-sync", "--no-instructions"}));
  if (rc != 0) {
    ADD_FAILURE() << "initdb failed (" << rc << ")";
    return nullptr;
  }
  return c;
}

PrivateCluster::~PrivateCluster() {
  if (running_) {
    runCommand(
        asPostgres({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"}));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> PrivateCluster::asPostgres(std::vector<std::string> argv) const {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> out = {"runuser", "-u", "postgres", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

bool PrivateCluster::start() {
  const std::string opts =
      "-p " + std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off";
  const int rc =
      runCommand(asPostgres({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log",
                             "-w", "-t", "30", "-o", opts, "start"}));
  running_ = rc == 0;
  return running_;
}

bool PrivateCluster::stop() {
  const int rc =
      runCommand(asPostgres({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"}));
  if (rc == 0) running_ = false;
  return rc == 0;
}

std::string PrivateCluster::dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=tether dbname=postgres";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace tether::store::testing
