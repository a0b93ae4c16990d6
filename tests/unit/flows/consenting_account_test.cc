#include "flows/consenting_account.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace tether::flows {
namespace {

std::string jws(std::string_view payload) {
  return core::base64UrlEncode(R"({"alg":"RS256"})") + "." + core::base64UrlEncode(payload) +
         ".c2lnbmF0dXJl";
}

TEST(ConsentingAccountTest, TakesSubEmailAndNameFromTheIdTokenPayload) {
  const auto a = consentingAccountOf(
      jws(R"({"iss":"https://idp","sub":"248289761001","email":"ada@example.com",)"
          R"("name":"Ada Lovelace","email_verified":true})"));
  EXPECT_EQ(a.subject, "248289761001");
  EXPECT_EQ(a.email, "ada@example.com");
  EXPECT_EQ(a.name, "Ada Lovelace");
}

TEST(ConsentingAccountTest, NamesNothingForAbsentOrMalformedTokens) {
  for (const std::string& token :
       {std::string(), std::string("opaque-access-token"), std::string("a.b"),
        std::string("a.b.c.d"), jws("not json"), jws("[1,2]"), std::string("x.!!!.y"),
        jws(R"({"sub":42,"email":["a"],"name":{"x":1}})")}) {
    const auto a = consentingAccountOf(token);
    EXPECT_EQ(a.subject, "") << token;
    EXPECT_EQ(a.email, "") << token;
    EXPECT_EQ(a.name, "") << token;
  }
}

TEST(ConsentingAccountTest, ClaimsAreSanitizedAndBounded) {
  const auto a = consentingAccountOf(
      jws(R"({"sub":"u\u001b[31m1\r\nX","name":")" + std::string(1000, 'n') + R"("})"));
  EXPECT_EQ(a.subject.find('\x1b'), std::string::npos);
  EXPECT_EQ(a.subject.find('\n'), std::string::npos);
  EXPECT_LE(a.name.size(), kMaxAccountClaimBytes);
  EXPECT_FALSE(a.name.empty());
}

}  // namespace
}  // namespace tether::flows
