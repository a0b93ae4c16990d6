#include "app/live_connections.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "admin/admin_api.h"
#include "admin/from_config.h"
#include "core/log.h"
#include "flows/flows.h"
#include "flows/from_config.h"
#include "gateway/proxy.h"
#include "gateway/upstream_url.h"
#include "lifecycle/from_config.h"
#include "lifecycle/lifecycle.h"
#include "oauth/from_config.h"
#include "store/from_config.h"
#include "store/store.h"

namespace tether::app {

namespace {

store::ConnectionKey keyOf(const config::ConnectionConfig& c) {
  return {std::string(config::kindName(c.kind)), c.name};
}

// (kind, name) order without building keys: an apply compares every entry.
int compareKeys(const config::ConnectionConfig& a, const config::ConnectionConfig& b) {
  if (int k = config::kindName(a.kind).compare(config::kindName(b.kind)); k != 0) return k;
  return a.name.compare(b.name);
}
bool keyLess(const config::ConnectionConfig& a, const config::ConnectionConfig& b) {
  return compareKeys(a, b) < 0;
}

// What turns `running` into `next`, both sorted by key: one merge walk.
ConnectionDiff diffSorted(const std::vector<const config::ConnectionConfig*>& running,
                          const std::vector<const config::ConnectionConfig*>& next) {
  ConnectionDiff diff;
  size_t i = 0, j = 0;
  while (i < running.size() || j < next.size()) {
    const int order = i == running.size() ? 1
                      : j == next.size()  ? -1
                                          : compareKeys(*running[i], *next[j]);
    if (order < 0) {
      diff.removed.push_back(keyOf(*running[i++]));
    } else if (order > 0) {
      diff.added.push_back(keyOf(*next[j++]));
    } else {
      if (!sameConnection(*running[i], *next[j])) diff.changed.push_back(keyOf(*next[j]));
      ++i;
      ++j;
    }
  }
  return diff;
}

std::vector<const config::ConnectionConfig*> pointers(
    const std::vector<config::ConnectionConfig>& v, bool sort) {
  std::vector<const config::ConnectionConfig*> out;
  out.reserve(v.size());
  for (const auto& c : v) out.push_back(&c);
  if (sort) {
    std::stable_sort(out.begin(), out.end(),
                     [](const auto* a, const auto* b) { return keyLess(*a, *b); });
  }
  return out;
}

bool sameOAuth(const config::OAuthConfig& a, const config::OAuthConfig& b) {
  return std::tie(a.grant, a.issuer, a.authorization_url, a.token_url, a.client_id, a.client_secret,
                  a.client_auth, a.scopes, a.extra_params, a.resource_indicator,
                  a.refresh_max_lifetime, a.default_token_lifetime, a.ca_bundle) ==
         std::tie(b.grant, b.issuer, b.authorization_url, b.token_url, b.client_id, b.client_secret,
                  b.client_auth, b.scopes, b.extra_params, b.resource_indicator,
                  b.refresh_max_lifetime, b.default_token_lifetime, b.ca_bundle);
}

// True when `a` and `b` (both OAuth, same key) differ only in the client settings a running
// token source can take over (client id, secret, auth method) and name a configured client
// in both (a registered client is registered again on a change: rebuilt).
bool onlyClientSettingsDiffer(const config::ConnectionConfig& a,
                              const config::ConnectionConfig& b) {
  if (!a.auth.oauth || !b.auth.oauth || !a.auth.oauth->client_id || !b.auth.oauth->client_id) {
    return false;
  }
  config::ConnectionConfig moved = a;
  moved.auth.oauth->client_id = b.auth.oauth->client_id;
  moved.auth.oauth->client_secret = b.auth.oauth->client_secret;
  moved.auth.oauth->client_auth = b.auth.oauth->client_auth;
  return sameConnection(moved, b);
}

std::string names(const std::vector<store::ConnectionKey>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k.str();
  return out;
}

// The entries of `set` whose keys are in `keys` (absent ones skipped), in key order.
std::vector<config::ConnectionConfig> subset(const ConnectionSet& set,
                                             const std::set<store::ConnectionKey>& keys) {
  std::vector<config::ConnectionConfig> out;
  for (const auto& key : keys) {
    if (const auto* c = set.find(key)) out.push_back(*c);
  }
  return out;
}

}  // namespace

bool sameConnection(const config::ConnectionConfig& a, const config::ConnectionConfig& b) {
  if (std::tie(a.kind, a.name, a.url, a.timeout, a.forward_set_cookie, a.auth.mode,
               a.auth.bearer_token, a.auth.api_key_header, a.auth.api_key) !=
      std::tie(b.kind, b.name, b.url, b.timeout, b.forward_set_cookie, b.auth.mode,
               b.auth.bearer_token, b.auth.api_key_header, b.auth.api_key)) {
    return false;
  }
  if (a.auth.oauth.has_value() != b.auth.oauth.has_value()) return false;
  return !a.auth.oauth || sameOAuth(*a.auth.oauth, *b.auth.oauth);
}

ConnectionDiff diffConnections(const std::vector<config::ConnectionConfig>& running,
                               const std::vector<config::ConnectionConfig>& next) {
  return diffSorted(pointers(running, /*sort=*/true), pointers(next, /*sort=*/true));
}

const config::ConnectionConfig* ConnectionSet::find(const store::ConnectionKey& key) const {
  auto it = std::lower_bound(connections.begin(), connections.end(), key,
                             [](const config::ConnectionConfig& c, const store::ConnectionKey& k) {
                               if (int o = config::kindName(c.kind).compare(k.kind); o != 0) {
                                 return o < 0;
                               }
                               return c.name < k.name;
                             });
  return it != connections.end() && config::kindName(it->kind) == key.kind && it->name == key.name
             ? &*it
             : nullptr;
}

class LiveConnections::Impl {
 public:
  Impl(std::vector<config::ConnectionConfig> initial, LiveOptions options, gateway::Proxy& proxy,
       admin::AdminApi& admin)
      : options_(std::move(options)), proxy_(proxy), admin_(admin) {
    auto set = std::make_shared<ConnectionSet>();
    set->connections = sorted(std::move(initial));
    current_ = std::move(set);
  }

