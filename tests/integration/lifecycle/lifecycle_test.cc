// Token lifecycle scenarios (issue #5): a real mock IdP on loopback, the real outbound
// client, a real SQLite store, and one simulated clock shared by all of them, so hours of
// token life pass in milliseconds.
#include "lifecycle/lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <set>
#include <thread>

#include "core/log.h"
#include "core/random.h"
#include "mockidp/mock_idp.h"
#include "oauth/pkce.h"
#include "support/faulty_store.h"

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using store::ConnectionState;
using store::EventType;
using ::testing::HasSubstr;

constexpr char kRedirect[] = "http://127.0.0.1/oauth/callback";

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tether-lc-" + core::newId().substr(0, 12));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (lifecycle_) lifecycle_->stop();
    lifecycle_.reset();
    recorder_.reset();
    faulty_.reset();
    store_.reset();
    if (idp_) idp_->stop();
    core::log::setSinkForTesting(nullptr);
    std::filesystem::remove_all(dir_);
  }

  void startIdp(mockidp::MockIdpSettings settings) {
    mockidp::MockIdpOptions o;
    o.settings = settings;
    o.clients = {{"tether-client", "tether-secret", {}}};
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
  }

  void openStore() {
    store::SqliteOptions sq;
    sq.path = (dir_ / "tether.db").string();
    store::StoreOptions so;
    so.backend = sq;
    auto key = store::SealingKey::fromBytes(core::randomBytes(32));
    std::vector<store::SealingKey> keys;
    keys.push_back(std::move(key).value());
    so.sealer = std::shared_ptr<const store::Sealer>(
        store::makeAesGcmSealer(std::move(keys)).value().release());
    so.clock = &clock_;
    auto opened = store::openStore(std::move(so));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    faulty_ = std::make_unique<testing::FaultyStore>(*store_);
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

  void startLifecycle(Settings settings = {}, Hooks hooks = {}) {
    recorder_ = std::make_unique<events::Recorder>(*faulty_, clock_, &metrics_);
    LifecycleOptions o;
    o.settings = settings;
    o.owner = "test-replica";
    o.hooks = std::move(hooks);
    lifecycle_ = std::make_unique<Lifecycle>(std::vector<ConnectionSpec>{spec()}, *faulty_, *http_,
                                             *recorder_, clock_, &metrics_, o);
    lifecycle_->start(false);
  }

  /// A completed connect flow: a real authorization-code exchange with PKCE at the IdP,
  /// tokens stored, `connect_completed` recorded.
  void connect() {
    const auto pkce = oauth::generatePkce();
    const std::string code = idp_->issueCode("tether-client", kRedirect, pkce.challenge);
    oauth::TokenEndpointClient client(*http_, spec().oauth, clock_);
    auto grant = client.exchangeCode(code, pkce.verifier, kRedirect);
    ASSERT_TRUE(grant.ok()) << grant.classification.code;
    store::TokenRecord r;
    r.key = key_;
    r.access_token = grant.tokens->access_token;
    r.refresh_token = grant.tokens->refresh_token;
    r.token_type = grant.tokens->token_type;
    r.expires_at = grant.tokens->access_expires_at;
    r.refresh_expires_at = grant.tokens->refresh_expires_at;
    r.authenticated_at = clock_.now();
    r.authenticated_by = "admin:test";
    r.idp_host = "127.0.0.1";
    auto existing = store_->getToken(key_);
    ASSERT_TRUE(existing.ok());
    ASSERT_TRUE(store_->putToken(r, existing.value() ? existing.value()->version : 0).ok());
    recorder_->record({EventType::kConnectCompleted, key_, "admin:test", "127.0.0.1", "c1", {}});
    source()->onConnected();
  }

  std::shared_ptr<TokenSource> source() { return lifecycle_->source(key_); }

  /// Events oldest first.
  std::vector<store::AuthEvent> history() {
    auto events = store_->recentEvents(key_, 1000);
    EXPECT_TRUE(events.ok());
    auto v = events.value();
    std::reverse(v.begin(), v.end());
    return v;
  }
  int countEvents(EventType type) {
    int n = 0;
    for (const auto& e : history()) n += e.type == type;
    return n;
  }

  uint64_t refreshRequests() const { return idp_->counter("requests.token.refresh_token"); }

  /// Moves time forward in `step`s, running a keeper tick after each.
  void runKeeper(core::Duration total, core::Duration step) {
    for (core::Duration t{0}; t < total; t += step) {
      clock_.advance(step);
      lifecycle_->keeper().tick();
    }
  }

  store::ConnectionState storedState() {
    auto st = store_->getState(key_);
    EXPECT_TRUE(st.ok());
    return st.value() ? st.value()->state : ConnectionState::kNotConnected;
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

/// 15-minute access tokens and a 30-minute refresh idle window: after 45 idle minutes a
/// call needs a refresh, which only works if someone refreshed in between.
mockidp::MockIdpSettings idleIdp() {
  mockidp::MockIdpSettings s;
  s.access_token_lifetime = minutes(15);
  s.refresh_idle_timeout = minutes(30);  // Keycloak-like SSO idle
  s.disclose_refresh_expires_in = true;
  s.rotation = mockidp::Rotation::kRotate;
  return s;
}

/// An IdP whose refresh tokens do not idle out (the scenarios below are not about that).
mockidp::MockIdpSettings plainIdp() {
  auto s = idleIdp();
  s.access_token_lifetime = hours(1);
  s.refresh_idle_timeout = seconds(0);
  return s;
}

// 1. A connection nobody calls for 45 minutes outlives a 30-minute refresh idle timeout.
TEST_F(LifecycleTest, IdleConnectionIsKeptAliveByTheKeeper) {
  startIdp(idleIdp());
  openStore();
  startLifecycle();
  connect();
  runKeeper(minutes(45), minutes(5));
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_GT(r.value()->expires_at, clock_.now());
  EXPECT_GE(refreshRequests(), 2u);  // the 15-minute tokens were renewed while idle
  // History: connect, then at least one background refresh, before the call.
  auto h = history();
  ASSERT_GE(h.size(), 2u);
  EXPECT_EQ(h.front().type, EventType::kConnectCompleted);
  bool background_refresh = false;
  for (const auto& e : h) {
    if (e.type == EventType::kRefreshSucceeded && e.actor == events::kActorBackground) {
      background_refresh = true;
    }
  }
  EXPECT_TRUE(background_refresh);
  EXPECT_EQ(storedState(), ConnectionState::kConnected);
}

// The control: without the keeper the same idle connection dies, so the test above shows
// the keeper's doing.
TEST_F(LifecycleTest, WithoutTheKeeperTheIdleConnectionDies) {
  startIdp(idleIdp());
  openStore();
  startLifecycle();
  connect();
  clock_.advance(minutes(45));
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TokenError::Kind::kNeedsReauth);
  EXPECT_EQ(r.error().reason, "refresh_expired");  // the disclosed idle deadline passed
  EXPECT_EQ(countEvents(EventType::kRefreshSkippedExpired), 1);
}

// 2. A WAF answering HTML 403 for two hours, longer than the access token lives.
TEST_F(LifecycleTest, WafOutageNeverForcesReauthAndHealsAlone) {
  auto s = plainIdp();
  s.refresh_idle_timeout = std::chrono::seconds(0);
  startIdp(s);
  openStore();
  Settings settings;
  startLifecycle(settings);
  connect();
  mockidp::FaultRule waf;
  waf.grant = "refresh_token";
  waf.times = -1;
  waf.fault.kind = mockidp::FaultKind::kHtml403;
  idp_->addFault(waf);

  bool saw_unavailable = false;
  for (int minute = 0; minute < 120; ++minute) {
    clock_.advance(minutes(1));
    lifecycle_->keeper().tick();
    auto r = source()->token(std::string(events::kActorToolCall));
    if (!r.ok()) {
      ASSERT_EQ(r.error().kind, TokenError::Kind::kTemporarilyUnavailable) << r.error().reason;
      ASSERT_TRUE(r.error().retry_at.has_value());
      EXPECT_GT(*r.error().retry_at, clock_.now());
      EXPECT_EQ(r.error().reason, "http_403");
      saw_unavailable = true;
    }
    ASSERT_NE(source()->status().state, ConnectionState::kNeedsReauth);
  }
  EXPECT_TRUE(saw_unavailable) << "the access token should have expired during the outage";
  EXPECT_EQ(storedState(), ConnectionState::kRefreshFailing);
  EXPECT_EQ(countEvents(EventType::kRefreshFailedRevoked), 0);
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 0);
  // Bounded history: the state change plus at most one per 15 minutes of outage.
  const int transient = countEvents(EventType::kRefreshFailedTransient);
  EXPECT_GE(transient, 1);
  EXPECT_LE(transient, 1 + 120 / 15);
  EXPECT_GT(refreshRequests(), 10u);  // it kept trying

  idp_->clearFaults();
  runKeeper(minutes(6), minutes(1));  // past the longest backoff
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(storedState(), ConnectionState::kConnected);
  EXPECT_EQ(history().back().type, EventType::kRefreshSucceeded);
}

