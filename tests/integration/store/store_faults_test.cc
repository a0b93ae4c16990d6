// Faults: corrupted and truncated sealed values, a missing table, a locked SQLite file, a
// second opener of a SQLite file, SQLite files failing under a running store, PostgreSQL
// down at start, and PostgreSQL going away mid-run (on a private cluster the
// test starts and stops itself — never the shared one).

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "store_test_env.h"

namespace tether::store::testing {
namespace {

using core::Errc;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const ConnectionKey kDemo{"mcp", "demo"};

TokenRecord token(const ConnectionKey& key, std::string access, std::string refresh,
                  TimePoint now) {
  TokenRecord t;
  t.key = key;
  t.access_token = std::move(access);
  t.refresh_token = std::move(refresh);
  t.expires_at = now + hours(1);
  t.authenticated_at = now;
  t.authenticated_by = "admin:test";
  t.idp_host = "idp.example.com";
  return t;
}

class StoreFaultTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    db_ = TestDatabase::create(GetParam());
    ASSERT_NE(db_, nullptr);
    auto opened = openStore(db_->options(aesSealer({testKey('f')}), &clock_));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  core::ManualClock clock_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreFaultTest, CorruptedOrTruncatedSealedValuesNameTheRowAndColumn) {
  ASSERT_TRUE(
      store_->putToken(token(kDemo, "access-secret", "refresh-secret", clock_.now()), 0).ok());
  const std::string access =
      db_->rawQueryOne("SELECT access_token FROM tokens WHERE name = 'demo'").value().value();
  const std::string refresh =
      db_->rawQueryOne("SELECT refresh_token FROM tokens WHERE name = 'demo'").value().value();

  auto expectCrypto = [&](const std::string& column) {
    auto got = store_->getToken(kDemo);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, Errc::kCrypto);
    EXPECT_NE(got.error().message.find("get token mcp/demo"), std::string::npos)
        << got.error().message;
    EXPECT_NE(got.error().message.find("tokens." + column), std::string::npos)
        << got.error().message;
    EXPECT_EQ(got.error().message.find("secret"), std::string::npos) << got.error().message;
  };

  // Truncated.
  ASSERT_TRUE(
      db_->rawExec("UPDATE tokens SET access_token = '" + access.substr(0, access.size() - 6) + "'")
          .ok());
  expectCrypto("access_token");
  // One character changed.
  std::string flipped = access;
  flipped[flipped.size() - 10] = flipped[flipped.size() - 10] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(db_->rawExec("UPDATE tokens SET access_token = '" + flipped + "'").ok());
  expectCrypto("access_token");
  // Not a sealed value at all.
  ASSERT_TRUE(db_->rawExec("UPDATE tokens SET access_token = 'garbage'").ok());
  expectCrypto("access_token");
  // Cut to its prefix.
  ASSERT_TRUE(db_->rawExec("UPDATE tokens SET access_token = '" + access.substr(0, 13) + "'").ok());
  expectCrypto("access_token");
  // The refresh token column is checked and named too.
  ASSERT_TRUE(db_->rawExec("UPDATE tokens SET access_token = '" + access + "', refresh_token = '" +
                           refresh.substr(0, refresh.size() / 2) + "'")
                  .ok());
  expectCrypto("refresh_token");
  ASSERT_TRUE(db_->rawExec("UPDATE tokens SET refresh_token = '" + refresh + "'").ok());
  EXPECT_EQ(store_->getToken(kDemo).value()->refresh_token, "refresh-secret");

  OAuthClient c;
  c.issuer = "https://idp.example.com";
  c.client_id = "id";
  c.client_secret = "client-secret";
  ASSERT_TRUE(store_->putClient(c).ok());
  ASSERT_TRUE(db_->rawExec("UPDATE oauth_clients SET client_secret = 'ts1:00000000:AAAA'").ok());
  auto client = store_->getClient(c.issuer);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Errc::kCrypto);
  EXPECT_NE(client.error().message.find("oauth_clients.client_secret"), std::string::npos);
}

