// One conformance suite over both backends: every test runs against SQLite and against a
// real PostgreSQL server (a fresh database per test). PostgreSQL tests fail — never skip —
// when scripts/with-postgres.sh did not provide a server.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "store/store.h"
#include "store_test_env.h"

namespace tether::store::testing {
namespace {

using core::Errc;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const ConnectionKey kDemo{"mcp", "demo"};
const ConnectionKey kOther{"api", "other"};

TokenRecord sampleToken(const ConnectionKey& key, std::string access,
                        std::optional<std::string> refresh, TimePoint now) {
  TokenRecord t;
  t.key = key;
  t.access_token = std::move(access);
  t.refresh_token = std::move(refresh);
  t.token_type = "Bearer";
  t.scope = "read write";
  t.expires_at = now + hours(1);
  t.refresh_expires_at = now + hours(24 * 30);
  t.authenticated_at = now;
  t.authenticated_by = "admin:alice";
  t.idp_host = "idp.example.com";
  return t;
}

AuthEvent event(const ConnectionKey& key, EventType type, TimePoint at,
                std::string correlation = "") {
  AuthEvent e;
  e.key = key;
  e.type = type;
  e.at = at;
  e.actor = "system:background-refresh";
  e.idp_host = "idp.example.com";
  e.correlation_id = std::move(correlation);
  e.detail_json = R"({"http_status":200})";
  return e;
}

class StoreConformanceTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    db_ = TestDatabase::create(GetParam());
    ASSERT_NE(db_, nullptr);
    store_ = openOrFail();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<Store> openOrFail() {
    auto opened = openStore(db_->options(aesSealer({testKey('k')}), &clock_));
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (!opened.ok()) return nullptr;
    return std::move(opened).value();
  }

  TimePoint now() const { return clock_.now(); }

  /// Another replica on the database: a second store on PostgreSQL. SQLite serves one
  /// process and one store per file (a second opener is refused, see SqliteFaultTest), so
  /// there the "replicas" are two callers of the one store, racing from two threads.
  Store* otherReplica() {
    if (GetParam() == BackendKind::kSqlite) return store_.get();
    if (!replica_) replica_ = openOrFail();
    return replica_.get();
  }

