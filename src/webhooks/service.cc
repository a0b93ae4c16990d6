// The webhook producer, the reauthorize_soon scan and the outbox worker.

#include "webhooks/service.h"

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/random.h"
#include "lifecycle/policy.h"
#include "webhooks/payload.h"
#include "webhooks/signing.h"

namespace tether::webhooks {
namespace {

using config::WebhookEvent;
using store::OutboxMessage;
using store::OutboxStatus;

constexpr std::string_view kReauthorizeSoon = "reauthorize_soon";

/// Messages of one event for every webhook that wants it (one id each).
std::vector<OutboxMessage> messagesFor(const std::vector<Webhook>& hooks, WebhookEvent event,
                                       const store::ConnectionKey& key, const std::string& body) {
  std::vector<OutboxMessage> out;
  for (const Webhook& h : hooks) {
    if (!h.wants(event)) continue;
    OutboxMessage m;
    m.message_id = newMessageId();
    m.webhook_key = h.webhook_key;
    m.event = std::string(config::webhookEventName(event));
    m.key = key;
    m.body = body;
    out.push_back(std::move(m));
  }
  return out;
}

core::Result<std::vector<Webhook>> webhooksFromConfig(
    const std::vector<config::WebhookConfig>& configs) {
  std::vector<Webhook> out;
  for (size_t i = 0; i < configs.size(); ++i) {
    TETHER_TRY_ASSIGN(Webhook hook, Webhook::fromConfig(i, configs[i]));
    out.push_back(std::move(hook));
  }
  return out;
}

double randomUnit() {
  const std::string b = core::randomBytes(8);
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return static_cast<double>(v >> 11) * 0x1.0p-53;
}

}  // namespace

const ConnectionFacts* Service::Shared::find(const store::ConnectionKey& key) const {
  for (const ConnectionFacts& c : connections) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

core::Result<std::unique_ptr<Service>> Service::create(ServiceOptions options, store::Store& store,
                                                       const core::Clock& clock,
                                                       core::MetricsRegistry* metrics,
                                                       events::Recorder* recorder,
                                                       std::unique_ptr<http::HttpClient> client) {
  auto shared = std::make_shared<Shared>();
  TETHER_TRY_ASSIGN(shared->hooks, webhooksFromConfig(options.hooks));
  shared->connections = options.connections;
  shared->public_url = options.public_url;
  while (shared->public_url.ends_with('/')) shared->public_url.pop_back();
  shared->clock = &clock;
  if (!client) {
    http::HttpClientOptions co;
    co.worker_threads = 1;  // only blocking sends: the pool below does the waiting
    co.user_agent = "tether-webhooks";
    client = http::makeHttpClient(co);
  }
  return std::unique_ptr<Service>(new Service(std::move(options), std::move(shared), store, clock,
                                              metrics, recorder, std::move(client)));
}

Service::Service(ServiceOptions options, std::shared_ptr<const Shared> shared, store::Store& store,
                 const core::Clock& clock, core::MetricsRegistry* metrics,
                 events::Recorder* recorder, std::unique_ptr<http::HttpClient> client)
    : options_(std::move(options)),
      current_(std::make_shared<Current>()),
      store_(store),
      clock_(clock),
      recorder_(recorder),
      client_(std::move(client)),
      owner_(options_.owner.empty() ? "tether-" + core::newId().substr(0, 12) : options_.owner) {
  current_->shared = std::move(shared);
  if (metrics) {
    const std::string name = "tether_webhook_deliveries_total";
    const std::string help = "Webhook delivery attempts by outcome (failed: will be retried)";
    delivered_ = &metrics->counter(name, help, {{"outcome", "delivered"}});
    failed_ = &metrics->counter(name, help, {{"outcome", "failed"}});
    given_up_ = &metrics->counter(name, help, {{"outcome", "given_up"}});
    queue_depth_ =
        &metrics->gauge("tether_webhook_queue_depth", "Webhook messages waiting to be delivered");
  }
}

Service::~Service() { stop(); }

store::OutboxDeriver Service::deriver() const {
  return [current = current_](const std::optional<store::StateRecord>& before,
                              const store::StateRecord& after) -> std::vector<OutboxMessage> {
    const auto shared = current->get();
    if (shared->hooks.empty()) return {};
    const auto event = eventForChange(before, after);
    if (!event) return {};
    const bool wanted = std::any_of(shared->hooks.begin(), shared->hooks.end(),
                                    [&](const Webhook& h) { return h.wants(*event); });
    if (!wanted) return {};
    const ConnectionFacts* conn = shared->find(after.key);
    const std::string body = buildPayload(factsFor(*event, after, conn ? conn->idp_host : "",
                                                   shared->public_url, shared->clock->now()));
    return messagesFor(shared->hooks, *event, after.key, body);
  };
}

core::Status Service::setHooks(const std::vector<config::WebhookConfig>& hooks) {
  TETHER_TRY_ASSIGN(auto built, webhooksFromConfig(hooks));
  {
    std::lock_guard lock(current_->mu);
    auto next = std::make_shared<Shared>(*current_->shared);
    next->hooks = std::move(built);
    current_->shared = std::move(next);
  }
  std::string urls;
  for (const auto& h : shared()->hooks) urls += (urls.empty() ? "" : ", ") + h.masked_url;
  core::log::info("webhooks reloaded", {{"webhooks", urls}});
  bool start_now = false;
  {
    std::lock_guard lock(mu_);
    start_now = started_ && !worker_.joinable() && !stopping_;
  }
  if (start_now) start();
  wake();  // queued messages of a removed endpoint are given up at once, not at the next poll
  return core::okStatus();
}

void Service::start() {
  std::lock_guard lock(mu_);
  started_ = true;
  if (shared()->hooks.empty()) return;
  if (worker_.joinable() || stopping_) return;
  pool_ = std::make_unique<core::ThreadPool>(
      static_cast<size_t>(std::max(1, options_.delivery.concurrency)), "webhooks");
  worker_ = std::thread([this] { run(); });
}

void Service::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (pool_) pool_->shutdown();  // waits for deliveries in flight (each bounded by timeout)
}

void Service::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Service::run() {
  const size_t slots = static_cast<size_t>(std::max(1, options_.delivery.concurrency));
  for (;;) {
    size_t free_slots = 0;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      free_slots = slots - std::min(slots, in_flight_);
    }
    const size_t posted = free_slots > 0 ? claimAndPost(free_slots) : 0;
    housekeeping();
    updateQueueDepth();
    std::unique_lock lock(mu_);
    // A full batch: look again as soon as a slot frees up; else at the next poll.
    const bool more = posted > 0 && posted == free_slots;
    cv_.wait_for(lock, options_.delivery.poll_interval,
                 [&] { return stopping_ || woken_ || (more && in_flight_ < slots); });
    woken_ = false;
  }
}

