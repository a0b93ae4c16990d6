#pragma once
/// The token lifecycle of every OAuth connection: one TokenSource each, the Keeper, the
/// store subscription that drops stale cached tokens when another replica writes, the
/// connections-by-state gauge and the per-connection gauges (lifecycle/state_metrics.h).
/// Thread-safe after start().

#include <map>
#include <memory>
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
  std::string owner;           // replica name for keeper claims; default: random
  size_t refresh_threads = 4;  // on-demand refresh pool
  Hooks hooks;                 // test hooks passed to every source
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

  Keeper& keeper() { return *keeper_; }

  /// Loads every connection's state and gives each one a next-due time, so the keeper
  /// sees it. With `run_keeper`, also starts the keeper loop. Blocking.
  void start(bool run_keeper);
  /// Stops the keeper and drains refreshes in flight. Idempotent.
  void stop();

  /// Reads the per-connection gauges' store snapshot if it is stale (a store round trip):
  /// call before rendering the registry, off I/O threads. No-op without a registry.
  void collectMetrics();

 private:
  store::Store& store_;
  core::ThreadPool pool_;
  std::map<store::ConnectionKey, std::shared_ptr<TokenSource>> sources_;
  std::unique_ptr<Keeper> keeper_;
  std::shared_ptr<StateMetrics> state_metrics_;  // null without a registry
  store::Subscription subscription_;
  bool stopped_ = false;
};

}  // namespace tether::lifecycle
