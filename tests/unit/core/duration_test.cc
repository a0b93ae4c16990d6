#include "core/duration.h"

#include <gtest/gtest.h>

namespace tether::core {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(parseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(parseDuration("30s").value(), seconds(30));
  EXPECT_EQ(parseDuration("5m").value(), minutes(5));
  EXPECT_EQ(parseDuration("1h").value(), hours(1));
  EXPECT_EQ(parseDuration("90d").value(), hours(24 * 90));
  EXPECT_EQ(parseDuration("1h30m").value(), minutes(90));
}

TEST(DurationTest, RejectsMalformedWithAHelpfulMessage) {
  for (const char* bad : {"", "5", "m5", "5x", "-5s", "5 m", "1.5h", "99999999999999999999d"}) {
    auto r = parseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("expected a number and a unit"), std::string::npos) << bad;
  }
}

TEST(DurationTest, FormatsRoundTrip) {
  for (const char* text : {"90d", "1h30m", "500ms", "5m", "1d2h3m4s5ms"}) {
    EXPECT_EQ(formatDuration(parseDuration(text).value()), text);
  }
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
}

}  // namespace
}  // namespace tether::core