  core::ManualClock clock_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Store> replica_;
};

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

TEST_P(StoreConformanceTest, EventsComeNewestFirstWithAStableTieBreak) {
  const TimePoint t0 = now();
  std::vector<int64_t> ids;
  for (auto [type, at, corr] :
       {std::tuple{EventType::kConnectStarted, t0, "e1"},
        std::tuple{EventType::kConnectCompleted, t0 + seconds(10), "e2"},
        std::tuple{EventType::kRefreshSucceeded, t0 + seconds(10), "e3"},
        std::tuple{EventType::kRefreshSucceeded, t0 + seconds(10), "e4"},
        std::tuple{EventType::kRefreshFailedTransient, t0 + seconds(5), "e5"}}) {
    auto id = store_->appendEvent(event(kDemo, type, at, corr));
    ASSERT_TRUE(id.ok()) << id.error().message;
    ids.push_back(*id);
  }
  ASSERT_TRUE(store_->appendEvent(event(kOther, EventType::kConnectStarted, t0 + hours(1))).ok());

  auto events = store_->recentEvents(kDemo, 10);
  ASSERT_TRUE(events.ok()) << events.error().message;
  std::vector<std::string> order;
  for (const auto& e : *events) order.push_back(e.correlation_id);
  EXPECT_EQ(order, (std::vector<std::string>{"e4", "e3", "e2", "e5", "e1"}));
  EXPECT_EQ(events->front().type, EventType::kRefreshSucceeded);
  EXPECT_EQ(events->front().actor, "system:background-refresh");
  EXPECT_EQ(events->front().idp_host, "idp.example.com");
  EXPECT_EQ(events->front().detail_json, R"({"http_status":200})");
  EXPECT_EQ(events->front().at, t0 + seconds(10));
  EXPECT_EQ(events->front().id, ids[3]);

  auto limited = store_->recentEvents(kDemo, 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[1].correlation_id, "e3");
}

TEST_P(StoreConformanceTest, EventWithoutTimeUsesTheStoreClock) {
  AuthEvent e = event(kDemo, EventType::kConnectStarted, TimePoint{});
  ASSERT_TRUE(store_->appendEvent(e).ok());
  EXPECT_EQ(store_->recentEvents(kDemo, 1).value().at(0).at, now());
}

TEST_P(StoreConformanceTest, LatestEventOfEveryConnectionInOneQuery) {
  const TimePoint t0 = now();
  const ConnectionKey third{"mcp", "third"};
  ASSERT_TRUE(store_->appendEvent(event(kDemo, EventType::kConnectStarted, t0, "d1")).ok());
  ASSERT_TRUE(
      store_->appendEvent(event(kDemo, EventType::kConnectCompleted, t0 + seconds(2), "d2")).ok());
  // Appended later but older: does not become the newest.
  ASSERT_TRUE(
      store_->appendEvent(event(kDemo, EventType::kRefreshFailedTransient, t0 + seconds(1), "d3"))
          .ok());
  ASSERT_TRUE(store_->appendEvent(event(kOther, EventType::kRefreshSucceeded, t0, "o1")).ok());
  ASSERT_TRUE(store_->appendEvent(event(third, EventType::kConnectFailed, t0, "t1")).ok());
  ASSERT_TRUE(store_->appendEvent(event(third, EventType::kConnectFailed, t0, "t2")).ok());

  auto latest = store_->latestEventPerConnection();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 3u);
  EXPECT_EQ((*latest)[0].key, kOther);  // ordered by (kind, name)
  EXPECT_EQ((*latest)[0].correlation_id, "o1");
  EXPECT_EQ((*latest)[1].key, kDemo);
  EXPECT_EQ((*latest)[1].correlation_id, "d2");
  EXPECT_EQ((*latest)[2].key, third);
  EXPECT_EQ((*latest)[2].correlation_id, "t2");  // same time: the later id wins
}

TEST_P(StoreConformanceTest, PruneDeletesEventsOlderThanTheRetention) {
  const TimePoint t0 = now();
  const auto day = hours(24);
  ASSERT_TRUE(
      store_->appendEvent(event(kDemo, EventType::kConnectStarted, t0 - 100 * day, "old1")).ok());
  ASSERT_TRUE(
      store_->appendEvent(event(kDemo, EventType::kConnectCompleted, t0 - 91 * day, "old2")).ok());
  ASSERT_TRUE(
      store_->appendEvent(event(kDemo, EventType::kRefreshSucceeded, t0 - 10 * day, "new1")).ok());
  ASSERT_TRUE(
      store_->appendEvent(event(kOther, EventType::kConnectStarted, t0 - 95 * day, "gone")).ok());

  auto pruned = store_->pruneEvents(std::chrono::duration_cast<Duration>(90 * day));
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(*pruned, 3);
  auto left = store_->recentEvents(kDemo, 10).value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].correlation_id, "new1");
  EXPECT_TRUE(store_->recentEvents(kOther, 10).value().empty());
  auto latest = store_->latestEventPerConnection().value();
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].key, kDemo);

  // The clock moves on: the next prune takes the rest.
  clock_.advance(81 * day);
  EXPECT_EQ(store_->pruneEvents(std::chrono::duration_cast<Duration>(90 * day)).value(), 1);
}