// 3. The client secret is rotated at the IdP (invalid_client): Tether's client is wrong, not
// the user's grant. The refresh token stays stored (sealed, untouched), the connection needs
// a client fix (no re-consent), nothing says "revoked", and the keeper stops trying. New
// client settings refresh at once with the same grant: connected, no connect flow between.
TEST_F(LifecycleTest, ARotatedClientSecretKeepsTheGrantAndHealsWithTheNewSecret) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();
  auto before = store_->getToken(key_);
  ASSERT_TRUE(before.ok() && before.value() && before.value()->refresh_token);
  const std::string held_refresh = *before.value()->refresh_token;
  const auto exchanges = idp_->counter("requests.token.authorization_code");

  idp_->addClient({"tether-client", "rotated-secret", {}});  // the old secret stops working
  clock_.advance(minutes(56));  // the access token is now within its refresh lead
  lifecycle_->keeper().tick();
  EXPECT_EQ(source()->status().state, ConnectionState::kNeedsClientFix);
  auto st = store_->getState(key_);
  ASSERT_TRUE(st.ok() && st.value());
  EXPECT_EQ(st.value()->state, ConnectionState::kNeedsClientFix);
  EXPECT_EQ(st.value()->last_error_code, "invalid_client");
  EXPECT_FALSE(st.value()->next_due_at) << "the keeper waits for new client settings";
  auto row = store_->getToken(key_);
  ASSERT_TRUE(row.ok() && row.value()) << "the tokens are kept";
  EXPECT_EQ(row.value()->refresh_token, held_refresh);
  EXPECT_EQ(row.value()->version, before.value()->version) << "untouched";
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 0);
  EXPECT_EQ(countEvents(EventType::kRefreshFailedRevoked), 0);
  ASSERT_EQ(countEvents(EventType::kRefreshFailedClientRejected), 1);
  EXPECT_THAT(history().back().detail_json, HasSubstr("\"idp_error\":\"invalid_client\""));
  EXPECT_THAT(history().back().detail_json, HasSubstr("\"error_class\":\"client\""));

  // The access token still works until it expires; then callers hear what is wrong.
  ASSERT_TRUE(source()->token().ok());
  const auto attempts = idp_->counter("requests.token.refresh_token");
  runKeeper(minutes(30), minutes(5));
  EXPECT_EQ(idp_->counter("requests.token.refresh_token"), attempts) << "no refresh until fixed";
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TokenError::Kind::kTemporarilyUnavailable);
  EXPECT_EQ(r.error().reason, "needs_client_fix");
  EXPECT_THAT(r.error().toError(key_).message,
              HasSubstr("the identity provider rejected Tether's client credentials"));
  EXPECT_EQ(idp_->counter("requests.token.refresh_token"), attempts) << "a call does not retry";

  // The operator fixes the secret: the next refresh happens at once and succeeds.
  auto fixed = source()->oauthConfig();
  fixed.client_secret = "rotated-secret";
  auto healed = source()->clientSettingsChanged(fixed, "127.0.0.1", "admin:ops");
  ASSERT_TRUE(healed.has_value());
  ASSERT_TRUE(healed->ok()) << healed->error().reason;
  EXPECT_EQ(source()->status().state, ConnectionState::kConnected);
  EXPECT_EQ(storedState(), ConnectionState::kConnected);
  EXPECT_EQ(idp_->counter("requests.token.refresh_token"), attempts + 1);
  EXPECT_EQ(idp_->counter("requests.token.authorization_code"), exchanges) << "no connect flow";
  auto after = store_->getToken(key_);
  ASSERT_TRUE(after.ok() && after.value());
  EXPECT_EQ(after.value()->authenticated_at, before.value()->authenticated_at) << "same grant";
  EXPECT_EQ(history().back().type, EventType::kRefreshSucceeded);
  EXPECT_EQ(history().back().actor, "admin:ops");
  EXPECT_THAT(history().back().detail_json, HasSubstr("\"reason\":\"recovered\""));
  st = store_->getState(key_);
  ASSERT_TRUE(st.ok() && st.value());
  EXPECT_TRUE(st.value()->next_due_at) << "the keeper looks after it again";
  EXPECT_TRUE(source()->token().ok());
  // Settings changing on a healthy connection cause no refresh.
  EXPECT_FALSE(source()->clientSettingsChanged(fixed, "127.0.0.1").has_value());
  EXPECT_EQ(idp_->counter("requests.token.refresh_token"), attempts + 1);
}

