#pragma once
/// The Recorder: every lifecycle fact goes through here to the auth event history (the
/// store), to metrics and to the logs. Details are a closed struct: there is no field a
/// token, a secret, a response body or an `error_description` could go into, and every
/// IdP-supplied string is sanitized (oauth::sanitizeIdpString) before it is written.
///
/// If the store cannot take an event, the event waits in a bounded in-memory queue and is
/// retried on the next record() or flush(), so a store blip loses no history (past the
/// bound, the oldest waiting event is dropped with an ERROR log). When the recorder stops
/// (stop(), or its destruction when the process ends) waiting events get one more try; those
/// the store still refuses are reported as lost: one ERROR line with their count (never
/// their content) and tether_auth_events_lost_total{reason="shutdown"}. Events dropped at
/// the bound count there too, as reason="queue_full".
///
/// Thread-safety: all methods may be called concurrently. record() does store I/O: call it
/// off the server's I/O threads.

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/metrics.h"
#include "store/store.h"

namespace tether::events {

/// Actors (DESIGN.md §6).
inline constexpr std::string_view kActorBackground = "system:background-refresh";
inline constexpr std::string_view kActorToolCall = "system:tool-call";
/// "admin:<key id>".
std::string adminActor(std::string_view key_id);

/// The detail object of an auth event. Only these fields exist.
struct Detail {
  std::optional<core::TimePoint> expires_before;
  std::optional<core::TimePoint> expires_after;
  std::optional<core::TimePoint> refresh_expires_before;
  std::optional<core::TimePoint> refresh_expires_after;
  std::optional<bool> rotated;
  std::optional<double> duration_ms;
  std::optional<int> http_status;
  std::string idp_error;    // IdP-supplied: sanitized on write
  std::string error_class;  // success | transient | terminal
  std::string reason;       // Tether's reason code (sanitized too)
  std::optional<int> consecutive_failures;
  std::optional<core::TimePoint> next_attempt_at;
  std::optional<int64_t> suppressed;  // transient failures not written since the last event

  /// The JSON object stored with the event.
  std::string toJson() const;
};

/// One lifecycle fact.
struct Fact {
  store::EventType type = store::EventType::kRefreshSucceeded;
  store::ConnectionKey key;
  std::string actor;
  std::string idp_host;
  std::string correlation_id;
  Detail detail;
};

class Recorder {
 public:
  /// `events`, `clock` and `metrics` (may be null) must outlive the recorder.
  Recorder(store::EventStore& events, const core::Clock& clock, core::MetricsRegistry* metrics,
           size_t max_pending = 10'000);
  /// Calls stop().
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Appends the event (or queues it when the store fails) and logs it.
  void record(const Fact& fact);

  /// Counts one refresh attempt: tether_oauth_refresh_total{kind,name,outcome,class} and
  /// the tether_oauth_refresh_duration_seconds histogram. `outcome_class` is success,
  /// transient or terminal.
  void countRefresh(const store::ConnectionKey& key, std::string_view outcome_class,
                    std::chrono::duration<double> duration);

  /// Retries queued events; returns how many still wait.
  size_t flush();
  size_t pending() const;

  /// Retries the waiting events once more, then reports those the store still refuses as
  /// lost (logged with their count, counted in the metric) and forgets them. Returns how
  /// many were lost. Safe to call more than once; record() still works afterwards.
  size_t stop();

 private:
  bool tryAppend(const store::AuthEvent& event);
  void countLost(std::string_view reason, size_t n);

  store::EventStore& events_;
  const core::Clock& clock_;
  core::MetricsRegistry* metrics_;
  const size_t max_pending_;
  mutable std::mutex mu_;
  std::deque<store::AuthEvent> pending_;
};

}  // namespace tether::events
