#include "lifecycle/policy.h"

#include <gtest/gtest.h>

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = core::fromUnixSeconds(1'800'000'000);

store::TokenRecord token(Duration access_life, std::optional<Duration> refresh_window = {}) {
  store::TokenRecord t;
  t.authenticated_at = kT0;
  t.expires_at = kT0 + access_life;
  t.refresh_token = "rt";
  if (refresh_window) t.refresh_expires_at = kT0 + *refresh_window;
  return t;
}

TEST(PolicyTest, AccessTokenIsRefreshedOneLeadBeforeExpiry) {
  Settings s;
  EXPECT_EQ(accessRefreshAt(token(hours(1)), s), kT0 + minutes(55));
}

TEST(PolicyTest, ShortLivedTokensUseHalfTheirLifeNotTheWholeLead) {
  Settings s;  // 5-minute lead
  // A 2-minute token would otherwise be "due" for its whole life: refresh on every call.
  EXPECT_EQ(accessRefreshAt(token(minutes(2)), s), kT0 + minutes(1));
}

TEST(PolicyTest, DisclosedIdleWindowIsRefreshedAheadOfItsEnd) {
  Settings s;  // refresh lead 1 h, capped at half the window
  const auto t = token(hours(1), minutes(30));
  EXPECT_EQ(nextDue(t, s, std::nullopt, 0), kT0 + minutes(15));
  EXPECT_FALSE(refreshDue(t, s, std::nullopt, kT0 + minutes(14)));
  EXPECT_TRUE(refreshDue(t, s, std::nullopt, kT0 + minutes(15)));
}

TEST(PolicyTest, OperatorMaxLifetimeIsAHardDeadline) {
  Settings s;
  const auto t = token(hours(1));
  EXPECT_EQ(refreshDeadline(t, hours(24 * 90)), kT0 + hours(24 * 90));
  EXPECT_EQ(refreshDeadline(t, std::nullopt), std::nullopt);
  const auto both = token(hours(1), hours(2));
  EXPECT_EQ(refreshDeadline(both, hours(24)), kT0 + hours(2));
  // The keeper looks at it no later than the deadline itself.
  EXPECT_LE(*nextDue(token(hours(1)), s, minutes(30), 0), kT0 + minutes(30));
}

TEST(PolicyTest, JitterOnlyMovesWorkEarlierAndBoundedly) {
  Settings s;  // jitter 30 s
  const auto t = token(hours(1));
  const auto base = *nextDue(t, s, std::nullopt, 0);
  const auto early = *nextDue(t, s, std::nullopt, 0.999);
  EXPECT_LT(early, base);
  EXPECT_GE(early, base - seconds(30));
}

TEST(PolicyTest, BackoffGrowsExponentiallyToTheCapWithRetryAfterAsFloor) {
  Settings s;  // 10 s initial, 5 min cap
  EXPECT_EQ(backoffDelay(1, s, std::nullopt, 1.0), seconds(10));
  EXPECT_EQ(backoffDelay(2, s, std::nullopt, 1.0), seconds(20));
  EXPECT_EQ(backoffDelay(5, s, std::nullopt, 1.0), seconds(160));
  EXPECT_EQ(backoffDelay(6, s, std::nullopt, 1.0), minutes(5));
  EXPECT_EQ(backoffDelay(60, s, std::nullopt, 1.0), minutes(5));
  // Full jitter: anywhere from 1 s up to the ceiling.
  EXPECT_EQ(backoffDelay(6, s, std::nullopt, 0.0), seconds(1));
  // Retry-After wins when it is longer.
  EXPECT_EQ(backoffDelay(1, s, seconds(600), 0.5), seconds(600));
  EXPECT_EQ(backoffDelay(6, s, seconds(3), 1.0), minutes(5));
}

}  // namespace
}  // namespace tether::lifecycle
