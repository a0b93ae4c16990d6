// The outbox and its worker against a real receiver on loopback, on SQLite and PostgreSQL:
// at-least-once with one webhook-id across retries, backoff on the injected clock, giving up
// after max_age, hostile receivers, the reauthorize_soon notice once per deadline, and
// several replicas sharing one outbox.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>

#include "core/digest.h"
#include "core/encoding.h"
#include "integration/store/store_test_env.h"
#include "integration/webhooks/receiver.h"
#include "webhooks/payload.h"
#include "webhooks/service.h"
#include "webhooks/signing.h"

namespace tether::webhooks {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using store::ConnectionState;
using store::OutboxStatus;
using store::testing::BackendKind;
using store::testing::TestDatabase;
using testing::Behaviour;
using ::testing::HasSubstr;
using testing::Receiver;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

store::StateRecord row(ConnectionState s, std::string reason = "") {
  store::StateRecord r;
  r.key = {"mcp", "demo"};
  r.state = s;
  r.reason = reason;
  r.last_error_code = reason;
  return r;
}

class DeliveryTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    clock_.set(core::TimePoint(std::chrono::seconds(1'800'000'000)));
    ASSERT_TRUE(receiver_.start());
    db_ = TestDatabase::create(GetParam());
    ASSERT_NE(db_, nullptr);
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    receiver_.stop();
    services_.clear();
    if (recorder_) recorder_->stop();
    recorder_.reset();
    store_.reset();
  }

  std::unique_ptr<store::Store> open() {
    auto opened = store::openStore(
        db_->options(store::testing::aesSealer({store::testing::testKey('w')}), &clock_));
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  ServiceOptions options() {
    ServiceOptions o;
    config::WebhookConfig hook;
    hook.url = receiver_.url() + "?token=query-NEVER-PRINT";
    hook.secret = kSecret;
    hook.events.assign(std::begin(config::kAllWebhookEvents), std::end(config::kAllWebhookEvents));
    hook.headers = {{"X-Custom", "custom-NEVER-PRINT"}};
    o.hooks = {hook};
    o.delivery.timeout = milliseconds(2000);
    o.delivery.backoff_initial = seconds(10);
    o.delivery.backoff_max = minutes(5);
    o.delivery.max_age = hours(1);
    o.delivery.poll_interval = milliseconds(20);
    o.public_url = "https://tether.example";
    o.connections = {{{"mcp", "demo"}, "idp.example.com", std::nullopt}};
    return o;
  }

  Service& service(store::Store& store, ServiceOptions o, std::string owner = "replica-a") {
    o.owner = std::move(owner);
    if (!recorder_) recorder_ = std::make_unique<events::Recorder>(store, clock_, &metrics_);
    auto s = Service::create(std::move(o), store, clock_, &metrics_, recorder_.get());
    EXPECT_TRUE(s.ok());
    services_.push_back(std::move(s).value());
    return *services_.back();
  }

  /// Writes `after` over `before` through the producer (one transaction).
  void change(Service& s, const store::StateRecord& after) {
    ASSERT_TRUE(store_->outbox().putStateAndEnqueue(after, s.deriver()).ok());
  }

  std::vector<store::OutboxMessage> log() {
    auto r = store_->outbox().recentMessages(100);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<store::OutboxMessage>{};
  }

  double metric(const std::string& outcome) {
    return metrics_.counter("tether_webhook_deliveries_total", "", {{"outcome", outcome}}).value();
  }

  core::ManualClock clock_;
  core::MetricsRegistry metrics_;
  Receiver receiver_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<events::Recorder> recorder_;
  std::vector<std::unique_ptr<Service>> services_;
};

TEST_P(DeliveryTest, EachTransitionIsOneSignedDelivery) {
  Service& s = service(*store_, options());
  change(s, row(ConnectionState::kConnected));
  change(s, row(ConnectionState::kConnected));  // no change: nothing
  change(s, row(ConnectionState::kRefreshFailing, "http_503"));
  change(s, row(ConnectionState::kRefreshFailing, "http_503"));  // same episode: nothing
  change(s, row(ConnectionState::kConnected));
  change(s, row(ConnectionState::kNeedsReauth, "invalid_grant"));
  change(s, row(ConnectionState::kConnected));
  change(s, row(ConnectionState::kNeedsClientFix, "invalid_client"));
  EXPECT_EQ(s.deliverDueNow(), 6u);
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 6u);
  std::vector<std::string> types;
  auto key = signingKey(kSecret).value();
  std::set<std::string> ids;
  for (const auto& r : got) {
    auto doc = boost::json::parse(r.body).as_object();
    types.push_back(std::string(doc.at("type").as_string()));
    EXPECT_EQ(r.signature, signature(key, r.id, std::stoll(r.timestamp), r.body));
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.custom, "custom-NEVER-PRINT");  // configured headers are sent
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr("NEVER-PRINT")));
    ids.insert(r.id);
  }
  EXPECT_THAT(types, ::testing::ElementsAre("connected", "refresh_failing", "recovered",
                                            "needs_reauth", "connected", "needs_client_fix"));
  EXPECT_EQ(ids.size(), 6u);
  for (const auto& m : log()) EXPECT_EQ(m.status, OutboxStatus::kDelivered);
  EXPECT_EQ(metric("delivered"), 6);
  EXPECT_EQ(s.deliverDueNow(), 0u);
}

