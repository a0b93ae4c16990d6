// Signed-out portal sessions on both backends: a revocation is durable (it outlives the
// store object and the process), seen by every store on the database (every replica), and
// expired revocations are pruned so the table stays bounded by one session lifetime.

#include <gtest/gtest.h>

#include <chrono>

#include "core/clock.h"
#include "store/store.h"
#include "store_test_env.h"

namespace tether::store::testing {
namespace {

using core::Errc;
using std::chrono::hours;
using std::chrono::minutes;

class StoreSessionsTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    db_ = TestDatabase::create(GetParam());
    ASSERT_NE(db_, nullptr);
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<Store> open() {
    auto opened = openStore(db_->options(aesSealer({testKey('s')}), &clock_));
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (!opened.ok()) return nullptr;
    return std::move(opened).value();
  }

  std::string rows() const {
    return db_->rawQueryOne("SELECT COUNT(*) FROM session_revocations").value().value_or("?");
  }

  core::ManualClock clock_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreSessionsTest, ARevocationIsDurableAndIdempotent) {
  EXPECT_FALSE(store_->isSessionRevoked("nonce-1").value());
  ASSERT_TRUE(store_->revokeSession("nonce-1", clock_.now() + hours(12)).ok());
  ASSERT_TRUE(store_->revokeSession("nonce-1", clock_.now() + hours(12)).ok());  // again
  EXPECT_TRUE(store_->isSessionRevoked("nonce-1").value());
  EXPECT_FALSE(store_->isSessionRevoked("nonce-2").value());
  EXPECT_EQ(rows(), "1");

  // A restart (a new store object on the same database) still sees it.
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_TRUE(store_->isSessionRevoked("nonce-1").value());
}

// Replicas share a PostgreSQL database (SQLite serves one process: a second store on its
// file is refused, see SqliteFaultTest.ASecondStoreOnTheSameFileIsRefusedNamingTheFile).
TEST(StoreSessionsReplicaTest, EveryReplicaSeesARevocation) {
  core::ManualClock clock;
  auto db = TestDatabase::create(BackendKind::kPostgres);
  ASSERT_NE(db, nullptr);
  auto replica1 = openStore(db->options(aesSealer({testKey('s')}), &clock));
  ASSERT_TRUE(replica1.ok()) << replica1.error().message;
  auto replica2 = openStore(db->options(aesSealer({testKey('s')}), &clock));
  ASSERT_TRUE(replica2.ok()) << replica2.error().message;
  ASSERT_TRUE((*replica1)->revokeSession("signed-out", clock.now() + hours(1)).ok());
  EXPECT_TRUE((*replica2)->isSessionRevoked("signed-out").value());
}

TEST_P(StoreSessionsTest, ExpiredRevocationsArePruned) {
  ASSERT_TRUE(store_->revokeSession("short", clock_.now() + minutes(1)).ok());
  ASSERT_TRUE(store_->revokeSession("long", clock_.now() + hours(1)).ok());
  EXPECT_EQ(rows(), "2");
  clock_.advance(minutes(2));
  // Past its expiry the session is refused anyway: the row is no longer needed.
  EXPECT_FALSE(store_->isSessionRevoked("short").value());
  EXPECT_TRUE(store_->isSessionRevoked("long").value());
  EXPECT_EQ(store_->pruneSessionRevocations().value(), 1);
  EXPECT_EQ(rows(), "1");

  // Every new revocation prunes too: the table holds at most one session lifetime of them.
  clock_.advance(hours(2));
  ASSERT_TRUE(store_->revokeSession("fresh", clock_.now() + hours(1)).ok());
  EXPECT_EQ(rows(), "1");
  EXPECT_TRUE(store_->isSessionRevoked("fresh").value());
}

TEST_P(StoreSessionsTest, MalformedIdsAreRefused) {
  EXPECT_EQ(store_->revokeSession("", clock_.now() + hours(1)).error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(store_->revokeSession(std::string(200, 'n'), clock_.now() + hours(1)).error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(store_->isSessionRevoked(std::string(200, 'n')).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(rows(), "0");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreSessionsTest,
                         ::testing::Values(BackendKind::kSqlite, BackendKind::kPostgres),
                         [](const auto& info) { return backendName(info.param); });

}  // namespace
}  // namespace tether::store::testing