// 3a. The secret is fixed while Tether is down (the file edited, then a restart), or the
// connection is rebuilt with edited settings: the new process tries its settings once.
// Settings still rejected cost that one IdP call, no more.
TEST_F(LifecycleTest, AFixedSecretHealsAfterARestartAndAStillBadOneCostsOneCall) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();
  idp_->addClient({"tether-client", "rotated-secret", {}});
  clock_.advance(minutes(56));
  lifecycle_->keeper().tick();
  ASSERT_EQ(storedState(), ConnectionState::kNeedsClientFix);

  // Restarted with the same (rejected) settings: one check, then quiet.
  lifecycle_->stop();
  lifecycle_.reset();
  auto attempts = refreshRequests();
  startLifecycle();
  lifecycle_->keeper().tick();
  EXPECT_EQ(refreshRequests(), attempts + 1);
  EXPECT_EQ(source()->status().state, ConnectionState::kNeedsClientFix);
  runKeeper(minutes(30), minutes(5));
  EXPECT_EQ(refreshRequests(), attempts + 1) << "no retry until the settings change";
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 0);

  // Restarted with the fixed secret: connected at the first tick, same grant.
  lifecycle_->stop();
  lifecycle_.reset();
  recorder_ = std::make_unique<events::Recorder>(*faulty_, clock_, &metrics_);
  auto fixed = spec();
  fixed.oauth.client_secret = "rotated-secret";
  LifecycleOptions o;
  o.owner = "test-replica";
  lifecycle_ = std::make_unique<Lifecycle>(std::vector<ConnectionSpec>{fixed}, *faulty_, *http_,
                                           *recorder_, clock_, &metrics_, o);
  lifecycle_->start(false);
  lifecycle_->keeper().tick();
  EXPECT_EQ(source()->status().state, ConnectionState::kConnected);
  EXPECT_EQ(storedState(), ConnectionState::kConnected);
  EXPECT_TRUE(source()->token().ok());
}

