// The running connection set's diff (app/live_connections.h): what SIGHUP and the admin API
// add, replace and remove, matched by (kind, name).
#include "app/live_connections.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

config::ConnectionConfig conn(config::ConnectionKind kind, std::string name, std::string url) {
  config::ConnectionConfig c;
  c.kind = kind;
  c.name = std::move(name);
  c.url = std::move(url);
  return c;
}

config::ConnectionConfig mcp(std::string name, std::string url = "http://127.0.0.1:9/mcp") {
  return conn(config::ConnectionKind::kMcp, std::move(name), std::move(url));
}

config::ConnectionConfig oauth(std::string name) {
  auto c = mcp(std::move(name));
  c.auth.mode = config::AuthMode::kOAuth;
  c.auth.oauth.emplace();
  c.auth.oauth->client_id = "tether";
  c.auth.oauth->client_secret = "first-secret";
  c.auth.oauth->token_url = "https://idp.example/token";
  return c;
}

store::ConnectionKey key(std::string kind, std::string name) {
  return {std::move(kind), std::move(name)};
}

TEST(LiveConnectionsDiffTest, AddedChangedAndRemovedByKindAndName) {
  const std::vector<config::ConnectionConfig> running = {
      mcp("kept"), mcp("moved"), mcp("gone"),
      conn(config::ConnectionKind::kApi, "same", "http://a/")};
  const std::vector<config::ConnectionConfig> next = {
      mcp("new"), mcp("kept"), mcp("moved", "http://127.0.0.1:10/mcp"),
      conn(config::ConnectionKind::kApi, "same", "http://a/"),
      conn(config::ConnectionKind::kApi, "gone", "http://b/")};  // same name, other kind
  const auto diff = diffConnections(running, next);
  EXPECT_THAT(diff.added, ElementsAre(key("api", "gone"), key("mcp", "new")));
  EXPECT_THAT(diff.changed, ElementsAre(key("mcp", "moved")));
  EXPECT_THAT(diff.removed, ElementsAre(key("mcp", "gone")));
  EXPECT_FALSE(diff.empty());
}

TEST(LiveConnectionsDiffTest, TheSameListInAnotherOrderOrFromAnotherLineIsNoChange) {
  auto a = mcp("a");
  auto b = mcp("b");
  a.source_line = 3;
  auto a_moved = a;
  a_moved.source_line = 30;  // the entry moved in the file: nothing to do
  const auto diff = diffConnections({a, b}, {b, a_moved});
  EXPECT_TRUE(diff.empty());
  EXPECT_THAT(diff.added, IsEmpty());
}

TEST(LiveConnectionsDiffTest, EverySettingCountsSecretsIncluded) {
  const auto base = oauth("o");
  auto secret = base;
  secret.auth.oauth->client_secret = "rotated-secret";
  auto scopes = base;
  scopes.auth.oauth->scopes = "read write";
  auto timeout = base;
  timeout.timeout = std::chrono::seconds(5);
  auto cookie = base;
  cookie.forward_set_cookie = true;
  auto mode = base;
  mode.auth.mode = config::AuthMode::kBearer;
  mode.auth.oauth.reset();
  mode.auth.bearer_token = "token-value";
  auto lifetime = base;
  lifetime.auth.oauth->default_token_lifetime = std::chrono::minutes(5);
  for (const auto* c : {&secret, &scopes, &timeout, &cookie, &mode, &lifetime}) {
    EXPECT_FALSE(sameConnection(base, *c));
    EXPECT_THAT(diffConnections({base}, {*c}).changed, ElementsAre(key("mcp", "o")));
  }
  EXPECT_TRUE(sameConnection(base, oauth("o")));
}

TEST(LiveConnectionsDiffTest, FromNothingAndToNothing) {
  const auto added = diffConnections({}, {mcp("a"), mcp("b")});
  EXPECT_THAT(added.added, ElementsAre(key("mcp", "a"), key("mcp", "b")));
  const auto removed = diffConnections({mcp("a")}, {});
  EXPECT_THAT(removed.removed, ElementsAre(key("mcp", "a")));
  EXPECT_TRUE(diffConnections({}, {}).empty());
}

TEST(LiveConnectionsDiffTest, ASetFindsItsEntries) {
  ConnectionSet set;
  set.connections = {conn(config::ConnectionKind::kApi, "x", "http://a/"), mcp("a"), mcp("x")};
  ASSERT_NE(set.find(key("mcp", "x")), nullptr);
  EXPECT_EQ(set.find(key("mcp", "x"))->kind, config::ConnectionKind::kMcp);
  EXPECT_EQ(set.find(key("api", "x"))->url, "http://a/");
  EXPECT_EQ(set.find(key("api", "a")), nullptr);
  EXPECT_EQ(set.find(key("mcp", "zzz")), nullptr);
}

}  // namespace
}  // namespace tether::app