TEST_P(StoreFaultTest, MissingTableIsAClearStoreError) {
  ASSERT_TRUE(store_->putToken(token(kDemo, "a", "r", clock_.now()), 0).ok());
  ASSERT_TRUE(db_->rawExec("DROP TABLE tokens").ok());

  auto got = store_->getToken(kDemo);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::kStore);
  EXPECT_NE(got.error().message.find("get token mcp/demo"), std::string::npos);
  EXPECT_NE(got.error().message.find("tokens"), std::string::npos);
  EXPECT_NE(got.error().message.find("table is missing"), std::string::npos) << got.error().message;
  auto put = store_->putToken(token(kDemo, "a", "r", clock_.now()), 0);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Errc::kStore);
  // Other tables still work.
  EXPECT_TRUE(store_->getState(kDemo).ok());

  store_.reset();
  auto reopened = openStore(db_->options(aesSealer({testKey('f')}), &clock_));
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, Errc::kStore);
  EXPECT_NE(reopened.error().message.find("table 'tokens' is missing"), std::string::npos)
      << reopened.error().message;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreFaultTest,
                         ::testing::Values(BackendKind::kSqlite, BackendKind::kPostgres),
                         [](const auto& info) { return backendName(info.param); });

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

TEST(SqliteFaultTest, LockedFileGivesUnavailableAfterTheBusyTimeout) {
  core::ManualClock clock;
  auto db = TestDatabase::create(BackendKind::kSqlite);
  ASSERT_NE(db, nullptr);
  StoreOptions options = db->options(aesSealer({testKey('f')}), &clock);
  std::get<SqliteOptions>(options.backend).busy_timeout = milliseconds(200);
  auto store = openStore(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->putToken(token(kDemo, "a", "r", clock.now()), 0).ok());

  // Another process (here: another connection) holds the write lock.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db->sqlitePath().c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, SqliteCloser> other(raw);
  ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  const auto start = std::chrono::steady_clock::now();
  auto put = (*store)->putToken(token(kDemo, "b", "r2", clock.now()), 1);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, Errc::kUnavailable);
  EXPECT_NE(put.error().message.find("locked"), std::string::npos) << put.error().message;
  EXPECT_NE(put.error().message.find("mcp/demo"), std::string::npos);
  EXPECT_GE(waited, milliseconds(180));
  EXPECT_LT(waited, seconds(5));
  EXPECT_EQ((*store)
                ->appendEvent(AuthEvent{0, {}, kDemo, EventType::kConnectStarted, "", "", "", "{}"})
                .error()
                .code,
            Errc::kUnavailable);
  // Readers are not blocked (WAL).
  EXPECT_EQ((*store)->getToken(kDemo).value()->access_token, "a");
  EXPECT_TRUE((*store)->ping().ok());
  // A second store on the file is refused at once (one store per file), not a hang.
  auto second = openStore(options);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;

  ASSERT_EQ(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  auto after = (*store)->putToken(token(kDemo, "b", "r2", clock.now()),
                                  (*store)->getToken(kDemo).value()->version);
  EXPECT_TRUE(after.ok()) << after.error().message;
}

// SQLite serves one process: a second store on the same file — in this process or in
// another — is refused with an error naming the file (two keepers on one file would race
// over one-time-use refresh tokens).
TEST(SqliteFaultTest, ASecondStoreOnTheSameFileIsRefusedNamingTheFile) {
  core::ManualClock clock;
  auto db = TestDatabase::create(BackendKind::kSqlite);
  ASSERT_NE(db, nullptr);
  StoreOptions options = db->options(aesSealer({testKey('f')}), &clock);
  std::get<SqliteOptions>(options.backend).busy_timeout = milliseconds(300);
  auto first = openStore(options);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE((*first)->putToken(token(kDemo, "a", "r", clock.now()), 0).ok());

  auto second = openStore(options);
  ASSERT_FALSE(second.ok()) << "a second store opened the same SQLite file";
  EXPECT_NE(second.error().message.find(db->sqlitePath()), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;

  // Another process is refused too (the helper exits 1 when the open fails).
  const Child other =
      spawnWithStdinPipe({TETHER_STORE_MIGRATE_HELPER, "sqlite", db->sqlitePath(), "300"});
  ASSERT_GT(other.pid, 0);
  ::close(other.stdin_fd);  // the helper's start barrier
  EXPECT_EQ(waitChild(other), 1) << "another process opened the SQLite file the store holds";

  // The first store is unaffected; once it is closed, the file opens again.
  EXPECT_EQ((*first)->getToken(kDemo).value()->access_token, "a");
  first->reset();
  auto reopened = openStore(options);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ((*reopened)->getToken(kDemo).value()->access_token, "a");
}

// The WAL index lives on the heap, never in a shared-memory map of a "-shm" file: a map
// whose file shrinks turns the next access into SIGBUS.
TEST(SqliteFaultTest, TheWalIndexIsNotAMappedFile) {
  core::ManualClock clock;
  auto db = TestDatabase::create(BackendKind::kSqlite);
  ASSERT_NE(db, nullptr);
  auto store = openStore(db->options(aesSealer({testKey('f')}), &clock));
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->putToken(token(kDemo, "a", "r", clock.now()), 0).ok());
  EXPECT_EQ((*store)->getToken(kDemo).value()->access_token, "a");
  EXPECT_TRUE((*store)->bulkHealth().ok());

  EXPECT_FALSE(std::filesystem::exists(db->sqlitePath() + "-shm"));
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    EXPECT_EQ(line.find(db->sqlitePath()), std::string::npos) << "mapped: " << line;
  }
}

