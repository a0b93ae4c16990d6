// The OAuth client settings of a configured connection.

#include "oauth/from_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::oauth {
namespace {

TEST(OAuthFromConfigTest, ClientAuthStyles) {
  EXPECT_EQ(clientAuthFromConfig(config::ClientAuth::kBasic), ClientAuthStyle::kBasic);
  EXPECT_EQ(clientAuthFromConfig(config::ClientAuth::kBasicRaw), ClientAuthStyle::kBasicRaw);
  EXPECT_EQ(clientAuthFromConfig(config::ClientAuth::kPost), ClientAuthStyle::kPost);
  EXPECT_EQ(clientAuthFromConfig(config::ClientAuth::kNone), ClientAuthStyle::kNone);
}

TEST(OAuthFromConfigTest, EverySettingIsCarried) {
  config::ConnectionConfig c;
  c.url = "https://mcp.example.com/mcp";
  c.auth.mode = config::AuthMode::kOAuth;
  auto& o = c.auth.oauth.emplace();
  o.authorization_url = "https://idp.example.com/authorize";
  o.token_url = "https://idp.example.com/token";
  o.client_id = "demo";
  o.client_secret = "s3cr3t";
  o.client_auth = config::ClientAuth::kBasic;
  o.scopes = "read write";
  o.extra_params = {{"prompt", "consent"}};
  o.ca_bundle = "/etc/ca.pem";
  o.default_token_lifetime = std::chrono::minutes(30);
  const OAuthClientConfig s = clientConfigFromConfig(c);
  EXPECT_EQ(s.authorization_url, o.authorization_url);
  EXPECT_EQ(s.token_url, o.token_url);
  EXPECT_EQ(s.client_id, "demo");
  EXPECT_EQ(s.client_secret, "s3cr3t");
  EXPECT_EQ(s.client_auth, ClientAuthStyle::kBasic);
  EXPECT_EQ(s.resource, c.url);
  EXPECT_EQ(s.scopes, "read write");
  EXPECT_THAT(s.extra_params,
              testing::ElementsAre(std::make_pair(std::string("prompt"), std::string("consent"))));
  EXPECT_EQ(s.ca_bundle, "/etc/ca.pem");
  EXPECT_EQ(s.default_token_lifetime, std::chrono::seconds(1800));
}

TEST(OAuthFromConfigTest, UnsetClientAndNoResourceIndicator) {
  config::ConnectionConfig c;
  c.url = "https://mcp.example.com/mcp";
  auto& o = c.auth.oauth.emplace();
  o.resource_indicator = false;
  const OAuthClientConfig s = clientConfigFromConfig(c);
  EXPECT_EQ(s.client_id, "");  // registered by the connect flow
  EXPECT_EQ(s.client_secret, "");
  EXPECT_EQ(s.client_auth, ClientAuthStyle::kNone);
  EXPECT_EQ(s.resource, "");
}

}  // namespace
}  // namespace tether::oauth
