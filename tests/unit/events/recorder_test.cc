#include "events/recorder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/log.h"

namespace tether::events {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An in-memory EventStore that can be switched off.
class MemoryEvents final : public store::EventStore {
 public:
  bool down = false;
  std::vector<store::AuthEvent> events;

  core::Result<int64_t> appendEvent(const store::AuthEvent& e) override {
    if (down) return core::Error(core::Errc::kUnavailable, "down");
    events.push_back(e);
    return static_cast<int64_t>(events.size());
  }
  core::Result<std::vector<store::AuthEvent>> recentEvents(const store::ConnectionKey&,
                                                           int) override {
    return events;
  }
  core::Result<std::vector<store::AuthEvent>> latestEventPerConnection() override { return events; }
  core::Result<int64_t> pruneEvents(core::Duration) override { return int64_t{0}; }
};

Fact fact(Detail d) {
  return Fact{store::EventType::kRefreshFailedRevoked,
              {"mcp", "demo"},
              std::string(kActorBackground),
              "idp.example.com",
              "corr-1",
              std::move(d)};
}

TEST(RecorderTest, IdpStringsAreSanitizedAndDetailsAreValidJson) {
  MemoryEvents store;
  core::ManualClock clock;
  core::MetricsRegistry metrics;
  Recorder recorder(store, clock, &metrics);
  Detail d;
  d.idp_error = "invalid_grant\r\n\x1b[31mFORGED LINE see https://evil.example/steal " +
                std::string(5000, 'x');
  d.reason = "invalid_grant";
  d.http_status = 400;
  d.rotated = false;
  d.expires_before = core::fromUnixSeconds(1'800'000'000);
  recorder.record(fact(d));
  ASSERT_EQ(store.events.size(), 1u);
  const auto& e = store.events[0];
  auto json = boost::json::parse(e.detail_json).as_object();
  const std::string idp_error(json["idp_error"].as_string());
  EXPECT_THAT(idp_error, Not(HasSubstr("\r")));
  EXPECT_THAT(idp_error, Not(HasSubstr("\n")));
  EXPECT_THAT(idp_error, Not(HasSubstr("\x1b")));
  EXPECT_THAT(idp_error, Not(HasSubstr("https://")));
  EXPECT_LE(idp_error.size(), 200u);
  EXPECT_EQ(json["http_status"].as_int64(), 400);
  EXPECT_EQ(json["rotated"].as_bool(), false);
  EXPECT_EQ(json["expires_before"].as_string(), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(e.actor, "system:background-refresh");
  EXPECT_EQ(e.correlation_id, "corr-1");
  EXPECT_EQ(e.at, clock.now());
}

TEST(RecorderTest, EventsWaitInMemoryWhileTheStoreIsDownAndNothingIsLost) {
  MemoryEvents store;
  core::ManualClock clock;
  Recorder recorder(store, clock, nullptr);
  store.down = true;
  recorder.record(fact({}));
  recorder.record(fact({}));
  EXPECT_EQ(recorder.pending(), 2u);
  EXPECT_TRUE(store.events.empty());
  store.down = false;
  recorder.record(fact({}));  // flushes the queue first, in order
  EXPECT_EQ(recorder.pending(), 0u);
  EXPECT_EQ(store.events.size(), 3u);
}

TEST(RecorderTest, TheQueueIsBounded) {
  MemoryEvents store;
  core::ManualClock clock;
  Recorder recorder(store, clock, nullptr, /*max_pending=*/3);
  store.down = true;
  for (int i = 0; i < 5; ++i) recorder.record(fact({}));
  EXPECT_EQ(recorder.pending(), 3u);
}

// Captures the log lines written while it lives.
class CapturedLogs {
 public:
  CapturedLogs() {
    core::log::init(core::log::Format::kJson, core::LogLevel::kInfo);
    core::log::setSinkForTesting([this](std::string_view line) { lines.emplace_back(line); });
  }
  ~CapturedLogs() { core::log::setSinkForTesting(nullptr); }
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const auto& l : lines) {
      if (l.find(R"("level":"error")") != std::string::npos) out.push_back(l);
    }
    return out;
  }
  std::vector<std::string> lines;
};

TEST(RecorderTest, EventsTheStoreStillRefusesWhenTheRecorderStopsAreLoggedAndCountedAsLost) {
  MemoryEvents store;
  core::ManualClock clock;
  core::MetricsRegistry metrics;
  CapturedLogs logs;
  {
    Recorder recorder(store, clock, &metrics);
    store.down = true;
    Detail d;
    d.idp_error = "invalid_grant";
    recorder.record(fact(d));
    recorder.record(fact(d));
    ASSERT_EQ(recorder.pending(), 2u);
    logs.lines.clear();
  }  // the process stops: the recorder goes away with two events it could not store
  EXPECT_TRUE(store.events.empty());
  const auto errors = logs.errors();
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(logs.lines);
  auto line = boost::json::parse(errors[0]).as_object();
  EXPECT_EQ(line["lost"].as_int64(), 2);
  EXPECT_THAT(std::string(line["msg"].as_string()), HasSubstr("lost"));
  EXPECT_THAT(errors[0], Not(HasSubstr("invalid_grant")));  // a count, not the events
  EXPECT_THAT(metrics.render(), HasSubstr("tether_auth_events_lost_total{reason=\"shutdown\"} 2"));
}

TEST(RecorderTest, EventsWaitingWhenTheRecorderStopsAreWrittenIfTheStoreIsBack) {
  MemoryEvents store;
  core::ManualClock clock;
  core::MetricsRegistry metrics;
  CapturedLogs logs;
  {
    Recorder recorder(store, clock, &metrics);
    store.down = true;
    recorder.record(fact({}));
    recorder.record(fact({}));
    ASSERT_EQ(recorder.pending(), 2u);
    store.down = false;  // the store is back before the process stops; nothing else recorded
  }
  EXPECT_EQ(store.events.size(), 2u);
  EXPECT_TRUE(logs.errors().empty()) << ::testing::PrintToString(logs.lines);
  EXPECT_THAT(metrics.render(),
              Not(HasSubstr("tether_auth_events_lost_total{reason=\"shutdown\"}")));
}

TEST(RecorderTest, RefreshAttemptsAreCountedByClass) {
  MemoryEvents store;
  core::ManualClock clock;
  core::MetricsRegistry metrics;
  Recorder recorder(store, clock, &metrics);
  recorder.countRefresh({"api", "billing"}, "success", std::chrono::milliseconds(12));
  recorder.countRefresh({"api", "billing"}, "transient", std::chrono::milliseconds(30));
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("tether_oauth_refresh_total{kind=\"api\",name=\"billing\","
                              "outcome=\"succeeded\",class=\"success\"} 1"));
  EXPECT_THAT(text, HasSubstr("tether_oauth_refresh_total{kind=\"api\",name=\"billing\","
                              "outcome=\"failed\",class=\"transient\"} 1"));
  EXPECT_THAT(
      text,
      HasSubstr("tether_oauth_refresh_duration_seconds_count{kind=\"api\",name=\"billing\"} 2"));
}

}  // namespace
}  // namespace tether::events
