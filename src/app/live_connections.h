#pragma once
/// The running set of connections (DESIGN.md §2 "Connections are data"): one owner that
/// turns a new list of connections into what every module serves, while Tether runs.
///
/// apply() takes the FULL list of connections that should run: the declared ones (the YAML
/// file, read at start and on SIGHUP) together with the stored ones (made through the admin
/// API). The caller builds that union and reports a (kind, name) present in both; apply()
/// itself refuses a list naming one (kind, name) twice. It diffs the list against the
/// running set by (kind, name):
///   - added:   a token source (OAuth; the keeper looks at it in its next tick), a connect
///              flow entry, a proxy route and an admin view;
///   - changed: replaced by one built from the new settings. New calls use the new settings;
///              a call in flight keeps the per-connection objects it started with (held by
///              shared_ptr for the call's lifetime) and finishes on the old settings. An
///              OAuth connection whose only change is its client settings (client id,
///              secret, auth method) keeps its token source, which takes them over
///              (lifecycle::Lifecycle::clientSettingsChanged): a token in its memory is kept
///              and a needs_client_fix connection refreshes with them at once;
///   - removed: new calls get 404 naming it, its keeper work stops. Its store rows (tokens,
///              state, events) are NOT deleted here: deleting a connection is another path.
/// Only what changed is built or written: one change among N connections writes its own
/// registry row (store::ConnectionRegistry::updateConnections), builds one proxy object and
/// at most one token source; unchanged connections keep theirs (see stats()). attach()
/// makes the whole registry equal to the running set once.
///
/// Readers (proxy, keeper, flows, admin views) read the current set through an immutable
/// snapshot swapped atomically (a mutex-guarded shared_ptr<const ...>): a reader copies the
/// pointer and never waits for an apply; no other lock is taken on the proxy's hot path.
///
/// Thread-safety: apply(), attach() and current() may be called from any thread; applies
/// are serialized. apply() blocks on the store (registry sync, loading new connections'
/// state): never call it on a server I/O thread.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "lifecycle/policy.h"
#include "store/types.h"

namespace tether::admin {
class AdminApi;
}
namespace tether::flows {
class Flows;
}
namespace tether::gateway {
class Proxy;
}
namespace tether::lifecycle {
class Lifecycle;
class TokenSource;
}  // namespace tether::lifecycle
namespace tether::store {
class Store;
}

namespace tether::app {

/// How a next list differs from the running one, by (kind, name). Each list is sorted.
struct ConnectionDiff {
  std::vector<store::ConnectionKey> added;
  std::vector<store::ConnectionKey> changed;  // any setting differs, secrets included
  std::vector<store::ConnectionKey> removed;
  bool empty() const { return added.empty() && changed.empty() && removed.empty(); }
};

/// True when two entries configure the same connection: every field equal, except the
/// line of the file they were read from.
bool sameConnection(const config::ConnectionConfig& a, const config::ConnectionConfig& b);

/// Pure: what turns `running` into `next`. Entries are matched by (kind, name).
ConnectionDiff diffConnections(const std::vector<config::ConnectionConfig>& running,
                               const std::vector<config::ConnectionConfig>& next);

/// One running set: immutable once published.
struct ConnectionSet {
  std::vector<config::ConnectionConfig> connections;  // sorted by (kind, name)
  uint64_t generation = 0;                            // 0 at start, +1 per applied change
  /// The entry of `key`, or null.
  const config::ConnectionConfig* find(const store::ConnectionKey& key) const;
};

/// Settings the live set needs besides the connections themselves.
struct LiveOptions {
  std::vector<std::string> discovery_allowed_hosts;  // discovery.allowed_hosts
  /// The proxy's caller checks, installed with every set (clients.keys, allowed_origins).
  std::vector<config::AccessKey> client_keys;
  std::vector<std::string> allowed_origins;
};

/// What applies have built and written so far (tests, diagnostics): totals since start.
struct LiveStats {
  uint64_t proxy_connections_built = 0;  // gateway::Proxy::connectionsBuilt
  uint64_t sources_built = 0;            // token sources created (OAuth connections)
  uint64_t sources_kept = 0;             // changed connections whose source took new settings
  uint64_t registry_rows = 0;            // registry rows upserted or removed
};

class LiveConnections {
 public:
  /// `initial` is the set the process starts with (what the proxy and admin views were
  /// created from). `proxy` and `admin` must outlive this object.
  LiveConnections(std::vector<config::ConnectionConfig> initial, LiveOptions options,
                  gateway::Proxy& proxy, admin::AdminApi& admin);
  ~LiveConnections();
  LiveConnections(const LiveConnections&) = delete;
  LiveConnections& operator=(const LiveConnections&) = delete;

  /// Makes `next` (the full list, see above) the running set and returns what changed.
  /// Every entry is checked first (upstream URL, duplicates): on an error (kConfig naming
  /// the connection) nothing changes. A store failure while syncing the registry is logged
  /// and the set is still applied (the registry catches up at the next apply). Before
  /// attach(), only the proxy and admin views change; attach() brings the rest along.
  core::Result<ConnectionDiff> apply(std::vector<config::ConnectionConfig> next);

  /// The store is open: from now on apply() also drives the registry, the lifecycle and the
  /// connect flows. Brings them to the current set at once (they may have been built from
  /// an older one). All three must outlive this object or a later detach().
  void attach(store::Store& store, lifecycle::Lifecycle& lifecycle, flows::Flows& flows);
  /// Before the lifecycle and flows stop: apply() stops driving them.
  void detach();

  /// New caller checks for the proxy (clients.keys, allowed_origins), installed at once with
  /// the running set. Thread-safe (serialized with apply()).
  void setCallerChecks(std::vector<config::AccessKey> client_keys,
                       std::vector<std::string> allowed_origins);

  /// New lifecycle timings (keeper.*, events.*): the keeper restarts on them and every
  /// OAuth connection's token source is rebuilt on them (state reloaded from the store).
  /// Before attach(): kept, and given to the lifecycle at attach(). Blocking.
  void setLifecycleSettings(const lifecycle::Settings& settings);

  /// The running set (never null).
  std::shared_ptr<const ConnectionSet> current() const;

  /// Totals of what applies built and wrote (see LiveStats). Serialized with apply().
  LiveStats stats() const;
  /// The running token source of `key`; null before attach() or for a non-OAuth one.
  std::shared_ptr<lifecycle::TokenSource> source(const store::ConnectionKey& key) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::app
