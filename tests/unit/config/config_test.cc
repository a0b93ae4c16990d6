#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "config/internal.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "unit/config/config_test_util.h"

namespace tether::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::AllOf;
using testing::allSecrets;
using ::testing::Contains;
using testing::defaultEnv;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kDataDir;
using testing::mapEnv;
using ::testing::Not;

LoadedConfig loadFull() {
  auto r = loadConfigFile(kDataDir + "/full.yaml", defaultEnv());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return {};
  return std::move(r).value();
}

LoadedConfig parseOk(std::string_view yaml, const EnvLookup& env = defaultEnv()) {
  auto r = parseConfig(yaml, "t.yaml", env);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return {};
  return std::move(r).value();
}

bool anyContains(const std::vector<std::string>& lines, std::string_view needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// ---------------------------------------------------------------------------------------
// The full example

TEST(ConfigLoadTest, FullExampleTopLevelSections) {
  LoadedConfig loaded = loadFull();
  const Config& c = loaded.config;
  EXPECT_EQ(c.listen.host, "0.0.0.0");
  EXPECT_EQ(c.listen.port, 8443);
  EXPECT_EQ(c.public_url, "https://tether.example.com");  // trailing slash dropped
  EXPECT_EQ(c.log.level, core::LogLevel::kDebug);
  EXPECT_EQ(c.log.format, core::log::Format::kText);

  EXPECT_EQ(c.server.io_threads, 4);
  EXPECT_EQ(c.server.max_header_bytes, 32768u);
  EXPECT_EQ(c.server.max_body_bytes, 2097152u);
  EXPECT_EQ(c.server.read_timeout, seconds(20));
  EXPECT_EQ(c.server.idle_timeout, minutes(2));
  EXPECT_EQ(c.server.write_timeout, seconds(45));
  EXPECT_EQ(c.server.drain_timeout, seconds(5));

  EXPECT_EQ(c.storage.driver, StorageDriver::kPostgres);
  EXPECT_EQ(c.storage.dsn, "host=db dbname=tether user=tether password='pg-NEVER-PRINT'");
  EXPECT_EQ(c.storage.pool_size, 16);
  EXPECT_FALSE(c.storage.allow_plaintext);

  ASSERT_EQ(c.encryption.key.size(), 32u);
  EXPECT_EQ(core::hexEncode(c.encryption.key), testing::kEncryptionKeyHex);
  ASSERT_EQ(c.encryption.previous_keys.size(), 1u);
  EXPECT_EQ(static_cast<unsigned char>(c.encryption.previous_keys[0][0]), 100);
  EXPECT_TRUE(c.encryption.key_file.empty());

  EXPECT_THAT(c.allowed_origins,
              ElementsAre("http://localhost:6274", "https://portal.example.com:8443"));
  EXPECT_EQ(c.keeper.interval, minutes(1));
  EXPECT_EQ(c.keeper.access_lead, minutes(2));
  EXPECT_EQ(c.keeper.refresh_lead, minutes(30));
  EXPECT_EQ(c.keeper.concurrency, 4);
  EXPECT_EQ(c.keeper.jitter, milliseconds(0));
  EXPECT_EQ(c.keeper.backoff_initial, seconds(5));
  EXPECT_EQ(c.keeper.backoff_max, minutes(10));
  EXPECT_EQ(c.keeper.default_token_lifetime, hours(2));
  EXPECT_EQ(c.events.retention, hours(24 * 30));
  EXPECT_EQ(c.events.prune_interval, hours(12));
  EXPECT_THAT(c.discovery.allowed_hosts, ElementsAre("idp.example.com", "login.example.org"));
}

TEST(ConfigLoadTest, FullExampleKeys) {
  const Config c = loadFull().config;
  ASSERT_EQ(c.admin.keys.size(), 4u);
  EXPECT_EQ(c.admin.keys[0].id, "admin-1");
  EXPECT_EQ(c.admin.keys[0].key, testing::kAdminKey);
  EXPECT_EQ(c.admin.keys[0].sha256, core::sha256(testing::kAdminKey));
  EXPECT_EQ(c.admin.keys[1].id, "admin-2");
  EXPECT_TRUE(c.admin.keys[1].key.empty());
  EXPECT_EQ(c.admin.keys[1].sha256, core::sha256("hashed-admin-key-NEVER-PRINT"));
  EXPECT_EQ(c.admin.keys[2].id, "ops");
  EXPECT_EQ(c.admin.keys[2].key, "ops-key-NEVER-PRINT-123");
  EXPECT_EQ(c.admin.keys[3].id, "ci");
  EXPECT_EQ(c.admin.keys[3].sha256, core::sha256("ci-key-material-NEVER-PRINT"));
  ASSERT_EQ(c.clients.keys.size(), 1u);
  EXPECT_EQ(c.clients.keys[0].id, "client-1");
  EXPECT_EQ(c.clients.keys[0].key, "client-key-NEVER-PRINT-1");
}

TEST(ConfigLoadTest, FullExampleWebhooks) {
  const Config c = loadFull().config;
  ASSERT_EQ(c.webhooks.size(), 2u);
  EXPECT_EQ(c.webhooks[0].url, "https://hooks.example.com/tether");
  EXPECT_EQ(c.webhooks[0].secret, testing::kHookSecret);
  EXPECT_THAT(c.webhooks[0].events,
              ElementsAre(WebhookEvent::kNeedsReauth, WebhookEvent::kRecovered));
  // `$${` is a literal `${`; events default to all of them.
  ASSERT_EQ(c.webhooks[1].headers.size(), 1u);
  EXPECT_EQ(c.webhooks[1].headers[0].first, "X-Alert-Token");
  EXPECT_EQ(c.webhooks[1].headers[0].second, "literal-${NOT_A_VAR}-hook-NEVER-PRINT");
  EXPECT_THAT(c.webhooks[1].events,
              ElementsAre(WebhookEvent::kNeedsReauth, WebhookEvent::kNeedsClientFix,
                          WebhookEvent::kRefreshFailing, WebhookEvent::kRecovered,
                          WebhookEvent::kConnected, WebhookEvent::kReauthorizeSoon));
  EXPECT_EQ(c.webhooks[1].maskedUrl(), "http://alerts.internal:9000/hook?********");
}

TEST(ConfigLoadTest, FullExampleConnections) {
  const Config c = loadFull().config;
  ASSERT_EQ(c.connections.size(), 5u);

  const ConnectionConfig* demo = c.findConnection(ConnectionKind::kMcp, "demo");
  ASSERT_NE(demo, nullptr);
  EXPECT_EQ(demo->url, "http://127.0.0.1:9100/mcp");
  EXPECT_EQ(demo->timeout, seconds(30));
  EXPECT_EQ(demo->source_line, 47);
  ASSERT_EQ(demo->auth.mode, AuthMode::kOAuth);
  ASSERT_TRUE(demo->auth.oauth.has_value());
  const OAuthConfig& o = *demo->auth.oauth;
  EXPECT_EQ(o.grant, Grant::kAuthorizationCode);
  EXPECT_EQ(o.issuer, "http://127.0.0.1:9000");
  EXPECT_TRUE(o.authorization_url.empty());
  EXPECT_TRUE(o.token_url.empty());
  EXPECT_EQ(o.client_id, "tether-demo");
  EXPECT_EQ(o.client_secret, testing::kClientSecret);
  EXPECT_EQ(o.client_auth, ClientAuth::kBasic);  // default with a secret
  EXPECT_EQ(o.scopes, "openid offline_access");
  EXPECT_THAT(o.extra_params,
              ElementsAre(std::pair<std::string, std::string>("prompt", "consent"),
                          std::pair<std::string, std::string>("access_type", "offline")));
  EXPECT_FALSE(o.resource_indicator);
  EXPECT_EQ(o.refresh_max_lifetime, hours(24 * 90));
  EXPECT_EQ(o.default_token_lifetime, hours(2));  // from keeper.default_token_lifetime
  EXPECT_EQ(o.ca_bundle, kDataDir + "/ca.pem");

  // The same name under another kind is a different connection.
  const ConnectionConfig* api_demo = c.findConnection(ConnectionKind::kApi, "demo");
  ASSERT_NE(api_demo, nullptr);
  EXPECT_EQ(api_demo->auth.mode, AuthMode::kBearer);
  EXPECT_EQ(api_demo->auth.bearer_token, testing::kApiToken);
  EXPECT_FALSE(api_demo->auth.oauth.has_value());
  EXPECT_FALSE(api_demo->timeout.has_value());

  const ConnectionConfig* weather = c.findConnection(ConnectionKind::kApi, "weather_api");
  ASSERT_NE(weather, nullptr);
  EXPECT_EQ(weather->auth.mode, AuthMode::kApiKey);
  EXPECT_EQ(weather->auth.api_key_header, "X-Api-Key");
  EXPECT_EQ(weather->auth.api_key, "apikey-NEVER-PRINT-77");

  const ConnectionConfig* m2m = c.findConnection(ConnectionKind::kMcp, "m2m");
  ASSERT_NE(m2m, nullptr);
  ASSERT_TRUE(m2m->auth.oauth.has_value());
  EXPECT_EQ(m2m->auth.oauth->grant, Grant::kClientCredentials);
  EXPECT_EQ(m2m->auth.oauth->token_url, "https://idp.example.com/oauth/token");
  EXPECT_EQ(m2m->auth.oauth->client_auth, ClientAuth::kBasicRaw);
  EXPECT_EQ(m2m->auth.oauth->default_token_lifetime, minutes(10));  // its own
  EXPECT_TRUE(m2m->auth.oauth->resource_indicator);                 // default

  const ConnectionConfig* open = c.findConnection(ConnectionKind::kMcp, "open");
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(open->auth.mode, AuthMode::kNone);  // no auth block
  EXPECT_EQ(c.findConnection(ConnectionKind::kApi, "open"), nullptr);
}

TEST(ConfigLoadTest, FullExampleWarnsOnlyAboutCleartextToANonLoopbackHost) {
  LoadedConfig loaded = loadFull();
  // demo uses http://127.0.0.1 (loopback, no warning); webhooks[1] uses http://alerts.internal.
  ASSERT_EQ(loaded.warnings.size(), 1u) << ::testing::PrintToString(loaded.warnings);
  EXPECT_THAT(loaded.warnings[0], HasSubstr("full.yaml:44: webhooks[1].url: cleartext http"));
  EXPECT_THAT(loaded.warnings[0], HasSubstr("alerts.internal"));
}

// ---------------------------------------------------------------------------------------
// Defaults

TEST(ConfigLoadTest, MinimalConfigGetsEveryDefault) {
  LoadedConfig loaded = parseOk("encryption: { key: \"${TETHER_ENCRYPTION_KEY}\" }\n");
  const Config& c = loaded.config;
  const Config defaults;
  EXPECT_EQ(c.listen.toString(), "127.0.0.1:8080");
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.log.level, core::LogLevel::kInfo);
  EXPECT_EQ(c.log.format, core::log::Format::kJson);
  EXPECT_EQ(c.server.io_threads, 2);
  EXPECT_EQ(c.server.max_header_bytes, 16384u);
  EXPECT_EQ(c.server.max_body_bytes, 1048576u);
  EXPECT_EQ(c.server.read_timeout, seconds(15));
  EXPECT_EQ(c.server.idle_timeout, seconds(60));
  EXPECT_EQ(c.server.write_timeout, seconds(30));
  EXPECT_EQ(c.server.drain_timeout, seconds(10));
  EXPECT_EQ(c.storage.driver, StorageDriver::kSqlite);
  EXPECT_EQ(c.storage.path, "var/tether.db");
  EXPECT_FALSE(c.storage.allow_plaintext);
  EXPECT_EQ(c.keeper.interval, minutes(5));
  EXPECT_EQ(c.keeper.access_lead, minutes(5));
  EXPECT_EQ(c.keeper.refresh_lead, hours(1));
  EXPECT_EQ(c.keeper.concurrency, 8);
  EXPECT_EQ(c.keeper.jitter, seconds(30));
  EXPECT_EQ(c.keeper.backoff_initial, seconds(10));
  EXPECT_EQ(c.keeper.backoff_max, minutes(5));
  EXPECT_EQ(c.keeper.default_token_lifetime, hours(1));
  EXPECT_EQ(c.events.retention, hours(24 * 90));
  EXPECT_EQ(c.events.prune_interval, hours(24));
  EXPECT_THAT(c.admin.keys, IsEmpty());
  EXPECT_THAT(c.clients.keys, IsEmpty());
  EXPECT_THAT(c.allowed_origins, IsEmpty());
  EXPECT_THAT(c.webhooks, IsEmpty());
  EXPECT_THAT(c.connections, IsEmpty());
  // No admin key: the operator is told the admin API is closed.
  EXPECT_TRUE(anyContains(loaded.warnings, "t.yaml:1: admin.keys: empty"));
}

