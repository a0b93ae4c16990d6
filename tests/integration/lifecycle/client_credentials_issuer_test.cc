// client_credentials connections configured with only an `issuer` (issue 21 point 6): the
// token endpoint comes from the issuer's metadata, found by the lifecycle itself (there is
// no connect flow for these). A real mock IdP on loopback, a real SQLite store, one
// simulated clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/random.h"
#include "lifecycle/lifecycle.h"
#include "mockidp/mock_idp.h"

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using store::ConnectionState;
using store::EventType;
using ::testing::HasSubstr;

class ClientCredentialsIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tether-cci-" + core::newId().substr(0, 12));
    std::filesystem::create_directories(dir_);
    mockidp::MockIdpOptions o;
    o.settings.access_token_lifetime = hours(1);
    o.clients = {{"tether-client", "tether-secret", {}}};
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
    store::SqliteOptions sq;
    sq.path = (dir_ / "tether.db").string();
    store::StoreOptions so;
    so.backend = sq;
    std::vector<store::SealingKey> keys;
    keys.push_back(store::SealingKey::fromBytes(core::randomBytes(32)).value());
    so.sealer = std::shared_ptr<const store::Sealer>(
        store::makeAesGcmSealer(std::move(keys)).value().release());
    so.clock = &clock_;
    auto opened = store::openStore(std::move(so));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    recorder_ = std::make_unique<events::Recorder>(*store_, clock_, nullptr);
  }
  void TearDown() override {
    if (lifecycle_) lifecycle_->stop();
    lifecycle_.reset();
    recorder_.reset();
    store_.reset();
    if (idp_) idp_->stop();
    std::filesystem::remove_all(dir_);
  }

  /// As the README allows: grant client_credentials, issuer, client id and secret; no
  /// token_url.
  void start(const std::string& issuer) {
    ConnectionSpec s;
    s.key = key_;
    s.client_credentials = true;
    s.issuer = issuer;
    s.oauth.client_id = "tether-client";
    s.oauth.client_secret = "tether-secret";
    s.oauth.client_auth = oauth::ClientAuthStyle::kBasic;
    s.oauth.use_proxy = false;
    s.oauth.total_timeout = std::chrono::milliseconds(5000);
    s.idp_host = "127.0.0.1";
    LifecycleOptions o;
    o.owner = "test-replica";
    lifecycle_ = std::make_unique<Lifecycle>(std::vector<ConnectionSpec>{s}, *store_, *http_,
                                             *recorder_, clock_, nullptr, o);
    lifecycle_->start(false);
  }

  std::shared_ptr<TokenSource> source() { return lifecycle_->source(key_); }
  uint64_t grants() const { return idp_->counter("requests.token.client_credentials"); }

  core::ManualClock clock_;
  std::filesystem::path dir_;
  store::ConnectionKey key_{"mcp", "cc"};
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<events::Recorder> recorder_;
  std::unique_ptr<Lifecycle> lifecycle_;
};

// Regression: every keeper attempt failed at once with transport_invalid_request (an empty
// token URL), shown as refresh_failing forever.
TEST_F(ClientCredentialsIssuerTest, ConnectsInTheFirstKeeperTickAndIsRenewedBeforeExpiry) {
  start(idp_->issuer());
  lifecycle_->keeper().tick();
  EXPECT_EQ(grants(), 1u);
  EXPECT_EQ(source()->status().state, ConnectionState::kConnected)
      << source()->status().last_error_code;
  auto first = source()->token();
  ASSERT_TRUE(first.ok()) << first.error().reason;
  auto stored = store_->getToken(key_);
  ASSERT_TRUE(stored.ok() && *stored);
  EXPECT_EQ((*stored)->idp_host, "127.0.0.1");
  for (int i = 0; i < 12; ++i) {  // an hour in 5-minute keeper ticks
    clock_.advance(minutes(5));
    lifecycle_->keeper().tick();
  }
  EXPECT_EQ(grants(), 2u);  // renewed before expiry, without any call
  auto second = source()->token();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.value()->value, first.value()->value);
  EXPECT_GT(second.value()->expires_at, clock_.now());
}

// An issuer without metadata: a configuration error named as such, not a transport error,
// no grant attempted, and the keeper does not hammer the issuer.
TEST_F(ClientCredentialsIssuerTest, AnIssuerWithoutMetadataIsAConfigurationError) {
  start(idp_->issuer() + "/no-such-tenant");
  lifecycle_->keeper().tick();
  EXPECT_EQ(grants(), 0u);
  const auto status = source()->status();
  EXPECT_EQ(status.last_error_code, "token_endpoint_unknown");
  auto r = source()->token();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "token_endpoint_unknown");
  EXPECT_THAT(r.error().toError(key_).message, HasSubstr("token_endpoint_unknown"));
  auto events = store_->recentEvents(key_, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().type, EventType::kRefreshFailedTransient);
  EXPECT_THAT(events->front().detail_json, HasSubstr("\"error_class\":\"configuration\""));
  EXPECT_EQ(events->front().idp_host, "127.0.0.1");
  ASSERT_TRUE(status.next_attempt_at.has_value());
  EXPECT_GE(*status.next_attempt_at, clock_.now() + std::chrono::seconds(1));
}

}  // namespace
}  // namespace tether::lifecycle