TEST_P(StoreConformanceTest, UnknownEventTypeIsRefusedOnWrite) {
  auto bad = store_->appendEvent(event(kDemo, static_cast<EventType>(99), now()));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("unknown event type"), std::string::npos);

  AuthEvent not_json = event(kDemo, EventType::kConnectStarted, now());
  not_json.detail_json = "{not json";
  EXPECT_EQ(store_->appendEvent(not_json).error().code, Errc::kInvalidArgument);
  not_json.detail_json = "[1,2]";
  EXPECT_EQ(store_->appendEvent(not_json).error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(store_->recentEvents(kDemo, 10).value().empty());

  // The database refuses it too (CHECK constraint), even from outside the store.
  EXPECT_FALSE(db_->rawExec("INSERT INTO auth_events (at, kind, name, type, actor, idp_host, "
                            "correlation_id, detail) VALUES (1, 'mcp', 'demo', 'bogus', '', '', "
                            "'', '{}')")
                   .ok());
  // Every type of the closed set is accepted.
  for (EventType t : kAllEventTypes) {
    EXPECT_TRUE(store_->appendEvent(event(kDemo, t, now())).ok()) << eventTypeName(t);
  }
}

TEST_P(StoreConformanceTest, MigrationsReRunAsANoOp) {
  EXPECT_EQ(store_->migrationsAppliedAtOpen(), 4);
  EXPECT_EQ(store_->schemaVersion(), 4);
  ASSERT_TRUE(store_->putToken(sampleToken(kDemo, "kept", "kept-r", now()), 0).ok());
  store_.reset();
  for (int i = 0; i < 2; ++i) {
    auto again = openOrFail();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->migrationsAppliedAtOpen(), 0);
    EXPECT_EQ(again->schemaVersion(), 4);
    EXPECT_EQ(again->getToken(kDemo).value()->access_token, "kept");
  }
  EXPECT_EQ(db_->rawQueryOne("SELECT COUNT(*) FROM schema_migrations").value(), "4");
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
  EXPECT_EQ(applied_total, 4);  // each migration applied exactly once overall
  auto opened = openStore(empty->options(aesSealer({testKey('k')}), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ((*opened)->migrationsAppliedAtOpen(), 0);
  EXPECT_EQ(empty->rawQueryOne("SELECT COUNT(*) FROM schema_migrations").value(), "4");
}

TEST_P(StoreConformanceTest, StateRowRoundTrips) {
  StateRecord s;
  s.key = kDemo;
  s.state = ConnectionState::kRefreshFailing;
  s.reason = "idp_unreachable";
  s.last_error_code = "temporarily_unavailable";
  s.consecutive_failures = 3;
  s.first_failure_at = now() - minutes(30);
  s.next_attempt_at = now() + minutes(2);
  s.next_due_at = now() + minutes(2);
  ASSERT_TRUE(store_->putState(s).ok());
  auto got = store_->getState(kDemo).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, ConnectionState::kRefreshFailing);
  EXPECT_EQ(got->reason, "idp_unreachable");
  EXPECT_EQ(got->last_error_code, "temporarily_unavailable");
  EXPECT_EQ(got->consecutive_failures, 3);
  EXPECT_EQ(got->first_failure_at, s.first_failure_at);
  EXPECT_EQ(got->next_attempt_at, s.next_attempt_at);
  EXPECT_FALSE(got->revoked_at.has_value());
  EXPECT_EQ(got->next_due_at, s.next_due_at);

  s.state = ConnectionState::kNeedsReauth;
  s.revoked_at = now();
  s.next_due_at.reset();
  ASSERT_TRUE(store_->putState(s).ok());
  got = store_->getState(kDemo).value();
  EXPECT_EQ(got->state, ConnectionState::kNeedsReauth);
  EXPECT_EQ(got->revoked_at, now());
  EXPECT_FALSE(got->next_due_at.has_value());
  EXPECT_FALSE(store_->getState(kOther).value().has_value());
}