size_t Service::claimAndPost(size_t limit) {
  const core::Duration lease = options_.delivery.timeout +
                               std::chrono::duration_cast<core::Duration>(std::chrono::minutes(1));
  auto claimed = store_.outbox().claimDueMessages(static_cast<int>(limit), owner_, lease);
  if (!claimed.ok()) {
    core::log::warn("cannot read the webhook outbox", {{"error", claimed.error().message}});
    return 0;
  }
  for (OutboxMessage& m : *claimed) {
    {
      std::lock_guard lock(mu_);
      ++in_flight_;
    }
    pool_->post([this, m = std::move(m)] {
      deliverOne(m);
      {
        std::lock_guard lock(mu_);
        --in_flight_;
      }
      cv_.notify_all();
    });
  }
  return claimed->size();
}

size_t Service::deliverDueNow() {
  const core::Duration lease = options_.delivery.timeout +
                               std::chrono::duration_cast<core::Duration>(std::chrono::minutes(1));
  auto claimed = store_.outbox().claimDueMessages(std::max(1, options_.delivery.concurrency) * 4,
                                                  owner_, lease);
  if (!claimed.ok()) return 0;
  for (const OutboxMessage& m : *claimed) deliverOne(m);
  updateQueueDepth();
  return claimed->size();
}

