#include "store/sql/migrations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/clock.h"
#include "store/event_type.h"
#include "store/types.h"

namespace tether::store::sql {
namespace {

using core::Errc;

// Built with append (g++ 12 reports a false -Wrestrict for "'" + std::string(...)).
std::string quoted(std::string_view s) {
  std::string out;
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

TEST(MigrationsTest, VersionsIncreaseFromOneAndEveryDialectHasAScript) {
  // Strictly increasing (changes developed side by side take numbers ahead of merging).
  int previous = 0;
  EXPECT_EQ(allMigrations().front().version, 1);
  for (const Migration& m : allMigrations()) {
    EXPECT_GT(m.version, previous);
    previous = m.version;
    EXPECT_FALSE(m.name.empty());
    EXPECT_FALSE(m.sqlite.empty()) << m.version;
    EXPECT_FALSE(m.postgres.empty()) << m.version;
  }
  EXPECT_FALSE(requiredTables().empty());
}

// The database CHECK constraints spell the closed sets out literally (migrations never
// change); they must list exactly the names the code knows.
TEST(MigrationsTest, CheckConstraintsListEveryEventTypeAndState) {
  // The states: the newest migration that spells the state CHECK out.
  std::string_view sqlite_states;
  std::string_view postgres_states;
  for (const Migration& m : allMigrations()) {
    if (m.sqlite.find("CHECK (state IN") != std::string_view::npos) sqlite_states = m.sqlite;
    if (m.postgres.find("CHECK (state IN") != std::string_view::npos) postgres_states = m.postgres;
  }
  for (std::string_view ddl : {sqlite_states, postgres_states}) {
    for (auto s : {ConnectionState::kNotConnected, ConnectionState::kConnected,
                   ConnectionState::kRefreshFailing, ConnectionState::kNeedsReauth,
                   ConnectionState::kNeedsClientFix}) {
      EXPECT_NE(ddl.find(quoted(connectionStateName(s))), std::string_view::npos)
          << connectionStateName(s);
    }
  }
  // The event types: the newest migration that spells the list out (the database keeps the
  // last CHECK it was given).
  std::string_view sqlite;
  std::string_view postgres;
  for (const Migration& m : allMigrations()) {
    if (m.sqlite.find("CHECK (type IN") != std::string_view::npos) sqlite = m.sqlite;
    if (m.postgres.find("CHECK (type IN") != std::string_view::npos) postgres = m.postgres;
  }
  for (std::string_view ddl : {sqlite, postgres}) {
    for (EventType t : kAllEventTypes) {
      EXPECT_NE(ddl.find(quoted(eventTypeName(t))), std::string_view::npos) << eventTypeName(t);
    }
  }
}

class SqliteMigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-migrations-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.path = (dir_ / "store.db").string();
    options_.busy_timeout = Duration(2000);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Backend> open() {
    auto backend = openSqliteBackend(options_, core::systemClock());
    EXPECT_TRUE(backend.ok()) << backend.error().message;
    return backend.ok() ? std::move(backend).value() : nullptr;
  }

  std::filesystem::path dir_;
  SqliteOptions options_;
};

TEST_F(SqliteMigrationsTest, AFreshDatabaseGetsEveryMigrationOnceAndEveryTable) {
  const int latest = allMigrations().back().version;
  {
    auto backend = open();
    ASSERT_NE(backend, nullptr);
    auto first = migrate(*backend, 1000);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->applied, static_cast<int>(allMigrations().size()));
    EXPECT_EQ(first->schema_version, latest);
    auto lease = backend->reader();
    ASSERT_TRUE(lease.ok());
    for (std::string_view table : requiredTables()) {
      EXPECT_TRUE((*lease)->query("SELECT 1 FROM " + std::string(table) + " LIMIT 1").ok())
          << table;
    }
  }
  auto again = open();
  ASSERT_NE(again, nullptr);
  auto second = migrate(*again, 2000);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(second->schema_version, latest);
}

// Migration 6 rebuilds auth_events (SQLite cannot change a CHECK in place): a database from
// before keeps its events, their ids and the id high-water mark, and takes client_registered.
TEST_F(SqliteMigrationsTest, TheEventTableRebuildKeepsEventsAndIds) {
  auto backend = open();
  ASSERT_NE(backend, nullptr);
  {
    auto lease = backend->writer();
    ASSERT_TRUE(lease.ok());
    Session& s = **lease;
    ASSERT_TRUE(s.script("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT "
                         "NOT NULL, applied_at BIGINT NOT NULL)")
                    .ok());
    for (const Migration& m : allMigrations()) {
      if (m.version >= 6) break;
      ASSERT_TRUE(s.script(m.sqlite).ok()) << m.version;
      ASSERT_TRUE(s.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                          "($1, 'old', 1)",
                          {Param::integer(m.version)})
                      .ok());
    }
    const std::string insert =
        "INSERT INTO auth_events (at, kind, name, type, actor, idp_host, correlation_id, "
        "detail) VALUES (1, 'mcp', 'demo', 'refresh_succeeded', '', '', '', '{}')";
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.query(insert).ok());
    ASSERT_TRUE(s.query("DELETE FROM auth_events WHERE id = 3").ok());  // pruned newest
    EXPECT_FALSE(s.query("INSERT INTO auth_events (at, kind, name, type, actor, idp_host, "
                         "correlation_id, detail) VALUES (1, 'mcp', 'demo', 'client_registered', "
                         "'', '', '', '{}')")
                     .ok());
  }
  auto migrated = migrate(*backend, 2000);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  EXPECT_GE(migrated->applied, 1);
  auto lease = backend->writer();
  ASSERT_TRUE(lease.ok());
  Session& s = **lease;
  auto kept = s.query("SELECT id FROM auth_events ORDER BY id");
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->rows.size(), 2u);
  ASSERT_TRUE(s.query("INSERT INTO auth_events (at, kind, name, type, actor, idp_host, "
                      "correlation_id, detail) VALUES (2, 'mcp', 'demo', 'client_registered', "
                      "'', '', '', '{}')")
                  .ok());
  auto newest = s.query("SELECT MAX(id) AS id FROM auth_events");
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->rows[0][0].asInt(), 4);  // never reuses the pruned id 3
  EXPECT_TRUE(
      s.query("SELECT 1 FROM auth_events INDEXED BY auth_events_by_connection LIMIT 1").ok());
}

TEST_F(SqliteMigrationsTest, ADatabaseFromANewerBuildIsRefusedUnchanged) {
  auto backend = open();
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(migrate(*backend, 1000).ok());
  const int newer = allMigrations().back().version + 1;
  {
    auto lease = backend->writer();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)
                    ->query("INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                            "($1, 'from the future', 1)",
                            {Param::integer(newer)})
                    .ok());
  }
  auto refused = migrate(*backend, 2000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::kStore);
  EXPECT_NE(refused.error().message.find("newer than this Tether build"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace tether::store::sql