TEST_P(StoreConformanceTest, DueSetIsOrderedLimitedAndExcludesTheFuture) {
  const TimePoint t0 = now();
  ASSERT_TRUE(store_->setNextDue({"mcp", "c"}, t0 - minutes(1)).ok());
  ASSERT_TRUE(store_->setNextDue({"mcp", "a"}, t0 - minutes(5)).ok());
  ASSERT_TRUE(store_->setNextDue({"mcp", "b"}, t0 - minutes(1)).ok());  // ties by name
  ASSERT_TRUE(store_->setNextDue({"mcp", "later"}, t0 + minutes(1)).ok());
  ASSERT_TRUE(store_->setNextDue({"mcp", "never"}, std::nullopt).ok());

  auto due = store_->dueConnections(t0, 10);
  ASSERT_TRUE(due.ok()) << due.error().message;
  std::vector<std::string> names;
  for (const auto& d : *due) names.push_back(d.key.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(due->front().next_due, t0 - minutes(5));
  EXPECT_EQ(store_->dueConnections(t0, 2).value().size(), 2u);

  // putState carries next_due_at; clearing it leaves the due set.
  StateRecord s;
  s.key = {"mcp", "a"};
  s.state = ConnectionState::kConnected;
  s.next_due_at = std::nullopt;
  ASSERT_TRUE(store_->putState(s).ok());
  clock_.advance(minutes(2));
  names.clear();
  const auto due_later = store_->dueConnections(now(), 10).value();
  for (const auto& d : due_later) names.push_back(d.key.name);
  EXPECT_EQ(names, (std::vector<std::string>{"b", "c", "later"}));
  // setNextDue on an existing row keeps its state.
  ASSERT_TRUE(store_->setNextDue({"mcp", "a"}, now()).ok());
  EXPECT_EQ(store_->getState({"mcp", "a"}).value()->state, ConnectionState::kConnected);
}

TEST_P(StoreConformanceTest, ClaimsGiveEachDueConnectionToOneReplica) {
  for (const char* n : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(store_->setNextDue({"mcp", n}, now() - minutes(1)).ok());
  }
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  auto first = store_->claimDue(now(), 3, "replica-1", minutes(5));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = replica2->claimDue(now(), 10, "replica-2", minutes(5));
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_EQ(first->size(), 3u);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*first)[0].key.name, "a");
  EXPECT_EQ((*second)[0].key.name, "d");
  EXPECT_TRUE(store_->claimDue(now(), 10, "replica-1", minutes(5)).value().empty());

  ASSERT_TRUE(store_->releaseClaim({"mcp", "b"}, "replica-1").ok());
  ASSERT_TRUE(store_->releaseClaim({"mcp", "d"}, "replica-1").ok());  // not ours: no effect
  auto again = replica2->claimDue(now(), 10, "replica-2", minutes(5)).value();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].key.name, "b");

  // Leases expire: a crashed replica's claims come back.
  clock_.advance(minutes(6));
  EXPECT_EQ(store_->claimDue(now(), 10, "replica-1", minutes(5)).value().size(), 5u);
}

TEST_P(StoreConformanceTest, ConcurrentClaimsNeverOverlap) {
  for (int i = 0; i < 40; ++i) {
    std::string name = "c";
    name += std::to_string(i);
    ASSERT_TRUE(store_->setNextDue({"mcp", name}, now() - seconds(i)).ok());
  }
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  auto claimer = [&](Store* s, std::string owner) {
    start.wait();
    std::vector<std::string> got;
    for (int round = 0; round < 10; ++round) {
      auto r = s->claimDue(now(), 3, owner, minutes(5));
      if (!r.ok()) {
        ADD_FAILURE() << r.error().message;
        break;
      }
      for (const auto& d : *r) got.push_back(d.key.name);
    }
    return got;
  };
  auto a = std::async(std::launch::async, claimer, store_.get(), "r1");
  auto b = std::async(std::launch::async, claimer, replica2, "r2");
  go.set_value();
  auto got_a = a.get();
  auto got_b = b.get();
  std::set<std::string> all(got_a.begin(), got_a.end());
  for (const auto& n : got_b) EXPECT_TRUE(all.insert(n).second) << n << " claimed twice";
  EXPECT_EQ(got_a.size() + got_b.size(), 40u);
}