// Files that fail under a running store (truncated, as a full or failing disk, or an
// operator's mistake, would leave them) give error values; the process lives on.
TEST(SqliteFaultDeathTest, FilesFailingUnderARunningStoreGiveErrorsNotASignal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto db = TestDatabase::create(BackendKind::kSqlite);
  ASSERT_NE(db, nullptr);
  const std::string path = db->sqlitePath();
  auto exercise = [&] {
    core::ManualClock clock;
    auto store = openStore(db->options(aesSealer({testKey('f')}), &clock));
    if (!store.ok()) std::_Exit(2);
    for (int i = 0; i < 20; ++i) {
      (void)(*store)->appendEvent(
          AuthEvent{0, clock.now(), kDemo, EventType::kConnectStarted, "a", "h", "c", "{}"});
    }
    if (!(*store)->putToken(token(kDemo, "a", "r", clock.now()), 0).ok()) std::_Exit(3);
    for (const char* suffix : {"-shm", "-wal", ""}) {
      std::error_code ec;
      if (std::filesystem::exists(path + suffix))
        std::filesystem::resize_file(path + suffix, 0, ec);
    }
    // Each call may fail (its value says how); none may kill the process.
    (void)(*store)->getToken(kDemo);
    (void)(*store)->putToken(token(kDemo, "b", "r2", clock.now()), 1);
    (void)(*store)->appendEvent(
        AuthEvent{0, clock.now(), kDemo, EventType::kConnectStarted, "a", "h", "c", "{}"});
    (void)(*store)->bulkHealth();
    (void)(*store)->ping();
    (void)(*store)->getToken(kDemo);
    std::_Exit(0);
  };
  EXPECT_EXIT(exercise(), ::testing::ExitedWithCode(0), "");
}

