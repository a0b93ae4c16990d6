// Secrets at rest, on both backends: the raw database (SQLite file bytes, pg_dump output)
// never holds a token; sealed values are bound to their row; key rotation re-seals every
// row; a wrong key is a clear error at start.

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "store/store.h"
#include "store_test_env.h"

namespace tether::store::testing {
namespace {

using core::Errc;
using std::chrono::hours;
using std::chrono::minutes;

TokenRecord token(const ConnectionKey& key, std::string access, std::optional<std::string> refresh,
                  TimePoint now) {
  TokenRecord t;
  t.key = key;
  t.access_token = std::move(access);
  t.refresh_token = std::move(refresh);
  t.scope = "scope";
  t.expires_at = now + hours(1);
  t.authenticated_at = now;
  t.authenticated_by = "admin:test";
  t.idp_host = "idp.example.com";
  return t;
}

class StoreSealingTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    db_ = TestDatabase::create(GetParam());
    ASSERT_NE(db_, nullptr);
  }

  core::Result<std::unique_ptr<Store>> open(std::shared_ptr<const Sealer> sealer) {
    return openStore(db_->options(std::move(sealer), &clock_));
  }

  // Everything an attacker with the database files or a dump would see.
  std::string rawDatabase() {
    if (GetParam() == BackendKind::kSqlite) {
      return readFile(db_->sqlitePath()) + readFile(db_->sqlitePath() + "-wal");
    }
    std::string dump;
    const int rc = runCommand({*pgBinDir() + "/pg_dump", "--dbname=" + db_->pgDsn()}, &dump);
    EXPECT_EQ(rc, 0) << "pg_dump failed";
    return dump;
  }

  struct Secrets {
    std::string access = "AT-" + core::newId();
    std::string refresh = "RT-" + core::newId();
    std::string verifier = "PKCE-" + core::newId();
    std::string flow_state = "STATE-" + core::newId();
    std::string client_secret = "CS-" + core::newId();
    std::string registration_token = "RAT-" + core::newId();
    std::string marker = "scope-marker-" + core::newId();  // not secret: stored as is
  };

  void storeSecrets(Store& s, const Secrets& secrets) {
    TokenRecord t = token({"mcp", "demo"}, secrets.access, secrets.refresh, clock_.now());
    t.scope = secrets.marker;
    ASSERT_TRUE(s.putToken(t, 0).ok());
    PendingFlow f;
    f.state = "state";
    f.key = {"mcp", "demo"};
    f.pkce_verifier = secrets.verifier;
    f.authorization_url = "https://idp.example.com/authorize?state=" + secrets.flow_state;
    f.expires_at = clock_.now() + minutes(10);
    ASSERT_TRUE(s.createPendingFlow(f).ok());
    OAuthClient c;
    c.issuer = "https://idp.example.com";
    c.client_id = "client";
    c.client_secret = secrets.client_secret;
    c.registration_json = R"({"registration_access_token":")" + secrets.registration_token + "\"}";
    ASSERT_TRUE(s.putClient(c).ok());
  }

  core::ManualClock clock_;
  std::unique_ptr<TestDatabase> db_;
};

TEST_P(StoreSealingTest, RawDatabaseHoldsNoSecretBytes) {
  auto store = open(aesSealer({testKey('a')}));
  ASSERT_TRUE(store.ok()) << store.error().message;
  Secrets secrets;
  storeSecrets(**store, secrets);
  const std::string raw = rawDatabase();
  ASSERT_NE(raw.find(secrets.marker), std::string::npos) << "the search sees stored text";
  EXPECT_NE(raw.find("ts1:" + testKey('a').id() + ":"), std::string::npos);
  for (const std::string& secret :
       {secrets.access, secrets.refresh, secrets.verifier, secrets.flow_state,
        secrets.client_secret, secrets.registration_token}) {
    EXPECT_EQ(raw.find(secret), std::string::npos) << "found " << secret;
    EXPECT_EQ(raw.find(core::base64UrlEncode(secret)), std::string::npos) << secret;
  }
  // And the store still opens them.
  EXPECT_EQ((*store)->getToken({"mcp", "demo"}).value()->refresh_token, secrets.refresh);
}