TEST(ConfigLoadTest, EmptySectionsMeanDefaults) {
  LoadedConfig loaded =
      parseOk("log:\nserver: {}\nkeeper:\nstorage: { allow_plaintext: true }\nconnections:\n");
  EXPECT_EQ(loaded.config.server.io_threads, 2);
  EXPECT_TRUE(loaded.config.storage.allow_plaintext);
  EXPECT_FALSE(loaded.config.encryption.hasKey());
  EXPECT_TRUE(anyContains(loaded.warnings,
                          "t.yaml:4: encryption: no key and "
                          "storage.allow_plaintext is true"));
}

TEST(ConfigLoadTest, OAuthDefaultsForAPublicClient) {
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
connections:
  - kind: mcp
    name: pub
    url: https://mcp.example.com/mcp
    auth: { mode: oauth, issuer: "https://idp.example.com" }
)");
  ASSERT_EQ(loaded.config.connections.size(), 1u);
  const OAuthConfig& o = *loaded.config.connections[0].auth.oauth;
  EXPECT_EQ(o.grant, Grant::kAuthorizationCode);
  EXPECT_FALSE(o.client_id.has_value());
  EXPECT_FALSE(o.client_secret.has_value());
  EXPECT_EQ(o.client_auth, ClientAuth::kNone);
  EXPECT_TRUE(o.resource_indicator);
  EXPECT_FALSE(o.refresh_max_lifetime.has_value());
  EXPECT_EQ(o.default_token_lifetime, hours(1));
  EXPECT_TRUE(o.scopes.empty());
  EXPECT_TRUE(o.ca_bundle.empty());
}

