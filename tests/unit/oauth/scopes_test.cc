#include "oauth/scopes.h"

#include <gtest/gtest.h>

#include "oauth/www_authenticate.h"

namespace tether::oauth {
namespace {

std::string manyScopes(int n, const char* prefix = "s") {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(i ? " " : "").append(prefix).append(std::to_string(i));
  return out;
}

TEST(ScopesTest, ParsesSpaceSeparatedTokensInOrderWithoutDuplicates) {
  auto s = parseScopeList("  mcp:tools  files:read\tmcp:tools ");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<std::string>{"mcp:tools", "files:read"}));
  EXPECT_TRUE(parseScopeList("")->empty());
}

TEST(ScopesTest, RefusesCharactersOutsideRfc6749) {
  for (const char* bad : {"a\"b", "a\\b", "caf\xc3\xa9", "a\x01", "x\ny"}) {
    auto s = parseScopeList(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().message.find("RFC 6749"), std::string::npos);
  }
}

TEST(ScopesTest, FiveHundredScopesAreRefusedWholeNotCut) {
  const std::string text = manyScopes(500);
  ASSERT_LT(text.size(), kMaxScopeListBytes);  // the count bound is the one that bites
  auto s = parseScopeList(text);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("more than 100 scopes"), std::string::npos);
  EXPECT_TRUE(parseScopeList(manyScopes(100)).ok());
}

TEST(ScopesTest, SixtyFourKilobytesOfScopeTextAreRefused) {
  auto s = parseScopeList(std::string(64 * 1024, 'a'));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("longer than 4096"), std::string::npos);
  auto one = parseScopeList(std::string(300, 'a'));
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.error().message.find("longer than 256"), std::string::npos);
}

TEST(ScopesTest, UnionKeepsTheFirstListsOrderAndAddsTheNewOnes) {
  EXPECT_EQ(unionScopes("mcp:basic openid", "mcp:basic mcp:write").value(),
            "mcp:basic openid mcp:write");
  EXPECT_EQ(unionScopes("", "a").value(), "a");
  EXPECT_EQ(unionScopes("a", "").value(), "a");
  EXPECT_FALSE(unionScopes(manyScopes(60), manyScopes(60, "t")).ok());  // 120 > 100
  EXPECT_TRUE(containsAllScopes("a b c", "c a"));
  EXPECT_FALSE(containsAllScopes("a b", "a z"));
  EXPECT_TRUE(containsAllScopes("a", ""));
}

TEST(InsufficientScopeTest, ReadsTheStepUpChallenge) {
  http::Headers h{{"WWW-Authenticate", "Basic realm=\"x\""},
                  {"www-authenticate",
                   "Bearer error=\"insufficient_scope\", scope=\"mcp:basic mcp:write\", "
                   "resource_metadata=\"https://u.example/.well-known/oauth-protected-resource\""}};
  auto c = insufficientScopeChallenge(h);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->refused.empty());
  EXPECT_EQ(c->scopes, (std::vector<std::string>{"mcp:basic", "mcp:write"}));
}

TEST(InsufficientScopeTest, OtherErrorsAndSchemesAreNotStepUps) {
  EXPECT_FALSE(
      insufficientScopeChallenge({{"WWW-Authenticate", "Bearer error=\"invalid_token\""}}));
  EXPECT_FALSE(
      insufficientScopeChallenge({{"WWW-Authenticate", "Basic error=\"insufficient_scope\""}}));
  EXPECT_FALSE(insufficientScopeChallenge({{"Content-Type", "text/plain"}}));
  auto none = insufficientScopeChallenge({{"WWW-Authenticate", "Bearer error=insufficient_scope"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->scopes.empty());
  EXPECT_TRUE(none->refused.empty());
}

TEST(InsufficientScopeTest, HostileScopeListsAreRefusedWithAReason) {
  auto many = insufficientScopeChallenge(
      {{"WWW-Authenticate",
        "Bearer error=\"insufficient_scope\", scope=\"" + manyScopes(500) + "\""}});
  ASSERT_TRUE(many.has_value());
  EXPECT_TRUE(many->scopes.empty());
  EXPECT_NE(many->refused.find("more than 100 scopes"), std::string::npos);

  // 64 KB of scope text: the header is only ever read cut, so its scope is refused rather
  // than cut mid-token.
  auto huge = insufficientScopeChallenge(
      {{"WWW-Authenticate",
        "Bearer error=\"insufficient_scope\", scope=\"" + std::string(64 * 1024, 'a') + "\""}});
  ASSERT_TRUE(huge.has_value());
  EXPECT_TRUE(huge->scopes.empty());
  EXPECT_NE(huge->refused.find("longer than 8192"), std::string::npos);
}

}  // namespace
}  // namespace tether::oauth
