#include "oauth/error_response.h"

#include <gtest/gtest.h>

namespace tether::oauth {
namespace {

TEST(ErrorResponseTest, JsonBody) {
  const auto e = parseErrorResponse({{"Content-Type", "application/json"}},
                                    R"({"error":"invalid_grant","error_description":"x"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_grant");
  EXPECT_TRUE(e->terminal_code);
  EXPECT_EQ(e->source, ErrorSource::kJsonBody);
}

TEST(ErrorResponseTest, JsonBodyWithWrongContentTypeStillCounts) {
  const auto e =
      parseErrorResponse({{"Content-Type", "text/html"}}, R"( {"error":"invalid_scope"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_scope");
}

TEST(ErrorResponseTest, FormBody) {
  auto e = parseErrorResponse({{"Content-Type", "application/x-www-form-urlencoded"}},
                              "error=invalid_client&error_description=bad+secret");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_client");
  EXPECT_EQ(e->source, ErrorSource::kFormBody);
  e = parseErrorResponse({}, "error=unauthorized_client\n");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->terminal_code);
}

TEST(ErrorResponseTest, HtmlThatMentionsAnErrorIsNotStructured) {
  EXPECT_FALSE(parseErrorResponse({{"Content-Type", "text/html"}},
                                  "<a href=\"/x?a=1&error=invalid_grant\">retry</a>")
                   .has_value());
  EXPECT_FALSE(parseErrorResponse({}, "<html>&error=invalid_grant</html>").has_value());
  EXPECT_FALSE(
      parseErrorResponse({{"Content-Type", "text/plain"}}, "error=invalid_grant please retry")
          .has_value());
}

TEST(ErrorResponseTest, WwwAuthenticateHeader) {
  const auto e = parseErrorResponse(
      {{"WWW-Authenticate",
        R"(Basic realm="x", Bearer error="invalid_client", error_uri="https://a/b")"}},
      "");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_client");
  EXPECT_EQ(e->source, ErrorSource::kWwwAuthenticate);
}

TEST(ErrorResponseTest, BodyWinsOverHeader) {
  const auto e = parseErrorResponse({{"WWW-Authenticate", "Bearer error=invalid_client"}},
                                    R"({"error":"invalid_request"})");
  EXPECT_EQ(e->code, "invalid_request");
  EXPECT_FALSE(e->terminal_code);
}

TEST(ErrorResponseTest, NonStringOrEmptyCodesAreNoCode) {
  for (const char* body : {R"({"error":{"code":"invalid_grant"}})", R"({"error":42})",
                           R"({"error":""})", R"({"error":"\u0000\r\n"})", "{}", "", "null"}) {
    EXPECT_FALSE(parseErrorResponse({}, body).has_value()) << body;
  }
}

TEST(ErrorResponseTest, TerminalMatchIsExact) {
  EXPECT_TRUE(isTerminalErrorCode("invalid_grant"));
  EXPECT_TRUE(isTerminalErrorCode(" invalid_grant\r\n"));
  EXPECT_FALSE(isTerminalErrorCode("INVALID_GRANT"));
  EXPECT_FALSE(isTerminalErrorCode("invalid_grant2"));
  EXPECT_FALSE(isTerminalErrorCode("\x1b[1minvalid_grant"));
  EXPECT_FALSE(isTerminalErrorCode("invalid_request"));
  const auto e = parseErrorResponse({}, "{\"error\":\"\\u001b[1minvalid_grant\"}");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_grant");  // shown cleaned...
  EXPECT_FALSE(e->terminal_code);       // ...but not trusted to delete a credential
}

TEST(ErrorResponseTest, MediaType) {
  EXPECT_EQ(mediaType("Application/JSON; charset=UTF-8"), "application/json");
  EXPECT_EQ(mediaType(""), "");
}

}  // namespace
}  // namespace tether::oauth