TEST_P(DeliveryTest, FailingThreeTimesThenSucceedingGetsItOnceMoreWithTheSameId) {
  Service& s = service(*store_, options());
  receiver_.script({Behaviour::kStatus500, Behaviour::kStatus500, Behaviour::kStatus500});
  change(s, row(ConnectionState::kRefreshFailing, "http_503"));
  EXPECT_EQ(s.deliverDueNow(), 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(s.deliverDueNow(), 0u) << "backing off: nothing due before the next attempt";
    auto m = log().at(0);
    EXPECT_EQ(m.status, OutboxStatus::kPending);
    EXPECT_EQ(m.last_status, 500);
    EXPECT_GT(m.next_attempt_at, clock_.now());
    EXPECT_LE(m.next_attempt_at, clock_.now() + minutes(5));
    clock_.set(m.next_attempt_at);
    EXPECT_EQ(s.deliverDueNow(), 1u);
  }
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 4u);
  for (const auto& r : got) EXPECT_EQ(r.id, got[0].id);
  auto m = log().at(0);
  EXPECT_EQ(m.status, OutboxStatus::kDelivered);
  EXPECT_EQ(m.attempts, 4);
  EXPECT_EQ(metric("failed"), 3);
  EXPECT_EQ(metric("delivered"), 1);
}

TEST_P(DeliveryTest, BackoffGrowsAndIsGivenUpAfterMaxAge) {
  Service& s = service(*store_, options());
  receiver_.script({}, Behaviour::kStatus500);
  change(s, row(ConnectionState::kNeedsReauth, "invalid_grant"));
  const core::TimePoint created = clock_.now();
  std::vector<core::Duration> waits;
  for (int i = 0; i < 100 && log().at(0).status == OutboxStatus::kPending; ++i) {
    const core::TimePoint before = clock_.now();
    ASSERT_EQ(s.deliverDueNow(), 1u);
    auto m = log().at(0);
    if (m.status != OutboxStatus::kPending) break;
    waits.push_back(std::chrono::duration_cast<core::Duration>(m.next_attempt_at - before));
    clock_.set(m.next_attempt_at);
  }
  auto m = log().at(0);
  EXPECT_EQ(m.status, OutboxStatus::kGivenUp);
  EXPECT_GE(clock_.now(), created + hours(1));
  ASSERT_GE(waits.size(), 4u);
  EXPECT_LE(waits[0], seconds(10));
  EXPECT_GE(waits[3], seconds(40));  // 80 s capped window, at least half of it
  for (auto w : waits) EXPECT_LE(w, minutes(5));
  EXPECT_EQ(metric("given_up"), 1);
  EXPECT_EQ(s.deliverDueNow(), 0u);
  // An auth event on the connection's history says so.
  recorder_->flush();
  auto events = store_->recentEvents({"mcp", "demo"}, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().type, store::EventType::kWebhookGivenUp);
  EXPECT_EQ(events->front().actor, "system:webhooks");
  EXPECT_EQ(events->front().correlation_id, m.message_id);
  EXPECT_THAT(events->front().detail_json, HasSubstr("max_age"));
}

