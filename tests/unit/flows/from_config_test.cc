// The connect flow's part of the configuration.

#include "flows/from_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::flows {
namespace {

TEST(FlowsFromConfigTest, OAuthConnectionsOnly) {
  config::ConnectionConfig plain;
  plain.name = "plain";
  config::ConnectionConfig c;
  c.name = "linear";
  c.url = "https://mcp.linear.app/mcp";
  c.auth.mode = config::AuthMode::kOAuth;
  auto& o = c.auth.oauth.emplace();
  o.issuer = "https://idp.example.com";
  o.client_id = "demo";
  auto flows = connectionsFromConfig({plain, c});
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].key.str(), "mcp/linear");
  EXPECT_EQ(flows[0].upstream_url, c.url);
  EXPECT_EQ(flows[0].issuer, "https://idp.example.com");
  EXPECT_FALSE(flows[0].client_credentials);
  EXPECT_TRUE(flows[0].client_id_configured);
  EXPECT_EQ(flows[0].oauth.client_id, "demo");
  EXPECT_EQ(flows[0].oauth.resource, c.url);
}

TEST(FlowsFromConfigTest, Options) {
  config::Config config;
  config.public_url = "https://tether.example.com";
  config.discovery.allowed_hosts = {"idp.internal"};
  const FlowOptions o = optionsFromConfig(config);
  EXPECT_EQ(o.public_url, "https://tether.example.com");
  EXPECT_THAT(o.allowed_hosts, testing::ElementsAre("idp.internal"));
  EXPECT_EQ(o.ttl, std::chrono::minutes(10));
}

}  // namespace
}  // namespace tether::flows
