#pragma once
// The store conformance suite's fixture: every TEST_P of StoreConformanceTest runs against
// SQLite and against a real PostgreSQL server (a fresh database per test). PostgreSQL tests
// fail — never skip — when scripts/with-postgres.sh did not provide a server. The suite is
// split by interface (<interface>_conformance_test.cc); store_conformance_test.cc
// instantiates it.

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

using core::Errc;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

inline const ConnectionKey kDemo{"mcp", "demo"};
inline const ConnectionKey kOther{"api", "other"};

inline TokenRecord sampleToken(const ConnectionKey& key, std::string access,
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

inline AuthEvent event(const ConnectionKey& key, EventType type, TimePoint at,
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

}  // namespace tether::store::testing
