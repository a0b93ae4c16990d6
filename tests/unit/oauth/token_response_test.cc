#include "oauth/token_response.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace tether::oauth {
namespace {

using std::chrono::seconds;

const core::TimePoint kNow = core::fromUnixSeconds(1'800'000'000);

std::string jwtWithExp(const std::string& exp_json) {
  return core::base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") + "." +
         core::base64UrlEncode(R"({"sub":"u","exp":)" + exp_json + "}") + ".c2ln";
}

TokenParseOptions opts(std::string_view previous = {}) {
  TokenParseOptions o;
  o.now = kNow;
  o.default_lifetime = seconds(3600);
  o.previous_refresh_token = previous;
  return o;
}

TEST(TokenResponseTest, FullJsonResponse) {
  const auto r = parseTokenResponse(
      R"({"access_token":"at1","token_type":"Bearer","expires_in":300,"refresh_token":"rt2",)"
      R"("refresh_expires_in":1800,"scope":"openid email","id_token":"x"})",
      "application/json; charset=utf-8", opts("rt1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->access_token, "at1");
  EXPECT_EQ(r.tokens->token_type, "Bearer");
  EXPECT_EQ(r.tokens->access_expires_at, kNow + seconds(300));
  EXPECT_EQ(r.tokens->access_expiry_source, ExpirySource::kExpiresIn);
  EXPECT_EQ(r.tokens->refresh_token, "rt2");
  EXPECT_TRUE(r.tokens->refresh_token_rotated);
  EXPECT_EQ(r.tokens->refresh_expires_at, kNow + seconds(1800));
  EXPECT_EQ(r.tokens->scope, "openid email");
}

TEST(TokenResponseTest, MissingRefreshTokenKeepsTheOldOne) {
  const auto r = parseTokenResponse(R"({"access_token":"at","expires_in":60})", "", opts("old"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->refresh_token, "old");
  EXPECT_FALSE(r.tokens->refresh_token_rotated);
  EXPECT_FALSE(r.tokens->refresh_expires_at.has_value());
  EXPECT_EQ(r.tokens->token_type, "Bearer");
  const auto same =
      parseTokenResponse(R"({"access_token":"at","refresh_token":"old"})", "", opts("old"));
  EXPECT_FALSE(same.tokens->refresh_token_rotated);
}

TEST(TokenResponseTest, ExpiresInAsStringOrDouble) {
  auto r = parseTokenResponse(R"({"access_token":"a","expires_in":"120"})", "", opts());
  EXPECT_EQ(r.tokens->access_expires_at, kNow + seconds(120));
  r = parseTokenResponse(R"({"access_token":"a","expires_in":120.7})", "", opts());
  EXPECT_EQ(r.tokens->access_expires_at, kNow + seconds(120));
}

TEST(TokenResponseTest, MissingExpiresInUsesJwtExp) {
  const auto jwt = jwtWithExp(std::to_string(core::toUnixSeconds(kNow) + 900));
  const auto r = parseTokenResponse(R"({"access_token":")" + jwt + R"("})", "", opts());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->access_expires_at, kNow + seconds(900));
  EXPECT_EQ(r.tokens->access_expiry_source, ExpirySource::kJwtExp);
}

TEST(TokenResponseTest, MissingExpiresInWithoutJwtUsesDefaultNeverNoExpiry) {
  for (const char* body :
       {R"({"access_token":"opaque"})", R"({"access_token":"a","expires_in":0})",
        R"({"access_token":"a","expires_in":-5})", R"({"access_token":"a","expires_in":null})",
        R"({"access_token":"a","expires_in":"soon"})", R"({"access_token":"a","expires_in":1e300})",
        R"({"access_token":"a","expires_in":999999999999})"}) {
    const auto r = parseTokenResponse(body, "", opts());
    ASSERT_TRUE(r.ok()) << body;
    EXPECT_EQ(r.tokens->access_expires_at, kNow + seconds(3600)) << body;
    EXPECT_EQ(r.tokens->access_expiry_source, ExpirySource::kDefault) << body;
  }
  // A JWT whose exp already passed, or a junk exp, falls back to the default as well.
  for (const std::string& exp : {std::to_string(core::toUnixSeconds(kNow) - 1),
                                 std::string("\"x\""), std::string("-1"), std::string("1e400")}) {
    const auto r =
        parseTokenResponse(R"({"access_token":")" + jwtWithExp(exp) + R"("})", "", opts());
    ASSERT_TRUE(r.ok()) << exp;
    EXPECT_EQ(r.tokens->access_expiry_source, ExpirySource::kDefault) << exp;
  }
}

TEST(TokenResponseTest, KeycloakZeroRefreshExpiresInMeansNoDeadline) {
  const auto r = parseTokenResponse(
      R"({"access_token":"a","expires_in":300,"refresh_token":"r","refresh_expires_in":0})", "",
      opts());
  EXPECT_FALSE(r.tokens->refresh_expires_at.has_value());
}

TEST(TokenResponseTest, FormEncodedSuccess) {
  const auto r = parseTokenResponse("access_token=gho_abc&scope=repo%2Cgist&token_type=bearer",
                                    "application/x-www-form-urlencoded", opts());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->access_token, "gho_abc");
  EXPECT_EQ(r.tokens->token_type, "bearer");
  EXPECT_EQ(r.tokens->scope, "repo,gist");
}

TEST(TokenResponseTest, Failures) {
  struct Case {
    std::string body;
    TokenParseFailure failure;
  };
  const Case cases[] = {
      {"<html><body>Access denied</body></html>", TokenParseFailure::kUnparsable},
      {"", TokenParseFailure::kUnparsable},
      {"[1,2]", TokenParseFailure::kUnparsable},
      {R"({"access_token":"a",)", TokenParseFailure::kUnparsable},
      {R"({"token_type":"Bearer"})", TokenParseFailure::kNoAccessToken},
      {R"({"access_token":""})", TokenParseFailure::kNoAccessToken},
      {R"({"access_token":42})", TokenParseFailure::kNoAccessToken},
      {R"({"access_token":"a","error":"invalid_grant"})", TokenParseFailure::kErrorMember},
      {R"({"access_token":"a\r\nX-Evil: 1"})", TokenParseFailure::kBadToken},
      {R"({"access_token":"a","refresh_token":"r\n"})", TokenParseFailure::kBadToken},
      {std::string(200, '[') + std::string(200, ']'), TokenParseFailure::kUnparsable},
      {std::string((1 << 20) + 1, ' '), TokenParseFailure::kTooLarge},
  };
  for (const auto& c : cases) {
    const auto r = parseTokenResponse(c.body, "application/json", opts());
    EXPECT_FALSE(r.ok()) << c.body.substr(0, 60);
    EXPECT_EQ(r.error.failure, c.failure) << c.body.substr(0, 60);
  }
  const auto e = parseTokenResponse(R"({"error":"\u001b[31mbad_verification_code"})", "", opts());
  EXPECT_EQ(e.error.idp_error, "bad_verification_code");
}

TEST(TokenResponseTest, HostileScopeAndTokenType) {
  const auto r = parseTokenResponse(
      R"({"access_token":"a","token_type":"\u001b[2Jhttps://evil/x","scope":"a\"b\\c\u0007 d"})",
      "", opts());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->token_type, "[url]");
  EXPECT_EQ(r.tokens->scope, "abc d");
  std::string long_scope;
  for (int i = 0; i < 1000; ++i) long_scope += "scope" + std::to_string(i) + " ";
  const auto l =
      parseTokenResponse(R"({"access_token":"a","scope":")" + long_scope + R"("})", "", opts());
  EXPECT_LE(l.tokens->scope.size(), 4096u);
  EXPECT_NE(l.tokens->scope.back(), ' ');
}

TEST(TokenResponseTest, JwtExpiry) {
  EXPECT_EQ(jwtExpiry(jwtWithExp("1900000000")), core::fromUnixSeconds(1900000000));
  EXPECT_FALSE(jwtExpiry("opaque").has_value());
  EXPECT_FALSE(jwtExpiry("a.b").has_value());
  EXPECT_FALSE(jwtExpiry("a.b.c.d").has_value());
  EXPECT_FALSE(jwtExpiry("a.!!!.c").has_value());
  EXPECT_FALSE(jwtExpiry(jwtWithExp("\"1900000000\"")).has_value());
}

}  // namespace
}  // namespace tether::oauth