TEST_P(DeliveryTest, HostileReceiversAreRetriedWithoutBlocking) {
  ServiceOptions o = options();
  o.delivery.timeout = milliseconds(500);
  Service& s = service(*store_, o);
  receiver_.script({Behaviour::kHang, Behaviour::kRedirect, Behaviour::kHugeBody});
  change(s, row(ConnectionState::kRefreshFailing, "http_503"));
  change(s, row(ConnectionState::kConnected));
  change(s, row(ConnectionState::kNeedsReauth, "invalid_grant"));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(s.deliverDueNow(), 3u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(5)) << "bounded by the timeout";
  std::map<std::string, store::OutboxMessage> by_event;
  for (auto& m : log()) by_event[m.event] = m;
  EXPECT_EQ(by_event["refresh_failing"].status, OutboxStatus::kPending);
  EXPECT_THAT(by_event["refresh_failing"].last_error, HasSubstr("timeout"));
  EXPECT_EQ(by_event["recovered"].status, OutboxStatus::kPending);
  EXPECT_THAT(by_event["recovered"].last_error, HasSubstr("redirect"));
  EXPECT_EQ(by_event["recovered"].last_status, 302);
  EXPECT_EQ(by_event["needs_reauth"].status, OutboxStatus::kPending);
  EXPECT_THAT(by_event["needs_reauth"].last_error, HasSubstr("64 KiB"));
  EXPECT_EQ(metric("failed"), 3);
  // The receiver heals: every one of them arrives on its next attempt.
  clock_.advance(minutes(5));
  EXPECT_EQ(s.deliverDueNow(), 3u);
  for (auto& m : log()) EXPECT_EQ(m.status, OutboxStatus::kDelivered) << m.event;
}

TEST_P(DeliveryTest, AnUnreachableReceiverIsRetried) {
  ServiceOptions o = options();
  o.hooks[0].url = "http://127.0.0.1:1/hook";  // nothing listens there
  Service& s = service(*store_, o);
  change(s, row(ConnectionState::kRefreshFailing, "http_503"));
  EXPECT_EQ(s.deliverDueNow(), 1u);
  auto m = log().at(0);
  EXPECT_EQ(m.status, OutboxStatus::kPending);
  EXPECT_EQ(m.last_status, 0);
  EXPECT_FALSE(m.last_error.empty());
}

TEST_P(DeliveryTest, ReauthorizeSoonOncePerDeadline) {
  ServiceOptions o = options();
  o.connections[0].refresh_max_lifetime = hours(24 * 30);
  o.delivery.warn_before = hours(24 * 7);
  Service& s = service(*store_, o);
  store::ConnectionInfo info{{"mcp", "demo"}, "oauth", true, "idp.example.com"};
  ASSERT_TRUE(store_->syncConnections(std::vector<store::ConnectionInfo>{info}).ok());
  store::TokenRecord t;
  t.key = {"mcp", "demo"};
  t.access_token = "at-NEVER-PRINT";
  t.refresh_token = "rt-NEVER-PRINT";
  t.expires_at = clock_.now() + hours(1);
  t.authenticated_at = clock_.now();
  t.authenticated_by = "admin:test";
  t.idp_host = "idp.example.com";
  ASSERT_TRUE(store_->putToken(t, 0).ok());
  change(s, row(ConnectionState::kConnected));
  ASSERT_EQ(s.deliverDueNow(), 1u);  // connected
  EXPECT_EQ(s.scanDeadlines().value(), 0u) << "30 days away";
  clock_.advance(hours(24 * 24));  // 6 days left
  EXPECT_EQ(s.scanDeadlines().value(), 1u);
  EXPECT_EQ(s.scanDeadlines().value(), 0u) << "once per deadline";
  // A restarted process (a new store and service on the same database) remembers it.
  services_.clear();
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  Service& other = service(*store_, o, "replica-b");
  EXPECT_EQ(other.scanDeadlines().value(), 0u);
  ASSERT_EQ(other.deliverDueNow(), 1u);
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 2u);
  auto doc = boost::json::parse(got[1].body).as_object();
  EXPECT_EQ(doc.at("type"), "reauthorize_soon");
  EXPECT_EQ(std::string(doc.at("data").at("refresh_deadline").as_string()),
            core::formatRfc3339(t.authenticated_at + hours(24 * 30)));
  EXPECT_THAT(got[1].body, ::testing::Not(HasSubstr("NEVER-PRINT")));
}