TEST(ConfigLoadTest, ExplicitEndpointsWithoutIssuer) {
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
connections:
  - kind: api
    name: gh
    url: https://api.github.com
    auth:
      mode: oauth
      authorization_url: https://github.com/login/oauth/authorize
      token_url: https://github.com/login/oauth/access_token
      client_id: abc
      client_secret: ${DEMO_CLIENT_SECRET}
      client_auth: post
)");
  const OAuthConfig& o = *loaded.config.connections.at(0).auth.oauth;
  EXPECT_TRUE(o.issuer.empty());
  EXPECT_EQ(o.authorization_url, "https://github.com/login/oauth/authorize");
  EXPECT_EQ(o.token_url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(o.client_auth, ClientAuth::kPost);
}

TEST(ConfigLoadTest, WildcardListenDerivesALoopbackPublicUrlAndWarns) {
  LoadedConfig loaded = parseOk(R"(listen: "[::]:9090"
encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
admin: { keys: ["${TETHER_ADMIN_KEY}"] }
)");
  EXPECT_EQ(loaded.config.listen.host, "::");
  EXPECT_EQ(loaded.config.listen.toString(), "[::]:9090");
  EXPECT_EQ(loaded.config.public_url, "http://[::1]:9090");
  EXPECT_TRUE(anyContains(loaded.warnings, "t.yaml:1: public_url: not set"));
  // Nobody authenticates gateway clients on a non-loopback listener: say so.
  EXPECT_TRUE(anyContains(loaded.warnings, "t.yaml:1: clients.keys: empty while listening"));
}

