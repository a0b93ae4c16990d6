#include "core/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"

namespace tether::core::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init(Format::kJson, LogLevel::kDebug);
    setSinkForTesting([this](std::string_view line) { lines_.emplace_back(line); });
  }
  void TearDown() override { setSinkForTesting(nullptr); }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, JsonLinesParseAndCarryFields) {
  info("request done", {{"request_id", "abc"}, {"status", 200}, {"ok", true}});
  ASSERT_EQ(lines_.size(), 1u);
  auto v = boost::json::parse(lines_[0]).as_object();
  EXPECT_EQ(v["msg"].as_string(), "request done");
  EXPECT_EQ(v["level"].as_string(), "info");
  EXPECT_EQ(v["request_id"].as_string(), "abc");
  EXPECT_EQ(v["status"].as_int64(), 200);
  EXPECT_EQ(v["ok"].as_bool(), true);
}

TEST_F(LogTest, TheTimestampIsRfc3339InMillisecondsUtc) {
  info("one");
  info("two");
  ASSERT_EQ(lines_.size(), 2u);
  for (const auto& line : lines_) {
    const std::string ts(boost::json::parse(line).as_object()["ts"].as_string());
    // Shape "YYYY-MM-DDTHH:MM:SS.mmmZ": digits everywhere but the fixed separators. (No
    // std::regex: GCC 12 warns inside it under the ASan build's -O1 -Werror.)
    const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    ASSERT_EQ(ts.size(), shape.size()) << ts;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 'd') {
        EXPECT_TRUE(ts[i] >= '0' && ts[i] <= '9') << ts;
      } else {
        EXPECT_EQ(ts[i], shape[i]) << ts;
      }
    }
    // The same second as formatRfc3339 gives now (or the one before, at a boundary).
    const std::string now = formatRfc3339(std::chrono::system_clock::now());
    EXPECT_LE(ts.substr(0, 19), now.substr(0, 19));
  }
}

TEST_F(LogTest, HostileTextStaysOneValidJsonLine) {
  warn("line1\nline2 \"quoted\" \x1b[31m \xff", {{"k", "a\r\nb"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].find('\n'), std::string::npos);
  auto v = boost::json::parse(lines_[0]).as_object();
  EXPECT_EQ(v["k"].as_string(), "a\r\nb");
}

TEST_F(LogTest, SecretsInMessagesAndFieldsAreMasked) {
  info("exchanging code=SplxlOBeZQQYbYS6WxSbIA for tokens",
       {{"header", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], ::testing::Not(::testing::HasSubstr("SplxlOBeZQQYbYS6WxSbIA")));
  EXPECT_THAT(lines_[0], ::testing::Not(::testing::HasSubstr("eyJhbGciOiJSUzI1NiJ9")));
}

TEST_F(LogTest, ARequestLogLineCarriesNoOAuthState) {
  // The shape of the server's request line for an OAuth callback.
  info("http request", {{"method", "GET"},
                        {"target", "/oauth/callback?code=c0de-Value-1&state=St4te-Value-2&iss=x"},
                        {"status", 302}});
  init(Format::kText, LogLevel::kDebug);
  info("http request", {{"target", "/oauth/callback?state=St4te-Value-3&code=c0de-Value-4"}});
  ASSERT_EQ(lines_.size(), 2u);
  for (const auto& line : lines_) {
    for (const char* secret : {"St4te-Value", "c0de-Value"}) {
      EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr(secret))) << line;
    }
    EXPECT_THAT(line, ::testing::HasSubstr("/oauth/callback?"));
  }
}

TEST_F(LogTest, LevelFiltering) {
  init(Format::kJson, LogLevel::kWarn);
  info("hidden");
  error("shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], ::testing::HasSubstr("shown"));
}

TEST_F(LogTest, TextFormatIsOneLine) {
  init(Format::kText, LogLevel::kInfo);
  info("hello\nworld", {{"connection", "mcp/demo"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], ::testing::HasSubstr("INFO  hello world connection=mcp/demo"));
}

TEST(LogFormatChoice, TextOnATerminalJsonOtherwise) {
  // No flag: a terminal gets text even when log.format says json (the default)...
  EXPECT_EQ(chooseFormat(std::nullopt, Format::kJson, /*to_terminal=*/true), Format::kText);
  // ...and anything else (a pipe, a file, a collector) gets log.format.
  EXPECT_EQ(chooseFormat(std::nullopt, Format::kJson, /*to_terminal=*/false), Format::kJson);
  EXPECT_EQ(chooseFormat(std::nullopt, Format::kText, /*to_terminal=*/false), Format::kText);
  // --log-format wins either way.
  EXPECT_EQ(chooseFormat(Format::kJson, Format::kJson, /*to_terminal=*/true), Format::kJson);
  EXPECT_EQ(chooseFormat(Format::kText, Format::kJson, /*to_terminal=*/false), Format::kText);
}

}  // namespace
}  // namespace tether::core::log