// 3b. A client Tether registered itself (no client_id configured) is registered afresh at
// the next connect instead: needs_reauth, still without "revoked" in the history.
TEST_F(LifecycleTest, ARejectedRegisteredClientNeedsAReconnect) {
  startIdp(plainIdp());
  openStore();
  recorder_ = std::make_unique<events::Recorder>(*faulty_, clock_, &metrics_);
  auto registered = spec();
  registered.client_registered = true;
  LifecycleOptions o;
  o.owner = "test-replica";
  lifecycle_ = std::make_unique<Lifecycle>(std::vector<ConnectionSpec>{registered}, *faulty_,
                                           *http_, *recorder_, clock_, &metrics_, o);
  lifecycle_->start(false);
  connect();
  idp_->revokeClient("tether-client");
  clock_.advance(minutes(56));
  lifecycle_->keeper().tick();
  EXPECT_EQ(source()->status().state, ConnectionState::kNeedsReauth);
  auto st = store_->getState(key_);
  ASSERT_TRUE(st.ok() && st.value());
  EXPECT_EQ(st.value()->state, ConnectionState::kNeedsReauth);
  // What the connect flow reads to register a new client (flows/client_selection).
  EXPECT_EQ(st.value()->last_error_code, "invalid_client");
  EXPECT_EQ(countEvents(EventType::kRefreshFailedClientRejected), 1);
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 0);
  EXPECT_EQ(countEvents(EventType::kRefreshFailedRevoked), 0);
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TokenError::Kind::kNeedsReauth);
}