TEST(ConfigLoadTest, KeyFileIsReadAndTrimmed) {
  LoadedConfig loaded = parseOk("encryption: { key_file: \"${TEST_DATA}/key.hex\" }\n");
  EXPECT_EQ(core::hexEncode(loaded.config.encryption.key), testing::kEncryptionKeyHex);
  EXPECT_EQ(loaded.config.encryption.key_file, kDataDir + "/key.hex");
}

// ---------------------------------------------------------------------------------------
// Environment interpolation

TEST(ConfigEnvTest, SeveralReferencesPerScalarAndInNonStringFields) {
  auto env = mapEnv({{"HOST", "mcp.example.com"},
                     {"PORT", "9443"},
                     {"THREADS", "6"},
                     {"LEVEL", "warn"},
                     {"KEY", std::string(testing::kEncryptionKeyHex)}});
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${KEY}" }
log: { level: "${LEVEL}" }
server:
  io_threads: ${THREADS}
connections:
  - kind: mcp
    name: x
    url: "https://${HOST}:${PORT}/mcp"
    auth:
      mode: bearer
      token: tok-$${LITERAL}-${HOST}
)",
                                env);
  EXPECT_EQ(loaded.config.log.level, core::LogLevel::kWarn);
  EXPECT_EQ(loaded.config.server.io_threads, 6);
  ASSERT_EQ(loaded.config.connections.size(), 1u);
  EXPECT_EQ(loaded.config.connections[0].url, "https://mcp.example.com:9443/mcp");
  EXPECT_EQ(loaded.config.connections[0].auth.bearer_token, "tok-${LITERAL}-mcp.example.com");
}

