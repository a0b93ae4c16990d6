#pragma once
/// The Keeper: a background loop that refreshes every connection before it matters,
/// whether or not anyone calls it (DESIGN.md §5). Each tick claims the connections whose
/// indexed next-due time has come (with several replicas, each due connection is claimed
/// by exactly one), refreshes them on its own bounded pool, writes their next due time
/// and releases the claims. Once per prune interval it prunes old auth events.
///
/// Metrics (when a registry is given): tether_keeper_heartbeat_timestamp_seconds (the
/// clock's time at start() and at the end of each tick), tether_keeper_interval_seconds, and
/// the histogram tether_keeper_lag_seconds (how long after its next-due time each due
/// connection's refresh began; up to one interval is normal, since work due between ticks
/// waits for the next one).
///
/// Thread-safety: tick() may be called from any one thread at a time (tests drive it with
/// a simulated clock); start()/stop() run it on a background thread every interval.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/metrics.h"
#include "core/thread_pool.h"
#include "events/recorder.h"
#include "lifecycle/policy.h"
#include "lifecycle/token_source.h"
#include "store/store.h"

namespace tether::lifecycle {

class Keeper {
 public:
  using Lookup = std::function<std::shared_ptr<TokenSource>(const store::ConnectionKey&)>;

  /// `owner` names this replica in row claims (unique per process). `metrics` may be null.
  Keeper(Lookup lookup, store::Store& store, events::Recorder& recorder, const core::Clock& clock,
         Settings settings, std::string owner, core::MetricsRegistry* metrics = nullptr);
  ~Keeper();
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;

  /// One pass over the due set. Returns the number of connections processed. Blocking.
  size_t tick();

  /// Runs tick() every Settings::keeper_interval (real time) on a background thread, after
  /// logging one line with the settings.
  void start();
  void stop();

  const Settings& settings() const { return settings_; }

 private:
  Lookup lookup_;
  store::Store& store_;
  events::Recorder& recorder_;
  const core::Clock& clock_;
  const Settings settings_;
  const std::string owner_;
  core::ThreadPool pool_;
  core::Gauge* heartbeat_ = nullptr;  // null without a registry
  core::Histogram* lag_ = nullptr;
  std::optional<TimePoint> last_prune_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tether::lifecycle