  core::Result<ConnectionDiff> apply(std::vector<config::ConnectionConfig> next) {
    next = sorted(std::move(next));
    TETHER_TRY(checkUnique(next));
    std::lock_guard writer(apply_mu_);
    const auto running = current();
    // Both sorted: a merge walk. Only the added and changed entries need checking further.
    ConnectionDiff diff = diffSorted(pointers(running->connections, false), pointers(next, false));
    if (diff.empty()) return diff;
    TETHER_TRY(checkUrls(next, diff));
    auto set = std::make_shared<ConnectionSet>();
    set->connections = std::move(next);
    set->generation = running->generation + 1;
    installChanges(*running, *set, diff);
    publish(std::move(set));
    core::log::info("connections applied", {{"added", names(diff.added)},
                                            {"changed", names(diff.changed)},
                                            {"removed", names(diff.removed)}});
    return diff;
  }

  void attach(store::Store& store, lifecycle::Lifecycle& lifecycle, flows::Flows& flows) {
    std::lock_guard writer(apply_mu_);
    store_ = &store;
    lifecycle_ = &lifecycle;
    flows_ = &flows;
    if (settings_) lifecycle.setSettings(*settings_);
    const auto running = current();
    std::set<store::ConnectionKey> all;
    for (const auto& c : running->connections) all.insert(keyOf(c));
    syncRegistry(*running);
    if (flows_) flows_->setConnections(flows::connectionsFromConfig(running->connections));
    rebuildSources(*running, all, {});
    updateProxy(*running, &all);
    admin_.setConnections(admin::connectionViewsFromConfig(running->connections));
  }

  void detach() {
    std::lock_guard writer(apply_mu_);
    store_ = nullptr;
    lifecycle_ = nullptr;
    flows_ = nullptr;
  }

  void setCallerChecks(std::vector<config::AccessKey> keys, std::vector<std::string> origins) {
    std::lock_guard writer(apply_mu_);
    options_.client_keys = std::move(keys);
    options_.allowed_origins = std::move(origins);
    updateProxy(*current());
  }

  void setLifecycleSettings(const lifecycle::Settings& settings) {
    std::lock_guard writer(apply_mu_);
    settings_ = settings;
    if (!lifecycle_) return;
    lifecycle_->setSettings(settings);
    const auto running = current();
    std::set<store::ConnectionKey> all;
    for (const auto& c : running->connections) {
      if (c.auth.mode == config::AuthMode::kOAuth) all.insert(keyOf(c));
    }
    rebuildSources(*running, all, {});
    updateProxy(*running);  // the proxy binds each OAuth connection to its (new) source
  }

  std::shared_ptr<const ConnectionSet> current() const {
    std::lock_guard lock(current_mu_);
    return current_;
  }

  LiveStats stats() {
    std::lock_guard writer(apply_mu_);
    LiveStats out = stats_;
    out.proxy_connections_built = proxy_.connectionsBuilt();
    return out;
  }

