#include "app/operator_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::app {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const core::TimePoint kNow = core::fromUnixSeconds(1'800'000'000);  // 2027-01-15T08:00:00Z

TEST(OperatorFormatTest, TableColumnsAlignWithoutTrailingBlanks) {
  Table t{{"CONNECTION", "STATE", "NOTE"},
          {{"mcp/demo", "connected", "-"}, {"api/billing-long", "needs reauth", ""}}};
  EXPECT_EQ(renderTable(t),
            "CONNECTION        STATE         NOTE\n"
            "mcp/demo          connected     -\n"
            "api/billing-long  needs reauth\n");
}

TEST(OperatorFormatTest, WidthsCountCharactersNotBytes) {
  Table t{{"A", "B"}, {{"\xc3\xa9t\xc3\xa9", "x"}, {"abcd", "y"}}};  // "été" is 3 wide
  EXPECT_EQ(renderTable(t), "A     B\n\xc3\xa9t\xc3\xa9   x\nabcd  y\n");
}

TEST(OperatorFormatTest, FieldsPadTheKeys) {
  EXPECT_EQ(renderFields({{"state", "connected"}, {"last refresh", "-"}}),
            "state         connected\nlast refresh  -\n");
}

TEST(OperatorFormatTest, ParsesTheApisTimes) {
  EXPECT_EQ(parseRfc3339("2027-01-15T08:00:00.000Z"), kNow);
  EXPECT_EQ(parseRfc3339("2027-01-15T08:00:00Z"), kNow);
  EXPECT_EQ(parseRfc3339("2027-01-15T09:30:00+01:30"), kNow);
  EXPECT_EQ(parseRfc3339("2027-01-15T08:00:00.5Z"), kNow + std::chrono::milliseconds(500));
  for (const char* bad :
       {"", "2027-01-15", "2027-01-15T08:00:00", "2027-02-30T08:00:00Z", "2027-01-15T24:00:00Z",
        "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00Zx", "x027-01-15T08:00:00Z"}) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
}

TEST(OperatorFormatTest, RelativeTimesReadLikeAPersonWouldSayThem) {
  EXPECT_EQ(relativeTime(kNow, kNow), "now");
  EXPECT_EQ(relativeTime(kNow + seconds(42), kNow), "in 42s");
  EXPECT_EQ(relativeTime(kNow + minutes(42) + seconds(10), kNow), "in 42m");
  EXPECT_EQ(relativeTime(kNow - hours(3) - minutes(5), kNow), "3h05m ago");
  EXPECT_EQ(relativeTime(kNow - hours(2), kNow), "2h ago");
  EXPECT_EQ(relativeTime(kNow + hours(52), kNow), "in 2d4h");
  EXPECT_EQ(relativeTime(kNow + hours(24 * 90), kNow), "in 90d");
}

TEST(OperatorFormatTest, ShowTimeGivesTheZoneAndTheDistance) {
  EXPECT_EQ(showTime("2027-01-15T08:42:00.000Z", kNow), "2027-01-15T08:42:00Z (in 42m)");
  EXPECT_EQ(showTime("", kNow), "-");
  EXPECT_EQ(showTime("soon\x1b[2J", kNow), "soon?[2J");
}

TEST(OperatorFormatTest, StatesAsWordsAndNothingRewritesTheTerminal) {
  EXPECT_EQ(words("needs_reauth"), "needs reauth");
  EXPECT_EQ(printable("a\nb\x1b"
                      "c\x7f"),
            "a?b?c?");
}

TEST(OperatorFormatTest, ConnectionArguments) {
  auto ok = parseConnectionArg("mcp/demo-1_x");
  EXPECT_EQ(ok.problem, "");
  EXPECT_EQ(ok.kind, "mcp");
  EXPECT_EQ(ok.name, "demo-1_x");
  EXPECT_EQ(parseConnectionArg("api/billing").problem, "");
  EXPECT_THAT(parseConnectionArg("demo").problem, ::testing::HasSubstr("expected KIND/NAME"));
  EXPECT_THAT(parseConnectionArg("web/demo").problem, ::testing::HasSubstr("mcp or api"));
  for (const char* bad : {"mcp/", "mcp/Demo", "mcp/a/b", "mcp/..", "mcp/-x", "mcp/a%2fb"}) {
    EXPECT_THAT(parseConnectionArg(bad).problem, ::testing::HasSubstr("not a connection name"))
        << bad;
  }
}

}  // namespace
}  // namespace tether::app