// 4. 429 with Retry-After: 600: nothing is sent to the IdP before 600 s.
TEST_F(LifecycleTest, RetryAfterIsHonouredAsTheFloor) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();
  mockidp::FaultRule limited;
  limited.grant = "refresh_token";
  limited.fault.kind = mockidp::FaultKind::kStatus;
  limited.fault.status = 429;
  limited.fault.retry_after = "600";
  idp_->addFault(limited);
  clock_.advance(minutes(56));
  (void)source()->token(std::string(events::kActorToolCall));
  ASSERT_EQ(refreshRequests(), 1u);
  const auto failed_at = clock_.now();
  for (int i = 0; i < 9; ++i) {
    clock_.advance(seconds(66));  // up to 594 s
    lifecycle_->keeper().tick();
    (void)source()->token(std::string(events::kActorToolCall));
    ASSERT_EQ(refreshRequests(), 1u) << "refreshed " << (clock_.now() - failed_at) / seconds(1)
                                     << " s after a Retry-After of 600 s";
  }
  clock_.set(failed_at + seconds(600));
  lifecycle_->keeper().tick();
  EXPECT_EQ(refreshRequests(), 2u);
  EXPECT_EQ(source()->status().state, ConnectionState::kConnected);
}

// 5. 1,000 concurrent callers on an expired token: one refresh, one new token for all.
TEST_F(LifecycleTest, ThunderingHerdMakesExactlyOneRefresh) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();
  ASSERT_TRUE(source()->token().ok());  // cached
  clock_.advance(minutes(61));          // expired
  const uint64_t before = refreshRequests();
  constexpr int kThreads = 20;
  constexpr int kPerThread = 50;
  std::latch done(kThreads * kPerThread);
  std::mutex mu;
  std::set<std::string> tokens;
  int failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        source()->acquire(std::string(events::kActorToolCall), [&](const TokenResult& r) {
          {
            std::lock_guard lock(mu);
            if (r.ok())
              tokens.insert(r.value()->value);
            else
              ++failures;
          }
          done.count_down();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  done.wait();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(tokens.size(), 1u);
  EXPECT_EQ(refreshRequests() - before, 1u);
}

// 7. Another replica rotated the one-time-use refresh token while ours was in flight: our
// invalid_grant must not delete their fresh token, and we use theirs.
TEST_F(LifecycleTest, LoserNeverDeletesTheWinnersToken) {
  auto s = plainIdp();
  s.refresh_idle_timeout = seconds(0);
  s.rotation = mockidp::Rotation::kOneTimeUse;
  s.revoke_family_on_reuse = false;
  startIdp(s);
  openStore();
  std::atomic<bool> raced{false};
  std::string winner_access;
  Hooks hooks;
  hooks.before_idp_call = [&] {
    if (raced.exchange(true)) return;
    // The other replica: refreshes with the same refresh token and writes its result.
    auto row = store_->getToken(key_).value().value();
    oauth::TokenEndpointClient other(*http_, spec().oauth, clock_);
    auto g = other.refresh(*row.refresh_token);
    ASSERT_TRUE(g.ok());
    winner_access = g.tokens->access_token;
    row.access_token = g.tokens->access_token;
    row.refresh_token = g.tokens->refresh_token;
    row.expires_at = g.tokens->access_expires_at;
    row.last_refreshed_at = clock_.now();
    ASSERT_TRUE(store_->putToken(row, row.version).ok());
  };
  startLifecycle({}, hooks);
  connect();
  clock_.advance(minutes(56));
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_TRUE(raced);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r.value()->value, winner_access);
  auto row = store_->getToken(key_);
  ASSERT_TRUE(row.ok() && row.value());
  EXPECT_EQ(row.value()->access_token, winner_access);
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 0);
  EXPECT_NE(source()->status().state, ConnectionState::kNeedsReauth);
}

