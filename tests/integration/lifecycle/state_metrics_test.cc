// What an alert rule sees on /metrics as the lifecycle moves a connection: the state gauge,
// the failure reason, the expiry and deadline timestamps, the keeper's heartbeat and lag.
// A real mock IdP on loopback, a real SQLite store and one simulated clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "core/random.h"
#include "lifecycle/lifecycle.h"
#include "mockidp/mock_idp.h"
#include "oauth/pkce.h"
#include "support/faulty_store.h"

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using store::ConnectionState;

constexpr char kRedirect[] = "http://127.0.0.1/oauth/callback";
constexpr char kConn[] = R"(kind="mcp",name="demo")";

double unix(core::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

/// The value of one series in a rendered registry, or nullopt when it is absent.
std::optional<double> sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (line.starts_with(prefix)) return std::stod(std::string(line.substr(prefix.size())));
    pos = end + 1;
  }
  return std::nullopt;
}

class StateMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tether-sm-" + core::newId().substr(0, 12));
    std::filesystem::create_directories(dir_);
    mockidp::MockIdpSettings s;
    s.access_token_lifetime = hours(1);
    s.refresh_idle_timeout = hours(24 * 30);
    s.disclose_refresh_expires_in = true;
    s.rotation = mockidp::Rotation::kRotate;
    mockidp::MockIdpOptions o;
    o.settings = s;
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
    store_ = store::openStore(std::move(so)).value();
    faulty_ = std::make_unique<testing::FaultyStore>(*store_);
    // The registry the bulk health query joins (the app syncs it from the configuration).
    store::ConnectionInfo info{key_, "oauth", true, "127.0.0.1"};
    ASSERT_TRUE(store_->syncConnections(std::span(&info, 1)).ok());

    recorder_ = std::make_unique<events::Recorder>(*faulty_, clock_, &metrics_);
    LifecycleOptions lo;
    lo.settings.jitter = seconds(0);  // due times exactly as policy computes them
    lo.owner = "test-replica";
    lifecycle_ = std::make_unique<Lifecycle>(std::vector<ConnectionSpec>{spec()}, *faulty_, *http_,
                                             *recorder_, clock_, &metrics_, lo);
    lifecycle_->start(false);
  }

  void TearDown() override {
    lifecycle_->stop();
    lifecycle_.reset();
    recorder_.reset();
    faulty_.reset();
    store_.reset();
    idp_->stop();
    std::filesystem::remove_all(dir_);
  }

  ConnectionSpec spec() const {
    ConnectionSpec s;
    s.key = key_;
    s.oauth.token_url = idp_->tokenUrl();
    s.oauth.client_id = "tether-client";
    s.oauth.client_secret = "tether-secret";
    s.oauth.client_auth = oauth::ClientAuthStyle::kBasic;
    s.oauth.use_proxy = false;
    s.oauth.total_timeout = std::chrono::milliseconds(5000);
    s.idp_host = "127.0.0.1";
    return s;
  }

  /// A real authorization-code exchange at the IdP, the tokens stored, the lifecycle told.
  store::TokenRecord connect() {
    const auto pkce = oauth::generatePkce();
    const std::string code = idp_->issueCode("tether-client", kRedirect, pkce.challenge);
    oauth::TokenEndpointClient client(*http_, spec().oauth, clock_);
    auto grant = client.exchangeCode(code, pkce.verifier, kRedirect);
    EXPECT_TRUE(grant.ok()) << grant.classification.code;
    store::TokenRecord r;
    r.key = key_;
    r.access_token = grant.tokens->access_token;
    r.refresh_token = grant.tokens->refresh_token;
    r.expires_at = grant.tokens->access_expires_at;
    r.refresh_expires_at = grant.tokens->refresh_expires_at;
    r.authenticated_at = clock_.now();
    r.authenticated_by = "admin:test";
    r.idp_host = "127.0.0.1";
    EXPECT_TRUE(store_->putToken(r, 0).ok());
    lifecycle_->source(key_)->onConnected();
    return r;
  }

  /// A scrape as the process serves it, after the snapshot's cache has run out.
  std::string scrape() {
    clock_.advance(seconds(2));
    lifecycle_->collectMetrics();
    return metrics_.render();
  }
  std::optional<double> state(const std::string& text, const std::string& s) {
    return sample(text, std::string("tether_connection_state{") + kConn + ",state=\"" + s + "\"}");
  }

  core::ManualClock clock_;
  std::filesystem::path dir_;
  store::ConnectionKey key_{"mcp", "demo"};
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<testing::FaultyStore> faulty_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<events::Recorder> recorder_;
  std::unique_ptr<Lifecycle> lifecycle_;
};

