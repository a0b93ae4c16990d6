#include "oauth/requests.h"

#include <gtest/gtest.h>

#include "http/headers.h"

namespace tether::oauth {
namespace {

OAuthClientConfig config(ClientAuthStyle style) {
  OAuthClientConfig c;
  c.authorization_url = "https://idp.example/authorize";
  c.token_url = "https://idp.example/token";
  c.client_id = "tether-client";
  c.client_secret = "+8r5xs3YLFC/LHK=";
  c.client_auth = style;
  c.resource = "https://mcp.example/mcp";
  c.scopes = "openid offline_access";
  c.ca_bundle = "/etc/tether/idp-ca.pem";
  return c;
}

TEST(RequestsTest, BasicHeaderForAPlusSlashEqualsSecretBothWays) {
  EXPECT_EQ(basicAuthorization("tether-client", "+8r5xs3YLFC/LHK=", BasicForm::kEncoded),
            "Basic dGV0aGVyLWNsaWVudDolMkI4cjV4czNZTEZDJTJGTEhLJTNE");
  EXPECT_EQ(basicAuthorization("tether-client", "+8r5xs3YLFC/LHK=", BasicForm::kRaw),
            "Basic dGV0aGVyLWNsaWVudDorOHI1eHMzWUxGQy9MSEs9");
  // Spaces become '+' and '%' becomes %25, in the id as well as the secret.
  EXPECT_EQ(basicAuthorization("my app", "s%cret", BasicForm::kEncoded),
            "Basic bXkrYXBwOnMlMjVjcmV0");
  EXPECT_TRUE(basicFormsDiffer("tether-client", "+8r5xs3YLFC/LHK="));
  EXPECT_TRUE(basicFormsDiffer("a b", "plain"));
  EXPECT_FALSE(basicFormsDiffer("tether-client", "abc-DEF_123.~"));
}

TEST(RequestsTest, TokenRequestNeverFollowsRedirectsAndBoundsTheAnswer) {
  const auto req = buildTokenRequest(config(ClientAuthStyle::kBasic),
                                     refreshTokenGrant(config(ClientAuthStyle::kBasic), "rt/1+"));
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://idp.example/token");
  EXPECT_FALSE(req.follow_redirects);
  EXPECT_EQ(req.max_response_bytes, size_t{1} << 20);
  EXPECT_EQ(req.ca_bundle_path, "/etc/tether/idp-ca.pem");
  EXPECT_TRUE(req.use_proxy);
  EXPECT_EQ(http::findHeader(req.headers, "content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(http::findHeader(req.headers, "accept"), "application/json");
  EXPECT_EQ(http::findHeader(req.headers, "connection"), "close");
  EXPECT_EQ(http::findHeader(req.headers, "authorization"),
            "Basic dGV0aGVyLWNsaWVudDolMkI4cjV4czNZTEZDJTJGTEhLJTNE");
  EXPECT_EQ(
      req.body,
      "grant_type=refresh_token&refresh_token=rt%2F1%2B&resource=https%3A%2F%2Fmcp.example%2Fmcp");
}

TEST(RequestsTest, ClientAuthStyles) {
  auto raw = buildTokenRequest(config(ClientAuthStyle::kBasicRaw),
                               clientCredentialsGrant(config(ClientAuthStyle::kBasicRaw)),
                               BasicForm::kEncoded);  // basic_raw ignores the form
  EXPECT_EQ(http::findHeader(raw.headers, "authorization"),
            "Basic dGV0aGVyLWNsaWVudDorOHI1eHMzWUxGQy9MSEs9");
  EXPECT_EQ(raw.body,
            "grant_type=client_credentials&scope=openid+offline_access&"
            "resource=https%3A%2F%2Fmcp.example%2Fmcp");

  auto post = buildTokenRequest(config(ClientAuthStyle::kPost),
                                clientCredentialsGrant(config(ClientAuthStyle::kPost)));
  EXPECT_FALSE(http::findHeader(post.headers, "authorization").has_value());
  EXPECT_NE(post.body.find("&client_id=tether-client&client_secret=%2B8r5xs3YLFC%2FLHK%3D"),
            std::string::npos);

  auto none = buildTokenRequest(config(ClientAuthStyle::kNone),
                                refreshTokenGrant(config(ClientAuthStyle::kNone), "r"));
  EXPECT_FALSE(http::findHeader(none.headers, "authorization").has_value());
  EXPECT_NE(none.body.find("client_id=tether-client"), std::string::npos);
  EXPECT_EQ(none.body.find("client_secret"), std::string::npos);
}

TEST(RequestsTest, GrantsAndResourceToggle) {
  auto c = config(ClientAuthStyle::kPost);
  const auto code = encodeForm(authorizationCodeGrant(c, "c0de", "verif", "http://127.0.0.1:9/cb"));
  EXPECT_EQ(code,
            "grant_type=authorization_code&code=c0de&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&"
            "code_verifier=verif&resource=https%3A%2F%2Fmcp.example%2Fmcp");
  c.resource.clear();
  EXPECT_EQ(encodeForm(refreshTokenGrant(c, "r")), "grant_type=refresh_token&refresh_token=r");
  c.send_scope_on_refresh = true;
  EXPECT_EQ(encodeForm(refreshTokenGrant(c, "r")),
            "grant_type=refresh_token&refresh_token=r&scope=openid+offline_access");
}

TEST(RequestsTest, AuthorizationUrl) {
  auto c = config(ClientAuthStyle::kBasic);
  c.extra_params = {{"prompt", "consent"}, {"access_type", "offline"}};
  AuthorizationRequest r{"http://localhost:8080/callback", "st4te",
                         "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"};
  auto url = buildAuthorizationUrl(c, r);
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value(),
            "https://idp.example/authorize?response_type=code&client_id=tether-client&"
            "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid%20offline_access&"
            "state=st4te&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&"
            "code_challenge_method=S256&resource=https%3A%2F%2Fmcp.example%2Fmcp&prompt=consent&"
            "access_type=offline");
  c.authorization_url = "https://idp.example/authorize?tenant=t1";
  c.resource.clear();
  c.scopes.clear();
  c.extra_params.clear();
  url = buildAuthorizationUrl(c, r);
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.value().rfind("https://idp.example/authorize?tenant=t1&response_type=code&", 0),
            0u);
  EXPECT_EQ(url.value().find("resource="), std::string::npos);
  EXPECT_EQ(url.value().find("scope="), std::string::npos);
}

TEST(RequestsTest, AuthorizationUrlRejectsBadInput) {
  auto c = config(ClientAuthStyle::kBasic);
  AuthorizationRequest r{"http://localhost/cb", "s", "ch"};
  c.extra_params = {{"state", "mine"}};
  EXPECT_FALSE(buildAuthorizationUrl(c, r).ok());
  c.extra_params.clear();
  EXPECT_FALSE(buildAuthorizationUrl(c, AuthorizationRequest{"", "s", "ch"}).ok());
  c.authorization_url = "https://idp/authorize#frag";
  EXPECT_FALSE(buildAuthorizationUrl(c, r).ok());
  c.authorization_url.clear();
  EXPECT_FALSE(buildAuthorizationUrl(c, r).ok());
}

TEST(RequestsTest, AuthStyleNames) {
  for (auto s : {ClientAuthStyle::kBasic, ClientAuthStyle::kBasicRaw, ClientAuthStyle::kPost,
                 ClientAuthStyle::kNone}) {
    EXPECT_EQ(parseClientAuthStyle(clientAuthStyleName(s)), s);
  }
  EXPECT_FALSE(parseClientAuthStyle("client_secret_basic").has_value());
}

}  // namespace
}  // namespace tether::oauth
