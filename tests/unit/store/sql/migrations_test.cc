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

// Versions only grow (issue 21's engineers took 5, 6 and 7 in parallel branches, so a
// branch alone may have a gap until they are merged).
TEST(MigrationsTest, VersionsCountUpFromOneAndEveryDialectHasAScript) {
  int previous = 0;
  ASSERT_FALSE(allMigrations().empty());
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
  const auto& first = allMigrations().front();
  // The event-type CHECK in force is the one of the last migration that (re)defines it.
  const Migration* events = &first;
  for (const Migration& m : allMigrations()) {
    if (m.sqlite.find("auth_events") != std::string_view::npos &&
        m.sqlite.find("CHECK (type IN") != std::string_view::npos) {
      events = &m;
    }
  }
  for (std::string_view ddl : {events->sqlite, events->postgres}) {
    for (EventType t : kAllEventTypes) {
      EXPECT_NE(ddl.find(quoted(eventTypeName(t))), std::string_view::npos) << eventTypeName(t);
    }
  }
  for (std::string_view ddl : {first.sqlite, first.postgres}) {
    for (auto s : {ConnectionState::kNotConnected, ConnectionState::kConnected,
                   ConnectionState::kRefreshFailing, ConnectionState::kNeedsReauth}) {
      EXPECT_NE(ddl.find(quoted(connectionStateName(s))), std::string_view::npos);
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
