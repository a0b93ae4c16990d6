#pragma once
/// The token lifecycle of every OAuth connection: one TokenSource each, the Keeper, the
/// store subscription that drops stale cached tokens when another replica writes, the
/// connections-by-state gauge and the per-connection gauges (lifecycle/state_metrics.h).
/// The set of sources can change while running (update(), setSettings(): SIGHUP and
/// connections made through the admin API, app/live_connections.h): readers copy an
/// immutable snapshot of it and never wait for a change.
/// Thread-safe after start().

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/thread_pool.h"
#include "lifecycle/keeper.h"
#include "lifecycle/state_metrics.h"
#include "lifecycle/token_source.h"

namespace tether::lifecycle {

struct LifecycleOptions {
  Settings settings;
  std::string owner;            // replica name for keeper claims; default: random
  size_t refresh_threads = 4;   // on-demand refresh pool
  Hooks hooks;                  // test hooks passed to every source
  store::OutboxDeriver outbox;  // webhooks: see SourceDeps::outbox
};

class Lifecycle {
 public:
  /// Every dependency must outlive the Lifecycle. `metrics` may be null.
  Lifecycle(std::vector<ConnectionSpec> specs, store::Store& store, http::HttpClient& http,
            events::Recorder& recorder, const core::Clock& clock, core::MetricsRegistry* metrics,
            LifecycleOptions options);
  ~Lifecycle();
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  /// The source of one connection, or null when it is not an OAuth connection.
  std::shared_ptr<TokenSource> source(const store::ConnectionKey& key) const;
  std::vector<std::shared_ptr<TokenSource>> sources() const;

  /// The keeper (tests drive its tick()). Replaced by setSettings(): tests only, when no
  /// reload can run.
  Keeper& keeper() {
    std::lock_guard lock(control_mu_);
    return *keeper_;
  }
  /// Whether start(true) ran and stop() did not.
  bool keeperRunning() const {
    std::lock_guard lock(control_mu_);
    return keeper_running_ && !stopped_;
  }

  /// Adds a source for each spec of `upsert` (replacing the one of the same key: calls in
  /// flight finish on the old one, which they hold) and drops the sources of `remove` (the
  /// keeper stops scheduling them; their store rows stay). New sources load their state
  /// and, when unscheduled, are looked at in the keeper's next tick. Blocking (the store).
  /// Call from one thread at a time.
  void update(std::vector<ConnectionSpec> upsert, const std::vector<store::ConnectionKey>& remove);

  /// The client settings of `keys` were just edited (API, portal, reload; their sources
  /// rebuilt by update() and given their resolved endpoints): each one in needs_client_fix
  /// tries its settings at the IdP now, on the refresh pool, rather than at the keeper's
  /// next look. Success heals it with the same grant. Non-blocking.
  void retryRejectedClients(const std::vector<store::ConnectionKey>& keys);

  /// Only the OAuth client settings of `key` changed (client id, secret, auth method): its
  /// running source is kept, with its in-memory state (a rotated token waiting to be
  /// written included), and refreshes with `config` from now on; the refresh a
  /// needs_client_fix connection owes (TokenSource::clientSettingsChanged) runs on the
  /// refresh pool. False when `key` has no source (rebuild it with update()). Non-blocking.
  bool clientSettingsChanged(const store::ConnectionKey& key, oauth::OAuthClientConfig config,
                             std::string idp_host);

  /// New timings: the keeper is restarted on them (when it was running) and sources created
  /// from now on use them; rebuild the existing ones with update() to move them over.
  /// Blocking (waits for a keeper tick in progress). Call from one thread at a time.
  void setSettings(Settings settings);

  /// Loads every connection's state and gives each one a next-due time, so the keeper
  /// sees it. With `run_keeper`, also starts the keeper loop. Blocking.
  void start(bool run_keeper);
  /// Stops the keeper and drains refreshes in flight. Idempotent.
  void stop();

  /// Reads the per-connection gauges' store snapshot if it is stale (a store round trip):
  /// call before rendering the registry, off I/O threads. No-op without a registry.
  void collectMetrics();

 private:
  using SourceMap = std::map<store::ConnectionKey, std::shared_ptr<TokenSource>>;
  std::shared_ptr<const SourceMap> snapshot() const;
  std::unique_ptr<Keeper> makeKeeper(const Settings& settings);
  /// Loads `source`'s state; unscheduled: looked at in the next tick.
  void schedule(TokenSource& source);

  store::Store& store_;
  events::Recorder& recorder_;
  const core::Clock& clock_;
  core::MetricsRegistry* metrics_;
  std::string owner_;
  core::ThreadPool pool_;
  // Guards deps_, keeper_, keeper_running_ and stopped_: start() runs on the bootstrap
  // thread while a SIGHUP's setSettings() may run on the reload thread.
  mutable std::mutex control_mu_;
  std::shared_ptr<const SourceDeps> deps_;  // what new sources get
  mutable std::mutex sources_mu_;           // guards the pointer copy only
  std::shared_ptr<const SourceMap> sources_;
  std::unique_ptr<Keeper> keeper_;
  bool keeper_running_ = false;
  std::shared_ptr<StateMetrics> state_metrics_;  // null without a registry
  store::Subscription subscription_;
  bool stopped_ = false;
};

}  // namespace tether::lifecycle
