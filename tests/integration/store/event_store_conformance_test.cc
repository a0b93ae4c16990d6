// EventStore conformance (both backends).

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

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

}  // namespace
}  // namespace tether::store::testing
