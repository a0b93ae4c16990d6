#include "lifecycle/keeper.h"

#include <latch>

#include "core/duration.h"
#include "core/log.h"

namespace tether::lifecycle {

namespace {
constexpr int kBatch = 512;
constexpr int kMaxBatchesPerTick = 1000;

double unixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Lag buckets in seconds: from on time to a day late (a keeper stuck for hours).
std::vector<double> lagBuckets() {
  return {1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400};
}
}  // namespace

Keeper::Keeper(Lookup lookup, store::Store& store, events::Recorder& recorder,
               const core::Clock& clock, Settings settings, std::string owner,
               core::MetricsRegistry* metrics)
    : lookup_(std::move(lookup)),
      store_(store),
      recorder_(recorder),
      clock_(clock),
      settings_(settings),
      owner_(std::move(owner)),
      pool_(static_cast<size_t>(std::max(1, settings_.keeper_concurrency)), "keeper") {
  if (!metrics) return;
  heartbeat_ = &metrics->gauge("tether_keeper_heartbeat_timestamp_seconds",
                               "Unix time the keeper started or last finished a tick");
  lag_ = &metrics->histogram("tether_keeper_lag_seconds",
                             "How long after its next-due time a due connection's keeper "
                             "refresh began",
                             {}, lagBuckets());
  metrics->gauge("tether_keeper_interval_seconds", "The keeper's tick interval (keeper.interval)")
      .set(std::chrono::duration<double>(settings_.keeper_interval).count());
}

Keeper::~Keeper() {
  stop();
  pool_.shutdown();
}

size_t Keeper::tick() {
  const TimePoint now = clock_.now();
  // A claim outlives the tick that took it only if this replica dies mid-tick; then
  // another replica takes the connection once the lease ends.
  const Duration lease = std::max<Duration>(settings_.keeper_interval, std::chrono::minutes(1));
  size_t processed = 0;
  for (int batch = 0; batch < kMaxBatchesPerTick; ++batch) {
    auto due = store_.claimDue(now, kBatch, owner_, lease);
    if (!due.ok()) {
      core::log::warn("keeper could not read the due set", {{"error", due.error().message}});
      break;
    }
    if (due.value().empty()) break;
    std::latch done(static_cast<std::ptrdiff_t>(due.value().size()));
    for (const auto& d : due.value()) {
      pool_.post([this, key = d.key, due_at = d.next_due, &done] {
        // The epoch marks "never scheduled, look at it now" (Lifecycle::start): not late.
        if (lag_ && due_at != TimePoint{}) {
          lag_->observe(std::max(0.0, unixSeconds(clock_.now()) - unixSeconds(due_at)));
        }
        if (auto source = lookup_(key)) {
          source->keeperRefresh();
        } else {
          // Not a connection of ours (removed from config): stop scheduling it.
          (void)store_.setNextDue(key, std::nullopt);
        }
        (void)store_.releaseClaim(key, owner_);
        done.count_down();
      });
    }
    done.wait();
    processed += due.value().size();
    if (due.value().size() < static_cast<size_t>(kBatch)) break;
  }
  recorder_.flush();
  if (!last_prune_ || now - *last_prune_ >= settings_.prune_interval) {
    auto pruned = store_.pruneEvents(settings_.event_retention);
    if (pruned.ok()) {
      last_prune_ = now;
      if (pruned.value() > 0) {
        core::log::info("pruned old auth events",
                        {{"deleted", pruned.value()},
                         {"retention", core::formatDuration(settings_.event_retention)}});
      }
    } else {
      core::log::warn("could not prune auth events", {{"error", pruned.error().message}});
    }
  }
  if (heartbeat_) heartbeat_->set(unixSeconds(clock_.now()));
  return processed;
}

void Keeper::start() {
  core::log::info("keeper started",
                  {{"interval", core::formatDuration(settings_.keeper_interval)},
                   {"access_lead", core::formatDuration(settings_.access_lead)},
                   {"refresh_lead", core::formatDuration(settings_.refresh_lead)},
                   {"concurrency", settings_.keeper_concurrency},
                   {"jitter", core::formatDuration(settings_.jitter)},
                   {"backoff_initial", core::formatDuration(settings_.backoff_initial)},
                   {"backoff_max", core::formatDuration(settings_.backoff_max)},
                   {"event_retention", core::formatDuration(settings_.event_retention)},
                   {"owner", owner_}});
  if (heartbeat_) heartbeat_->set(unixSeconds(clock_.now()));
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      tick();
      lock.lock();
      cv_.wait_for(lock, settings_.keeper_interval, [this] { return stopping_; });
    }
  });
}

void Keeper::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tether::lifecycle
