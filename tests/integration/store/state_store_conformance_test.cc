// StateStore conformance (both backends): state rows, the due set and claims.

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

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

// needs_client_fix (migration 9): the database takes the state and an event of the IdP
// rejecting Tether's client credentials.
TEST_P(StoreConformanceTest, NeedsClientFixAndItsEventAreStored) {
  StateRecord s;
  s.key = kDemo;
  s.state = ConnectionState::kNeedsClientFix;
  s.reason = "invalid_client";
  s.last_error_code = "invalid_client";
  ASSERT_TRUE(store_->putState(s).ok());
  auto got = store_->getState(kDemo).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, ConnectionState::kNeedsClientFix);
  AuthEvent e;
  e.key = kDemo;
  e.type = EventType::kRefreshFailedClientRejected;
  e.actor = "system:background-refresh";
  EXPECT_TRUE(store_->appendEvent(e).ok());
}

// MCP step-up (migration 7): the scopes the next connect asks for and the count of
// step-ups in a row live in the state row, so any replica's connect flow reads them.
TEST_P(StoreConformanceTest, StepUpScopesAndCountRoundTrip) {
  StateRecord s;
  s.key = kDemo;
  s.state = ConnectionState::kNeedsReauth;
  s.reason = "insufficient_scope";
  s.step_up_scopes = "mcp:basic mcp:write";
  s.step_ups = 2;
  ASSERT_TRUE(store_->putState(s).ok());
  auto got = store_->getState(kDemo).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->step_up_scopes, "mcp:basic mcp:write");
  EXPECT_EQ(got->step_ups, 2);
  // A row the keeper creates (setNextDue) starts without any.
  ASSERT_TRUE(store_->setNextDue(kOther, now()).ok());
  got = store_->getState(kOther).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->step_up_scopes, "");
  EXPECT_EQ(got->step_ups, 0);
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

}  // namespace
}  // namespace tether::store::testing