  std::shared_ptr<lifecycle::TokenSource> source(const store::ConnectionKey& key) {
    std::lock_guard writer(apply_mu_);
    return lifecycle_ ? lifecycle_->source(key) : nullptr;
  }

 private:
  static std::vector<config::ConnectionConfig> sorted(std::vector<config::ConnectionConfig> v) {
    std::stable_sort(v.begin(), v.end(), keyLess);
    return v;
  }

  // A (kind, name) listed twice, found before anything changes. `next` is sorted.
  static core::Status checkUnique(const std::vector<config::ConnectionConfig>& next) {
    for (size_t i = 1; i < next.size(); ++i) {
      if (compareKeys(next[i - 1], next[i]) == 0) {
        return core::Error(core::Errc::kConfig,
                           "connection " + keyOf(next[i]).str() + " is listed twice");
      }
    }
    return {};
  }

  // An upstream URL the proxy would refuse, among the added and changed entries (the
  // others run already), found before anything changes.
  static core::Status checkUrls(const std::vector<config::ConnectionConfig>& next,
                                const ConnectionDiff& diff) {
    for (const auto* keys : {&diff.added, &diff.changed}) {
      for (const auto& key : *keys) {
        auto it = std::lower_bound(next.begin(), next.end(), key,
                                   [](const config::ConnectionConfig& c,
                                      const store::ConnectionKey& k) { return keyOf(c) < k; });
        if (it == next.end()) continue;
        if (auto endpoint = gateway::parseUpstreamUrl(it->url); !endpoint.ok()) {
          return core::Error(core::Errc::kConfig,
                             "connection " + key.str() + ": " + endpoint.error().message);
        }
      }
    }
    return {};
  }

  // Brings every module from `running` to `set` (`diff` between them), touching only what
  // changed: the registry rows, token sources and proxy objects of added, changed and
  // removed connections (one change among N costs one of each, not N). A changed OAuth
  // connection whose only change is its client settings keeps its token source (and the
  // state in its memory). Order: the registry, the token sources (so the proxy binds the new
  // ones), the connect flows, then the proxy and the admin views.
  void installChanges(const ConnectionSet& running, const ConnectionSet& set,
                      const ConnectionDiff& diff) {
    std::set<store::ConnectionKey> touched(diff.added.begin(), diff.added.end());
    touched.insert(diff.changed.begin(), diff.changed.end());
    if (store_) {
      if (registry_stale_) {
        syncRegistry(set);
      } else {
        const auto infos = store::connectionInfosFromConfig(subset(set, touched));
        auto st = store_->updateConnections(infos, diff.removed);
        stats_.registry_rows += infos.size() + diff.removed.size();
        if (!st.ok()) {
          registry_stale_ = true;
          core::log::error(
              "cannot register the connections in the store; retried at the next change",
              {{"error", st.error().message}});
        }
      }
    }
    if (flows_) flows_->setConnections(flows::connectionsFromConfig(set.connections));
    std::set<store::ConnectionKey> rebuilt(diff.added.begin(), diff.added.end());
    std::vector<store::ConnectionKey> dropped = diff.removed;
    for (const auto& key : diff.changed) {
      if (lifecycle_ && keepSource(*running.find(key), *set.find(key))) continue;
      rebuilt.insert(key);
      dropped.push_back(key);
    }
    rebuildSources(set, rebuilt, dropped);
    updateProxy(set, &touched);
    admin_.setConnections(admin::connectionViewsFromConfig(set.connections));
  }

  // A change of client settings only: the running source takes them over (and a
  // needs_client_fix one refreshes with them at once). False: rebuild it.
  bool keepSource(const config::ConnectionConfig& before, const config::ConnectionConfig& after) {
    if (!onlyClientSettingsDiffer(before, after)) return false;
    const auto key = keyOf(after);
    auto source = lifecycle_->source(key);
    if (!source) return false;
    auto oauth = source->oauthConfig();  // resolved endpoints included
    // Not yet discovered (client_credentials from an issuer): the discovery would start
    // from the configured settings again; a new source is simpler.
    if (oauth.token_url.empty()) return false;
    const auto next = oauth::clientConfigFromConfig(after);
    oauth.client_id = next.client_id;
    oauth.client_secret = next.client_secret;
    oauth.client_auth = next.client_auth;
    if (!lifecycle_->clientSettingsChanged(key, std::move(oauth), source->idpHost())) return false;
    ++stats_.sources_kept;
    return true;
  }

