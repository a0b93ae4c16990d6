#include "identity/jose.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace tether::identity {
namespace {

std::string b64(std::string_view s) { return core::base64UrlEncode(s); }

std::string token(std::string_view header, std::string_view claims, std::string_view sig = "sig") {
  return b64(header) + "." + b64(claims) + "." + b64(sig);
}

TEST(JoseTest, ParsesHeaderClaimsAndSigningInput) {
  const std::string t = token(R"({"alg":"RS256","kid":"k1","typ":"at+jwt"})",
                              R"({"iss":"https://idp","aud":["a","b"],"exp":100,"nbf":1.5,)"
                              R"("iat":2,"sub":"alice","scope":"mcp:tools  read","scp":["x"],)"
                              R"("azp":"cli","groups":["admins"]})");
  ClaimNames names;
  names.groups = "groups";
  auto p = parseJws(t, names);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->header.alg, "RS256");
  EXPECT_EQ(p->header.kid, "k1");
  EXPECT_EQ(p->claims.iss, "https://idp");
  EXPECT_EQ(p->claims.aud, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p->claims.exp, 100);
  EXPECT_EQ(p->claims.nbf, 1);
  EXPECT_EQ(p->claims.subject, "alice");
  EXPECT_EQ(p->claims.scopes, (std::vector<std::string>{"mcp:tools", "read", "x"}));
  EXPECT_EQ(p->claims.groups, (std::vector<std::string>{"admins"}));
  EXPECT_EQ(p->claims.client_id, "cli");
  EXPECT_EQ(p->signature, "sig");
  EXPECT_EQ(p->signing_input, t.substr(0, t.rfind('.')));
}

TEST(JoseTest, StringAudienceAndCustomSubjectClaim) {
  ClaimNames names;
  names.subject = "oid";
  auto p =
      parseJws(token(R"({"alg":"ES256"})", R"({"aud":"x","oid":"u-1","sub":"ignored"})"), names);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->claims.aud, std::vector<std::string>{"x"});
  EXPECT_EQ(p->claims.subject, "u-1");
}

TEST(JoseTest, RefusesMalformedTokensNamingThePart) {
  const ClaimNames names;
  struct Case {
    std::string token;
    std::string says;
  };
  const std::string h = b64(R"({"alg":"RS256"})");
  const std::string c = b64(R"({"sub":"a"})");
  const std::vector<Case> cases = {
      {"", "empty"},
      {"abc", "three"},
      {h + "." + c, "three"},
      {h + "." + c + ".s.x", "three"},
      {"." + c + ".c2ln", "empty header"},
      {h + "+." + c + ".c2ln", "header is not base64url"},
      {h + "=." + c + ".c2ln", "header is not base64url"},
      {h + "." + c + "%.c2ln", "payload is not base64url"},
      {h + "." + c + ".c2l n", "signature is not base64url"},
      {b64("[1]") + "." + c + ".c2ln", "not a JSON object"},
      {b64("{") + "." + c + ".c2ln", "not valid JSON"},
      {b64(R"({"kid":"x"})") + "." + c + ".c2ln", "no alg"},
      {b64(R"({"alg":"RS256","crit":["b64"]})") + "." + c + ".c2ln", "crit"},
      {h + "." + b64(R"({"exp":"soon"})") + ".c2ln", "exp is not a number"},
      {h + "." + b64(R"({"aud":[1]})") + ".c2ln", "aud holds a non-string"},
      {h + "." + b64(R"({"exp":1e300})") + ".c2ln", "out of range"},
      {std::string(kMaxTokenBytes + 1, 'a'), "larger than 16 KiB"},
      {h + "." + b64(std::string(9000, ' ') + "{}") + ".c2ln", "larger than 8 KiB"},
      {h + "." + b64(std::string(200, '[') + std::string(200, ']')) + ".c2ln", "claims"},
  };
  for (const auto& tc : cases) {
    auto p = parseJws(tc.token, names);
    ASSERT_FALSE(p.ok()) << tc.says;
    EXPECT_EQ(p.error().code, core::Errc::kUnauthenticated);
    EXPECT_NE(p.error().message.find(tc.says), std::string::npos)
        << tc.says << " / " << p.error().message;
    EXPECT_LT(p.error().message.size(), 200u);  // never the token
  }
}

TEST(JoseTest, AnEmptySignatureIsLeftToTheAlgorithmCheck) {
  auto p = parseJws(b64(R"({"alg":"none"})") + "." + b64("{}") + ".", ClaimNames{});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->header.alg, "none");
  EXPECT_TRUE(p->signature.empty());
}

TEST(JoseTest, DecodeBase64UrlIsStrict) {
  EXPECT_EQ(decodeBase64Url("aGk"), "hi");
  EXPECT_EQ(decodeBase64Url(""), "");
  EXPECT_FALSE(decodeBase64Url("aGk="));
  EXPECT_FALSE(decodeBase64Url("a+/b"));
  EXPECT_FALSE(decodeBase64Url("a"));    // a lone character holds no byte
  EXPECT_FALSE(decodeBase64Url("aGl"));  // non-zero unused bits
  EXPECT_EQ(decodeBase64Url("-_8"), std::string("\xfb\xff", 2));
}

TEST(JoseTest, LooksLikeJws) {
  EXPECT_TRUE(looksLikeJws("a.b.c"));
  EXPECT_FALSE(looksLikeJws("opaque-token"));
  EXPECT_FALSE(looksLikeJws("a.b"));
  EXPECT_FALSE(looksLikeJws("a.b.c.d.e"));
}

}  // namespace
}  // namespace tether::identity
