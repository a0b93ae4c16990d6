// Several Tether processes on one PostgreSQL against a standalone mock IdP, in real time:
// refresh ownership across replicas (issue #5 scenarios 6 and 9).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "core/encoding.h"
#include "core/random.h"
#include "http/http_client.h"
#include "oauth/pkce.h"
#include "oauth/token_endpoint_client.h"
#include "store/store.h"
#include "support/pg_database.h"
#include "support/process.h"

namespace tether {
namespace {

using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;

constexpr char kRedirect[] = "http://127.0.0.1/oauth/callback";

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::createPgDatabase("tether_replica");
    ASSERT_TRUE(db.ok()) << db.error().message;
    dsn_ = db->dsn;
    key_hex_ = core::hexEncode(core::randomBytes(32));
  }

  void startIdp(const std::string& rotation) {
    idp_ = std::make_unique<Child>(
        std::vector<std::string>{binaryDir() + "/tether-mock-idp", "--port", "0", "--rotation",
                                 rotation, "--access-token-lifetime", "1h", "--client",
                                 "tether-client:tether-secret", "--log-level", "warn"});
    ASSERT_TRUE(idp_->waitForStdout("listening on ", seconds(20))) << idp_->err();
    std::smatch m;
    const std::string out = idp_->out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(listening on (http://\S+))")));
    issuer_ = m[1];
  }

  std::unique_ptr<store::Store> openStore() {
    std::vector<store::SealingKey> keys;
    keys.push_back(store::SealingKey::fromBytes(core::hexDecode(key_hex_).value()).value());
    store::PostgresOptions pg;
    pg.dsn = dsn_;
    store::StoreOptions so;
    so.backend = pg;
    so.sealer = std::shared_ptr<const store::Sealer>(
        store::makeAesGcmSealer(std::move(keys)).value().release());
    auto opened = store::openStore(std::move(so));
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return std::move(opened).value();
  }

  /// A real authorization-code connect through the IdP's /authorize (auto-approve).
  void connect() {
    auto store = openStore();
    const auto pkce = oauth::generatePkce();
    http::ClientRequest authorize;
    authorize.url = issuer_ +
                    "/authorize?response_type=code&client_id=tether-client&redirect_uri=" +
                    core::percentEncode(kRedirect) + "&state=s1&code_challenge=" + pkce.challenge +
                    "&code_challenge_method=S256";
    auto r = http_->send(authorize);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.response.status, 302);
    const std::string location(http::findHeader(r.response.headers, "Location").value_or(""));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(location, m, std::regex(R"([?&]code=([^&]+))"))) << location;
    oauth::OAuthClientConfig cfg;
    cfg.token_url = issuer_ + "/token";
    cfg.client_id = "tether-client";
    cfg.client_secret = "tether-secret";
    cfg.use_proxy = false;
    oauth::TokenEndpointClient client(*http_, cfg, core::systemClock());
    auto grant =
        client.exchangeCode(core::formUrlDecode(m[1].str()).value(), pkce.verifier, kRedirect);
    ASSERT_TRUE(grant.ok()) << grant.classification.code;
    store::TokenRecord t;
    t.key = key_;
    t.access_token = grant.tokens->access_token;
    t.refresh_token = grant.tokens->refresh_token;
    t.expires_at = grant.tokens->access_expires_at;
    t.authenticated_at = core::systemClock().now();
    t.authenticated_by = "admin:test";
    ASSERT_TRUE(store->putToken(t, 0).ok());
    store::StateRecord st;
    st.key = key_;
    st.state = store::ConnectionState::kConnected;
    ASSERT_TRUE(store->putState(st).ok());
  }

  std::vector<std::string> driver(const std::string& mode, const std::string& until = "1") {
    return {binaryDir() + "/tests/integration/lifecycle/lifecycle_replica_driver",
            "--dsn",
            dsn_,
            "--idp",
            issuer_,
            "--key",
            key_hex_,
            "--mode",
            mode,
            "--until",
            until};
  }