TEST_P(StoreConformanceTest, RegistrySyncUpsertsAndRemoves) {
  std::vector<ConnectionInfo> list = {{{"mcp", "a"}, "oauth", true, "idp.a"},
                                      {{"api", "b"}, "bearer", false, ""}};
  ASSERT_TRUE(store_->syncConnections(list).ok());
  list[0].idp_host = "idp.changed";
  list.pop_back();
  list.push_back({{"mcp", "c"}, "none", false, ""});
  ASSERT_TRUE(store_->syncConnections(list).ok());
  auto got = store_->listConnections().value();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].key, (ConnectionKey{"mcp", "a"}));
  EXPECT_EQ(got[0].idp_host, "idp.changed");
  EXPECT_TRUE(got[0].has_oauth);
  EXPECT_EQ(got[1].key, (ConnectionKey{"mcp", "c"}));

  std::vector<ConnectionInfo> dup = {list[0], list[0]};
  EXPECT_EQ(store_->syncConnections(dup).error().code, Errc::kInvalidArgument);
  ASSERT_TRUE(store_->syncConnections({}).ok());
  EXPECT_TRUE(store_->listConnections().value().empty());
}

TEST_P(StoreConformanceTest, BulkHealthAnswersEveryConnectionInOneCall) {
  const ConnectionKey healed{"mcp", "healed"}, failing{"mcp", "failing"}, revoked{"mcp", "revoked"},
      plain{"api", "plain"}, reconnect{"mcp", "reconnect"}, fresh{"mcp", "fresh"};
  std::vector<ConnectionInfo> list = {
      {healed, "oauth", true, "idp"},    {failing, "oauth", true, "idp"},
      {revoked, "oauth", true, "idp"},   {plain, "bearer", false, ""},
      {reconnect, "oauth", true, "idp"}, {fresh, "oauth", true, "idp"}};
  ASSERT_TRUE(store_->syncConnections(list).ok());
  const TimePoint t0 = now();
  auto state = [&](const ConnectionKey& k, ConnectionState s, std::string code) {
    StateRecord r;
    r.key = k;
    r.state = s;
    r.last_error_code = std::move(code);
    r.consecutive_failures = s == ConnectionState::kRefreshFailing ? 4 : 0;
    ASSERT_TRUE(store_->putState(r).ok());
  };
  auto ev = [&](const ConnectionKey& k, EventType t, int sec) {
    ASSERT_TRUE(store_->appendEvent(event(k, t, t0 + seconds(sec))).ok());
  };

  // healed: failed, then a later success clears the code (the state row still has it).
  ASSERT_TRUE(store_->putToken(sampleToken(healed, "a", "r", t0), 0).ok());
  state(healed, ConnectionState::kConnected, "temporarily_unavailable");
  ev(healed, EventType::kRefreshFailedTransient, 1);
  ev(healed, EventType::kRefreshSucceeded, 2);
  // failing: newest lifecycle event is a failure; a later neutral event does not clear it.
  ASSERT_TRUE(store_->putToken(sampleToken(failing, "a", "r", t0), 0).ok());
  state(failing, ConnectionState::kRefreshFailing, "invalid_client");
  ev(failing, EventType::kRefreshSucceeded, 1);
  ev(failing, EventType::kRefreshFailedTransient, 2);
  ev(failing, EventType::kRefreshSkippedNoToken, 3);
  // revoked: token deleted after invalid_grant.
  state(revoked, ConnectionState::kNeedsReauth, "invalid_grant");
  ev(revoked, EventType::kRefreshFailedRevoked, 1);
  ev(revoked, EventType::kTokenDeletedRevoked, 2);
  // reconnect: a failed connect followed by a new connect attempt clears the code.
  state(reconnect, ConnectionState::kNeedsReauth, "access_denied");
  ev(reconnect, EventType::kConnectFailed, 1);
  ev(reconnect, EventType::kConnectStarted, 2);
  // fresh: a token but no state row yet.
  ASSERT_TRUE(store_->putToken(sampleToken(fresh, "a", "r", t0), 0).ok());

  auto health = store_->bulkHealth();
  ASSERT_TRUE(health.ok()) << health.error().message;
  ASSERT_EQ(health->size(), 6u);
  std::map<std::string, HealthRow> by;
  for (const auto& h : *health) by[h.key.str()] = h;
  EXPECT_EQ((*health)[0].key, plain);  // ordered by (kind, name)

  const auto& h1 = by["mcp/healed"];
  EXPECT_TRUE(h1.has_oauth);
  EXPECT_EQ(h1.state, ConnectionState::kConnected);
  EXPECT_TRUE(h1.token_acquired);
  EXPECT_EQ(h1.token_acquired_at, t0);
  EXPECT_EQ(h1.expires_at, t0 + hours(1));
  EXPECT_EQ(h1.last_error_code, "");
  EXPECT_FALSE(h1.needs_reauth);

  const auto& h2 = by["mcp/failing"];
  EXPECT_EQ(h2.state, ConnectionState::kRefreshFailing);
  EXPECT_EQ(h2.last_error_code, "invalid_client");
  EXPECT_EQ(h2.consecutive_failures, 4);
  EXPECT_TRUE(h2.token_acquired);

  const auto& h3 = by["mcp/revoked"];
  EXPECT_TRUE(h3.needs_reauth);
  EXPECT_FALSE(h3.token_acquired);
  EXPECT_EQ(h3.last_error_code, "invalid_grant");

  const auto& h4 = by["api/plain"];
  EXPECT_FALSE(h4.has_oauth);
  EXPECT_EQ(h4.auth_mode, "bearer");
  EXPECT_EQ(h4.state, ConnectionState::kNotConnected);
  EXPECT_FALSE(h4.token_acquired);

  EXPECT_EQ(by["mcp/reconnect"].last_error_code, "");
  EXPECT_TRUE(by["mcp/reconnect"].needs_reauth);
  EXPECT_EQ(by["mcp/fresh"].state, ConnectionState::kConnected);
  EXPECT_EQ(by["mcp/fresh"].last_error_code, "");

  // Pruning every event keeps the rule's answer (the head row remembers the outcome).
  clock_.advance(hours(1));
  ASSERT_TRUE(store_->pruneEvents(Duration(0)).ok());
  EXPECT_TRUE(store_->latestEventPerConnection().value().empty());
  const auto after_prune = store_->bulkHealth().value();
  for (const auto& h : after_prune) {
    if (h.key == failing) {
      EXPECT_EQ(h.last_error_code, "invalid_client");
    }
    if (h.key == healed) {
      EXPECT_EQ(h.last_error_code, "");
    }
  }
}

