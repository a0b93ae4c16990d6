// SIGHUP's account of a new configuration (app/reload.h): what applies live is never named
// as needing a restart; everything else is.
#include "app/reload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

config::Config load(const std::string& extra) {
  const std::string yaml =
      "listen: 127.0.0.1:8080\n"
      "storage: { driver: sqlite, path: /tmp/t.db, allow_plaintext: true }\n" +
      extra;
  auto loaded = config::parseConfig(yaml, "t.yaml",
                                    [](std::string_view) { return std::optional<std::string>(); });
  if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
  return loaded->config;
}

const std::string kConnections =
    "connections:\n"
    "  - { kind: mcp, name: a, url: 'http://127.0.0.1:9/mcp' }\n"
    "  - { kind: api, name: b, url: 'http://127.0.0.1:9/', auth: { mode: bearer, token: "
    "first-bearer-token } }\n";

TEST(SettingsNeedingRestartTest, LiveSettingsAreNotNamed) {
  const auto running = load(kConnections);
  const auto next = load(
      "log: { level: debug, access: false }\n"
      "clients: { keys: ['a-client-key-0123456789'] }\n"
      "allowed_origins: ['https://app.example']\n"
      "keeper: { interval: 7m, access_lead: 2m, concurrency: 3 }\n"
      "events: { retention: 30d }\n"
      "connections:\n"
      "  - { kind: mcp, name: c, url: 'http://127.0.0.1:10/mcp' }\n"
      "  - { kind: api, name: b, url: 'http://127.0.0.1:9/', auth: { mode: bearer, token: "
      "second-bearer-token } }\n");
  EXPECT_THAT(settingsNeedingRestart(running, next), IsEmpty());
}

TEST(SettingsNeedingRestartTest, ListenersStorageAndWebhooksAreNamed) {
  const auto running = load(kConnections);
  auto next = load(kConnections +
                   "server: { max_connections: 77 }\n"
                   "admin: { listen: 127.0.0.1:9999 }\n"
                   "public_url: https://tether.example\n");
  next.listen.port = 8081;
  next.storage.path = "/tmp/other.db";
  EXPECT_THAT(settingsNeedingRestart(running, next),
              ElementsAre("admin.listen", "listen", "public_url", "server.max_connections",
                          "storage.path"));
}

TEST(SettingsNeedingRestartTest, AChangedSecretOfARestartSettingIsNamedWithoutItsPlace) {
  const auto running = load("admin: { keys: ['first-admin-key-0123456789'] }\n");
  const auto next = load("admin: { keys: ['other-admin-key-0123456789'] }\n");
  const auto names = settingsNeedingRestart(running, next);
  EXPECT_THAT(names, testing::Contains("secrets"));
  for (const auto& n : names) EXPECT_EQ(n.find("admin-key"), std::string::npos) << n;
}

}  // namespace
}  // namespace tether::app
