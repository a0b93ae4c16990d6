// ConnectionRegistry conformance (both backends): sync and bulk health.

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

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

// One change among many: only the named rows are written or removed.
TEST_P(StoreConformanceTest, RegistryUpdateTouchesOnlyTheNamedRows) {
  ASSERT_TRUE(store_
                  ->syncConnections(std::vector<ConnectionInfo>{
                      {{"mcp", "a"}, "oauth", true, "idp.a"}, {{"api", "b"}, "bearer", false, ""}})
                  .ok());
  const std::vector<ConnectionInfo> upserted = {{{"mcp", "a"}, "oauth", true, "idp.changed"},
                                                {{"mcp", "c"}, "none", false, ""}};
  const std::vector<ConnectionKey> removed = {{"api", "b"}, {"api", "never-there"}};
  ASSERT_TRUE(store_->updateConnections(upserted, removed).ok());
  auto got = store_->listConnections().value();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].key, (ConnectionKey{"mcp", "a"}));
  EXPECT_EQ(got[0].idp_host, "idp.changed");
  EXPECT_EQ(got[1].key, (ConnectionKey{"mcp", "c"}));
  ASSERT_TRUE(store_->updateConnections({}, {}).ok());
  EXPECT_EQ(store_->listConnections().value().size(), 2u);
  // A later full sync still makes the registry equal to its list.
  ASSERT_TRUE(store_->syncConnections(std::vector<ConnectionInfo>{upserted[1]}).ok());
  ASSERT_EQ(store_->listConnections().value().size(), 1u);
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

TEST_P(StoreConformanceTest, LastUseIsBatchedNeverGoesBackAndShowsInBulkHealth) {
  const ConnectionKey a{"mcp", "a"}, b{"api", "b"};
  ASSERT_TRUE(store_
                  ->syncConnections(std::vector<ConnectionInfo>{{a, "oauth", true, "idp"},
                                                                {b, "bearer", false, ""}})
                  .ok());
  const TimePoint t0 = now();
  // More rows than one statement holds: a batch of 450 (most for unregistered keys).
  std::vector<LastUse> uses = {{a, t0 + seconds(5)}, {b, t0 + seconds(7)}};
  for (int i = 0; i < 448; ++i) {
    std::string name = "x";  // appended: g++ 12 warns falsely (-Wrestrict) on "x" + string
    name += std::to_string(i);
    uses.push_back({{"mcp", name}, t0});
  }
  ASSERT_TRUE(store_->recordLastUse(uses).ok());
  // An older flush (another replica's) does not move it back; a newer one does.
  const std::vector<LastUse> older = {{a, t0 + seconds(1)}, {b, t0 + seconds(9)}};
  ASSERT_TRUE(store_->recordLastUse(older).ok());
  ASSERT_TRUE(store_->recordLastUse({}).ok());
  auto health = store_->bulkHealth().value();
  ASSERT_EQ(health.size(), 2u);
  EXPECT_EQ(health[0].key, b);
  EXPECT_EQ(health[0].last_used_at, t0 + seconds(9));
  EXPECT_EQ(health[1].last_used_at, t0 + seconds(5));
  EXPECT_EQ(store_->activity(a).value().last_used_at, t0 + seconds(5));
  EXPECT_FALSE(store_->activity({"mcp", "never"}).value().last_used_at.has_value());

  const std::vector<LastUse> bad = {{{"", "x"}, t0}};
  EXPECT_EQ(store_->recordLastUse(bad).error().code, Errc::kInvalidArgument);
}

TEST_P(StoreConformanceTest, HealthOfReadsOnlyTheKeysAskedForInKeyOrder) {
  const ConnectionKey a{"mcp", "a"}, b{"api", "b"}, c{"mcp", "c"};
  ASSERT_TRUE(
      store_
          ->syncConnections(std::vector<ConnectionInfo>{
              {a, "oauth", true, "idp"}, {b, "bearer", false, ""}, {c, "oauth", true, "idp"}})
          .ok());
  ASSERT_TRUE(store_->putToken(sampleToken(c, "a", "r", now()), 0).ok());
  const std::vector<ConnectionKey> asked = {c, b, {"mcp", "unregistered"}};
  auto rows = store_->healthOf(asked);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].key, b);
  EXPECT_EQ((*rows)[1].key, c);
  EXPECT_TRUE((*rows)[1].token_acquired);
  EXPECT_EQ((*rows)[1].state, ConnectionState::kConnected);
  EXPECT_TRUE(store_->healthOf({}).value().empty());
  const std::vector<ConnectionKey> too_many(501, a);
  EXPECT_EQ(store_->healthOf(too_many).error().code, Errc::kInvalidArgument);
}

TEST_P(StoreConformanceTest, AFailedConnectShowsUntilAConnectCompletesWithItsAccount) {
  const ConnectionKey a{"mcp", "a"};
  ASSERT_TRUE(store_->syncConnections(std::vector<ConnectionInfo>{{a, "oauth", true, "idp"}}).ok());
  const TimePoint t0 = now();
  ASSERT_TRUE(store_->recordLastUse(std::vector<LastUse>{{a, t0}}).ok());
  ConnectOutcome failed;
  failed.key = a;
  failed.at = t0 + seconds(1);
  failed.failed = true;
  failed.reason = "invalid_client";
  failed.idp_error = "invalid_client";
  ASSERT_TRUE(store_->recordConnectOutcome(failed).ok());
  auto h = store_->bulkHealth().value().at(0);
  EXPECT_EQ(h.connect_failed_at, t0 + seconds(1));
  EXPECT_EQ(h.connect_failure_reason, "invalid_client");
  EXPECT_EQ(h.connect_failure_idp_error, "invalid_client");
  EXPECT_EQ(h.last_used_at, t0);  // kept

  ConnectOutcome done;
  done.key = a;
  done.at = t0 + seconds(2);
  done.account = {"user-123", "ada@example.com", "Ada Lovelace"};
  ASSERT_TRUE(store_->recordConnectOutcome(done).ok());
  h = store_->bulkHealth().value().at(0);
  EXPECT_FALSE(h.connect_failed_at.has_value());
  EXPECT_EQ(h.connect_failure_reason, "");
  const auto act = store_->activity(a).value();
  EXPECT_EQ(act.connected_at, t0 + seconds(2));
  EXPECT_EQ(act.account.subject, "user-123");
  EXPECT_EQ(act.account.email, "ada@example.com");
  EXPECT_EQ(act.account.name, "Ada Lovelace");
  EXPECT_EQ(act.last_used_at, t0);
  EXPECT_FALSE(act.connect_failed_at.has_value());

  // A later failure keeps the account of the last completed connect beside it.
  failed.at = t0 + seconds(3);
  failed.reason = "authorization_refused";
  failed.idp_error = "access_denied";
  ASSERT_TRUE(store_->recordConnectOutcome(failed).ok());
  const auto again = store_->activity(a).value();
  EXPECT_EQ(again.connect_failed_at, t0 + seconds(3));
  EXPECT_EQ(again.connect_failure_idp_error, "access_denied");
  EXPECT_EQ(again.account.email, "ada@example.com");

  ConnectOutcome huge = done;
  huge.account.name = std::string(5000, 'n');
  EXPECT_EQ(store_->recordConnectOutcome(huge).error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace tether::store::testing
