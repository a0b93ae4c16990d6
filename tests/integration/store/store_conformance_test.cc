// The store conformance suite over both backends (fixture: conformance_fixture.h; the
// tests of each interface are in <interface>_conformance_test.cc). Here: opening and
// migrations, ping, argument checks, and the instantiation for SQLite and PostgreSQL.

#include "conformance_fixture.h"
#include "store/sql/migrations.h"

namespace tether::store::testing {
namespace {

// Every migration of this binary, and the schema version they lead to (versions may have
// gaps while parallel branches are merged).
const int kMigrationCount = static_cast<int>(sql::allMigrations().size());
const int kSchemaVersion = sql::allMigrations().back().version;

TEST_P(StoreConformanceTest, MigrationsReRunAsANoOp) {
  EXPECT_EQ(store_->migrationsAppliedAtOpen(), kMigrationCount);
  EXPECT_EQ(store_->schemaVersion(), kSchemaVersion);
  ASSERT_TRUE(store_->putToken(sampleToken(kDemo, "kept", "kept-r", now()), 0).ok());
  store_.reset();
  for (int i = 0; i < 2; ++i) {
    auto again = openOrFail();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->migrationsAppliedAtOpen(), 0);
    EXPECT_EQ(again->schemaVersion(), kSchemaVersion);
    EXPECT_EQ(again->getToken(kDemo).value()->access_token, "kept");
  }
  EXPECT_EQ(db_->rawQueryOne("SELECT COUNT(*) FROM schema_migrations").value(),
            std::to_string(kMigrationCount));
}

TEST_P(StoreConformanceTest, DatabaseNewerThanTheBinaryIsRefused) {
  store_.reset();
  ASSERT_TRUE(db_->rawExec("INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                           "(99, 'from the future', 0)")
                  .ok());
  auto opened = openStore(db_->options(aesSealer({testKey('k')}), &clock_));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::kStore);
  EXPECT_NE(opened.error().message.find("newer"), std::string::npos) << opened.error().message;
}

TEST_P(StoreConformanceTest, TwoProcessesMigratingOneEmptyDatabaseBothSucceed) {
  auto empty = TestDatabase::create(GetParam());
  ASSERT_NE(empty, nullptr);
  std::vector<std::string> argv = {TETHER_STORE_MIGRATE_HELPER};
  for (const auto& a : empty->helperArgs()) argv.push_back(a);
  std::vector<Child> children;
  for (int i = 0; i < 3; ++i) {
    children.push_back(spawnWithStdinPipe(argv));
    ASSERT_GT(children.back().pid, 0);
  }
  // The helpers block reading stdin; closing the pipes starts them together.
  for (const auto& c : children) ::close(c.stdin_fd);
  int applied_total = 0;
  for (const auto& c : children) {
    const int rc = waitChild(c);
    // Exit code: 10 + migrations applied by that process.
    ASSERT_GE(rc, 10) << "a migrating process failed";
    applied_total += rc - 10;
  }
  EXPECT_EQ(applied_total, kMigrationCount);  // each migration applied exactly once overall
  auto opened = openStore(empty->options(aesSealer({testKey('k')}), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->migrationsAppliedAtOpen(), 0);
  EXPECT_EQ(empty->rawQueryOne("SELECT COUNT(*) FROM schema_migrations").value(),
            std::to_string(kMigrationCount));
}

TEST_P(StoreConformanceTest, PingAnswersWhileTheDatabaseIsUp) { EXPECT_TRUE(store_->ping().ok()); }

TEST_P(StoreConformanceTest, InvalidArgumentsAreRefusedWithoutTouchingTheDatabase) {
  EXPECT_EQ(store_->getToken({"", "x"}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(store_->putToken(sampleToken(kDemo, "", "r", now()), 0).error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(store_->dueConnections(now(), 0).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(store_->recentEvents(kDemo, -1).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(store_->takePendingFlow("").error().code, Errc::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(BackendKind::kSqlite, BackendKind::kPostgres),
                         [](const auto& info) { return backendName(info.param); });

}  // namespace
}  // namespace tether::store::testing
