#include "lifecycle/lifecycle.h"

#include "core/log.h"
#include "core/random.h"

namespace tether::lifecycle {

Lifecycle::Lifecycle(std::vector<ConnectionSpec> specs, store::Store& store, http::HttpClient& http,
                     events::Recorder& recorder, const core::Clock& clock,
                     core::MetricsRegistry* metrics, LifecycleOptions options)
    : store_(store), pool_(std::max<size_t>(1, options.refresh_threads), "refresh") {
  auto deps = std::make_shared<SourceDeps>();
  deps->store = &store;
  deps->http = &http;
  deps->recorder = &recorder;
  deps->pool = &pool_;
  deps->clock = &clock;
  deps->settings = options.settings;
  deps->hooks = options.hooks;
  deps->outbox = options.outbox;
  MetricConnections metric_connections;
  for (auto& spec : specs) {
    auto key = spec.key;
    metric_connections.emplace(key, spec.refresh_max_lifetime);
    sources_.emplace(key, std::make_shared<TokenSource>(std::move(spec), deps));
  }
  const std::string owner =
      options.owner.empty() ? "tether-" + core::newId().substr(0, 12) : options.owner;
  keeper_ =
      std::make_unique<Keeper>([this](const store::ConnectionKey& key) { return source(key); },
                               store, recorder, clock, options.settings, owner, metrics);
  subscription_ = store.subscribeTokenChanges([this](const store::TokenChange& change) {
    if (change.resync) {
      for (auto& [_, s] : sources_) s->onTokenChanged(change);
    } else if (auto s = source(change.key)) {
      s->onTokenChanged(change);
    }
  });
  if (metrics) {
    metrics->gaugeCallback("tether_connections", "OAuth connections by lifecycle state", [this] {
      std::map<std::string, double> counts = {{"not_connected", 0},
                                              {"connected", 0},
                                              {"refresh_failing", 0},
                                              {"needs_reauth", 0},
                                              {"needs_client_fix", 0}};
      for (const auto& [_, s] : sources_) {
        counts[std::string(store::connectionStateName(s->status().state))] += 1;
      }
      std::vector<std::pair<core::Labels, double>> out;
      for (const auto& [state, n] : counts) out.push_back({{{"state", state}}, n});
      return out;
    });
    state_metrics_ = std::make_shared<StateMetrics>(store, clock, std::move(metric_connections));
    state_metrics_->registerWith(*metrics);
  }
}

Lifecycle::~Lifecycle() { stop(); }

std::shared_ptr<TokenSource> Lifecycle::source(const store::ConnectionKey& key) const {
  auto it = sources_.find(key);
  return it == sources_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<TokenSource>> Lifecycle::sources() const {
  std::vector<std::shared_ptr<TokenSource>> out;
  out.reserve(sources_.size());
  for (const auto& [_, s] : sources_) out.push_back(s);
  return out;
}

void Lifecycle::start(bool run_keeper) {
  for (auto& [key, s] : sources_) {
    if (s->loadState()) continue;
    // Unscheduled (first start, or a connection made before the keeper knew it): look
    // at it in the first tick.
    (void)store_.setNextDue(key, core::TimePoint{});
  }
  if (run_keeper) keeper_->start();
}

void Lifecycle::collectMetrics() {
  if (state_metrics_) state_metrics_->collect();
}

void Lifecycle::stop() {
  if (stopped_) return;
  stopped_ = true;
  keeper_->stop();
  pool_.shutdown();
  subscription_.reset();
}

}  // namespace tether::lifecycle