TEST_P(DeliveryTest, ARemovedWebhookIsGivenUp) {
  Service& s = service(*store_, options());
  change(s, row(ConnectionState::kNeedsReauth, "invalid_grant"));
  ServiceOptions o = options();
  o.hooks[0].url = receiver_.url() + "?other";
  Service& changed = service(*store_, o, "replica-b");
  EXPECT_EQ(changed.deliverDueNow(), 1u);
  EXPECT_EQ(log().at(0).status, OutboxStatus::kGivenUp);
  EXPECT_EQ(log().at(0).last_error, "the webhook is no longer configured");
  EXPECT_TRUE(receiver_.received().empty());
}

// A reload replaces the endpoints of a running service: a queued message is not lost and
// goes out with the new secret and headers; a removed endpoint receives nothing more (its
// queued message is given up); the events filter applies to new messages; a malformed
// secret changes nothing; endpoints added to a service that started with none are served.
TEST_P(DeliveryTest, EndpointsReloadLive) {
  constexpr char kSecond[] = "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGhlLXJlbG9hZC10ZXN0";
  Service& s = service(*store_, options());
  change(s, row(ConnectionState::kNeedsReauth, "invalid_grant"));  // queued for the old one
  auto hooks = options().hooks;
  hooks[0].secret = kSecond;
  hooks[0].headers = {{"X-Custom", "second-NEVER-PRINT"}};
  ASSERT_TRUE(s.setHooks(hooks).ok());
  EXPECT_EQ(s.deliverDueNow(), 1u);
  auto got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].custom, "second-NEVER-PRINT");
  EXPECT_EQ(got[0].signature, signature(signingKey(kSecond).value(), got[0].id,
                                        std::stoll(got[0].timestamp), got[0].body));

  // Moved to another receiver: a message queued for the first is given up, new ones go to
  // the second only.
  Receiver other;
  ASSERT_TRUE(other.start());
  change(s, row(ConnectionState::kConnected));  // queued for the first receiver
  hooks[0].url = other.url();
  ASSERT_TRUE(s.setHooks(hooks).ok());
  EXPECT_EQ(s.deliverDueNow(), 1u);
  EXPECT_EQ(log().at(0).status, OutboxStatus::kGivenUp);
  EXPECT_EQ(log().at(0).last_error, "the webhook is no longer configured");
  change(s, row(ConnectionState::kRefreshFailing, "http_503"));
  EXPECT_EQ(s.deliverDueNow(), 1u);
  EXPECT_EQ(receiver_.received().size(), 1u);  // nothing more for the removed one
  ASSERT_EQ(other.received().size(), 1u);
  EXPECT_EQ(boost::json::parse(other.received()[0].body).at("type"), "refresh_failing");

  // The events filter: only `connected` is wanted now.
  hooks[0].events = {config::WebhookEvent::kConnected};
  ASSERT_TRUE(s.setHooks(hooks).ok());
  change(s, row(ConnectionState::kNeedsReauth, "invalid_grant"));
  EXPECT_EQ(s.deliverDueNow(), 0u);
  EXPECT_EQ(s.hooks().at(0).url, other.url());

  // A malformed secret: refused naming the webhook, nothing changes.
  auto bad = hooks;
  bad[0].secret = "whsec_short";
  auto refused = s.setHooks(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Errc::kConfig);
  EXPECT_THAT(refused.error().message, ::testing::Not(HasSubstr("whsec_short")));
  change(s, row(ConnectionState::kConnected));
  EXPECT_EQ(s.deliverDueNow(), 1u);
  EXPECT_EQ(other.received().size(), 2u);
  other.stop();

  // Started with none; the worker starts with the first endpoint and delivers by itself.
  ServiceOptions none = options();
  none.hooks.clear();
  Service& later = service(*store_, none, "replica-b");
  later.start();
  ASSERT_TRUE(later.setHooks(options().hooks).ok());
  change(later, row(ConnectionState::kNeedsClientFix, "invalid_client"));
  later.wake();
  ASSERT_TRUE(receiver_.waitFor(2, seconds(10)));
  EXPECT_EQ(boost::json::parse(receiver_.received().back().body).at("type"), "needs_client_fix");
  later.stop();
}

