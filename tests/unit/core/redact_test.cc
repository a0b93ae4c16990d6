#include "core/redact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Real shapes: a token request body, a callback URL, a JSON token response, raw headers.
TEST(RedactTest, FormBodyOfATokenRequest) {
  const std::string body =
      "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&code_verifier="
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&client_secret=s3cr3t%2Bvalue&"
      "redirect_uri=https%3A%2F%2Fgw%2Fcb&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&password=hunter22&"
      "assertion=eyJhbGciOi.x.y";
  const std::string out = redactText(body);
  for (const char* secret : {"SplxlOBeZQQYbYS6WxSbIA", "dBjftJeZ4CVP", "s3cr3t",
                             "tGzv3JOkF0XG5Qx2TlKWIA", "hunter22", "eyJhbGciOi"}) {
    EXPECT_THAT(out, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(out, HasSubstr("grant_type=authorization_code"));
  EXPECT_THAT(out, HasSubstr("redirect_uri=https%3A%2F%2Fgw%2Fcb"));
}

TEST(RedactTest, CallbackQueryString) {
  const std::string out =
      redactText("GET /oauth/callback?code=abc123xyz&state=st4te&iss=https://idp");
  EXPECT_THAT(out, Not(HasSubstr("abc123xyz")));
  // The OAuth state binds a callback to its flow: whoever holds it can finish the flow with
  // their own code (issue 20, 13). Masked in query strings and forms like `code`.
  EXPECT_THAT(out, Not(HasSubstr("st4te")));
  EXPECT_THAT(out, HasSubstr("state=[REDACTED]"));
  EXPECT_THAT(out, HasSubstr("iss=https://idp"));
  EXPECT_THAT(redactText("https://idp/authorize?client_id=c&state=Zm9vYmFyYmF6&scope=openid"),
              Not(HasSubstr("Zm9vYmFyYmF6")));
}

TEST(RedactTest, ConnectionStatesAreNotSecrets) {
  // "state" also names a connection's lifecycle state, in JSON and prose: left alone there.
  EXPECT_EQ(redactText(R"({"state":"connected"})"), R"({"state":"connected"})");
  EXPECT_EQ(redactText("state: refresh_failing"), "state: refresh_failing");
}

TEST(RedactTest, JsonTokenResponse) {
  const std::string out = redactText(
      R"({"access_token": "2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,)"
      R"("refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","id_token":"eyJ0eXAi.a.b"})");
  EXPECT_THAT(out, Not(HasSubstr("2YotnFZFEjr1zCsicMWpAA")));
  EXPECT_THAT(out, Not(HasSubstr("tGzv3JOkF0XG5Qx2TlKWIA")));
  EXPECT_THAT(out, Not(HasSubstr("eyJ0eXAi")));
  EXPECT_THAT(out, HasSubstr(R"("expires_in":3600)"));
}

TEST(RedactTest, HeaderLinesAndAuthSchemes) {
  const std::string raw =
      "POST /token HTTP/1.1\r\nAuthorization: Basic dGV0aGVyOnMzY3IzdA==\r\n"
      "Proxy-Authorization: Bearer proxy-secret-1\r\nCookie: tether_session=c00kie-value\r\n"
      "Set-Cookie: sid=another-cookie; HttpOnly\r\nX-Api-Key: key-material-9\r\n"
      "Content-Type: application/json\r\n";
  const std::string out = redactText(raw);
  for (const char* secret : {"dGV0aGVyOnMzY3IzdA==", "proxy-secret-1", "c00kie-value",
                             "another-cookie", "key-material-9"}) {
    EXPECT_THAT(out, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(out, HasSubstr("Content-Type: application/json"));
  EXPECT_THAT(redactText("upstream said: Bearer abcdefghijkl rejected"),
              Not(HasSubstr("abcdefghijkl")));
}

TEST(RedactTest, HeaderHelper) {
  EXPECT_EQ(redactHeader("AUTHORIZATION", "Bearer x"), kRedacted);
  EXPECT_EQ(redactHeader("Accept", "text/event-stream"), "text/event-stream");
  EXPECT_TRUE(isSecretHeader("set-cookie"));
  EXPECT_TRUE(isSecretParam("Code_Verifier"));
  EXPECT_FALSE(isSecretParam("state"));
}

TEST(RedactTest, RegisteredSecretsAreMaskedAnywhere) {
  registerSecret("+8r5xs3YLFC/LHK=");
  EXPECT_THAT(redactText("bad secret +8r5xs3YLFC/LHK= in config"), Not(HasSubstr("8r5xs3YLFC")));
  clearRegisteredSecrets();
  EXPECT_THAT(redactText("bad secret +8r5xs3YLFC/LHK= in config"), HasSubstr("8r5xs3YLFC"));
}

TEST(RedactTest, ProseIsLeftAlone) {
  EXPECT_EQ(redactText("client uses Basic auth; status code 401"),
            "client uses Basic auth; status code 401");
}

// Regression (issue 21): the word after "token" in prose was masked as if it were a
// credential ("token [REDACTED] failed; will retry" in the keeper's log).
TEST(RedactTest, WordsAfterTokenAreProse) {
  EXPECT_EQ(redactText("token refresh failed; will retry"), "token refresh failed; will retry");
  EXPECT_EQ(redactText("token endpoint unknown for connection mcp/x"),
            "token endpoint unknown for connection mcp/x");
  EXPECT_EQ(redactText("the access token expired"), "the access token expired");
  EXPECT_EQ(redactText("token refresh_failing since 10:00"), "token refresh_failing since 10:00");
}

TEST(RedactTest, TokenSchemeCredentialsAreStillMasked) {
  // GitHub-style "Authorization: token <value>" quoted in prose.
  EXPECT_THAT(redactText("upstream said: token ghp_16C7e42F292c6912E7710c838347Ae178B4a rejected"),
              Not(HasSubstr("ghp_16C7e42F292c6912E7710c838347Ae178B4a")));
  EXPECT_THAT(redactText("sent token s3cr3t-value"), Not(HasSubstr("s3cr3t-value")));
}

}  // namespace
}  // namespace tether::core
