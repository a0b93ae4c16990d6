#include "events/recorder.h"

#include <fmt/format.h>

#include "core/json_escape.h"
#include "core/log.h"
#include "oauth/sanitize.h"

namespace tether::events {
namespace {

void addTime(std::string& out, std::string_view key, const std::optional<core::TimePoint>& t) {
  if (!t) return;
  out += ',';
  core::appendJsonString(out, key);
  out += ':';
  core::appendJsonString(out, core::formatRfc3339(*t));
}

void addString(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out += ',';
  core::appendJsonString(out, key);
  out += ':';
  core::appendJsonString(out, oauth::sanitizeIdpString(value));
}

template <class T>
void addNumber(std::string& out, std::string_view key, const std::optional<T>& v) {
  if (!v) return;
  out += ',';
  core::appendJsonString(out, key);
  out += ':';
  if constexpr (std::is_same_v<T, double>) {
    out += fmt::format("{:.1f}", *v);
  } else {
    out += std::to_string(*v);
  }
}

core::LogLevel levelFor(store::EventType type) {
  switch (type) {
    case store::EventType::kRefreshRotationPersistenceFailed:
      return core::LogLevel::kError;
    case store::EventType::kRefreshFailedTransient:
    case store::EventType::kRefreshFailedRevoked:
    case store::EventType::kTokenDeletedRevoked:
    case store::EventType::kConnectFailed:
    case store::EventType::kRefreshSkippedNoToken:
    case store::EventType::kRefreshSkippedExpired:
    case store::EventType::kStepUpRequired:
    case store::EventType::kStepUpLimitReached:
    case store::EventType::kRefreshFailedClientRejected:
      return core::LogLevel::kWarn;
    default:
      return core::LogLevel::kInfo;
  }
}

}  // namespace

std::string adminActor(std::string_view key_id) { return "admin:" + std::string(key_id); }

std::string Detail::toJson() const {
  std::string out = "{";
  addTime(out, "expires_before", expires_before);
  addTime(out, "expires_after", expires_after);
  addTime(out, "refresh_expires_before", refresh_expires_before);
  addTime(out, "refresh_expires_after", refresh_expires_after);
  if (rotated) out += std::string(",\"rotated\":") + (*rotated ? "true" : "false");
  addNumber(out, "duration_ms", duration_ms);
  addNumber(out, "http_status", http_status);
  addString(out, "idp_error", idp_error);
  addString(out, "error_class", error_class);
  addString(out, "reason", reason);
  addNumber(out, "consecutive_failures", consecutive_failures);
  addTime(out, "next_attempt_at", next_attempt_at);
  addNumber(out, "suppressed", suppressed);
  if (out.size() > 1) out.erase(1, 1);  // leading comma
  out += '}';
  return out;
}

Recorder::Recorder(store::EventStore& events, const core::Clock& clock,
                   core::MetricsRegistry* metrics, size_t max_pending)
    : events_(events), clock_(clock), metrics_(metrics), max_pending_(max_pending) {}

Recorder::~Recorder() { stop(); }

bool Recorder::tryAppend(const store::AuthEvent& event) { return events_.appendEvent(event).ok(); }

void Recorder::record(const Fact& fact) {
  store::AuthEvent event;
  event.at = clock_.now();
  event.key = fact.key;
  event.type = fact.type;
  event.actor = fact.actor;
  event.idp_host = oauth::sanitizeIdpString(fact.idp_host);
  event.correlation_id = fact.correlation_id;
  event.detail_json = fact.detail.toJson();

  const auto level = levelFor(fact.type);
  if (core::log::enabled(level)) {
    core::log::write(level, "auth event",
                     {{"event", store::eventTypeName(fact.type)},
                      {"connection", fact.key.str()},
                      {"actor", fact.actor},
                      {"idp_host", event.idp_host},
                      {"correlation_id", fact.correlation_id},
                      {"detail", event.detail_json}});
  }

  flush();
  if (tryAppend(event)) return;
  std::lock_guard lock(mu_);
  if (pending_.size() >= max_pending_) {
    core::log::error("auth event queue full: dropping the oldest waiting event",
                     {{"event", store::eventTypeName(pending_.front().type)},
                      {"connection", pending_.front().key.str()}});
    pending_.pop_front();
    countLost("queue_full", 1);
  }
  pending_.push_back(std::move(event));
  core::log::warn(
      "auth event could not be stored; kept in memory for retry",
      {{"connection", fact.key.str()}, {"waiting", static_cast<int64_t>(pending_.size())}});
}

size_t Recorder::flush() {
  std::lock_guard lock(mu_);
  while (!pending_.empty()) {
    if (!tryAppend(pending_.front())) break;
    pending_.pop_front();
  }
  return pending_.size();
}

size_t Recorder::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

size_t Recorder::stop() {
  std::lock_guard lock(mu_);
  while (!pending_.empty() && tryAppend(pending_.front())) pending_.pop_front();
  const size_t lost = pending_.size();
  if (lost == 0) return 0;
  pending_.clear();
  core::log::error("auth events lost at shutdown: the store refused them until the end",
                   {{"lost", static_cast<int64_t>(lost)}});
  countLost("shutdown", lost);
  return lost;
}

void Recorder::countLost(std::string_view reason, size_t n) {
  if (!metrics_) return;
  metrics_
      ->counter("tether_auth_events_lost_total",
                "Auth events never written to the store (queue full, or still refused at shutdown)",
                {{"reason", std::string(reason)}})
      .inc(static_cast<double>(n));
}

void Recorder::countRefresh(const store::ConnectionKey& key, std::string_view outcome_class,
                            std::chrono::duration<double> duration) {
  if (!metrics_) return;
  const std::string outcome = outcome_class == "success" ? "succeeded" : "failed";
  metrics_
      ->counter("tether_oauth_refresh_total", "Token refresh attempts by outcome and class",
                {{"kind", key.kind},
                 {"name", key.name},
                 {"outcome", outcome},
                 {"class", std::string(outcome_class)}})
      .inc();
  metrics_
      ->histogram("tether_oauth_refresh_duration_seconds", "Token endpoint round trip of refreshes",
                  {{"kind", key.kind}, {"name", key.name}})
      .observe(duration.count());
}

}  // namespace tether::events
