#include "lifecycle/state_metrics.h"

#include <array>

#include "core/log.h"
#include "lifecycle/policy.h"

namespace tether::lifecycle {
namespace {

using store::ConnectionState;

// Every state a connection can show; each gets a 0/1 series so a query can select on
// `state` without `absent()`.
constexpr std::array kStates = {ConnectionState::kNotConnected, ConnectionState::kConnected,
                                ConnectionState::kRefreshFailing, ConnectionState::kNeedsReauth};

double unixSeconds(core::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

core::Labels keyLabels(const store::ConnectionKey& key) {
  return {{"kind", key.kind}, {"name", key.name}};
}

}  // namespace

std::string_view failureReasonLabel(std::string_view reason) {
  static constexpr std::array<std::string_view, 11> kVerbatim = {
      "invalid_grant",          "invalid_client",    "unauthorized_client",
      "unsupported_grant_type", "invalid_scope",     "insufficient_scope",
      "refresh_expired",        "no_refresh_token",  "rotation_response_lost",
      "malformed_response",     "response_too_large"};
  for (std::string_view v : kVerbatim) {
    if (reason == v) return v;
  }
  if (reason.starts_with("http_")) return "http_error";
  if (reason.starts_with("transport_")) return "transport_error";
  return "other";
}

StateSeries stateSeries(const std::vector<store::HealthRow>& rows,
                        const MetricConnections& connections) {
  StateSeries out;
  std::map<store::ConnectionKey, const store::HealthRow*> by_key;
  for (const auto& row : rows) {
    if (connections.contains(row.key)) by_key[row.key] = &row;
  }
  out.state.reserve(connections.size() * kStates.size());
  for (const auto& [key, refresh_max_lifetime] : connections) {
    auto it = by_key.find(key);
    const store::HealthRow* row = it == by_key.end() ? nullptr : it->second;
    const ConnectionState shown = row ? row->state : ConnectionState::kNotConnected;
    for (ConnectionState s : kStates) {
      core::Labels labels = keyLabels(key);
      labels.emplace_back("state", std::string(store::connectionStateName(s)));
      out.state.emplace_back(std::move(labels), s == shown ? 1.0 : 0.0);
    }
    // Per-user grants (not built yet) would add counts by state per connection here, as
    // tether_connection_grants{kind,name,state}: never a label per user.
    if (!row) continue;
    if (shown == ConnectionState::kRefreshFailing || shown == ConnectionState::kNeedsReauth) {
      core::Labels labels = keyLabels(key);
      labels.emplace_back("reason", std::string(failureReasonLabel(row->reason)));
      out.failure_reason.emplace_back(std::move(labels), 1.0);
    }
    if (!row->token_acquired) continue;
    if (row->expires_at)
      out.token_expiry.emplace_back(keyLabels(key), unixSeconds(*row->expires_at));
    // The deadline rule the admin view and the portal use (lifecycle/policy.h).
    store::TokenRecord token;
    token.refresh_expires_at = row->refresh_expires_at;
    if (row->token_acquired_at) token.authenticated_at = *row->token_acquired_at;
    const bool knows_start = row->token_acquired_at.has_value();
    const auto deadline = refreshDeadline(token, knows_start ? refresh_max_lifetime : std::nullopt);
    if (deadline) out.refresh_deadline.emplace_back(keyLabels(key), unixSeconds(*deadline));
  }
  return out;
}

StateMetrics::StateMetrics(store::ConnectionRegistry& store, const core::Clock& clock,
                           MetricConnections connections, core::Duration max_age)
    : store_(store), clock_(clock), max_age_(max_age), connections_(std::move(connections)) {}

void StateMetrics::setConnections(MetricConnections connections) {
  {
    std::lock_guard collecting(collect_mu_);
    connections_ = std::move(connections);
  }
  std::lock_guard lock(mu_);
  taken_at_.reset();  // stale: the next scrape reads again
}

void StateMetrics::registerWith(core::MetricsRegistry& registry) {
  using Pick = Series StateSeries::*;
  auto add = [&](const char* name, const char* help, Pick pick) {
    registry.gaugeCallback(name, help, [weak = weak_from_this(), pick] {
      auto self = weak.lock();
      if (!self) return Series{};
      return (*self->snapshot()).*pick;
    });
  };
  add("tether_connection_state",
      "1 for the state each OAuth connection shows (not_connected, connected, "
      "refresh_failing, needs_reauth), 0 for the others",
      &StateSeries::state);
  add("tether_connection_failure_reason",
      "1 for the reason on record while a connection is refresh_failing or needs_reauth "
      "(a closed set: IdP codes of DESIGN.md 3, http_error, transport_error, other)",
      &StateSeries::failure_reason);
  add("tether_token_expiry_timestamp_seconds",
      "Unix time the stored access token of each connection expires", &StateSeries::token_expiry);
  add("tether_refresh_deadline_timestamp_seconds",
      "Unix time refreshing stops being possible (disclosed refresh token expiry or "
      "refresh_max_lifetime), when known",
      &StateSeries::refresh_deadline);
}

void StateMetrics::collect() {
  std::lock_guard collecting(collect_mu_);
  {
    std::lock_guard lock(mu_);
    if (taken_at_ && clock_.monotonic() - *taken_at_ < max_age_) return;
  }
  auto rows = store_.bulkHealth();  // one query however many connections exist
  std::shared_ptr<const StateSeries> fresh;
  if (rows.ok()) {
    fresh = std::make_shared<const StateSeries>(stateSeries(*rows, connections_));
  } else {
    core::log::warn("metrics: cannot read connection states from the store",
                    {{"error", rows.error().message}});
    fresh = std::make_shared<const StateSeries>();
  }
  std::lock_guard lock(mu_);
  snapshot_ = std::move(fresh);
  taken_at_ = clock_.monotonic();
}

std::shared_ptr<const StateSeries> StateMetrics::snapshot() {
  collect();
  std::lock_guard lock(mu_);
  return snapshot_;
}

}  // namespace tether::lifecycle