TEST(ConfigEnvTest, ValueFromTheEnvironmentIsValidatedLikeALiteral) {
  auto env = mapEnv({{"KEY", std::string(testing::kEncryptionKeyHex)}, {"THREADS", "0"}});
  auto r = parseConfig("encryption: { key: \"${KEY}\" }\nserver: { io_threads: \"${THREADS}\" }\n",
                       "t.yaml", env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t.yaml:2: server.io_threads: must be from 1 to 256, got 0");
}

TEST(ConfigEnvTest, ProcessEnvReadsTheEnvironment) {
  ::setenv("TETHER_CONFIG_TEST_VAR", "hello", 1);
  EnvLookup env = processEnv();
  EXPECT_EQ(env("TETHER_CONFIG_TEST_VAR"), "hello");
  EXPECT_EQ(env("TETHER_CONFIG_TEST_VAR_THAT_IS_NOT_SET"), std::nullopt);
  ::unsetenv("TETHER_CONFIG_TEST_VAR");
}

// ---------------------------------------------------------------------------------------
// Warnings about cleartext

struct CleartextCase {
  std::string url;
  bool warns;
};

class CleartextWarningTest : public ::testing::TestWithParam<CleartextCase> {};

TEST_P(CleartextWarningTest, WarnsOnlyForNonLoopbackHttp) {
  const CleartextCase& c = GetParam();
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
admin: { keys: ["${TETHER_ADMIN_KEY}"] }
connections:
  - kind: mcp
    name: x
    url: ")" + c.url + "\"\n");
  bool warned = anyContains(loaded.warnings, "t.yaml:6: connections[0].url: cleartext http");
  EXPECT_EQ(warned, c.warns) << c.url << " " << ::testing::PrintToString(loaded.warnings);
  EXPECT_EQ(loaded.warnings.size(), c.warns ? 1u : 0u) << ::testing::PrintToString(loaded.warnings);
}

INSTANTIATE_TEST_SUITE_P(Urls, CleartextWarningTest,
                         ::testing::Values(CleartextCase{"http://mcp.example.com/mcp", true},
                                           CleartextCase{"http://10.0.0.7:9100/mcp", true},
                                           CleartextCase{"http://127.0.0.1:9100/mcp", false},
                                           CleartextCase{"http://127.8.9.10/mcp", false},
                                           CleartextCase{"http://localhost:9100/mcp", false},
                                           CleartextCase{"http://[::1]:9100/mcp", false},
                                           CleartextCase{"https://mcp.example.com/mcp", false}));

TEST(ConfigWarningTest, EveryCleartextUrlGetsItsOwnWarning) {
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
admin: { keys: ["${TETHER_ADMIN_KEY}"] }
connections:
  - kind: mcp
    name: x
    url: http://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: http://idp.example.com
      token_url: http://idp.example.com/token
)");
  EXPECT_EQ(loaded.warnings.size(), 3u) << ::testing::PrintToString(loaded.warnings);
  EXPECT_TRUE(anyContains(loaded.warnings, "t.yaml:6: connections[0].url: cleartext"));
  EXPECT_TRUE(anyContains(loaded.warnings, "t.yaml:9: connections[0].auth.issuer: cleartext"));
  EXPECT_TRUE(anyContains(loaded.warnings, "t.yaml:10: connections[0].auth.token_url: cleartext"));
}

// ---------------------------------------------------------------------------------------
// Rendering and secrets

