// ConnectionDefinitionStore conformance (both backends): create, versioned replace, soft
// delete with the token, sealed secrets, the registry version and change notification
// across replicas.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

const ConnectionKey kKey{"mcp", "made"};

TEST_P(StoreConformanceTest, DefinitionCreateReplaceAndVersions) {
  auto& defs = store_->definitions();
  const int64_t v0 = defs.definitionsVersion().value();
  auto created = defs.putDefinition(kKey, R"({"url":"http://a"})", R"({"auth.token":"s3"})", 0);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(*created, 1);
  EXPECT_EQ(defs.definitionsVersion().value(), v0 + 1);
  // A second create of a live name is refused.
  EXPECT_EQ(defs.putDefinition(kKey, "{}", "", 0).error().code, Errc::kAlreadyExists);
  // Replace with the right version; a stale version loses.
  EXPECT_EQ(defs.putDefinition(kKey, R"({"url":"http://b"})", "", 1).value(), 2);
  auto stale = defs.putDefinition(kKey, R"({"url":"http://c"})", "", 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::kConflict);
  EXPECT_EQ(defs.putDefinition({"mcp", "nope"}, "{}", "", 3).error().code, Errc::kNotFound);

  auto got = defs.getDefinition(kKey).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->definition, R"({"url":"http://b"})");
  EXPECT_EQ(got->secrets, "");
  EXPECT_EQ(got->version, 2);
  EXPECT_FALSE(got->deleted_at.has_value());
  EXPECT_EQ(defs.definitionsVersion().value(), v0 + 2);
  EXPECT_FALSE(defs.getDefinition({"api", "made"}).value().has_value());
}

// The cheap look at what changed: live rows only, by key, with their versions.
TEST_P(StoreConformanceTest, DefinitionVersionsListLiveRowsByKey) {
  auto& defs = store_->definitions();
  const ConnectionKey other{"api", "other"};
  ASSERT_TRUE(defs.putDefinition(kKey, R"({"url":"http://a"})", "", 0).ok());
  ASSERT_TRUE(defs.putDefinition(kKey, R"({"url":"http://b"})", "", 1).ok());
  ASSERT_TRUE(defs.putDefinition(other, R"({"url":"http://c"})", "", 0).ok());
  auto versions = defs.listDefinitionVersions().value();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0], (std::pair<ConnectionKey, int64_t>{other, 1}));
  EXPECT_EQ(versions[1], (std::pair<ConnectionKey, int64_t>{kKey, 2}));
  ASSERT_TRUE(defs.deleteDefinition(other, std::nullopt).ok());
  versions = defs.listDefinitionVersions().value();
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].first, kKey);
}

TEST_P(StoreConformanceTest, DefinitionSecretsAreSealedAndOpenOnRead) {
  auto& defs = store_->definitions();
  ASSERT_TRUE(
      defs.putDefinition(kKey, "{}", R"({"auth.client_secret":"very-secret-value"})", 0).ok());
  EXPECT_EQ(defs.getDefinition(kKey).value()->secrets,
            R"({"auth.client_secret":"very-secret-value"})");
  // On disk: never the plaintext.
  auto raw = db_->rawQueryOne("SELECT secrets FROM connection_definitions");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((*raw)->find("very-secret-value"), std::string::npos);
  EXPECT_TRUE((*raw)->starts_with("ts1:"));
}

TEST_P(StoreConformanceTest, DefinitionDeleteKeepsHistoryAndTakesTheToken) {
  auto& defs = store_->definitions();
  ASSERT_TRUE(defs.putDefinition(kKey, "{}", R"({"auth.token":"t"})", 0).ok());
  ASSERT_TRUE(store_->putToken(sampleToken(kKey, "access", "refresh-1", now()), 0).ok());
  ASSERT_TRUE(store_->appendEvent(event(kKey, EventType::kConnectCompleted, now())).ok());
  EXPECT_EQ(defs.deleteDefinition(kKey, 7).error().code, Errc::kConflict);
  auto deleted = defs.deleteDefinition(kKey, 1);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_TRUE(deleted->token_deleted);
  EXPECT_EQ(deleted->refresh_token, "refresh-1");
  EXPECT_FALSE(store_->getToken(kKey).value().has_value());
  EXPECT_EQ(store_->recentEvents(kKey, 10).value().size(), 1u);  // history kept
  EXPECT_EQ(defs.deleteDefinition(kKey, std::nullopt).error().code, Errc::kNotFound);

  EXPECT_TRUE(defs.listDefinitions(false).value().empty());
  auto all = defs.listDefinitions(true).value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].deleted_at.has_value());
  EXPECT_EQ(all[0].secrets, "");  // a deleted definition keeps no secret

  // The name may be used again: the row is revived, its version goes on.
  auto again = defs.putDefinition(kKey, R"({"x":1})", "", 0);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, 3);
  EXPECT_EQ(defs.listDefinitions(false).value().size(), 1u);
}

TEST_P(StoreConformanceTest, ConcurrentEditsOfOneDefinitionEndWithOneWinner) {
  ASSERT_TRUE(store_->definitions().putDefinition(kKey, "{}", "", 0).ok());
  Store* other = otherReplica();
  std::atomic<int> won{0}, conflicts{0};
  auto edit = [&](Store* s, const char* body) {
    auto r = s->definitions().putDefinition(kKey, body, "", 1);
    if (r.ok()) {
      ++won;
    } else if (r.error().code == Errc::kConflict) {
      ++conflicts;
    }
  };
  for (int round = 0; round < 5; ++round) {
    won = 0;
    conflicts = 0;
    std::thread a(edit, store_.get(), R"({"a":1})");
    std::thread b(edit, other, R"({"b":1})");
    a.join();
    b.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(conflicts.load(), 1);
    // Back to version 1 for the next round: recreate.
    ASSERT_TRUE(store_->definitions().deleteDefinition(kKey, std::nullopt).ok());
    ASSERT_TRUE(db_->rawExec("UPDATE connection_definitions SET version = 0").ok());
    ASSERT_TRUE(store_->definitions().putDefinition(kKey, "{}", "", 0).ok());
  }
}

TEST_P(StoreConformanceTest, DefinitionChangesReachEveryReplicasSubscribers) {
  Store* other = otherReplica();
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  auto sub = other->definitions().subscribeDefinitionChanges([&] {
    std::lock_guard lock(mu);
    ++calls;
    cv.notify_all();
  });
  ASSERT_TRUE(store_->definitions().putDefinition(kKey, "{}", "", 0).ok());
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return calls > 0; }));
}

TEST_P(StoreConformanceTest, DefinitionSecretsFollowKeyRotation) {
  ASSERT_TRUE(store_->definitions().putDefinition(kKey, "{}", R"({"auth.key":"k"})", 0).ok());
  store_.reset();
  replica_.reset();
  auto opened = openStore(db_->options(aesSealer({testKey('n'), testKey('k')}), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto report = (*opened)->rotateKeys();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_GE(report->values_resealed, 2);  // the key check and the definition's secrets
  opened->reset();
  auto rotated = openStore(db_->options(aesSealer({testKey('n')}), &clock_));
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ((*rotated)->definitions().getDefinition(kKey).value()->secrets, R"({"auth.key":"k"})");
}

}  // namespace
}  // namespace tether::store::testing