// Collects log lines for assertions.
class LogCapture {
 public:
  LogCapture() {
    core::log::setSinkForTesting([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { core::log::setSinkForTesting(nullptr); }
  bool contains(std::string_view text) {
    std::lock_guard lock(mu_);
    for (const auto& l : lines_) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

StoreOptions pgOptions(const std::string& dsn, const core::Clock* clock) {
  StoreOptions o;
  PostgresOptions p;
  p.dsn = dsn;
  p.pool_size = 3;
  p.lock_connections = 2;
  p.connect_attempts = 1;
  p.connect_timeout = seconds(2);
  p.statement_timeout = seconds(10);
  o.backend = p;
  o.sealer = aesSealer({testKey('f')});
  o.clock = clock;
  return o;
}

TEST(PostgresFaultTest, DownAtStartIsRetriedWithBackoffAndLogged) {
  auto cluster = PrivateCluster::create();  // initialised, not running
  ASSERT_NE(cluster, nullptr);
  core::ManualClock clock;
  LogCapture logs;
  StoreOptions options = pgOptions(cluster->dsn() + " password=hunter2-not-logged", &clock);
  auto& pg = std::get<PostgresOptions>(options.backend);
  pg.connect_attempts = 5;
  pg.connect_retry_delay = milliseconds(10);
  pg.connect_retry_max_delay = milliseconds(15);
  std::vector<Duration> waits;
  // The injected "sleep" does not sleep: the second wait brings the server up.
  pg.sleep = [&](Duration d) {
    waits.push_back(d);
    if (waits.size() == 2) {
      ASSERT_TRUE(cluster->start());
    }
  };
  auto store = openStore(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(waits, (std::vector<Duration>{milliseconds(10), milliseconds(15)}));
  EXPECT_TRUE(logs.contains("cannot reach PostgreSQL; retrying"));
  EXPECT_TRUE(logs.contains("\"attempt\":2"));
  EXPECT_TRUE(logs.contains("store reached PostgreSQL"));
  EXPECT_FALSE(logs.contains("hunter2"));
  ASSERT_TRUE((*store)->putToken(token(kDemo, "a", "r", clock.now()), 0).ok());
}

TEST(PostgresFaultTest, NeverUpGivesUpWithAClearError) {
  auto cluster = PrivateCluster::create();
  ASSERT_NE(cluster, nullptr);
  core::ManualClock clock;
  LogCapture logs;
  StoreOptions options = pgOptions(cluster->dsn(), &clock);
  auto& pg = std::get<PostgresOptions>(options.backend);
  pg.connect_attempts = 3;
  pg.connect_retry_delay = milliseconds(10);
  int waits = 0;
  pg.sleep = [&](Duration) { ++waits; };
  auto store = openStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::kUnavailable);
  EXPECT_NE(store.error().message.find("unreachable after 3 attempt(s)"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(waits, 2);
  EXPECT_TRUE(logs.contains("giving up"));
}

TEST(PostgresFaultTest, GoneMidRunFailsCleanlyAndRecovers) {
  auto cluster = PrivateCluster::create();
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->start());
  core::ManualClock clock;
  StoreOptions options = pgOptions(cluster->dsn(), &clock);
  auto store = openStore(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  Store& s = **store;

  std::mutex mu;
  std::condition_variable cv;
  int resyncs = 0;
  std::vector<TokenChange> changes;
  auto sub = s.subscribeTokenChanges([&](const TokenChange& c) {
    std::lock_guard lock(mu);
    if (c.resync) {
      ++resyncs;
    } else {
      changes.push_back(c);
    }
    cv.notify_all();
  });
  auto v1 = s.putToken(token(kDemo, "before", "r", clock.now()), 0);
  ASSERT_TRUE(v1.ok());
  ASSERT_TRUE(s.locks().tryLock(kDemo).value().held());

  ASSERT_TRUE(cluster->stop());
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 2; ++round) {
    auto got = s.getToken(kDemo);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, Errc::kUnavailable) << got.error().message;
    EXPECT_NE(got.error().message.find("get token mcp/demo"), std::string::npos);
    auto put = s.putToken(token(kDemo, "during", "r", clock.now()), *v1);
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.error().code, Errc::kUnavailable) << put.error().message;
    EXPECT_EQ(s.ping().error().code, Errc::kUnavailable);
    EXPECT_EQ(s.bulkHealth().error().code, Errc::kUnavailable);
    EXPECT_EQ(s.locks().tryLock(kDemo).error().code, Errc::kUnavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10)) << "calls must fail fast";

  ASSERT_TRUE(cluster->start());
  EXPECT_TRUE(s.ping().ok());
  auto got = s.getToken(kDemo);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got.value()->access_token, "before");
  auto v2 = s.putToken(token(kDemo, "after", "r", clock.now()), *v1);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_TRUE(s.locks().tryLock(kDemo).value().held());

  // The listener reconnects on its own and says so (caches must resync); then other
  // replicas' changes reach it again.
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(20), [&] { return resyncs >= 1; }));
    changes.clear();
  }
  auto other = openStore(pgOptions(cluster->dsn(), &clock));
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto v3 = (*other)->putToken(token(kDemo, "from-other", "r", clock.now()), *v2);
  ASSERT_TRUE(v3.ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, seconds(10), [&] {
    for (const auto& c : changes) {
      if (c.version == *v3) return true;
    }
    return false;
  }));
}

}  // namespace
}  // namespace tether::store::testing