core::Duration Service::backoff(int attempts) {
  // Exponential, capped, with "equal jitter": uniform in [cap/2, cap], so it always grows
  // and replicas failing together spread out.
  const auto initial =
      std::chrono::duration_cast<core::Duration>(options_.delivery.backoff_initial);
  const auto max = std::chrono::duration_cast<core::Duration>(options_.delivery.backoff_max);
  core::Duration cap = initial;
  for (int i = 1; i < attempts && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  const double unit = randomUnit();
  return core::Duration(static_cast<core::Duration::rep>(cap.count() * (0.5 + unit / 2)));
}

void Service::deliverOne(const OutboxMessage& m) {
  const auto shared = this->shared();  // the endpoints now: a reload may have changed them
  const auto& hooks = shared->hooks;
  auto it = std::find_if(hooks.begin(), hooks.end(),
                         [&](const Webhook& h) { return h.webhook_key == m.webhook_key; });
  store::OutboxAttempt attempt;
  const int attempt_number = m.attempts + 1;
  if (it == hooks.end()) {
    attempt.status = OutboxStatus::kGivenUp;
    attempt.error = "the webhook is no longer configured";
  } else {
    const AttemptResult r =
        deliver(*client_, *it, m.message_id, m.body, clock_.now(), options_.delivery.timeout);
    attempt.http_status = r.status;
    attempt.error = r.error;
    if (r.delivered) {
      attempt.status = OutboxStatus::kDelivered;
    } else {
      const core::TimePoint now = clock_.now();
      const core::TimePoint give_up_at = m.created_at + options_.delivery.max_age;
      if (now >= give_up_at) {
        attempt.status = OutboxStatus::kGivenUp;
      } else {
        attempt.status = OutboxStatus::kPending;
        attempt.next_attempt_at = std::min(now + backoff(attempt_number), give_up_at);
      }
    }
  }
  const std::string url = it == hooks.end() ? std::string("(removed)") : it->masked_url;
  switch (attempt.status) {
    case OutboxStatus::kDelivered:
      if (delivered_) delivered_->inc();
      core::log::info("webhook delivered", {{"webhook", url},
                                            {"webhook_id", m.message_id},
                                            {"event", m.event},
                                            {"connection", m.key.str()},
                                            {"attempt", attempt_number},
                                            {"status", attempt.http_status}});
      break;
    case OutboxStatus::kPending: {
      if (failed_) failed_->inc();
      const auto retry_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                attempt.next_attempt_at - clock_.now())
                                .count();
      core::log::warn("webhook delivery failed; will retry",
                      {{"webhook", url},
                       {"webhook_id", m.message_id},
                       {"event", m.event},
                       {"connection", m.key.str()},
                       {"attempt", attempt_number},
                       {"status", attempt.http_status},
                       {"error", attempt.error},
                       {"retry_in_ms", static_cast<int64_t>(retry_ms)}});
      break;
    }
    case OutboxStatus::kGivenUp:
      if (given_up_) given_up_->inc();
      if (recorder_) {
        events::Fact f;
        f.type = store::EventType::kWebhookGivenUp;
        f.key = m.key;
        f.actor = "system:webhooks";
        if (const ConnectionFacts* conn = shared->find(m.key)) f.idp_host = conn->idp_host;
        f.correlation_id = m.message_id;
        if (attempt.http_status > 0) f.detail.http_status = attempt.http_status;
        f.detail.reason = it == hooks.end() ? "webhook_removed" : "max_age";
        recorder_->record(f);
      }
      core::log::error("webhook delivery given up", {{"webhook", url},
                                                     {"webhook_id", m.message_id},
                                                     {"event", m.event},
                                                     {"connection", m.key.str()},
                                                     {"attempt", attempt_number},
                                                     {"status", attempt.http_status},
                                                     {"error", attempt.error}});
      break;
  }
  auto recorded = store_.outbox().recordAttempt(m.id, owner_, attempt);
  if (!recorded.ok()) {
    core::log::warn("cannot record a webhook attempt (it will be retried)",
                    {{"webhook_id", m.message_id}, {"error", recorded.error().message}});
  }
}