TEST_P(StoreConformanceTest, LockAllowsOneHolderAndHonoursTheDeadline) {
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  auto held = store_->locks().tryLock(kDemo);
  ASSERT_TRUE(held.ok()) << held.error().message;
  ASSERT_TRUE(held->held());

  auto busy = replica2->locks().tryLock(kDemo);
  ASSERT_TRUE(busy.ok()) << busy.error().message;
  EXPECT_FALSE(busy->held());
  // Not reentrant, even through the same manager.
  EXPECT_FALSE(store_->locks().tryLock(kDemo).value().held());
  // Another connection's lock is independent.
  EXPECT_TRUE(replica2->locks().tryLock(kOther).value().held());

  const auto start = std::chrono::steady_clock::now();
  auto timed_out = replica2->locks().lock(kDemo, milliseconds(300));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, Errc::kTimeout);
  EXPECT_NE(timed_out.error().message.find("mcp/demo"), std::string::npos);
  EXPECT_GE(waited, milliseconds(280));
  EXPECT_LT(waited, seconds(5));

  // A waiter gets the lock once the holder lets go.
  auto waiter =
      std::async(std::launch::async, [&] { return replica2->locks().lock(kDemo, seconds(20)); });
  held->release();
  auto got = waiter.get();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->held());
  EXPECT_FALSE(store_->locks().tryLock(kDemo).value().held());
  got->release();
  EXPECT_TRUE(store_->locks().tryLock(kDemo).value().held());
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