// 8. The store refuses the rotated token twice: ERROR log, one event, the connection keeps
// working, and the new refresh token reaches the store once it recovers.
TEST_F(LifecycleTest, RotatedTokenSurvivesAFailingStore) {
  std::mutex log_mu;
  std::vector<std::string> lines;
  core::log::init(core::log::Format::kJson, core::LogLevel::kInfo);
  core::log::setSinkForTesting([&](std::string_view l) {
    std::lock_guard lock(log_mu);
    lines.emplace_back(l);
  });
  auto settings = plainIdp();
  settings.rotation = mockidp::Rotation::kOneTimeUse;  // a stale refresh token would fail
  startIdp(settings);
  openStore();
  startLifecycle();
  connect();
  const auto original = store_->getToken(key_).value().value();
  clock_.advance(minutes(56));
  faulty_->fail_put_token = 2;
  auto r = source()->token(std::string(events::kActorToolCall));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.value()->value, original.access_token);  // the new token is served
  EXPECT_TRUE(source()->status().persist_pending);
  EXPECT_EQ(store_->getToken(key_).value()->refresh_token, original.refresh_token);
  {
    std::lock_guard lock(log_mu);
    bool error_logged = false;
    for (const auto& l : lines) {
      if (l.find("\"level\":\"error\"") != std::string::npos &&
          l.find("could not persist refreshed tokens") != std::string::npos) {
        error_logged = true;
      }
    }
    EXPECT_TRUE(error_logged);
  }
  // Second failure, then recovery.
  clock_.advance(seconds(2));
  source()->keeperRefresh();
  EXPECT_TRUE(source()->status().persist_pending);
  clock_.advance(seconds(5));
  source()->keeperRefresh();
  EXPECT_FALSE(source()->status().persist_pending);
  EXPECT_EQ(countEvents(EventType::kRefreshRotationPersistenceFailed), 1);
  auto stored = store_->getToken(key_).value().value();
  EXPECT_NE(stored.refresh_token, original.refresh_token);
  EXPECT_EQ(stored.access_token, r.value()->value);
  EXPECT_EQ(refreshRequests(), 1u);  // no extra IdP call was needed
  // And the stored refresh token is the one the IdP will accept next.
  clock_.advance(minutes(56));
  EXPECT_TRUE(source()->refreshNow("admin:test").ok());
}

// An operator deletes the token while a rotated one waits to be written: the delete goes
// through the source (which holds the refresh lock meanwhile, so it neither waits for itself
// nor times out), the waiting token is dropped, and nothing brings it back.
TEST_F(LifecycleTest, AnAdminDeleteDropsARotatedTokenWaitingToBeWritten) {
  auto settings = plainIdp();
  settings.rotation = mockidp::Rotation::kOneTimeUse;
  startIdp(settings);
  openStore();
  startLifecycle();
  connect();
  clock_.advance(minutes(56));
  faulty_->fail_put_token = 1;
  ASSERT_TRUE(source()->token().ok());
  ASSERT_TRUE(source()->status().persist_pending);

  auto deleted = source()->deleteToken("admin:ops");
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(source()->status().persist_pending);
  EXPECT_EQ(source()->status().state, ConnectionState::kNotConnected);
  EXPECT_EQ(source()->status().reason, "deleted_by_admin");
  EXPECT_EQ(countEvents(EventType::kTokenDeletedAdmin), 1);
  auto r = source()->token();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TokenError::Kind::kNeedsReauth);
  // The keeper does not write the dropped token back.
  clock_.advance(seconds(5));
  source()->keeperRefresh();
  EXPECT_FALSE(store_->getToken(key_).value().has_value());
  auto state = store_->getState(key_).value();
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->state, ConnectionState::kNotConnected);
}

