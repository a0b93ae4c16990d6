// The lifecycle's part of the configuration: settings and one spec per OAuth connection.

#include "lifecycle/from_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(LifecycleFromConfigTest, Settings) {
  config::KeeperConfig keeper;
  keeper.interval = minutes(1);
  keeper.concurrency = 3;
  keeper.backoff_max = minutes(9);
  config::EventsConfig events;
  events.retention = hours(48);
  const Settings s = settingsFromConfig(keeper, events);
  EXPECT_EQ(s.keeper_interval, minutes(1));
  EXPECT_EQ(s.keeper_concurrency, 3);
  EXPECT_EQ(s.backoff_max, minutes(9));
  EXPECT_EQ(s.access_lead, minutes(5));
  EXPECT_EQ(s.event_retention, hours(48));
}

TEST(LifecycleFromConfigTest, OneSpecPerOAuthConnection) {
  config::ConnectionConfig none;
  none.name = "plain";
  config::ConnectionConfig code;
  code.name = "found";
  code.url = "https://mcp.example.com/mcp";
  code.auth.mode = config::AuthMode::kOAuth;
  code.auth.oauth.emplace();
  code.auth.oauth->default_token_lifetime = hours(2);
  config::ConnectionConfig m2m;
  m2m.kind = config::ConnectionKind::kApi;
  m2m.name = "m2m";
  m2m.url = "https://api.example.com";
  m2m.auth.mode = config::AuthMode::kOAuth;
  m2m.auth.oauth.emplace();
  m2m.auth.oauth->grant = config::Grant::kClientCredentials;
  m2m.auth.oauth->token_url = "https://idp.example.com/token";
  m2m.auth.oauth->client_id = "id";
  m2m.auth.oauth->client_secret = "secret";
  m2m.auth.oauth->client_auth = config::ClientAuth::kPost;
  m2m.auth.oauth->resource_indicator = false;
  m2m.auth.oauth->refresh_max_lifetime = hours(24);

  std::vector<store::ConnectionKey> unresolved;
  auto specs = specsFromConfig({none, code, m2m}, &unresolved);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].key.str(), "mcp/found");
  EXPECT_FALSE(specs[0].client_credentials);
  EXPECT_EQ(specs[0].oauth.resource, "https://mcp.example.com/mcp");
  EXPECT_EQ(specs[0].oauth.default_token_lifetime, seconds(7200));
  EXPECT_EQ(specs[1].key.str(), "api/m2m");
  EXPECT_TRUE(specs[1].client_credentials);
  EXPECT_EQ(specs[1].idp_host, "idp.example.com");
  EXPECT_EQ(specs[1].oauth.client_auth, oauth::ClientAuthStyle::kPost);
  EXPECT_EQ(specs[1].oauth.resource, "");
  EXPECT_EQ(specs[1].refresh_max_lifetime, hours(24));
  ASSERT_EQ(unresolved.size(), 1u);  // no token_url: the connect flow finds it
  EXPECT_EQ(unresolved[0].str(), "mcp/found");
}

}  // namespace
}  // namespace tether::lifecycle