TEST_P(StoreConformanceTest, PendingFlowsAreSingleUse) {
  PendingFlow f;
  f.state = "state-abc";
  f.key = kDemo;
  f.pkce_verifier = "verifier-secret-123";
  f.return_url = "/portal/connections/mcp/demo";
  f.started_by = "admin:alice";
  f.issuer = "https://idp.example.com";
  f.correlation_id = "corr-1";
  f.client_id = "registered-client";
  f.authorization_url = "https://idp.example.com/authorize?state=state-abc";
  f.expires_at = now() + minutes(10);
  auto created = store_->createPendingFlow(f);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);

  // Another start for the same connection gets the pending one back.
  PendingFlow g = f;
  g.state = "state-other";
  g.pkce_verifier = "other-verifier";
  auto existing = store_->createPendingFlow(g);
  ASSERT_TRUE(existing.ok()) << existing.error().message;
  EXPECT_FALSE(existing->created);
  EXPECT_EQ(existing->flow.pkce_verifier, "verifier-secret-123");
  EXPECT_EQ(existing->flow.state, "");
  EXPECT_EQ(existing->flow.started_by, "admin:alice");
  // The first flow's authorization URL comes back, so a second start hands out the same.
  EXPECT_EQ(existing->flow.authorization_url, f.authorization_url);
  EXPECT_EQ(existing->flow.client_id, "registered-client");

  EXPECT_EQ(store_->takePendingFlow("state-other").error().code, Errc::kNotFound);
  auto taken = store_->takePendingFlow("state-abc");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->key, kDemo);
  EXPECT_EQ(taken->pkce_verifier, "verifier-secret-123");
  EXPECT_EQ(taken->return_url, "/portal/connections/mcp/demo");
  EXPECT_EQ(taken->issuer, "https://idp.example.com");
  EXPECT_EQ(taken->correlation_id, "corr-1");
  EXPECT_EQ(taken->created_at, now());
  auto twice = store_->takePendingFlow("state-abc");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Errc::kNotFound);

  // Expired flows cannot be taken (the attempt consumes them).
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  clock_.advance(minutes(11));
  auto late = store_->takePendingFlow("state-abc");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::kNotFound);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  // A flow must expire in the future.
  EXPECT_EQ(store_->createPendingFlow(f).error().code, Errc::kInvalidArgument);
  // An expired flow does not block a new start.
  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  clock_.advance(minutes(11));
  g.expires_at = now() + minutes(10);
  auto replaced = store_->createPendingFlow(g);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_TRUE(replaced->created);
  // expirePendingFlows purges what is past its time; cancel removes one.
  PendingFlow other_conn = f;
  other_conn.key = kOther;
  other_conn.state = "state-o";
  other_conn.expires_at = now() + minutes(1);
  ASSERT_TRUE(store_->createPendingFlow(other_conn).value().created);
  clock_.advance(minutes(2));
  EXPECT_EQ(store_->expirePendingFlows().value(), 1);
  EXPECT_TRUE(store_->cancelPendingFlow(kDemo).value());
  EXPECT_FALSE(store_->cancelPendingFlow(kDemo).value());
  EXPECT_EQ(store_->takePendingFlow("state-other").error().code, Errc::kNotFound);
}

// The connect callback tells an expired sign-in link from an unknown one by this outcome,
// never by the text of an error message.
TEST_P(StoreConformanceTest, TakeFlowTellsExpiredFromUnknownWithoutParsingMessages) {
  PendingFlow f;
  f.state = "state-late";
  f.key = kDemo;
  f.pkce_verifier = "verifier-late";
  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);

  auto unknown = store_->takeFlow("state-never-created");
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_EQ(unknown->outcome, FlowTakeOutcome::kUnknown);

  clock_.advance(minutes(11));
  auto expired = store_->takeFlow("state-late");
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  EXPECT_EQ(expired->outcome, FlowTakeOutcome::kExpired);
  EXPECT_EQ(expired->flow.key, kDemo);
  EXPECT_EQ(expired->flow.expires_at, f.expires_at);
  // Consumed by the attempt: the same state is unknown now.
  EXPECT_EQ(store_->takeFlow("state-late").value().outcome, FlowTakeOutcome::kUnknown);

  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  auto taken = store_->takeFlow("state-late");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->outcome, FlowTakeOutcome::kTaken);
  EXPECT_EQ(taken->flow.state, "state-late");
  EXPECT_EQ(taken->flow.pkce_verifier, "verifier-late");
  EXPECT_EQ(store_->takeFlow("").error().code, Errc::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ConcurrentTakesOfOneFlowHaveOneWinner) {
  PendingFlow f;
  f.state = "race-state";
  f.key = kDemo;
  f.pkce_verifier = "v";
  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  auto take = [&](Store* s) {
    start.wait();
    return s->takePendingFlow("race-state").ok();
  };
  auto a = std::async(std::launch::async, take, store_.get());
  auto b = std::async(std::launch::async, take, replica2);
  go.set_value();
  EXPECT_EQ(int(a.get()) + int(b.get()), 1);
}