// The control for the test above: in the explicit plaintext mode the same search finds
// the values (base64url-encoded, behind "plain:").
TEST_P(StoreSealingTest, PlaintextOptOutIsVisibleAtRest) {
  auto store = open(std::shared_ptr<const Sealer>(makePlaintextSealer()));
  ASSERT_TRUE(store.ok()) << store.error().message;
  Secrets secrets;
  storeSecrets(**store, secrets);
  const std::string raw = rawDatabase();
  EXPECT_NE(raw.find("plain:" + core::base64UrlEncode(secrets.access)), std::string::npos);
  EXPECT_EQ((*store)->getToken({"mcp", "demo"}).value()->access_token, secrets.access);
}

TEST_P(StoreSealingTest, SealedValueCopiedToAnotherRowFailsToOpen) {
  auto store = open(aesSealer({testKey('a')}));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      (*store)
          ->putToken(token({"mcp", "alpha"}, "alpha-access", "alpha-refresh", clock_.now()), 0)
          .ok());
  ASSERT_TRUE((*store)
                  ->putToken(token({"mcp", "beta"}, "beta-access", "beta-refresh", clock_.now()), 0)
                  .ok());

  // An attacker with write access copies alpha's sealed token into beta's row.
  ASSERT_TRUE(db_->rawExec("UPDATE tokens SET access_token = (SELECT access_token FROM tokens "
                           "WHERE name = 'alpha') WHERE name = 'beta'")
                  .ok());
  auto moved = (*store)->getToken({"mcp", "beta"});
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, Errc::kCrypto);
  EXPECT_NE(moved.error().message.find("mcp/beta"), std::string::npos) << moved.error().message;
  EXPECT_NE(moved.error().message.find("tokens.access_token"), std::string::npos);
  EXPECT_EQ(moved.error().message.find("alpha-access"), std::string::npos);
  EXPECT_EQ((*store)->getToken({"mcp", "alpha"}).value()->access_token, "alpha-access");

  // Moving a value to another column of the same row fails too.
  ASSERT_TRUE(
      db_->rawExec("UPDATE tokens SET refresh_token = access_token WHERE name = 'alpha'").ok());
  auto swapped = (*store)->getToken({"mcp", "alpha"});
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.error().message.find("tokens.refresh_token"), std::string::npos);
}