TEST_P(DeliveryTest, TestDeliveryUsesTheSameSigning) {
  Service& s = service(*store_, options());
  auto out = s.sendTest(0);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->delivered);
  EXPECT_EQ(out->status, 200);
  ASSERT_EQ(receiver_.received().size(), 1u);
  const auto r = receiver_.received()[0];
  EXPECT_EQ(r.id, out->message_id);
  EXPECT_EQ(r.signature,
            signature(signingKey(kSecret).value(), r.id, std::stoll(r.timestamp), r.body));
  EXPECT_EQ(boost::json::parse(r.body).at("type"), "test");
  EXPECT_EQ(s.sendTest(3).error().code, core::Errc::kNotFound);
  receiver_.script({Behaviour::kStatus500});
  out = s.sendTest(0);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->delivered);
  EXPECT_EQ(out->status, 500);
  EXPECT_EQ(out->error, "http 500");
}

// Several replicas share the outbox: each running worker claims different messages, and
// every message reaches the receiver exactly once.
TEST_P(DeliveryTest, SeveralReplicasDeliverEachMessageOnce) {
  if (GetParam() == BackendKind::kSqlite) GTEST_SKIP() << "SQLite is one process by design";
  std::vector<std::unique_ptr<store::Store>> stores;
  std::vector<Service*> replicas;
  for (int i = 0; i < 3; ++i) {
    stores.push_back(open());
    ASSERT_NE(stores.back(), nullptr);
    std::string owner = "replica-";
    owner += std::to_string(i);
    replicas.push_back(&service(*stores.back(), options(), owner));
  }
  Service& producer = *replicas[0];
  constexpr int kMessages = 60;
  for (int i = 0; i < kMessages; ++i) {
    store::StateRecord r = row(ConnectionState::kConnected);
    r.key.name = std::string("c");
    r.key.name += std::to_string(i);
    change(producer, r);
  }
  for (Service* s : replicas) s->start();
  ASSERT_TRUE(receiver_.waitFor(kMessages, seconds(30)));
  for (Service* s : replicas) s->stop();
  const auto got = receiver_.received();
  std::map<std::string, int> per_id;
  for (const auto& r : got) ++per_id[r.id];
  EXPECT_EQ(got.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(per_id.size(), static_cast<size_t>(kMessages));
  for (const auto& [id, n] : per_id) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(store_->outbox().pendingMessages().value(), 0);
  services_.clear();
}

INSTANTIATE_TEST_SUITE_P(Backends, DeliveryTest,
                         ::testing::Values(BackendKind::kSqlite, BackendKind::kPostgres),
                         [](const auto& info) { return store::testing::backendName(info.param); });

}  // namespace
}  // namespace tether::webhooks
