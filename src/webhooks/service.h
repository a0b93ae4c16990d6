#pragma once
/// Webhooks (DESIGN.md §7, docs/webhooks.md): the producer that turns a connection's state
/// change into outbox messages (in the state write's transaction, see `deriver`), the
/// `reauthorize_soon` scan of refresh deadlines, and the worker that delivers the outbox.
///
/// The worker has its own thread, its own small delivery pool and its own HTTP client: a
/// slow or hanging receiver never holds a refresh, a request or an IdP call. Delivery is
/// at least once with a stable `webhook-id`; failures back off exponentially with jitter;
/// a message not delivered within `max_age` is given up (ERROR log and a webhook_given_up
/// auth event on the message's connection, actor system:webhooks). With several
/// replicas each message is claimed by one of them (the store's claim with a lease).
///
/// Metrics: tether_webhook_deliveries_total{outcome=delivered|failed|given_up} (failed:
/// an attempt that will be retried) and tether_webhook_queue_depth (pending messages).
///
/// The endpoints (`webhooks[]`: url, secret, headers, events) can be replaced while running
/// (setHooks: SIGHUP). New messages and every later attempt use the new settings; messages
/// already queued stay queued and go to the endpoint of the same URL (a changed secret,
/// header or filter applies to them); those of an endpoint no longer configured are given
/// up at their next attempt (webhook_given_up, reason webhook_removed), so it receives
/// nothing more. `webhook_delivery` is read once (a restart changes it).
///
/// Thread-safety: every method may be called from any thread; `sendTest`, `scanDeadlines`,
/// `deliverDueNow` and `deliveries` block (store and HTTP I/O): never on a server I/O thread.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"
#include "core/thread_pool.h"
#include "events/recorder.h"
#include "http/http_client.h"
#include "store/store.h"
#include "webhooks/delivery.h"

namespace tether::webhooks {

/// What the service needs to know about an OAuth connection.
struct ConnectionFacts {
  store::ConnectionKey key;
  std::string idp_host;
  std::optional<core::Duration> refresh_max_lifetime;
};

struct ServiceOptions {
  std::vector<config::WebhookConfig> hooks;
  config::WebhookDeliveryConfig delivery;
  std::string public_url;  // portal links; no trailing slash
  std::vector<ConnectionFacts> connections;
  std::string owner;  // replica name for claims; default: random
  /// Delivered and given-up messages are kept this long for the delivery log.
  core::Duration retention = std::chrono::hours(24 * 7);
};

/// The answer of a test delivery.
struct TestOutcome {
  bool delivered = false;
  int status = 0;
  std::string error;
  std::string message_id;
};

class Service {
 public:
  /// kConfig when a secret is malformed. `client` null: a client of its own is made.
  /// `store`, `clock`, `metrics` and `recorder` (both may be null) must outlive the service.
  static core::Result<std::unique_ptr<Service>> create(
      ServiceOptions options, store::Store& store, const core::Clock& clock,
      core::MetricsRegistry* metrics, events::Recorder* recorder = nullptr,
      std::unique_ptr<http::HttpClient> client = nullptr);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// The producer the lifecycle writes state rows with (store::OutboxStore::
  /// putStateAndEnqueue). Never empty (endpoints may be added later): it derives nothing
  /// while none is configured. It reads the endpoints current at each call.
  store::OutboxDeriver deriver() const;

  /// New endpoints (a reload's `webhooks[]`): used from now on (see above); starts the worker
  /// when the first endpoint arrives after start(). kConfig naming the webhook when a secret
  /// is malformed, and then nothing changes.
  core::Status setHooks(const std::vector<config::WebhookConfig>& hooks);

  /// Starts the worker thread (no-op without webhooks). `stop` ends it and waits for the
  /// deliveries in flight (each bounded by the attempt timeout). Idempotent.
  void start();
  void stop();
  /// Makes the worker poll now instead of at its next interval.
  void wake();

  /// One worker pass on the calling thread: claims what is due, delivers it, waits for it.
  /// The number of messages attempted.
  size_t deliverDueNow();
  /// Queues reauthorize_soon for every connection whose refresh deadline is within
  /// warn_before (once per deadline value, remembered in the store). The number queued.
  core::Result<size_t> scanDeadlines();

  /// Sends a `test` message to webhook `index` now, through the same signing and limits;
  /// kNotFound for an index not configured.
  core::Result<TestOutcome> sendTest(size_t index);

  /// The endpoints now (a copy: a reload may replace them).
  std::vector<Webhook> hooks() const { return shared()->hooks; }
  /// The delivery log: the newest messages first.
  core::Result<std::vector<store::OutboxMessage>> deliveries(int limit);

 private:
  /// What the producer and the worker share (immutable once published; setHooks publishes
  /// a new one).
  struct Shared {
    std::vector<Webhook> hooks;
    std::vector<ConnectionFacts> connections;
    std::string public_url;
    const core::Clock* clock = nullptr;
    const ConnectionFacts* find(const store::ConnectionKey& key) const;
  };

  /// The published Shared, swapped whole by setHooks; the deriver holds it too.
  struct Current {
    mutable std::mutex mu;
    std::shared_ptr<const Shared> shared;
    std::shared_ptr<const Shared> get() const {
      std::lock_guard lock(mu);
      return shared;
    }
  };

  std::shared_ptr<const Shared> shared() const { return current_->get(); }
  Service(ServiceOptions options, std::shared_ptr<const Shared> shared, store::Store& store,
          const core::Clock& clock, core::MetricsRegistry* metrics, events::Recorder* recorder,
          std::unique_ptr<http::HttpClient> client);
  void run();
  /// Claims up to `limit` due messages and posts each to the pool; the number posted.
  size_t claimAndPost(size_t limit);
  void deliverOne(const store::OutboxMessage& message);
  core::Duration backoff(int attempts);
  void housekeeping();
  void updateQueueDepth();

  const ServiceOptions options_;
  const std::shared_ptr<Current> current_;
  store::Store& store_;
  const core::Clock& clock_;
  events::Recorder* recorder_;
  std::unique_ptr<http::HttpClient> client_;
  std::string owner_;
  core::Counter* delivered_ = nullptr;
  core::Counter* failed_ = nullptr;
  core::Counter* given_up_ = nullptr;
  core::Gauge* queue_depth_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;  // start() was called: setHooks may start the worker
  bool woken_ = false;
  size_t in_flight_ = 0;
  std::optional<core::TimePoint> next_housekeeping_;
  std::thread worker_;
  std::unique_ptr<core::ThreadPool> pool_;  // deliveries, options.delivery.concurrency
};

}  // namespace tether::webhooks
