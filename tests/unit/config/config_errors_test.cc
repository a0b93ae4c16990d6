// Bad configurations: each must be rejected with one message line that names the file,
// the right line and the key path, says what was expected, and never shows a secret.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "unit/config/config_test_util.h"

namespace tether::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct BadCase {
  const char* name;
  std::string yaml;
  std::string prefix;                           // "bad.yaml:<line>: <key path>: "
  std::string what;                             // part of the explanation
  std::vector<std::string> extra_secrets = {};  // case-specific values that must not appear
  std::string unset_var = {};                   // removed from the default environment
};

// gtest prints a failing parameter with this instead of a byte dump.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Line 1 of most cases: a valid key, so that only the defect under test is reported.
#define ENC "encryption: { key: \"${TETHER_ENCRYPTION_KEY}\" }\n"

const std::vector<BadCase>& badCases() {
  static const std::vector<BadCase> cases = {
      // --- unknown keys -------------------------------------------------------------------
      {"UnknownTopLevelKey", ENC "listne: 127.0.0.1:8080\n", "bad.yaml:2: listne: ",
       "unknown key (allowed: listen, public_url, client_metadata_url, log, server, storage, "
       "encryption, admin, clients, allowed_origins, keeper, events, discovery, webhooks, "
       "webhook_delivery, inbound, connections)"},
      {"UnknownKeyInServer", ENC "server:\n  io_thread: 4\n",
       "bad.yaml:3: server.io_thread: ", "unknown key (allowed: io_threads,"},
      {"UnknownKeyInAuth", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_id: demo
      client_secret: s3cr3t-NEVER-PRINT
      client_secrte: s3cr3t-NEVER-PRINT
)",
       "bad.yaml:11: connections[0].auth.client_secrte: ",
       "unknown key (allowed: mode, token, header, key, grant, issuer,"},
      {"UnknownKeyInAdminKeyMap",
       ENC "admin: { keys: [ { id: ops, key: \"ops-key-NEVER-PRINT-123\", secret: x } ] }\n",
       "bad.yaml:2: admin.keys[0].secret: ", "unknown key (allowed: id, key, sha256, role)"},
      {"DuplicateYamlKey", ENC "log:\n  level: info\n  level: debug\n",
       "bad.yaml:4: log.level: ", "duplicate key (first set at line 3)"},

      // --- durations ----------------------------------------------------------------------
      {"BadDuration", ENC "keeper:\n  interval: 5 minutes\n",
       "bad.yaml:3: keeper.interval: ", "invalid duration \"5 minutes\""},
      {"DurationWithoutUnit", ENC R"(connections:
  - kind: api
    name: x
    url: https://api.example.com
    timeout: 30
    auth: { mode: bearer, token: "s3cr3t-NEVER-PRINT" }
)",
       "bad.yaml:6: connections[0].timeout: ", "missing unit"},
      {"ZeroDuration", ENC "events: { retention: 0s }\n",
       "bad.yaml:2: events.retention: ", "must be longer than 0s"},
      {"BackoffMaxBelowInitial", ENC "keeper:\n  backoff_initial: 1m\n  backoff_max: 30s\n",
       "bad.yaml:4: keeper.backoff_max: ",
       "backoff_max (30s) must not be shorter than backoff_initial (1m)"},

      // --- connection names ---------------------------------------------------------------
      {"DuplicateName", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://a.example.com/mcp
  - kind: mcp
    name: demo
    url: https://b.example.com/mcp
)",
       "bad.yaml:7: connections[1].name: ",
       "duplicate mcp connection name \"demo\" (first defined at line 4"},
      {"BadName", ENC R"(connections:
  - kind: mcp
    name: Demo Server
    url: https://mcp.example.com/mcp
)",
       "bad.yaml:4: connections[0].name: ",
       "expected a name matching [a-z0-9][a-z0-9_-]{0,62} (lower-case letters, digits, _ and -, at "
       "most 63 characters), got \"Demo Server\""},
      {"MissingKind", ENC R"(connections:
  - name: demo
    url: https://mcp.example.com/mcp
)",
       "bad.yaml:3: connections[0].kind: ", "required (expected one of mcp, api)"},

      // --- environment --------------------------------------------------------------------
      {"MissingEnvVar",
       ENC R"(admin: { keys: ["${TETHER_ADMIN_KEY}"] }
connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_id: demo
      client_secret: ${DEMO_CLIENT_SECRET}
)",
       "bad.yaml:11: connections[0].auth.client_secret: ",
       "${DEMO_CLIENT_SECRET} is not set",
       {},
       "DEMO_CLIENT_SECRET"},
      {"UnterminatedReference", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_id: demo
      client_secret: "s3cr3t-NEVER-PRINT${DEMO"
)",
       "bad.yaml:10: connections[0].auth.client_secret: ", "unterminated ${"},

      // --- URLs ---------------------------------------------------------------------------
      {"UrlWithoutScheme", ENC R"(connections:
  - kind: mcp
    name: demo
    url: mcp.example.com/mcp
)",
       "bad.yaml:5: connections[0].url: ", "expected an absolute http(s) URL"},
      {"UrlWithOtherScheme", ENC R"(connections:
  - kind: api
    name: files
    url: ftp://files.example.com/x
)",
       "bad.yaml:5: connections[0].url: ", "got scheme \"ftp\""},
      {"UrlWithUserinfo", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      grant: client_credentials
      token_url: "https://demo:s3cr3t-NEVER-PRINT@idp.example.com/token"
      client_id: demo
      client_secret: ${DEMO_CLIENT_SECRET}
)",
       "bad.yaml:9: connections[0].auth.token_url: ", "must not contain a user name or password"},
      {"UrlWithFragment", ENC "public_url: \"https://tether.example.com/#top\"\n",
       "bad.yaml:2: public_url: ", "must not have a fragment"},
      {"UrlWithBadPort", ENC R"(webhooks:
  - url: https://hooks.example.com:99999/x
    secret: ${HOOK_SECRET}
)",
       "bad.yaml:3: webhooks[0].url: ", "port must be a number from 1 to 65535"},
      {"OriginWithPath", ENC "allowed_origins: [\"http://localhost:6274/app\"]\n",
       "bad.yaml:2: allowed_origins[0]: ", "expected an origin such as http://localhost:6274"},
      {"BadListen", ENC "listen: 8080\n", "bad.yaml:2: listen: ", "expected host:port"},

      // --- auth modes ---------------------------------------------------------------------
      {"BadMode", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth2
      client_secret: s3cr3t-NEVER-PRINT
)",
       "bad.yaml:7: connections[0].auth.mode: ",
       "expected one of none, bearer, api_key, oauth, got \"oauth2\""},
      {"TokenWithOAuthMode", ENC R"(connections:
  - kind: api
    name: x
    url: https://api.example.com
    auth:
      mode: oauth
      issuer: https://idp.example.com
      token: s3cr3t-NEVER-PRINT
)",
       "bad.yaml:9: connections[0].auth.token: ",
       "only allowed with mode bearer (this connection's mode is oauth)"},
      {"TokenWithoutMode", ENC R"(connections:
  - kind: api
    name: x
    url: https://api.example.com
    auth:
      token: s3cr3t-NEVER-PRINT
)",
       "bad.yaml:7: connections[0].auth.token: ",
       "only allowed with mode bearer (this connection's mode is none, the default)"},
      {"BearerWithoutToken", ENC R"(connections:
  - kind: api
    name: x
    url: https://api.example.com
    auth: { mode: bearer }
)",
       "bad.yaml:6: connections[0].auth.token: ", "required"},
      {"BadApiKeyHeader", ENC R"(connections:
  - kind: api
    name: x
    url: https://api.example.com
    auth: { mode: api_key, header: "X Api Key", key: "s3cr3t-NEVER-PRINT" }
)",
       "bad.yaml:6: connections[0].auth.header: ", "expected a header name such as X-Api-Key"},

      {"ApiConnectionNamedV1", ENC R"(connections:
  - kind: api
    name: v1
    url: https://api.example.com
)",
       "bad.yaml:4: connections[0].name: ", "reserved for Tether's admin API"},
      {"RoleOnAClientKey", ENC R"(clients:
  keys:
    - { id: agent, key: "client-key-0123456789", role: viewer }
)",
       "bad.yaml:4: clients.keys[0].role: ", "only admin keys have a role"},
      {"UnknownAdminRole", ENC R"(admin:
  keys:
    - { id: ops, key: "admin-key-0123456789", role: owner }
)",
       "bad.yaml:4: admin.keys[0].role: ", "expected one of admin, viewer"},

      // --- OAuth --------------------------------------------------------------------------
      {"BadGrant", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      grant: foo
      issuer: https://idp.example.com
      client_id: demo
      client_secret: ${DEMO_CLIENT_SECRET}
)",
       "bad.yaml:8: connections[0].auth.grant: ",
       "expected one of authorization_code, client_credentials, got \"foo\""},
      {"MissingTokenUrl", ENC R"(connections:
  - kind: api
    name: m2m
    url: https://api.example.com
    auth:
      mode: oauth
      grant: client_credentials
      client_id: m2m
      client_secret: ${DEMO_CLIENT_SECRET}
)",
       "bad.yaml:6: connections[0].auth.token_url: ",
       "required (expected the IdP's token endpoint URL when auth.issuer is not set)"},
      {"ClientCredentialsWithoutSecret", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      grant: client_credentials
      issuer: https://idp.example.com
      client_id: demo
)",
       "bad.yaml:6: connections[0].auth.client_secret: ", "required"},
      {"ClientAuthBasicWithoutSecret", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_id: demo
      client_auth: basic
)",
       "bad.yaml:10: connections[0].auth.client_auth: ", "needs auth.client_secret"},
      {"ReservedExtraParam", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_secret: s3cr3t-NEVER-PRINT
      client_id: demo
      extra_params:
        prompt: consent
        redirect_uri: https://evil.example.com/cb
)",
       "bad.yaml:13: connections[0].auth.extra_params.redirect_uri: ", "reserved"},
      {"MissingCaBundle", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      ca_bundle: /nonexistent/tether/ca.pem
)",
       "bad.yaml:9: connections[0].auth.ca_bundle: ",
       "cannot read \"/nonexistent/tether/ca.pem\": No such file or directory"},

      {"AuthorizationUrlWithClientCredentials", ENC R"(connections:
  - kind: api
    name: m2m
    url: https://api.example.com
    auth:
      mode: oauth
      grant: client_credentials
      authorization_url: https://idp.example.com/authorize
      token_url: https://idp.example.com/token
      client_id: m2m
      client_secret: ${DEMO_CLIENT_SECRET}
)",
       "bad.yaml:9: connections[0].auth.authorization_url: ",
       "only used with grant authorization_code"},
      {"SecretWithoutClientId", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_secret: ${DEMO_CLIENT_SECRET}
)",
       "bad.yaml:9: connections[0].auth.client_secret: ", "needs auth.client_id"},
      {"SecretWithClientAuthNone", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      issuer: https://idp.example.com
      client_id: demo
      client_secret: ${DEMO_CLIENT_SECRET}
      client_auth: none
)",
       "bad.yaml:10: connections[0].auth.client_secret: ",
       "set but client_auth is none, so it would never be sent"},
      {"MissingAuthorizationUrlWithoutIssuer", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth:
      mode: oauth
      token_url: https://idp.example.com/token
)",
       "bad.yaml:6: connections[0].auth.authorization_url: ", "required"},

      // --- keys ---------------------------------------------------------------------------
      {"MissingKeyFile", "encryption:\n  key_file: /nonexistent/tether.key\n",
       "bad.yaml:2: encryption.key_file: ", "cannot read \"/nonexistent/tether.key\""},
      {"PreviousKeysWithoutCurrentKey",
       "storage: { allow_plaintext: true }\nencryption:\n  previous_keys: "
       "[\"${TETHER_ENCRYPTION_KEY}\"]\n",
       "bad.yaml:3: encryption.previous_keys: ", "needs a current key"},
      {"DuplicateAdminKeyId", ENC R"(admin:
  keys:
    - { id: ops, key: "ops-key-NEVER-PRINT-123" }
    - { id: ops, key: "${TETHER_ADMIN_KEY}" }
)",
       "bad.yaml:5: admin.keys[1].id: ", "duplicate id \"ops\" (first used at line 4)"},
      {"EncryptionKeyDecodesToWrongLength",
       "encryption:\n  key: \"TkVWRVItUFJJTlQtMTZieQ==\"\n",
       "bad.yaml:2: encryption.key: ",
       "characters that decode to 16 bytes",
       {"TkVWRVItUFJJTlQtMTZieQ=="}},
      {"EncryptionKeyHexTooShort",
       "encryption:\n  key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",
       "bad.yaml:2: encryption.key: ",
       "(62 hex characters; a 32-byte key needs 64)",
       {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e"}},
      {"EncryptionKeyFileWithBadContent",
       "encryption:\n  key_file: ${TEST_DATA}/bad_key.txt\n",
       "bad.yaml:2: encryption.key_file: ",
       "expected a 32-byte key",
       {"too-short"}},
      {"KeyAndKeyFile", "encryption:\n  key: \"${TETHER_ENCRYPTION_KEY}\"\n  key_file: /etc/k\n",
       "bad.yaml:3: encryption.key_file: ", "exclusive"},
      {"NoEncryptionKey", "storage: { driver: sqlite }\n",
       "bad.yaml:1: encryption.key: ", "required: set encryption.key or encryption.key_file"},
      {"AdminKeyTooShort", ENC "admin: { keys: [\"NEVER-PRINT\"] }\n",
       "bad.yaml:2: admin.keys[0]: ",
       "expected a key of 16 to 4096 characters, got <hidden> of 11 characters"},
      {"BadAdminKeyHash", ENC "admin:\n  keys:\n    - \"sha256:NEVER-PRINT\"\n",
       "bad.yaml:4: admin.keys[0]: ", "expected a SHA-256 as 64 hex characters"},
      {"SameKeyForAdminAndClient", ENC R"(admin: { keys: ["${TETHER_ADMIN_KEY}"] }
clients:
  keys: ["${TETHER_ADMIN_KEY}"]
)",
       "bad.yaml:4: clients.keys[0]: ",
       "the same key (<hidden>) is already configured at admin.keys[0] (line 2)"},

      // --- storage ------------------------------------------------------------------------
      {"PostgresWithoutDsn", ENC "storage:\n  driver: postgres\n",
       "bad.yaml:2: storage.dsn: ", "required"},
      {"PostgresWithPath", ENC R"(storage:
  driver: postgres
  dsn: "host=db password=pg-NEVER-PRINT"
  path: var/x.db
)",
       "bad.yaml:5: storage.path: ", "only used with driver sqlite"},
      {"SqliteWithDsn", ENC "storage:\n  dsn: \"host=db password=pg-NEVER-PRINT\"\n",
       "bad.yaml:3: storage.dsn: ", "only used with driver postgres"},
      {"PoolSizeNotANumber",
       ENC
       "storage: { driver: postgres, dsn: \"host=db password=pg-NEVER-PRINT\", pool_size: lots }\n",
       "bad.yaml:2: storage.pool_size: ", "expected a whole number from 1 to 256, got \"lots\""},

      // --- numbers and types --------------------------------------------------------------
      {"ZeroIoThreads", ENC "server: { io_threads: 0 }\n",
       "bad.yaml:2: server.io_threads: ", "must be from 1 to 256, got 0"},
      {"NegativeIoThreads", ENC "server:\n  io_threads: -3\n",
       "bad.yaml:3: server.io_threads: ", "must be from 1 to 256, got -3"},
      {"ListWhereMapExpected", ENC "server:\n  - io_threads: 2\n",
       "bad.yaml:2: server: ", "expected a map, got a list"},
      {"MapWhereListExpected", ENC "connections: { kind: mcp }\n",
       "bad.yaml:2: connections: ", "expected a list, got a map"},
      {"ScalarWhereMapExpected", ENC R"(connections:
  - kind: mcp
    name: demo
    url: https://mcp.example.com/mcp
    auth: oauth
)",
       "bad.yaml:6: connections[0].auth: ", "expected a map, got a string"},
      {"SecretGivenAsAList", ENC R"(webhooks:
  - url: https://hooks.example.com/x
    secret: ["s3cr3t-NEVER-PRINT"]
)",
       "bad.yaml:4: webhooks[0].secret: ", "expected a signing secret, got a list"},
      {"BadBoolean", ENC "storage: { allow_plaintext: maybe }\n",
       "bad.yaml:2: storage.allow_plaintext: ", "expected true or false, got \"maybe\""},
      {"BadWebhookEvent", ENC R"(webhooks:
  - url: https://hooks.example.com/x
    secret: ${HOOK_SECRET}
    events: [needs_reauth, exploded]
)",
       "bad.yaml:5: webhooks[0].events[1]: ",
       "expected one of needs_reauth, needs_client_fix, refresh_failing, recovered, connected, "
       "reauthorize_soon, got \"exploded\""},
      {"WebhookSecretNotStandard", ENC R"(webhooks:
  - url: https://hooks.example.com/x
    secret: "plain-s3cr3t-NEVER-PRINT"
)",
       "bad.yaml:4: webhooks[0].secret: ", "expected a Standard Webhooks secret: whsec_"},
      {"WebhookReservedHeader", ENC R"(webhooks:
  - url: https://hooks.example.com/x
    secret: ${HOOK_SECRET}
    headers: { Webhook-Signature: "v1,forged" }
)",
       "bad.yaml:5: webhooks[0].headers.Webhook-Signature: ", "reserved: Tether sets this header"},
      {"WebhookHopByHopHeader", ENC R"(webhooks:
  - url: https://hooks.example.com/x
    secret: ${HOOK_SECRET}
    headers: { Connection: close }
)",
       "bad.yaml:5: webhooks[0].headers.Connection: ", "reserved"},
      {"WebhookDeliveryBackoff", ENC R"(webhook_delivery:
  backoff_initial: 10m
  backoff_max: 1m
)",
       "bad.yaml:4: webhook_delivery.backoff_max: ", "must not be shorter than backoff_initial"},
      {"WebhookDeliveryUnknownKey", ENC "webhook_delivery: { warn_befor: 3d }\n",
       "bad.yaml:2: webhook_delivery.warn_befor: ", "unknown key (allowed: warn_before,"},

      // --- the document itself ------------------------------------------------------------
      {"MalformedYaml", ENC R"(server:
  io_threads: 2
    max_body_bytes: [10
)",
       "bad.yaml:4: ", "invalid YAML: "},
      {"TopLevelList", "- listen\n- log\n",
       "bad.yaml:1: ", "expected a map of settings at the top level, got a list"},
  };
  return cases;
}

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, NamesFileLineAndKeyWithoutSecrets) {
  const BadCase& c = GetParam();
  std::map<std::string, std::string, std::less<>> vars = {
      {"DEMO_CLIENT_SECRET", std::string(testing::kClientSecret)},
      {"TETHER_ADMIN_KEY", std::string(testing::kAdminKey)},
      {"TETHER_ENCRYPTION_KEY", std::string(testing::kEncryptionKeyHex)},
      {"HOOK_SECRET", std::string(testing::kHookSecret)},
      {"TEST_DATA", testing::kDataDir}};
  vars.erase(c.unset_var);
  auto r = parseConfig(c.yaml, "bad.yaml", testing::mapEnv(vars));
  ASSERT_FALSE(r.ok()) << "accepted:\n" << c.yaml;
  EXPECT_EQ(r.error().code, core::Errc::kConfig);
  const std::string& message = r.error().message;
  std::vector<std::string> lines = splitLines(message);
  ASSERT_EQ(lines.size(), 1u) << "expected exactly one problem, got:\n" << message;
  EXPECT_THAT(lines[0], StartsWith(c.prefix));
  EXPECT_THAT(lines[0], HasSubstr(c.what));
  std::vector<std::string> secrets = testing::allSecrets();
  secrets.insert(secrets.end(), c.extra_secrets.begin(), c.extra_secrets.end());
  for (const std::string& secret : secrets) {
    EXPECT_THAT(message, Not(HasSubstr(secret))) << "leaked a secret";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, BadConfigTest, ::testing::ValuesIn(badCases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(BadConfigTest, HasAtLeastTwelveCases) { EXPECT_GE(badCases().size(), 12u); }

TEST(BadConfigTest, MessageFormatMatchesTheOperatorGuide) {
  auto r = parseConfig(badCases()[0].yaml, "examples/tether.yaml", testing::defaultEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, StartsWith("examples/tether.yaml:2: listne: unknown key"));
  for (const BadCase& c : badCases()) {
    if (std::string_view(c.name) != "BadGrant") continue;
    auto g = parseConfig(c.yaml, "examples/tether.yaml", testing::defaultEnv());
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().message,
              "examples/tether.yaml:8: connections[0].auth.grant: expected one of "
              "authorization_code, client_credentials, got \"foo\"");
  }
}

TEST(BadConfigTest, ReportsEveryProblemOnItsOwnLine) {
  auto r = parseConfig(ENC R"(server: { io_threads: 0 }
keeper: { interval: soon }
connections:
  - kind: rpc
    name: demo
    url: https://mcp.example.com/mcp
)",
                       "bad.yaml", testing::defaultEnv());
  ASSERT_FALSE(r.ok());
  std::vector<std::string> lines = splitLines(r.error().message);
  ASSERT_EQ(lines.size(), 3u) << r.error().message;
  EXPECT_THAT(lines[0], StartsWith("bad.yaml:2: server.io_threads: "));
  EXPECT_THAT(lines[1], StartsWith("bad.yaml:3: keeper.interval: "));
  EXPECT_THAT(lines[2], StartsWith("bad.yaml:5: connections[0].kind: expected one of mcp, api"));
}

TEST(BadConfigTest, SecretsInWrongPlacesAreNotEchoedEither) {
  // A secret pasted as a URL, a name or a mode is still a secret: values of a failing
  // non-secret key are shown, but only after passing through the redactor, and the usual
  // credential shapes never survive it.
  auto r = parseConfig(ENC R"(connections:
  - kind: mcp
    name: demo
    url: "https://mcp.example.com/mcp?access_token=s3cr3t-NEVER-PRINT#frag"
)",
                       "bad.yaml", testing::defaultEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message,
              HasSubstr("bad.yaml:5: connections[0].url: must not have a fragment"));
  EXPECT_THAT(r.error().message, Not(HasSubstr("s3cr3t-NEVER-PRINT")));
}

TEST(BadConfigTest, UnquotedReferenceInAFlowMapGetsAHint) {
  // YAML reads the braces of ${VAR} as syntax inside { }: the loader says how to fix it.
  auto r = parseConfig("log: { level: info }\nencryption: { key: ${TETHER_ENCRYPTION_KEY} }\n",
                       "bad.yaml", testing::defaultEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, StartsWith("bad.yaml:2: invalid YAML: "));
  EXPECT_THAT(r.error().message, HasSubstr("put ${VAR} references in quotes"));
  // Block style needs no quotes.
  auto ok = parseConfig("encryption:\n  key: ${TETHER_ENCRYPTION_KEY}\n", "ok.yaml",
                        testing::defaultEnv());
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

#undef ENC

}  // namespace
}  // namespace tether::config