TEST_F(StateMetricsTest, TheStateGaugeFollowsTheLifecycleFromNotConnectedToNeedsReauth) {
  std::string m = scrape();
  EXPECT_EQ(state(m, "not_connected"), 1);
  EXPECT_EQ(state(m, "connected"), 0);
  EXPECT_EQ(state(m, "needs_reauth"), 0);
  EXPECT_THAT(m, ::testing::HasSubstr("# TYPE tether_token_expiry_timestamp_seconds gauge"));
  EXPECT_FALSE(sample(m, std::string("tether_token_expiry_timestamp_seconds{") + kConn + "}"));

  const auto token = connect();
  m = scrape();
  EXPECT_EQ(state(m, "not_connected"), 0);
  EXPECT_EQ(state(m, "connected"), 1);
  EXPECT_EQ(sample(m, std::string("tether_token_expiry_timestamp_seconds{") + kConn + "}"),
            unix(*token.expires_at));
  ASSERT_TRUE(token.refresh_expires_at.has_value());
  EXPECT_EQ(sample(m, std::string("tether_refresh_deadline_timestamp_seconds{") + kConn + "}"),
            unix(*token.refresh_expires_at));

  // The IdP rejects Tether's client: the keeper's next refresh marks needs_client_fix; the
  // grant is kept, and so are its timestamps.
  idp_->revokeClient("tether-client");
  clock_.advance(minutes(56));
  lifecycle_->keeper().tick();
  ASSERT_EQ(lifecycle_->source(key_)->status().state, ConnectionState::kNeedsClientFix);
  m = scrape();
  EXPECT_EQ(state(m, "connected"), 0);
  EXPECT_EQ(state(m, "needs_reauth"), 0);
  EXPECT_EQ(state(m, "needs_client_fix"), 1);
  EXPECT_EQ(sample(m, std::string("tether_connection_failure_reason{") + kConn +
                          ",reason=\"invalid_client\"}"),
            1);
  EXPECT_TRUE(sample(m, std::string("tether_token_expiry_timestamp_seconds{") + kConn + "}"));

  // A terminal rejection of the grant: needs_reauth, the token row is gone and so are its
  // timestamps.
  idp_->addClient({"tether-client", "tether-secret", {}});
  auto fixed = lifecycle_->source(key_)->oauthConfig();
  ASSERT_TRUE(lifecycle_->source(key_)->clientSettingsChanged(fixed, "127.0.0.1").has_value());
  ASSERT_EQ(lifecycle_->source(key_)->status().state, ConnectionState::kConnected);
  idp_->revokeAllRefreshTokens();
  clock_.advance(minutes(56));
  lifecycle_->keeper().tick();
  ASSERT_EQ(lifecycle_->source(key_)->status().state, ConnectionState::kNeedsReauth);
  m = scrape();
  EXPECT_EQ(state(m, "needs_client_fix"), 0);
  EXPECT_EQ(state(m, "needs_reauth"), 1);
  EXPECT_EQ(sample(m, std::string("tether_connection_failure_reason{") + kConn +
                          ",reason=\"invalid_grant\"}"),
            1);
  EXPECT_FALSE(sample(m, std::string("tether_token_expiry_timestamp_seconds{") + kConn + "}"));
  EXPECT_FALSE(sample(m, std::string("tether_refresh_deadline_timestamp_seconds{") + kConn + "}"));
}

TEST_F(StateMetricsTest, OneStoreQueryPerScrapeAndABrieflyCachedSnapshot) {
  scrape();
  const int before = faulty_->bulk_health_calls.load();
  // A scrape renders four families from one read.
  clock_.advance(seconds(2));
  metrics_.render();
  EXPECT_EQ(faulty_->bulk_health_calls.load(), before + 1);
  // A second scrape within the second is served from the snapshot.
  lifecycle_->collectMetrics();
  metrics_.render();
  EXPECT_EQ(faulty_->bulk_health_calls.load(), before + 1);
  scrape();
  EXPECT_EQ(faulty_->bulk_health_calls.load(), before + 2);
}

TEST_F(StateMetricsTest, AStoreThatCannotBeReadShowsNoStateRatherThanAStaleOne) {
  connect();
  EXPECT_EQ(state(scrape(), "connected"), 1);
  faulty_->broken_reads = true;
  const std::string m = scrape();
  EXPECT_FALSE(state(m, "connected"));
  EXPECT_THAT(m, ::testing::HasSubstr("# TYPE tether_connection_state gauge"));
  faulty_->broken_reads = false;
  EXPECT_EQ(state(scrape(), "connected"), 1);
}

TEST_F(StateMetricsTest, KeeperHeartbeatIsTheClocksTimeAndLagIsHowLateDueWorkRan) {
  std::string m = metrics_.render();
  EXPECT_EQ(sample(m, "tether_keeper_interval_seconds"), 300);
  lifecycle_->keeper().tick();  // the first tick: unscheduled rows are not "late"
  m = metrics_.render();
  EXPECT_EQ(sample(m, "tether_keeper_heartbeat_timestamp_seconds"), unix(clock_.now()));
  EXPECT_EQ(sample(m, "tether_keeper_lag_seconds_count"), 0);

  connect();
  auto row = store_->getState(key_).value();
  ASSERT_TRUE(row && row->next_due_at);
  // The keeper comes by 7 minutes after the connection fell due.
  clock_.set(*row->next_due_at + minutes(7));
  lifecycle_->keeper().tick();
  m = metrics_.render();
  EXPECT_EQ(sample(m, "tether_keeper_heartbeat_timestamp_seconds"), unix(clock_.now()));
  EXPECT_EQ(sample(m, "tether_keeper_lag_seconds_count"), 1);
  EXPECT_EQ(sample(m, "tether_keeper_lag_seconds_sum"), 420);
  EXPECT_EQ(sample(m, "tether_keeper_lag_seconds_bucket{le=\"300\"}"), 0);
  EXPECT_EQ(sample(m, "tether_keeper_lag_seconds_bucket{le=\"600\"}"), 1);
}

}  // namespace
}  // namespace tether::lifecycle
