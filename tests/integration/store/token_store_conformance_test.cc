// TokenStore conformance (both backends): round trips, compare-and-swap, conditional
// deletes, change notifications.

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

TEST_P(StoreConformanceTest, TokenRoundTripsWithEveryField) {
  TokenRecord t = sampleToken(kDemo, "access-1", "refresh-1", now());
  t.last_refreshed_at = now() + seconds(5);
  auto v = store_->putToken(t, 0);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_GT(*v, 0);

  auto got = store_->getToken(kDemo);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const TokenRecord& r = **got;
  EXPECT_EQ(r.access_token, "access-1");
  EXPECT_EQ(r.refresh_token, "refresh-1");
  EXPECT_EQ(r.token_type, "Bearer");
  EXPECT_EQ(r.scope, "read write");
  EXPECT_EQ(r.expires_at, t.expires_at);
  EXPECT_EQ(r.refresh_expires_at, t.refresh_expires_at);
  EXPECT_EQ(r.authenticated_at, t.authenticated_at);
  EXPECT_EQ(r.authenticated_by, "admin:alice");
  EXPECT_EQ(r.last_refreshed_at, t.last_refreshed_at);
  EXPECT_EQ(r.idp_host, "idp.example.com");
  EXPECT_EQ(r.version, *v);
  EXPECT_EQ(r.updated_at, now());

  auto missing = store_->getToken(kOther);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreConformanceTest, CompareAndSwapConflictIsDetected) {
  auto v1 = store_->putToken(sampleToken(kDemo, "a1", "r1", now()), 0);
  ASSERT_TRUE(v1.ok()) << v1.error().message;

  // A second "insert" loses: a row exists.
  auto dup = store_->putToken(sampleToken(kDemo, "a-dup", "r-dup", now()), 0);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::kConflict);
  EXPECT_NE(dup.error().message.find("mcp/demo"), std::string::npos) << dup.error().message;

  auto v2 = store_->putToken(sampleToken(kDemo, "a2", "r2", now()), *v1);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_GT(*v2, *v1);

  // A writer that read v1 before v2 was written loses and changes nothing.
  auto stale = store_->putToken(sampleToken(kDemo, "a-stale", "r-stale", now()), *v1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::kConflict);
  EXPECT_EQ(store_->getToken(kDemo).value()->access_token, "a2");

  // Versions keep growing across delete and re-create: a writer holding v2 cannot
  // overwrite a row that was deleted and written again (no ABA).
  ASSERT_TRUE(store_->deleteToken(kDemo, *v2).value());
  auto v3 = store_->putToken(sampleToken(kDemo, "a3", "r3", now()), 0);
  ASSERT_TRUE(v3.ok());
  EXPECT_GT(*v3, *v2);
  auto aba = store_->putToken(sampleToken(kDemo, "a-aba", "r-aba", now()), *v2);
  ASSERT_FALSE(aba.ok());
  EXPECT_EQ(aba.error().code, Errc::kConflict);

  // Delete by stale version is refused too; by current version it works.
  auto del = store_->deleteToken(kDemo, *v2);
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, Errc::kConflict);
  EXPECT_TRUE(store_->deleteToken(kDemo, *v3).value());
  EXPECT_FALSE(store_->deleteToken(kDemo, std::nullopt).value());
}

TEST_P(StoreConformanceTest, ConcurrentWritersOfOneVersionHaveExactlyOneWinner) {
  auto v1 = store_->putToken(sampleToken(kDemo, "a1", "r1", now()), 0);
  ASSERT_TRUE(v1.ok());
  Store* second = otherReplica();
  ASSERT_NE(second, nullptr);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  auto writer = [&](Store* s, std::string access) {
    start.wait();
    std::string refresh = "r-";
    refresh += access;
    return s->putToken(sampleToken(kDemo, access, refresh, now()), *v1);
  };
  auto a = std::async(std::launch::async, writer, store_.get(), "from-a");
  auto b = std::async(std::launch::async, writer, second, "from-b");
  go.set_value();
  auto ra = a.get();
  auto rb = b.get();
  EXPECT_NE(ra.ok(), rb.ok());
  const auto& loser = ra.ok() ? rb : ra;
  ASSERT_FALSE(loser.ok());
  EXPECT_EQ(loser.error().code, Errc::kConflict);
  EXPECT_EQ(store_->getToken(kDemo).value()->access_token, ra.ok() ? "from-a" : "from-b");
}

