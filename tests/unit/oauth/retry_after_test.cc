#include "oauth/retry_after.h"

#include <gtest/gtest.h>

namespace tether::oauth {
namespace {

using std::chrono::seconds;

// 1994-11-06T08:49:37Z, the RFC 9110 example date.
const core::TimePoint kRfcDate = core::fromUnixSeconds(784111777);

TEST(HttpDateTest, AcceptsAllThreeForms) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcDate);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcDate);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), kRfcDate);
}

TEST(HttpDateTest, RejectsMalformedDates) {
  for (const char* bad : {"", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 2024 00:00:00 GMT",
                          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Sun, 06 Nov 1969 08:49:37 GMT", "Thu, 29 Feb 3024 23:59:59 GMT",
                          "garbage", "Sun, 06 Nov 1994 08:49:37 GMT trailing"}) {
    EXPECT_FALSE(parseHttpDate(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parseHttpDate("Thu, 29 Feb 2024 00:00:00 GMT").has_value());
}

TEST(HttpDateTest, FormatRoundTrips) {
  EXPECT_EQ(formatHttpDate(kRfcDate), "Sun, 06 Nov 1994 08:49:37 GMT");
  const auto t = core::fromUnixSeconds(1'800'000'000);
  EXPECT_EQ(parseHttpDate(formatHttpDate(t)), t);
  EXPECT_EQ(formatHttpDate(core::fromUnixSeconds(951782400)), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(RetryAfterTest, DeltaSeconds) {
  const auto now = core::fromUnixSeconds(1'800'000'000);
  EXPECT_EQ(parseRetryAfter("120", now), seconds(120));
  EXPECT_EQ(parseRetryAfter(" 0 ", now), seconds(0));
  EXPECT_EQ(parseRetryAfter("3600", now), seconds(3600));
  EXPECT_EQ(parseRetryAfter("3601", now), seconds(3600));  // capped
  EXPECT_EQ(parseRetryAfter("99999999999999999999999999999", now), seconds(3600));
  EXPECT_FALSE(parseRetryAfter("-5", now).has_value());
  EXPECT_FALSE(parseRetryAfter("1.5", now).has_value());
  EXPECT_FALSE(parseRetryAfter("", now).has_value());
  EXPECT_FALSE(parseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(parseRetryAfter(std::string(100, '1'), now).has_value());  // over the bound
}

TEST(RetryAfterTest, HttpDateRelativeToInjectedNow) {
  const auto now = core::fromUnixSeconds(1'800'000'000);
  EXPECT_EQ(parseRetryAfter(formatHttpDate(now + seconds(90)), now), seconds(90));
  EXPECT_EQ(parseRetryAfter(formatHttpDate(now - seconds(90)), now), seconds(0));
  EXPECT_EQ(parseRetryAfter(formatHttpDate(now + seconds(86400)), now), seconds(3600));
}

TEST(RetryAfterTest, Rfc850TwoDigitYearsFollowTheFiftyYearRule) {
  // now = 2027: "27" is 2027, "80" (53 years ahead) is 1980.
  const auto now = core::fromUnixSeconds(1'800'000'000);
  EXPECT_EQ(parseRetryAfter("Friday, 15-Jan-27 08:00:00 GMT", now), seconds(0));
  const auto soon = parseRetryAfter("Friday, 15-Jan-27 09:00:00 GMT", now);
  ASSERT_TRUE(soon.has_value());
}

}  // namespace
}  // namespace tether::oauth
