// The per-connection gauges an alert rule reads: which series one bulk health read becomes.
#include "lifecycle/state_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using store::ConnectionState;
using ::testing::UnorderedElementsAre;

const core::TimePoint kT0 = core::fromUnixSeconds(1'800'000'000);

store::HealthRow row(std::string name, ConnectionState state, bool token = true) {
  store::HealthRow h;
  h.key = {"mcp", std::move(name)};
  h.auth_mode = "oauth";
  h.has_oauth = true;
  h.state = state;
  h.token_acquired = token;
  if (token) {
    h.token_acquired_at = kT0;
    h.expires_at = kT0 + hours(1);
  }
  return h;
}

core::Labels key(const std::string& name) { return {{"kind", "mcp"}, {"name", name}}; }
core::Labels with(core::Labels l, std::string k, std::string v) {
  l.emplace_back(std::move(k), std::move(v));
  return l;
}
std::pair<core::Labels, double> stateOf(const std::string& name, const std::string& state,
                                        double v) {
  return {with(key(name), "state", state), v};
}

TEST(StateMetricsTest, OneSeriesPerStateWithExactlyOneSetPerConnection) {
  MetricConnections conns = {{{"mcp", "a"}, std::nullopt}, {{"mcp", "b"}, std::nullopt}};
  auto s = stateSeries({row("a", ConnectionState::kRefreshFailing)}, conns);
  EXPECT_THAT(s.state, UnorderedElementsAre(
                           stateOf("a", "not_connected", 0), stateOf("a", "connected", 0),
                           stateOf("a", "refresh_failing", 1), stateOf("a", "needs_reauth", 0),
                           stateOf("a", "needs_client_fix", 0),
                           // No row at all: not connected.
                           stateOf("b", "not_connected", 1), stateOf("b", "connected", 0),
                           stateOf("b", "refresh_failing", 0), stateOf("b", "needs_reauth", 0),
                           stateOf("b", "needs_client_fix", 0)));
  // The IdP rejected Tether's client: its own series, and the reason is shown.
  auto fix = row("a", ConnectionState::kNeedsClientFix);
  fix.reason = "invalid_client";
  s = stateSeries({fix}, conns);
  EXPECT_THAT(s.state, ::testing::Contains(stateOf("a", "needs_client_fix", 1)));
  ASSERT_EQ(s.failure_reason.size(), 1u);
  EXPECT_EQ(s.failure_reason[0].first, with(key("a"), "reason", "invalid_client"));
}

TEST(StateMetricsTest, OnlyConfiguredOAuthConnectionsGetSeries) {
  // The registry also lists bearer/none connections and ones removed from the config.
  auto other = row("bearer-only", ConnectionState::kConnected);
  MetricConnections conns = {{{"mcp", "a"}, std::nullopt}};
  auto s = stateSeries({row("a", ConnectionState::kConnected), other}, conns);
  EXPECT_EQ(s.state.size(), 5u);
  EXPECT_EQ(s.token_expiry.size(), 1u);
  for (const auto& [labels, _] : s.state) EXPECT_EQ(labels[1].second, "a");
}

TEST(StateMetricsTest, ExpiryAndDeadlineAreUnixSecondsAndTheEarlierDeadlineWins) {
  auto r = row("a", ConnectionState::kConnected);
  r.refresh_expires_at = kT0 + hours(24 * 30);
  // Disclosed 30 days; the operator's refresh_max_lifetime of 7 days comes first.
  auto s = stateSeries({r}, {{{"mcp", "a"}, hours(24 * 7)}});
  ASSERT_EQ(s.token_expiry.size(), 1u);
  EXPECT_EQ(s.token_expiry[0].second, 1'800'000'000 + 3600);
  ASSERT_EQ(s.refresh_deadline.size(), 1u);
  EXPECT_EQ(s.refresh_deadline[0].second, 1'800'000'000 + 7 * 86400);
  // Without a max lifetime the disclosed one is the deadline.
  s = stateSeries({r}, {{{"mcp", "a"}, std::nullopt}});
  EXPECT_EQ(s.refresh_deadline[0].second, 1'800'000'000 + 30 * 86400);
}

TEST(StateMetricsTest, UnknownDeadlineAndNoTokenMeanNoSeries) {
  auto s = stateSeries({row("a", ConnectionState::kConnected)}, {{{"mcp", "a"}, std::nullopt}});
  EXPECT_EQ(s.token_expiry.size(), 1u);
  EXPECT_TRUE(s.refresh_deadline.empty());  // nothing disclosed, no max lifetime
  auto gone = row("a", ConnectionState::kNeedsReauth, /*token=*/false);
  s = stateSeries({gone}, {{{"mcp", "a"}, hours(24)}});
  EXPECT_TRUE(s.token_expiry.empty());
  EXPECT_TRUE(s.refresh_deadline.empty());
}

TEST(StateMetricsTest, FailureReasonOnlyWhileFailingAndFromAClosedSet) {
  auto reauth = row("a", ConnectionState::kNeedsReauth, false);
  reauth.reason = "invalid_client";
  auto failing = row("b", ConnectionState::kRefreshFailing);
  failing.reason = "http_503";
  auto healed = row("c", ConnectionState::kConnected);
  healed.reason = "invalid_grant";  // an earlier failure's reason may stay on record
  MetricConnections conns = {
      {{"mcp", "a"}, std::nullopt}, {{"mcp", "b"}, std::nullopt}, {{"mcp", "c"}, std::nullopt}};
  auto s = stateSeries({reauth, failing, healed}, conns);
  EXPECT_THAT(s.failure_reason,
              UnorderedElementsAre(std::pair{with(key("a"), "reason", "invalid_client"), 1.0},
                                   std::pair{with(key("b"), "reason", "http_error"), 1.0}));
}

TEST(StateMetricsTest, ReasonLabelNeverCarriesAnIdpChosenString) {
  EXPECT_EQ(failureReasonLabel("invalid_grant"), "invalid_grant");
  EXPECT_EQ(failureReasonLabel("unauthorized_client"), "unauthorized_client");
  EXPECT_EQ(failureReasonLabel("refresh_expired"), "refresh_expired");
  EXPECT_EQ(failureReasonLabel("http_429"), "http_error");
  EXPECT_EQ(failureReasonLabel("transport_timeout"), "transport_error");
  EXPECT_EQ(failureReasonLabel("server_error"), "other");
  EXPECT_EQ(failureReasonLabel("x\"} evil 1\n"), "other");
  EXPECT_EQ(failureReasonLabel(""), "other");
}

}  // namespace
}  // namespace tether::lifecycle
