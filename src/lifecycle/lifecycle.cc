#include "lifecycle/lifecycle.h"

#include <algorithm>

#include "core/log.h"
#include "core/random.h"

namespace tether::lifecycle {

namespace {

MetricConnections metricConnections(
    const std::map<store::ConnectionKey, std::shared_ptr<TokenSource>>& sources) {
  MetricConnections out;
  for (const auto& [key, s] : sources) out.emplace(key, s->spec().refresh_max_lifetime);
  return out;
}

}  // namespace

Lifecycle::Lifecycle(std::vector<ConnectionSpec> specs, store::Store& store, http::HttpClient& http,
                     events::Recorder& recorder, const core::Clock& clock,
                     core::MetricsRegistry* metrics, LifecycleOptions options)
    : store_(store),
      recorder_(recorder),
      clock_(clock),
      metrics_(metrics),
      owner_(options.owner.empty() ? "tether-" + core::newId().substr(0, 12) : options.owner),
      pool_(std::max<size_t>(1, options.refresh_threads), "refresh") {
  auto deps = std::make_shared<SourceDeps>();
  deps->store = &store;
  deps->http = &http;
  deps->recorder = &recorder;
  deps->pool = &pool_;
  deps->clock = &clock;
  deps->settings = options.settings;
  deps->hooks = options.hooks;
  deps->outbox = options.outbox;
  deps_ = deps;
  auto sources = std::make_shared<SourceMap>();
  for (auto& spec : specs) {
    auto key = spec.key;
    sources->emplace(key, std::make_shared<TokenSource>(std::move(spec), deps_));
  }
  sources_ = sources;
  keeper_ = makeKeeper(options.settings);
  subscription_ = store.subscribeTokenChanges([this](const store::TokenChange& change) {
    if (change.resync) {
      for (auto& [_, s] : *snapshot()) s->onTokenChanged(change);
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
      for (const auto& [_, s] : *snapshot()) {
        counts[std::string(store::connectionStateName(s->status().state))] += 1;
      }
      std::vector<std::pair<core::Labels, double>> out;
      for (const auto& [state, n] : counts) out.push_back({{{"state", state}}, n});
      return out;
    });
    state_metrics_ = std::make_shared<StateMetrics>(store, clock, metricConnections(*sources));
    state_metrics_->registerWith(*metrics);
  }
}

Lifecycle::~Lifecycle() { stop(); }

std::unique_ptr<Keeper> Lifecycle::makeKeeper(const Settings& settings) {
  return std::make_unique<Keeper>([this](const store::ConnectionKey& key) { return source(key); },
                                  store_, recorder_, clock_, settings, owner_, metrics_);
}

std::shared_ptr<const Lifecycle::SourceMap> Lifecycle::snapshot() const {
  std::lock_guard lock(sources_mu_);
  return sources_;
}

std::shared_ptr<TokenSource> Lifecycle::source(const store::ConnectionKey& key) const {
  const auto sources = snapshot();
  auto it = sources->find(key);
  return it == sources->end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<TokenSource>> Lifecycle::sources() const {
  const auto sources = snapshot();
  std::vector<std::shared_ptr<TokenSource>> out;
  out.reserve(sources->size());
  for (const auto& [_, s] : *sources) out.push_back(s);
  return out;
}

void Lifecycle::schedule(TokenSource& source) {
  if (source.loadState()) return;
  // Unscheduled (first start, or a connection made before the keeper knew it): look
  // at it in the first tick.
  (void)store_.setNextDue(source.key(), core::TimePoint{});
}

void Lifecycle::start(bool run_keeper) {
  for (auto& [key, s] : *snapshot()) schedule(*s);
  if (run_keeper) {
    std::lock_guard control(control_mu_);
    if (stopped_) return;
    keeper_->start();
    keeper_running_ = true;
  }
}

void Lifecycle::update(std::vector<ConnectionSpec> upsert,
                       const std::vector<store::ConnectionKey>& remove) {
  std::lock_guard control(control_mu_);
  if (stopped_) return;
  auto next = std::make_shared<SourceMap>(*snapshot());
  for (const auto& key : remove) next->erase(key);
  for (auto& spec : upsert) {
    auto key = spec.key;
    auto source = std::make_shared<TokenSource>(std::move(spec), deps_);
    schedule(*source);  // before it is visible: the keeper never sees it unloaded
    (*next)[key] = std::move(source);
  }
  if (state_metrics_) state_metrics_->setConnections(metricConnections(*next));
  std::shared_ptr<const SourceMap> published = std::move(next);
  std::lock_guard lock(sources_mu_);
  sources_.swap(published);
}

void Lifecycle::retryRejectedClients(const std::vector<store::ConnectionKey>& keys) {
  std::lock_guard control(control_mu_);
  if (stopped_) return;
  for (const auto& key : keys) {
    auto s = source(key);
    if (!s || s->status().state != store::ConnectionState::kNeedsClientFix) continue;
    pool_.post([s] { s->keeperRefresh(); });
  }
}

bool Lifecycle::clientSettingsChanged(const store::ConnectionKey& key,
                                      oauth::OAuthClientConfig config, std::string idp_host) {
  std::lock_guard control(control_mu_);
  if (stopped_) return false;
  auto s = source(key);
  if (!s) return false;
  // At once: no refresh started after this returns uses the old settings.
  s->setOAuthConfig(config, idp_host);
  pool_.post([s, config = std::move(config), idp_host = std::move(idp_host)]() mutable {
    s->clientSettingsChanged(std::move(config), std::move(idp_host));
  });
  return true;
}

void Lifecycle::setSettings(Settings settings) {
  std::lock_guard control(control_mu_);
  if (stopped_) return;
  auto deps = std::make_shared<SourceDeps>(*deps_);
  deps->settings = settings;
  deps_ = std::move(deps);
  keeper_->stop();
  keeper_ = makeKeeper(settings);
  if (keeper_running_) keeper_->start();
}

void Lifecycle::collectMetrics() {
  if (state_metrics_) state_metrics_->collect();
}

void Lifecycle::stop() {
  {
    std::lock_guard control(control_mu_);
    if (stopped_) return;
    stopped_ = true;
    keeper_->stop();
  }
  pool_.shutdown();
  subscription_.reset();
}

}  // namespace tether::lifecycle
