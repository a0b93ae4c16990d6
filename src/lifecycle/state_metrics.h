#pragma once
/// Per-connection gauges for alerting, computed at scrape time from the store's bulk health
/// query (one query however many connections exist), so every replica exports what the
/// store says, not what it last saw itself:
///
///   tether_connection_state{kind,name,state}             1 for the shown state, 0 for the rest
///   tether_connection_failure_reason{kind,name,reason}   1 while refresh_failing / needs_reauth
///   tether_token_expiry_timestamp_seconds{kind,name}     access token expiry (a token is stored)
///   tether_refresh_deadline_timestamp_seconds{kind,name} refresh deadline, when known
///
/// Series exist only for the configured OAuth connections (the lifecycle's sources), so
/// cardinality is bounded by the configuration: never a label per user, never a string a
/// caller or an IdP chose (failure reasons are mapped into a closed set).
///
/// Thread-safety: every method may be called from any thread.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "store/connection_registry.h"
#include "store/types.h"

namespace tether::lifecycle {

using Series = std::vector<std::pair<core::Labels, double>>;

/// The series of the per-connection families, from one bulk health read.
struct StateSeries {
  Series state;
  Series failure_reason;
  Series token_expiry;
  Series refresh_deadline;
};

/// A connection the gauges cover, with what its refresh deadline needs.
using MetricConnections = std::map<store::ConnectionKey, std::optional<core::Duration>>;

/// The closed set of `reason` label values: the terminal codes of DESIGN.md §3 as they are,
/// transient codes by class (`http_error` for http_<status>, `transport_error` for
/// transport_<what>), anything else "other".
std::string_view failureReasonLabel(std::string_view reason);

/// The series for `connections` (refresh_max_lifetime by key) from `rows`; rows of other
/// connections are ignored, a configured connection without a row is not_connected. Pure.
StateSeries stateSeries(const std::vector<store::HealthRow>& rows,
                        const MetricConnections& connections);

/// Reads the store at most once per `max_age` (monotonic) and serves the families above
/// from that snapshot. When the read fails the families are empty (and a warning is logged),
/// rather than stale.
class StateMetrics : public std::enable_shared_from_this<StateMetrics> {
 public:
  /// `store` and `clock` must outlive the object (the registry may outlive it: its
  /// callbacks hold a weak reference).
  StateMetrics(store::ConnectionRegistry& store, const core::Clock& clock,
               MetricConnections connections, core::Duration max_age = std::chrono::seconds(1));

  /// Registers the four families' scrape-time callbacks.
  void registerWith(core::MetricsRegistry& registry);

  /// Refreshes the snapshot if it is older than max_age. Blocking (a store round trip):
  /// call it before MetricsRegistry::render(), off I/O threads, so the query does not run
  /// under the registry's lock. render() calls it too when nobody did.
  void collect();

  /// The running set changed (app/live_connections.h): the next collect reads for these.
  void setConnections(MetricConnections connections);

  /// The current snapshot (collecting first when stale).
  std::shared_ptr<const StateSeries> snapshot();

 private:
  store::ConnectionRegistry& store_;
  const core::Clock& clock_;
  const core::Duration max_age_;
  std::mutex collect_mu_;  // one store read at a time; guards connections_
  MetricConnections connections_;
  std::mutex mu_;  // guards the two fields below
  std::shared_ptr<const StateSeries> snapshot_;
  std::optional<core::MonoPoint> taken_at_;
};

}  // namespace tether::lifecycle