// Local terminal case: no refresh token and the access token expired.
TEST_F(LifecycleTest, NoRefreshTokenAfterExpiryNeedsReauth) {
  auto s = plainIdp();
  s.issue_refresh_tokens = false;
  startIdp(s);
  openStore();
  startLifecycle();
  connect();
  clock_.advance(minutes(56));
  EXPECT_TRUE(source()->token().ok());  // still valid: served as is
  clock_.advance(minutes(5));
  auto r = source()->token();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "no_refresh_token");
  EXPECT_EQ(countEvents(EventType::kRefreshSkippedNoToken), 1);
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 1);
  EXPECT_EQ(refreshRequests(), 0u);
}

// Upstream 401s: one refresh for a token believed valid, no storm after that.
TEST_F(LifecycleTest, InvalidateRefreshesOnceAndDoesNotStorm) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();
  auto first = source()->token();
  ASSERT_TRUE(first.ok());
  clock_.advance(minutes(10));
  EXPECT_TRUE(source()->invalidate(first.value()->version));
  auto second = source()->token();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.value()->value, first.value()->value);
  EXPECT_EQ(refreshRequests(), 1u);
  // The fresh token is rejected too: the upstream has another problem.
  EXPECT_FALSE(source()->invalidate(second.value()->version));
  for (int i = 0; i < 20; ++i) (void)source()->token();
  EXPECT_EQ(refreshRequests(), 1u);
}

}  // namespace
}  // namespace tether::lifecycle

namespace tether::lifecycle {
namespace {

// MCP step-up through the real runner and store: needs_reauth with reason
// insufficient_scope, the scopes remembered in the state row, one event per decision, and
// the loop bound that leaves the grant working. (Only the sleeps of bounded polls for the
// worker's write; no time logic waits on the wall clock.)
TEST_F(LifecycleTest, StepUpNeedsReauthRemembersTheScopesAndStopsAtTheBound) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();
  auto token = source()->token();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(source()->stepUp(token.value()->version + 1, "files:write").kind,
            StepUp::Kind::kStale);  // not the token in use: nothing changes
  const StepUp first = source()->stepUp(token.value()->version, "files:write");
  EXPECT_EQ(first.kind, StepUp::Kind::kReauth);
  EXPECT_EQ(first.scopes, "files:write");
  auto refused = source()->token();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, TokenError::Kind::kNeedsReauth);
  EXPECT_EQ(refused.error().reason, "insufficient_scope");
  // Written on the pool: the row (which any replica's connect flow reads) and the event.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::optional<store::StateRecord> row;
  while (std::chrono::steady_clock::now() < deadline) {
    row = store_->getState(key_).value();
    if (row && row->step_up_scopes == "files:write") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, ConnectionState::kNeedsReauth);
  EXPECT_EQ(row->reason, "insufficient_scope");
  EXPECT_EQ(row->step_up_scopes, "files:write");
  EXPECT_EQ(row->step_ups, 1);
  while (countEvents(EventType::kStepUpRequired) != 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(countEvents(EventType::kStepUpRequired), 1);

  connect();  // the operator reconnects (the flow asked for the union)
  token = source()->token();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(source()->status().step_up_scopes, "files:write");
  // The upstream refuses the same scope again, and again: the third stops the loop.
  EXPECT_EQ(source()->stepUp(token.value()->version, "files:write").kind, StepUp::Kind::kReauth);
  connect();
  token = source()->token();
  ASSERT_TRUE(token.ok());
  const StepUp third = source()->stepUp(token.value()->version, "files:write");
  EXPECT_EQ(third.kind, StepUp::Kind::kLimitReached);
  EXPECT_EQ(third.step_ups, 3);
  EXPECT_TRUE(source()->token().ok());  // the grant keeps working for other calls
  EXPECT_EQ(source()->stepUp(token.value()->version, "files:write").kind,
            StepUp::Kind::kLimitReached);
  lifecycle_->stop();
  EXPECT_EQ(countEvents(EventType::kStepUpLimitReached), 1);  // recorded once
  EXPECT_EQ(countEvents(EventType::kStepUpRequired), 2);
}

// client_credentials: the first token comes from the grant, it is renewed before expiry
// by the keeper, and a rejected client needs a client fix (never a re-authorization) and
// heals when the client settings change.
TEST_F(LifecycleTest, ClientCredentialsAreRenewedAndNeverNeedReauth) {
  startIdp(plainIdp());
  openStore();
  recorder_ = std::make_unique<events::Recorder>(*faulty_, clock_, &metrics_);
  auto cc = spec();
  cc.client_credentials = true;
  LifecycleOptions o;
  o.owner = "test-replica";
  lifecycle_ = std::make_unique<Lifecycle>(std::vector<ConnectionSpec>{cc}, *faulty_, *http_,
                                           *recorder_, clock_, &metrics_, o);
  lifecycle_->start(false);
  lifecycle_->keeper().tick();  // unscheduled at start: fetched in the first tick
  EXPECT_EQ(idp_->counter("requests.token.client_credentials"), 1u);
  auto first = source()->token();
  ASSERT_TRUE(first.ok());
  runKeeper(minutes(60), minutes(5));  // renewed before the hour is up, without any call
  EXPECT_EQ(idp_->counter("requests.token.client_credentials"), 2u);
  auto second = source()->token();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.value()->value, first.value()->value);
  EXPECT_GT(second.value()->expires_at, clock_.now());

