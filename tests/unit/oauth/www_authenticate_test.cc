#include "oauth/www_authenticate.h"

#include <gtest/gtest.h>

namespace tether::oauth {
namespace {

TEST(WwwAuthenticateTest, QuotedAndTokenErrors) {
  auto c = parseWwwAuthenticate(R"(Bearer error="invalid_client")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "Bearer");
  EXPECT_EQ(c[0].param("error"), "invalid_client");
  c = parseWwwAuthenticate("Bearer error=invalid_grant");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].param("ERROR"), "invalid_grant");
}

TEST(WwwAuthenticateTest, SeveralChallengesAndCommasInsideQuotes) {
  const auto c = parseWwwAuthenticate(
      R"(Basic realm="a, b", Bearer realm="x", error_description="bad, \"very\" bad", )"
      R"(error="invalid_token", Newauth realm="apps", type=1, title="Login to \"apps\"")");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].scheme, "Basic");
  EXPECT_EQ(c[0].param("realm"), "a, b");
  EXPECT_EQ(c[1].scheme, "Bearer");
  EXPECT_EQ(c[1].param("error_description"), "bad, \"very\" bad");
  EXPECT_EQ(c[1].param("error"), "invalid_token");
  EXPECT_EQ(c[2].scheme, "Newauth");
  EXPECT_EQ(c[2].param("type"), "1");
  EXPECT_EQ(c[2].param("title"), "Login to \"apps\"");
}

TEST(WwwAuthenticateTest, Token68AndBareSchemes) {
  const auto c = parseWwwAuthenticate("Negotiate abc+/d==, Basic, Bearer error=\"x\"");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].token68, "abc+/d==");
  EXPECT_TRUE(c[0].params.empty());
  EXPECT_EQ(c[1].scheme, "Basic");
  EXPECT_EQ(c[2].param("error"), "x");
}

TEST(WwwAuthenticateTest, HostileInputNeverBreaksIt) {
  for (const char* s : {"", ",,,", "=", "\"", "Bearer error=\"unterminated", "Bearer =x",
                        "Bearer error=", "\x01\x02 Bearer", "Bearer , , error = \"spaced\""}) {
    (void)parseWwwAuthenticate(s);
  }
  const auto c = parseWwwAuthenticate("Bearer error=\"unterminated, still");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].param("error"), "unterminated, still");
  const auto spaced = parseWwwAuthenticate("Bearer , , error = \"spaced\"");
  ASSERT_EQ(spaced.size(), 1u);
  EXPECT_EQ(spaced[0].param("error"), "spaced");
  std::string many;
  for (int i = 0; i < 1000; ++i) many.append("S").append(std::to_string(i)).append(" a=b, ");
  EXPECT_LE(parseWwwAuthenticate(many).size(), 32u);
}

TEST(WwwAuthenticateTest, ErrorFromAnyHeaderInstance) {
  http::Headers h{{"Content-Type", "text/html"},
                  {"www-authenticate", "Basic realm=\"x\""},
                  {"WWW-Authenticate", "Bearer realm=\"y\", error=\"invalid_client\""}};
  EXPECT_EQ(wwwAuthenticateError(h), "invalid_client");
  EXPECT_FALSE(wwwAuthenticateError({{"WWW-Authenticate", "Basic realm=\"x\""}}).has_value());
}

}  // namespace
}  // namespace tether::oauth