TEST_P(StoreSealingTest, KeyRotationResealsEveryRowAndAllStillOpen) {
  const SealingKey k1 = testKey('1');
  const SealingKey k2 = testKey('2');
  {
    auto store = open(aesSealer({k1}));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->putToken(token({"mcp", "a"}, "a-at", "a-rt", clock_.now()), 0).ok());
    ASSERT_TRUE(
        (*store)->putToken(token({"mcp", "b"}, "b-at", std::nullopt, clock_.now()), 0).ok());
    ASSERT_TRUE((*store)->putToken(token({"api", "c"}, "c-at", "c-rt", clock_.now()), 0).ok());
    Secrets secrets;
    storeSecrets(**store, secrets);  // token mcp/demo, a flow, a client
  }
  // Old key alone no longer needed after rotation; new key first in the ring.
  {
    auto ring = open(aesSealer({k2, k1}));
    ASSERT_TRUE(ring.ok()) << ring.error().message;

    // A value that does not open stops the rotation, and nothing changes.
    const std::string good_b =
        db_->rawQueryOne("SELECT access_token FROM tokens WHERE name = 'b'").value().value();
    ASSERT_TRUE(
        db_->rawExec("UPDATE tokens SET access_token = 'ts1:" + k1.id() + ":AAAA' WHERE name = 'b'")
            .ok());
    auto failed = (*ring)->rotateKeys();
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, Errc::kCrypto);
    EXPECT_NE(failed.error().message.find("mcp/b"), std::string::npos) << failed.error().message;
    EXPECT_EQ(db_->rawQueryOne(
                     "SELECT COUNT(*) FROM tokens WHERE access_token LIKE 'ts1:" + k2.id() + ":%'")
                  .value(),
              "0");
    ASSERT_TRUE(
        db_->rawExec("UPDATE tokens SET access_token = '" + good_b + "' WHERE name = 'b'").ok());

    auto report = (*ring)->rotateKeys();
    ASSERT_TRUE(report.ok()) << report.error().message;
    // tokens: a 2 + b 1 + c 2 + demo 2, flow 2, client 2, key check 1.
    EXPECT_EQ(report->values_resealed, 12);
    EXPECT_EQ(report->values_current, 0);
    const std::string old_prefix = "'ts1:" + k1.id() + ":%'";
    for (const char* q :
         {"SELECT COUNT(*) FROM tokens WHERE access_token LIKE {} OR refresh_token LIKE {}",
          "SELECT COUNT(*) FROM pending_flows WHERE pkce_verifier LIKE {} OR "
          "authorization_url LIKE {}",
          "SELECT COUNT(*) FROM oauth_clients WHERE client_secret LIKE {} OR registration LIKE {}",
          "SELECT COUNT(*) FROM meta WHERE value LIKE {}"}) {
      std::string sql = q;
      for (size_t pos; (pos = sql.find("{}")) != std::string::npos;)
        sql.replace(pos, 2, old_prefix);
      EXPECT_EQ(db_->rawQueryOne(sql).value(), "0") << sql;
    }
    auto again = (*ring)->rotateKeys();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->values_resealed, 0);
    EXPECT_EQ(again->values_current, 12);
  }
  // The new key alone opens everything.
  auto fresh = open(aesSealer({k2}));
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ((*fresh)->getToken({"mcp", "a"}).value()->refresh_token, "a-rt");
  EXPECT_EQ((*fresh)->getToken({"mcp", "b"}).value()->access_token, "b-at");
  EXPECT_EQ((*fresh)->getToken({"api", "c"}).value()->access_token, "c-at");
  EXPECT_TRUE((*fresh)->getToken({"mcp", "demo"}).ok());
  EXPECT_TRUE((*fresh)->getClient("https://idp.example.com").value()->client_secret.has_value());
  EXPECT_TRUE((*fresh)->takePendingFlow("state").ok());
  fresh.value().reset();
  // The retired key alone does not.
  auto retired = open(aesSealer({k1}));
  ASSERT_FALSE(retired.ok());
  EXPECT_EQ(retired.error().code, Errc::kCrypto);
}

TEST_P(StoreSealingTest, WrongKeyIsAClearErrorAtStart) {
  {
    auto store = open(aesSealer({testKey('a')}));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->putToken(token({"mcp", "demo"}, "at", "rt", clock_.now()), 0).ok());
  }
  auto wrong = open(aesSealer({testKey('b')}));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::kCrypto);
  EXPECT_NE(wrong.error().message.find("does not match"), std::string::npos)
      << wrong.error().message;
  EXPECT_NE(wrong.error().message.find(testKey('a').id()), std::string::npos);
  EXPECT_NE(wrong.error().message.find(testKey('b').id()), std::string::npos);

  auto plain = open(std::shared_ptr<const Sealer>(makePlaintextSealer()));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, Errc::kCrypto);
  EXPECT_NE(plain.error().message.find("no sealing key is configured"), std::string::npos)
      << plain.error().message;

  auto none = open(nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kConfig);
  EXPECT_TRUE(open(aesSealer({testKey('a')})).ok());
}

TEST_P(StoreSealingTest, PlaintextStoreOpenedWithAKeyIsAClearError) {
  ASSERT_TRUE(open(std::shared_ptr<const Sealer>(makePlaintextSealer())).ok());
  auto keyed = open(aesSealer({testKey('a')}));
  ASSERT_FALSE(keyed.ok());
  EXPECT_EQ(keyed.error().code, Errc::kCrypto);
  EXPECT_NE(keyed.error().message.find("plaintext"), std::string::npos) << keyed.error().message;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreSealingTest,
                         ::testing::Values(BackendKind::kSqlite, BackendKind::kPostgres),
                         [](const auto& info) { return backendName(info.param); });

}  // namespace
}  // namespace tether::store::testing