  // A rejected client: needs_client_fix (never a re-authorization), no more grant requests
  // until the settings change, then a token at once.
  idp_->addClient({"tether-client", "rotated-secret", {}});
  runKeeper(minutes(60), minutes(5));
  EXPECT_EQ(source()->status().state, ConnectionState::kNeedsClientFix);
  EXPECT_EQ(source()->status().last_error_code, "invalid_client");
  EXPECT_EQ(countEvents(EventType::kRefreshFailedRevoked), 0);
  EXPECT_EQ(countEvents(EventType::kTokenDeletedRevoked), 0);
  EXPECT_EQ(countEvents(EventType::kRefreshFailedClientRejected), 1);
  const auto grants = idp_->counter("requests.token.client_credentials");
  runKeeper(minutes(30), minutes(5));
  EXPECT_EQ(idp_->counter("requests.token.client_credentials"), grants);
  auto r = source()->token();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, TokenError::Kind::kTemporarilyUnavailable);
  EXPECT_EQ(r.error().reason, "needs_client_fix");
  auto fixed = source()->oauthConfig();
  fixed.client_secret = "rotated-secret";
  auto healed = source()->clientSettingsChanged(fixed, "127.0.0.1");
  ASSERT_TRUE(healed.has_value() && healed->ok());
  EXPECT_EQ(source()->status().state, ConnectionState::kConnected);
  EXPECT_EQ(idp_->counter("requests.token.client_credentials"), grants + 1);
  EXPECT_TRUE(source()->token().ok());
  // The refresh metric counts every attempt by class.
  EXPECT_THAT(metrics_.render(),
              HasSubstr("tether_oauth_refresh_total{kind=\"mcp\",name=\"demo\",outcome=\"failed\","
                        "class=\"terminal\"}"));
}

}  // namespace
}  // namespace tether::lifecycle

namespace tether::lifecycle {
namespace {

// The keeper's daily job deletes auth events older than the retention (90 days by default).
TEST_F(LifecycleTest, KeeperPrunesEventsPastRetention) {
  startIdp(plainIdp());
  openStore();
  startLifecycle();
  connect();  // connect_completed, now
  lifecycle_->keeper().tick();
  ASSERT_EQ(countEvents(EventType::kConnectCompleted), 1);
  clock_.advance(std::chrono::hours(24 * 89));
  lifecycle_->keeper().tick();
  EXPECT_EQ(countEvents(EventType::kConnectCompleted), 1);  // 89 days: kept
  clock_.advance(std::chrono::hours(24 * 2));
  lifecycle_->keeper().tick();
  EXPECT_EQ(countEvents(EventType::kConnectCompleted), 0);  // 91 days: pruned
  EXPECT_GE(countEvents(EventType::kRefreshSucceeded), 1);  // newer history stays
}

}  // namespace
}  // namespace tether::lifecycle
