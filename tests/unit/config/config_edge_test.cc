// The edge settings of issue 20: server.allowed_hosts, server.max_connections, admin.listen
// and a connection's forward_set_cookie — parsed, validated with messages that name the
// field, and rendered by `tether config check`.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "unit/config/config_test_util.h"

namespace tether::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

#define ENC "encryption: { key: \"${TETHER_ENCRYPTION_KEY}\" }\n"

const char* const kEdgeYaml = ENC R"(listen: 0.0.0.0:8080
public_url: https://tether.example.com
server:
  max_connections: 500
  allowed_hosts: [ Tether.Internal, "10.0.0.5:8080", "[::1]:9000", "[FE80::1]" ]
admin:
  listen: 127.0.0.1:9090
connections:
  - kind: api
    name: shop
    url: https://shop.example.com/v1
    forward_set_cookie: true
  - kind: mcp
    name: wiki
    url: https://wiki.example.com/mcp
)";

LoadedConfig parseOk(std::string_view yaml) {
  auto r = parseConfig(yaml, "t.yaml", testing::defaultEnv());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return {};
  return std::move(r).value();
}

std::string parseError(std::string_view yaml) {
  auto r = parseConfig(yaml, "bad.yaml", testing::defaultEnv());
  EXPECT_FALSE(r.ok()) << yaml;
  return r.ok() ? std::string() : r.error().message;
}

TEST(ConfigEdgeTest, ParsesTheEdgeSettings) {
  const Config c = parseOk(kEdgeYaml).config;
  EXPECT_EQ(c.server.max_connections, 500u);
  EXPECT_THAT(c.server.allowed_hosts,
              ElementsAre("tether.internal", "10.0.0.5:8080", "[::1]:9000", "[fe80::1]"));
  ASSERT_TRUE(c.admin.listen.has_value());
  EXPECT_EQ(c.admin.listen->toString(), "127.0.0.1:9090");
  ASSERT_EQ(c.connections.size(), 2u);
  EXPECT_TRUE(c.connections[0].forward_set_cookie);
  EXPECT_FALSE(c.connections[1].forward_set_cookie);
}

TEST(ConfigEdgeTest, Defaults) {
  const Config c = parseOk(ENC).config;
  EXPECT_EQ(c.server.max_connections, 10000u);
  EXPECT_THAT(c.server.allowed_hosts, IsEmpty());
  EXPECT_FALSE(c.admin.listen.has_value());
}

TEST(ConfigEdgeTest, PublicUrlDefaultsToTheAdminListenerWhenThereIsOne) {
  // The portal and the OAuth callback live on the admin listener: links must point there.
  const Config c =
      parseOk(ENC "listen: 127.0.0.1:8080\nadmin: { listen: \"127.0.0.1:9090\" }\n").config;
  EXPECT_EQ(c.public_url, "http://127.0.0.1:9090");
}

TEST(ConfigEdgeTest, BadValuesNameTheField) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {ENC "server: { max_connections: 0 }\n",
       "bad.yaml:2: server.max_connections: must be from 1"},
      {ENC "server: { max_connections: lots }\n", "bad.yaml:2: server.max_connections: expected"},
      {ENC "server: { allowed_hosts: [ \"http://x.example\" ] }\n",
       "bad.yaml:2: server.allowed_hosts[0]: expected a host name or host:port"},
      {ENC "server: { allowed_hosts: [ ok.example, \"x.example/path\" ] }\n",
       "bad.yaml:2: server.allowed_hosts[1]: expected a host name or host:port"},
      {ENC "server: { allowed_hosts: [ \"x.example:99999\" ] }\n",
       "bad.yaml:2: server.allowed_hosts[0]: expected a host name or host:port"},
      {ENC "server: { allowed_hosts: [ \"*.example\" ] }\n",
       "bad.yaml:2: server.allowed_hosts[0]: expected a host name or host:port"},
      {ENC "server: { allowed_hosts: \"x.example\" }\n", "bad.yaml:2: server.allowed_hosts: "},
      {ENC "listen: 127.0.0.1:8080\nadmin: { listen: \"127.0.0.1:8080\" }\n",
       "bad.yaml:3: admin.listen: must differ from listen (127.0.0.1:8080)"},
      {ENC "listen: 0.0.0.0:8080\nadmin: { listen: \"127.0.0.1:8080\" }\n",
       "bad.yaml:3: admin.listen: must differ from listen"},
      {ENC "admin: { listen: \"not an address\" }\n", "bad.yaml:2: admin.listen: "},
      {ENC "connections:\n  - kind: api\n    name: a\n    url: https://a.example\n"
           "    forward_set_cookie: maybe\n",
       "bad.yaml:6: connections[0].forward_set_cookie: expected true or false"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(parseError(c.yaml), HasSubstr(c.expected)) << c.yaml;
  }
}

TEST(ConfigEdgeTest, TwoListenersOnAnyFreePortAreFine) {
  // Tests bind port 0 twice: the OS picks two different ports.
  const Config c = parseOk(ENC "listen: 127.0.0.1:0\nadmin: { listen: \"127.0.0.1:0\" }\n").config;
  ASSERT_TRUE(c.admin.listen.has_value());
  EXPECT_EQ(c.admin.listen->port, 0);
}

TEST(ConfigEdgeTest, RenderShowsTheEdgeSettings) {
  const Config c = parseOk(kEdgeYaml).config;
  const YAML::Node doc = YAML::Load(renderEffectiveConfig(c));
  EXPECT_EQ(doc["server"]["max_connections"].as<int>(), 500);
  ASSERT_EQ(doc["server"]["allowed_hosts"].size(), 4u);
  EXPECT_EQ(doc["server"]["allowed_hosts"][0].as<std::string>(), "tether.internal");
  EXPECT_EQ(doc["admin"]["listen"].as<std::string>(), "127.0.0.1:9090");
  EXPECT_EQ(doc["connections"][0]["forward_set_cookie"].as<std::string>(), "true");
  EXPECT_EQ(doc["connections"][1]["forward_set_cookie"].as<std::string>(), "false");
}

TEST(ConfigEdgeTest, RenderShowsDefaults) {
  const YAML::Node doc = YAML::Load(renderEffectiveConfig(parseOk(ENC).config));
  EXPECT_EQ(doc["server"]["max_connections"].as<int>(), 10000);
  EXPECT_EQ(doc["server"]["allowed_hosts"].size(), 0u);
  EXPECT_FALSE(doc["admin"]["listen"]);
}

}  // namespace
}  // namespace tether::config
