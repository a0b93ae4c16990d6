// connections: kinds, names, auth modes and OAuth settings.

#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class ConnectionsSectionTest : public SectionTest {
 protected:
  void parse(std::string_view yaml) {
    parseConnections(reader_, entry(yaml, "connections"), connections_, own_lifetime_);
  }
  std::vector<ConnectionConfig> connections_;
  std::vector<bool> own_lifetime_;
};

TEST_F(ConnectionsSectionTest, EveryAuthMode) {
  parse(R"(- {kind: mcp, name: open, url: "https://mcp.example.com/mcp"}
- kind: api
  name: tok
  url: https://api.example.com
  timeout: 20s
  auth: {mode: bearer, token: "${API_TOKEN}"}
- kind: api
  name: keyed
  url: https://api.example.com
  auth: {mode: api_key, header: X-Key, key: apikey-NEVER-PRINT-77}
- kind: mcp
  name: linear
  url: https://mcp.example.com/mcp
  auth:
    mode: oauth
    issuer: https://idp.example.com
    client_id: demo
    client_secret: "${DEMO_CLIENT_SECRET}"
    extra_params: {prompt: consent}
    default_token_lifetime: 2h
)");
  EXPECT_EQ(errors(), "");
  ASSERT_EQ(connections_.size(), 4u);
  EXPECT_EQ(connections_[0].auth.mode, AuthMode::kNone);
  EXPECT_EQ(connections_[1].auth.bearer_token, testing::kApiToken);
  EXPECT_EQ(connections_[1].timeout, std::chrono::seconds(20));
  EXPECT_EQ(connections_[2].auth.api_key_header, "X-Key");
  EXPECT_EQ(connections_[3].source_line, 11);
  const auto& o = connections_[3].auth.oauth;
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->client_auth, ClientAuth::kBasic);  // a secret, no client_auth: basic
  EXPECT_EQ(o->client_secret, testing::kClientSecret);
  EXPECT_THAT(o->extra_params,
              ElementsAre(std::make_pair(std::string("prompt"), std::string("consent"))));
  EXPECT_EQ(o->default_token_lifetime, std::chrono::hours(2));
  EXPECT_THAT(own_lifetime_, ElementsAre(false, false, false, true));
}

TEST_F(ConnectionsSectionTest, NamesAreUniquePerKind) {
  parse(R"(- {kind: mcp, name: demo, url: "https://a.example"}
- {kind: api, name: demo, url: "https://a.example"}
- {kind: mcp, name: demo, url: "https://b.example"}
- {kind: api, name: v1, url: "https://b.example"}
)");
  EXPECT_EQ(connections_.size(), 2u);
  EXPECT_THAT(errors(), HasSubstr("t.yaml:3: connections[2].name: duplicate mcp connection name "
                                  "\"demo\" (first defined at line 1; names are unique per kind)"));
  EXPECT_THAT(errors(), HasSubstr("t.yaml:4: connections[3].name: \"v1\" is reserved"));
}

TEST_F(ConnectionsSectionTest, KeysOfAnotherModeAreRefused) {
  parse(R"(- kind: mcp
  name: demo
  url: https://mcp.example.com/mcp
  auth: {token: "${API_TOKEN}"}
)");
  EXPECT_TRUE(connections_.empty());
  EXPECT_EQ(errors(),
            "t.yaml:4: connections[0].auth.token: only allowed with mode bearer (this "
            "connection's mode is none, the default)");
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
}

TEST_F(ConnectionsSectionTest, ClientCredentialsNeedsAClient) {
  parse(R"(- kind: api
  name: m2m
  url: https://api.example.com
  auth:
    mode: oauth
    grant: client_credentials
    token_url: https://idp.example.com/token
    authorization_url: https://idp.example.com/authorize
)");
  EXPECT_TRUE(connections_.empty());
  EXPECT_THAT(errors(), HasSubstr("connections[0].auth.authorization_url: only used with grant "
                                  "authorization_code"));
  EXPECT_THAT(errors(), HasSubstr("connections[0].auth.client_id: required"));
  EXPECT_THAT(errors(), HasSubstr("connections[0].auth.client_secret: required"));
}

TEST_F(ConnectionsSectionTest, McpWithoutEndpointsUsesDiscovery) {
  parse(R"(- kind: mcp
  name: found
  url: https://mcp.example.com/mcp
  auth: {mode: oauth}
)");
  EXPECT_EQ(errors(), "");
  ASSERT_EQ(connections_.size(), 1u);
  EXPECT_TRUE(connections_[0].auth.oauth->token_url.empty());
  EXPECT_FALSE(connections_[0].auth.oauth->client_id.has_value());
}

}  // namespace
}  // namespace tether::config::sections