TEST(ConfigRenderTest, MasksEverySecretAndKeepsTheRest) {
  const Config c = loadFull().config;
  std::string text = renderEffectiveConfig(c);
  for (const std::string& secret : allSecrets()) {
    EXPECT_THAT(text, Not(HasSubstr(secret))) << "leaked: " << secret;
  }
  YAML::Node doc = YAML::Load(text);  // the rendering is valid YAML
  EXPECT_EQ(doc["listen"].as<std::string>(), "0.0.0.0:8443");
  EXPECT_EQ(doc["storage"]["dsn"].as<std::string>(),
            "host=db dbname=tether user=tether password=********");
  EXPECT_EQ(doc["encryption"]["key"].as<std::string>(), "********");
  EXPECT_EQ(doc["encryption"]["previous_keys"][0].as<std::string>(), "********");
  EXPECT_EQ(doc["admin"]["keys"][0]["id"].as<std::string>(), "admin-1");
  EXPECT_EQ(doc["admin"]["keys"][0]["key"].as<std::string>(), "********");
  EXPECT_EQ(doc["admin"]["keys"][1]["sha256"].as<std::string>(), "********");
  EXPECT_EQ(doc["admin"]["keys"][2]["id"].as<std::string>(), "ops");
  EXPECT_EQ(doc["clients"]["keys"][0]["key"].as<std::string>(), "********");
  EXPECT_EQ(doc["webhooks"][0]["secret"].as<std::string>(), "********");
  EXPECT_EQ(doc["webhooks"][1]["secret"].as<std::string>(), "********");
  EXPECT_EQ(doc["webhooks"][1]["url"].as<std::string>(),
            "http://alerts.internal:9000/hook?********");
  EXPECT_EQ(doc["webhooks"][1]["headers"]["X-Alert-Token"].as<std::string>(), "********");
  EXPECT_EQ(doc["webhook_delivery"]["warn_before"].as<std::string>(), "7d");
  EXPECT_EQ(doc["webhook_delivery"]["max_age"].as<std::string>(), "1d");
  const YAML::Node conns = doc["connections"];
  ASSERT_EQ(conns.size(), 5u);
  EXPECT_EQ(conns[0]["auth"]["client_secret"].as<std::string>(), "********");
  EXPECT_EQ(conns[0]["auth"]["client_id"].as<std::string>(), "tether-demo");
  EXPECT_EQ(conns[0]["auth"]["scopes"].as<std::string>(), "openid offline_access");
  EXPECT_EQ(conns[0]["auth"]["extra_params"]["prompt"].as<std::string>(), "consent");
  EXPECT_EQ(conns[0]["auth"]["refresh_max_lifetime"].as<std::string>(), "90d");
  EXPECT_EQ(conns[0]["auth"]["resource_indicator"].as<std::string>(), "false");
  EXPECT_EQ(conns[1]["auth"]["token"].as<std::string>(), "********");
  EXPECT_EQ(conns[2]["auth"]["key"].as<std::string>(), "********");
  EXPECT_EQ(conns[2]["auth"]["header"].as<std::string>(), "X-Api-Key");
  EXPECT_EQ(conns[3]["auth"]["client_secret"].as<std::string>(), "********");
  EXPECT_EQ(conns[4]["auth"]["mode"].as<std::string>(), "none");
}

TEST(ConfigRenderTest, ShowsDefaultsFilledIn) {
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_id: x
      client_secret: ${DEMO_CLIENT_SECRET}
)");
  std::string text = renderEffectiveConfig(loaded.config);
  EXPECT_THAT(text, Not(HasSubstr(testing::kClientSecret)));
  EXPECT_THAT(text, Not(HasSubstr(testing::kEncryptionKeyHex)));
  YAML::Node doc = YAML::Load(text);
  EXPECT_EQ(doc["listen"].as<std::string>(), "127.0.0.1:8080");
  EXPECT_EQ(doc["public_url"].as<std::string>(), "http://127.0.0.1:8080");
  EXPECT_EQ(doc["log"]["level"].as<std::string>(), "info");
  EXPECT_EQ(doc["log"]["format"].as<std::string>(), "json");
  EXPECT_EQ(doc["server"]["io_threads"].as<int>(), 2);
  EXPECT_EQ(doc["server"]["read_timeout"].as<std::string>(), "15s");
  EXPECT_EQ(doc["storage"]["driver"].as<std::string>(), "sqlite");
  EXPECT_EQ(doc["storage"]["path"].as<std::string>(), "var/tether.db");
  EXPECT_EQ(doc["keeper"]["interval"].as<std::string>(), "5m");
  EXPECT_EQ(doc["keeper"]["refresh_lead"].as<std::string>(), "1h");
  EXPECT_EQ(doc["events"]["retention"].as<std::string>(), "90d");
  const YAML::Node auth = doc["connections"][0]["auth"];
  EXPECT_EQ(auth["grant"].as<std::string>(), "authorization_code");
  EXPECT_EQ(auth["client_auth"].as<std::string>(), "basic");
  EXPECT_EQ(auth["resource_indicator"].as<std::string>(), "true");
  EXPECT_EQ(auth["default_token_lifetime"].as<std::string>(), "1h");
  EXPECT_EQ(auth["client_secret"].as<std::string>(), "********");
}

