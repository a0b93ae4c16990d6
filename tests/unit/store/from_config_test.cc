// The store's part of the configuration: sealer choice, backend options, registry rows.

#include "store/from_config.h"

#include <gtest/gtest.h>

#include <variant>

namespace tether::store {
namespace {

config::ConnectionConfig oauthConnection() {
  config::ConnectionConfig c;
  c.kind = config::ConnectionKind::kMcp;
  c.name = "linear";
  c.url = "https://mcp.linear.app/mcp";
  c.auth.mode = config::AuthMode::kOAuth;
  c.auth.oauth.emplace();
  c.auth.oauth->issuer = "https://idp.example.com";
  return c;
}

TEST(StoreFromConfigTest, NoKeyNeedsPlaintextAllowed) {
  config::EncryptionConfig enc;
  config::StorageConfig storage;
  auto refused = sealerFromConfig(enc, storage);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Errc::kConfig);
  storage.allow_plaintext = true;
  auto plain = sealerFromConfig(enc, storage);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->encrypts());
}

TEST(StoreFromConfigTest, AKeySeals) {
  config::EncryptionConfig enc;
  enc.key = std::string(32, 'k');
  enc.previous_keys = {std::string(32, 'p')};
  auto sealer = sealerFromConfig(enc, config::StorageConfig{});
  ASSERT_TRUE(sealer.ok());
  EXPECT_TRUE((*sealer)->encrypts());
  enc.previous_keys = {"short"};
  auto bad = sealerFromConfig(enc, config::StorageConfig{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("encryption.previous_keys[0]: ", 0), 0u);
}

TEST(StoreFromConfigTest, BackendOptions) {
  config::StorageConfig storage;
  storage.path = "var/x.db";
  auto sqlite = optionsFromConfig(storage, nullptr, nullptr, 1);
  ASSERT_TRUE(std::holds_alternative<SqliteOptions>(sqlite.backend));
  EXPECT_EQ(std::get<SqliteOptions>(sqlite.backend).path, "var/x.db");
  storage.driver = config::StorageDriver::kPostgres;
  storage.dsn = "host=db";
  storage.pool_size = 3;
  auto pg = optionsFromConfig(storage, nullptr, &core::systemClock(), 7);
  ASSERT_TRUE(std::holds_alternative<PostgresOptions>(pg.backend));
  EXPECT_EQ(std::get<PostgresOptions>(pg.backend).dsn, "host=db");
  EXPECT_EQ(std::get<PostgresOptions>(pg.backend).pool_size, 3);
  EXPECT_EQ(std::get<PostgresOptions>(pg.backend).connect_attempts, 7);
  EXPECT_EQ(pg.clock, &core::systemClock());
}

TEST(StoreFromConfigTest, RegistryRows) {
  config::ConnectionConfig plain;
  plain.kind = config::ConnectionKind::kApi;
  plain.name = "github";
  plain.url = "https://api.github.com";
  auto rows = connectionInfosFromConfig({plain, oauthConnection()});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key.str(), "api/github");
  EXPECT_EQ(rows[0].auth_mode, "none");
  EXPECT_FALSE(rows[0].has_oauth);
  EXPECT_EQ(rows[1].key.str(), "mcp/linear");
  EXPECT_TRUE(rows[1].has_oauth);
  EXPECT_EQ(rows[1].idp_host, "idp.example.com");  // the issuer's, with no token_url
}

}  // namespace
}  // namespace tether::store