TEST_P(StoreConformanceTest, DeleteIfRefreshTokenMatchesRefusesWhenTheTokenChanged) {
  auto v1 = store_->putToken(sampleToken(kDemo, "a1", "rejected-refresh", now()), 0);
  ASSERT_TRUE(v1.ok());
  // Another refresher rotated the token meanwhile.
  ASSERT_TRUE(store_->putToken(sampleToken(kDemo, "a2", "rotated-refresh", now()), *v1).ok());

  auto refused = store_->deleteTokenIfRefreshTokenIs(kDemo, "rejected-refresh");
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_EQ(*refused, ConditionalDelete::kTokenChanged);
  EXPECT_EQ(store_->getToken(kDemo).value()->refresh_token, "rotated-refresh");

  auto deleted = store_->deleteTokenIfRefreshTokenIs(kDemo, "rotated-refresh");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, ConditionalDelete::kDeleted);
  EXPECT_FALSE(store_->getToken(kDemo).value().has_value());
  EXPECT_EQ(store_->deleteTokenIfRefreshTokenIs(kDemo, "rotated-refresh").value(),
            ConditionalDelete::kNoToken);

  // A row without a refresh token never matches.
  ASSERT_TRUE(store_->putToken(sampleToken(kDemo, "a3", std::nullopt, now()), 0).ok());
  EXPECT_EQ(store_->deleteTokenIfRefreshTokenIs(kDemo, "").value(),
            ConditionalDelete::kTokenChanged);
}

TEST_P(StoreConformanceTest, TokenChangeNotificationReachesAnotherStore) {
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<TokenChange> seen;
  auto sub = replica2->subscribeTokenChanges([&](const TokenChange& c) {
    if (c.resync) return;
    std::lock_guard lock(mu);
    seen.push_back(c);
    cv.notify_all();
  });
  auto waitFor = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, seconds(10), [&] { return seen.size() >= n; });
  };

  auto v = store_->putToken(sampleToken(kDemo, "a", "r", now()), 0);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(waitFor(1)) << "no notification";
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen[0].key, kDemo);
    EXPECT_EQ(seen[0].version, *v);
    EXPECT_FALSE(seen[0].deleted);
  }
  ASSERT_TRUE(store_->deleteToken(kDemo, std::nullopt).value());
  ASSERT_TRUE(waitFor(2));
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(seen[1].deleted);
    EXPECT_EQ(seen[1].key, kDemo);
  }
  // After unsubscribing nothing more arrives at this callback.
  sub.reset();
  ASSERT_TRUE(store_->putToken(sampleToken(kDemo, "b", "r", now()), 0).ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), 2u);
}

// Callbacks never run on the writer's thread: a writer may hold a lock its callback takes
// (with an inline callback this test would deadlock).
TEST_P(StoreConformanceTest, CallbackMayTakeALockTheWriterHolds) {
  std::mutex m;
  std::promise<void> delivered;
  std::atomic<bool> once{false};
  auto sub = store_->subscribeTokenChanges([&](const TokenChange& c) {
    if (c.resync) return;
    std::lock_guard lock(m);
    if (!once.exchange(true)) delivered.set_value();
  });
  auto arrived = delivered.get_future();
  {
    std::lock_guard lock(m);
    ASSERT_TRUE(store_->putToken(sampleToken(kDemo, "a", "r", now()), 0).ok());
  }
  EXPECT_EQ(arrived.wait_for(seconds(10)), std::future_status::ready);
}

}  // namespace
}  // namespace tether::store::testing