core::Result<size_t> Service::scanDeadlines() {
  const auto shared = this->shared();
  const auto& hooks = shared->hooks;
  if (std::none_of(hooks.begin(), hooks.end(),
                   [](const Webhook& h) { return h.wants(WebhookEvent::kReauthorizeSoon); })) {
    return size_t{0};
  }
  TETHER_TRY_ASSIGN(const std::vector<store::HealthRow> rows, store_.bulkHealth());
  const core::TimePoint now = clock_.now();
  size_t queued = 0;
  for (const store::HealthRow& row : rows) {
    if (!row.has_oauth || !row.token_acquired || !row.token_acquired_at) continue;
    if (row.state != store::ConnectionState::kConnected &&
        row.state != store::ConnectionState::kRefreshFailing) {
      continue;
    }
    const ConnectionFacts* conn = shared->find(row.key);
    store::TokenRecord t;
    t.authenticated_at = *row.token_acquired_at;
    t.refresh_expires_at = row.refresh_expires_at;
    const auto deadline =
        lifecycle::refreshDeadline(t, conn ? conn->refresh_max_lifetime : std::nullopt);
    if (!deadline || *deadline <= now || *deadline - now > options_.delivery.warn_before) continue;
    // An IdP-disclosed idle window shorter than warn_before moves with every refresh: the
    // keeper keeps it alive, and a failure is told by refresh_failing / needs_reauth.
    if (row.refresh_expires_at && *deadline == *row.refresh_expires_at) {
      auto token = store_.getToken(row.key);
      if (token.ok() && *token && (*token)->last_refreshed_at &&
          *deadline - *(*token)->last_refreshed_at <= options_.delivery.warn_before) {
        continue;
      }
    }
    PayloadFacts f;
    f.type = std::string(kReauthorizeSoon);
    f.at = now;
    f.key = row.key;
    f.state = std::string(store::connectionStateName(row.state));
    f.idp_host = conn ? conn->idp_host : "";
    f.reason = "refresh_deadline";
    f.refresh_deadline = *deadline;
    f.portal_url = portalUrl(shared->public_url, row.key);
    auto messages = messagesFor(hooks, WebhookEvent::kReauthorizeSoon, row.key, buildPayload(f));
    const int64_t value =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline->time_since_epoch()).count();
    auto done = store_.outbox().enqueueOnce(row.key, kReauthorizeSoon, value, messages);
    if (!done.ok()) {
      core::log::warn("cannot queue reauthorize_soon",
                      {{"connection", row.key.str()}, {"error", done.error().message}});
      continue;
    }
    if (*done) ++queued;
  }
  return queued;
}

void Service::housekeeping() {
  const core::TimePoint now = clock_.now();
  if (next_housekeeping_ && now < *next_housekeeping_) return;
  next_housekeeping_ = now + options_.delivery.deadline_scan_interval;
  if (auto scanned = scanDeadlines(); !scanned.ok()) {
    core::log::warn("cannot scan refresh deadlines for webhooks",
                    {{"error", scanned.error().message}});
  }
  if (auto pruned = store_.outbox().pruneMessages(now - options_.retention); !pruned.ok()) {
    core::log::warn("cannot prune the webhook delivery log", {{"error", pruned.error().message}});
  }
}

void Service::updateQueueDepth() {
  if (!queue_depth_) return;
  if (auto n = store_.outbox().pendingMessages(); n.ok()) {
    queue_depth_->set(static_cast<double>(*n));
  }
}

core::Result<TestOutcome> Service::sendTest(size_t index) {
  const auto shared = this->shared();
  const auto& hooks = shared->hooks;
  if (index >= hooks.size()) {
    return core::Error(core::Errc::kNotFound,
                       "no webhook " + std::to_string(index) + " is configured (" +
                           std::to_string(hooks.size()) + " configured; indexes start at 0)");
  }
  PayloadFacts f;
  f.type = "test";
  f.at = clock_.now();
  f.portal_url = shared->public_url + "/portal/";
  TestOutcome out;
  out.message_id = newMessageId();
  const AttemptResult r = deliver(*client_, hooks[index], out.message_id, buildPayload(f),
                                  clock_.now(), options_.delivery.timeout);
  out.delivered = r.delivered;
  out.status = r.status;
  out.error = r.error;
  core::log::info("webhook test sent", {{"webhook", hooks[index].masked_url},
                                        {"webhook_id", out.message_id},
                                        {"delivered", out.delivered},
                                        {"status", out.status}});
  return out;
}

core::Result<std::vector<store::OutboxMessage>> Service::deliveries(int limit) {
  return store_.outbox().recentMessages(limit);
}

}  // namespace tether::webhooks
