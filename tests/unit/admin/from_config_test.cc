// The admin API's part of the configuration.

#include "admin/from_config.h"

#include <gtest/gtest.h>

#include "core/digest.h"

namespace tether::admin {
namespace {

TEST(AdminFromConfigTest, ConnectionViews) {
  config::ConnectionConfig c;
  c.kind = config::ConnectionKind::kApi;
  c.name = "github";
  c.url = "https://api.github.com/v3";
  c.auth.mode = config::AuthMode::kOAuth;
  c.auth.oauth.emplace().refresh_max_lifetime = std::chrono::hours(8);
  auto views = connectionViewsFromConfig({c});
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].key.str(), "api/github");
  EXPECT_EQ(views[0].url_host, "api.github.com");
  EXPECT_EQ(views[0].auth_mode, "oauth");
  EXPECT_EQ(views[0].refresh_max_lifetime, std::chrono::hours(8));
}

TEST(AdminFromConfigTest, SessionSecretFollowsTheEncryptionKey) {
  config::EncryptionConfig enc;
  EXPECT_EQ(sessionSecretFromConfig(enc), "");  // random per process then
  enc.key = std::string(32, 'k');
  const std::string secret = sessionSecretFromConfig(enc);
  EXPECT_EQ(secret.size(), 32u);
  // Every replica with the same key derives the same secret (HMAC of a fixed label).
  EXPECT_EQ(secret, core::hmacSha256(enc.key, "tether admin session v1"));
  enc.key = std::string(32, 'j');
  EXPECT_NE(sessionSecretFromConfig(enc), secret);
}

}  // namespace
}  // namespace tether::admin