TEST(ConfigRenderTest, DsnMaskingInUriForm) {
  LoadedConfig loaded = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
storage:
  driver: postgres
  dsn: "postgres://tether:pg-NEVER-PRINT@db:5432/tether?sslmode=require"
)");
  std::string text = renderEffectiveConfig(loaded.config);
  EXPECT_THAT(text, Not(HasSubstr("pg-NEVER-PRINT")));
  EXPECT_THAT(text, HasSubstr("postgres://tether:********@db:5432/tether?sslmode=require"));
}

TEST(ConfigSecretsTest, ListsEverySecretValue) {
  const Config c = loadFull().config;
  std::vector<std::string> secrets = secretValues(c);
  for (std::string_view expected :
       {testing::kClientSecret, testing::kAdminKey, testing::kHookSecret, testing::kApiToken,
        testing::kEncryptionKeyHex,
        std::string_view("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        std::string_view("ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="),
        std::string_view("pg-NEVER-PRINT"), std::string_view("ops-key-NEVER-PRINT-123"),
        std::string_view("client-key-NEVER-PRINT-1"), std::string_view("apikey-NEVER-PRINT-77"),
        std::string_view("m2m-secret-NEVER-PRINT"),
        std::string_view("literal-${NOT_A_VAR}-hook-NEVER-PRINT")}) {
    EXPECT_THAT(secrets, Contains(std::string(expected)));
  }
  EXPECT_THAT(secrets, Not(Contains(std::string())));
  std::vector<std::string> sorted = secrets;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicates";
  // Non-secrets stay out, so that redaction does not blank ordinary text.
  EXPECT_THAT(secrets, Not(Contains(std::string("tether-demo"))));
  EXPECT_THAT(secrets, Not(Contains(std::string("admin-1"))));
}

// ---------------------------------------------------------------------------------------
// Files

TEST(ConfigFileTest, MissingFileNamesThePath) {
  auto r = loadConfigFile(kDataDir + "/does-not-exist.yaml", defaultEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::kConfig);
  EXPECT_THAT(r.error().message,
              AllOf(HasSubstr("does-not-exist.yaml"), HasSubstr("No such file or directory")));
}

TEST(ConfigFileTest, DirectoryIsNotAConfigFile) {
  auto r = loadConfigFile(kDataDir, defaultEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("is a directory"));
}

}  // namespace
}  // namespace tether::config

namespace tether::config {
namespace {

// An MCP connection may name nothing but its URL: the connect flow finds the
// authorization server from the upstream's 401 (MCP authorization spec).
TEST(ConfigLoadTest, McpOAuthWithOnlyTheUpstreamUrlUsesDiscovery) {
  const Config c = parseOk(R"(encryption: { key: "${TETHER_ENCRYPTION_KEY}" }
connections:
  - kind: mcp
    name: found
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
)")
                       .config;
  const auto* found = c.findConnection(ConnectionKind::kMcp, "found");
  ASSERT_NE(found, nullptr);
  ASSERT_TRUE(found->auth.oauth.has_value());
  EXPECT_TRUE(found->auth.oauth->issuer.empty());
  EXPECT_TRUE(found->auth.oauth->token_url.empty());
  EXPECT_FALSE(found->auth.oauth->client_id.has_value());  // dynamic registration
}

}  // namespace
}  // namespace tether::config