  // The whole registry made equal to `set` (attach, or after a failed incremental write).
  void syncRegistry(const ConnectionSet& set) {
    if (!store_) return;
    const auto infos = store::connectionInfosFromConfig(set.connections);
    stats_.registry_rows += infos.size();
    if (auto st = store_->syncConnections(infos); !st.ok()) {
      registry_stale_ = true;
      core::log::error("cannot register the connections in the store; retried at the next change",
                       {{"error", st.error().message}});
      return;
    }
    registry_stale_ = false;
  }

  void rebuildSources(const ConnectionSet& set, const std::set<store::ConnectionKey>& rebuilt,
                      const std::vector<store::ConnectionKey>& dropped) {
    if (!lifecycle_) return;
    std::vector<store::ConnectionKey> unresolved;
    auto specs = lifecycle::specsFromConfig(subset(set, rebuilt), &unresolved,
                                            options_.discovery_allowed_hosts);
    stats_.sources_built += specs.size();
    lifecycle_->update(std::move(specs), dropped);
    // Connections whose endpoints came from an earlier connect flow refresh with those.
    for (const auto& key : unresolved) {
      auto resolved = flows_ ? flows_->resolved(key)
                             : core::Result<std::optional<flows::ResolvedConnection>>(
                                   std::optional<flows::ResolvedConnection>());
      if (!resolved.ok()) {
        core::log::error("cannot read the connection's resolved OAuth endpoints",
                         {{"connection", key.str()}, {"error", resolved.error().message}});
      } else if (*resolved) {
        if (auto source = lifecycle_->source(key)) {
          source->setOAuthConfig((*resolved)->oauth, (*resolved)->idp_host);
        }
      } else {
        core::log::info(
            "connection not connected yet: its endpoints are found when it is "
            "connected (portal or `tether login`)",
            {{"connection", key.str()}});
      }
    }
    // A connection stuck on rejected client credentials tries its edited ones at once.
    lifecycle_->retryRejectedClients({rebuilt.begin(), rebuilt.end()});
  }

  // `rebuild`: the connections whose proxy objects are built again; null: all of them.
  void updateProxy(const ConnectionSet& set,
                   const std::set<store::ConnectionKey>* rebuild = nullptr) {
    if (auto st =
            proxy_.update(set.connections, options_.client_keys, options_.allowed_origins, rebuild);
        !st.ok()) {
      // check() refused what the proxy refuses: this is a bug, not bad input.
      core::log::error("the proxy refused the connection set; it keeps the previous one",
                       {{"error", st.error().message}});
    }
  }

  void publish(std::shared_ptr<const ConnectionSet> set) {
    std::lock_guard lock(current_mu_);
    current_.swap(set);
  }

  LiveOptions options_;
  gateway::Proxy& proxy_;
  admin::AdminApi& admin_;
  std::mutex apply_mu_;  // serializes every writer; the fields below are theirs
  store::Store* store_ = nullptr;
  lifecycle::Lifecycle* lifecycle_ = nullptr;
  flows::Flows* flows_ = nullptr;
  std::optional<lifecycle::Settings> settings_;  // set by setLifecycleSettings
  bool registry_stale_ = false;                  // an incremental write failed: sync all
  LiveStats stats_;
  mutable std::mutex current_mu_;  // guards the pointer copy only
  std::shared_ptr<const ConnectionSet> current_;
};

LiveConnections::LiveConnections(std::vector<config::ConnectionConfig> initial, LiveOptions options,
                                 gateway::Proxy& proxy, admin::AdminApi& admin)
    : impl_(std::make_unique<Impl>(std::move(initial), std::move(options), proxy, admin)) {}
LiveConnections::~LiveConnections() = default;

core::Result<ConnectionDiff> LiveConnections::apply(std::vector<config::ConnectionConfig> next) {
  return impl_->apply(std::move(next));
}
void LiveConnections::attach(store::Store& store, lifecycle::Lifecycle& lifecycle,
                             flows::Flows& flows) {
  impl_->attach(store, lifecycle, flows);
}
void LiveConnections::detach() { impl_->detach(); }
void LiveConnections::setCallerChecks(std::vector<config::AccessKey> client_keys,
                                      std::vector<std::string> allowed_origins) {
  impl_->setCallerChecks(std::move(client_keys), std::move(allowed_origins));
}
void LiveConnections::setLifecycleSettings(const lifecycle::Settings& settings) {
  impl_->setLifecycleSettings(settings);
}
std::shared_ptr<const ConnectionSet> LiveConnections::current() const { return impl_->current(); }
LiveStats LiveConnections::stats() const { return impl_->stats(); }
std::shared_ptr<lifecycle::TokenSource> LiveConnections::source(
    const store::ConnectionKey& key) const {
  return impl_->source(key);
}

}  // namespace tether::app