TEST_P(StoreConformanceTest, OAuthClientsRoundTripSealed) {
  OAuthClient c;
  c.issuer = "https://idp.example.com";
  c.client_id = "tether-client";
  c.client_secret = "client-secret-value";
  c.registration_json = R"({"registration_access_token":"rat"})";
  ASSERT_TRUE(store_->putClient(c).ok());
  auto got = store_->getClient(c.issuer).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->client_id, "tether-client");
  EXPECT_EQ(got->client_secret, "client-secret-value");
  EXPECT_EQ(got->registration_json, c.registration_json);
  EXPECT_EQ(got->created_at, now());

  clock_.advance(minutes(1));
  c.client_secret.reset();
  ASSERT_TRUE(store_->putClient(c).ok());
  got = store_->getClient(c.issuer).value();
  EXPECT_FALSE(got->client_secret.has_value());
  EXPECT_EQ(got->created_at, now() - minutes(1));
  EXPECT_EQ(got->updated_at, now());
  EXPECT_TRUE(store_->deleteClient(c.issuer).value());
  EXPECT_FALSE(store_->getClient(c.issuer).value().has_value());
}

TEST_P(StoreConformanceTest, ResolvedEndpointsRoundTripPerConnection) {
  EXPECT_FALSE(store_->getEndpoints(kDemo).value().has_value());
  OAuthEndpoints e;
  e.key = kDemo;
  e.issuer = "https://idp.example.com/tenant";
  e.authorization_endpoint = "https://idp.example.com/tenant/authorize";
  e.token_endpoint = "https://idp.example.com/tenant/token";
  e.registration_endpoint = "https://idp.example.com/tenant/register";
  e.scopes = "mcp:tools offline_access";
  e.resource = "https://mcp.example.com/mcp";
  e.iss_parameter_supported = true;
  ASSERT_TRUE(store_->putEndpoints(e).ok());
  auto got = store_->getEndpoints(kDemo).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->issuer, e.issuer);
  EXPECT_EQ(got->authorization_endpoint, e.authorization_endpoint);
  EXPECT_EQ(got->token_endpoint, e.token_endpoint);
  EXPECT_EQ(got->registration_endpoint, e.registration_endpoint);
  EXPECT_EQ(got->scopes, e.scopes);
  EXPECT_EQ(got->resource, e.resource);
  EXPECT_TRUE(got->iss_parameter_supported);
  EXPECT_EQ(got->updated_at, now());
  EXPECT_FALSE(store_->getEndpoints(kOther).value().has_value());
  // Replaced as a whole by the next discovery.
  e.token_endpoint = "https://idp2.example.com/token";
  e.iss_parameter_supported = false;
  e.registration_endpoint.clear();
  ASSERT_TRUE(store_->putEndpoints(e).ok());
  got = store_->getEndpoints(kDemo).value();
  EXPECT_EQ(got->token_endpoint, "https://idp2.example.com/token");
  EXPECT_FALSE(got->iss_parameter_supported);
  EXPECT_EQ(got->registration_endpoint, "");
  e.token_endpoint.clear();
  EXPECT_EQ(store_->putEndpoints(e).error().code, Errc::kInvalidArgument);
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