  uint64_t counter(const std::string& name) {
    http::ClientRequest req;
    req.url = issuer_ + "/control/counters";
    auto r = http_->send(req);
    EXPECT_TRUE(r.ok());
    std::smatch m;
    if (!std::regex_search(r.response.body, m, std::regex("\"" + name + "\":(\\d+)"))) return 0;
    return std::stoull(m[1]);
  }

  int countEvents(store::Store& s, store::EventType type) {
    auto events = s.recentEvents(key_, 10000);
    EXPECT_TRUE(events.ok());
    int n = 0;
    for (const auto& e : events.value()) n += e.type == type;
    return n;
  }

  std::string dsn_;
  std::string key_hex_;
  std::string issuer_;
  store::ConnectionKey key_{"mcp", "shared"};
  std::unique_ptr<Child> idp_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
};

// Scenario 6: three replicas refresh one one-time-use token (family revocation on reuse)
// at random for 500 rotations: never invalid_grant, never needs_reauth, one IdP call each.
TEST_F(ReplicaTest, ThreeProcessesNeverBurnAOneTimeUseRefreshToken) {
  startIdp("one_time_use");
  connect();
  std::vector<std::unique_ptr<Child>> replicas;
  for (int i = 0; i < 3; ++i) replicas.push_back(std::make_unique<Child>(driver("loop", "500")));
  for (auto& r : replicas) {
    EXPECT_EQ(r->wait(seconds(240)), 0) << r->out() << r->err();
    EXPECT_THAT(r->out(), ::testing::HasSubstr("errors=0"));
  }
  const uint64_t refreshes = counter("requests.token.refresh_token");
  EXPECT_GE(refreshes, 500u);
  EXPECT_EQ(counter("refresh_reuse_attempts"), 0u);
  EXPECT_EQ(counter("families_revoked"), 0u);
  // Every refresh request issued exactly one new refresh token (one for the connect).
  EXPECT_EQ(counter("refresh_tokens_issued"), refreshes + 1);
  auto store = openStore();
  EXPECT_EQ(countEvents(*store, store::EventType::kRefreshFailedRevoked), 0);
  EXPECT_EQ(countEvents(*store, store::EventType::kTokenDeletedRevoked), 0);
  EXPECT_EQ(countEvents(*store, store::EventType::kRefreshSucceeded), static_cast<int>(refreshes));
  auto st = store->getState(key_);
  ASSERT_TRUE(st.ok() && st.value());
  EXPECT_EQ(st.value()->state, store::ConnectionState::kConnected);
}

// Scenario 9: SIGKILL after the IdP answered, before the new tokens were saved. With a
// rotating IdP that still accepts the previous refresh token, the restart recovers alone,
// and no event claims a deletion.
TEST_F(ReplicaTest, KilledMidRefreshRecoversWithoutReauth) {
  startIdp("rotate");
  connect();
  Child crash(driver("crash"));
  EXPECT_EQ(crash.wait(seconds(60)), 128 + SIGKILL) << crash.out() << crash.err();
  EXPECT_EQ(counter("requests.token.refresh_token"), 1u);  // the IdP did answer
  Child again(driver("once"));
  EXPECT_EQ(again.wait(seconds(60)), 0) << again.out() << again.err();
  auto store = openStore();
  EXPECT_EQ(countEvents(*store, store::EventType::kTokenDeletedRevoked), 0);
  EXPECT_EQ(countEvents(*store, store::EventType::kTokenDeletedAdmin), 0);
  EXPECT_EQ(countEvents(*store, store::EventType::kRefreshFailedRevoked), 0);
  EXPECT_EQ(countEvents(*store, store::EventType::kRefreshSucceeded), 1);
  auto st = store->getState(key_);
  ASSERT_TRUE(st.ok() && st.value());
  EXPECT_EQ(st.value()->state, store::ConnectionState::kConnected);
}

}  // namespace
}  // namespace tether
