#include "lifecycle/policy.h"

#include <algorithm>

namespace tether::lifecycle {

using std::chrono::duration_cast;

Duration effectiveLead(Duration configured, TimePoint issued, TimePoint expires) {
  const auto life = duration_cast<Duration>(expires - issued);
  if (life <= Duration::zero()) return configured;
  return std::min(configured, life / 2);
}

std::optional<TimePoint> accessRefreshAt(const store::TokenRecord& token, const Settings& s) {
  if (!token.expires_at) return std::nullopt;
  const TimePoint issued = token.last_refreshed_at.value_or(token.authenticated_at);
  return *token.expires_at - effectiveLead(s.access_lead, issued, *token.expires_at);
}

std::optional<TimePoint> refreshDeadline(const store::TokenRecord& token,
                                         std::optional<Duration> refresh_max_lifetime) {
  std::optional<TimePoint> deadline = token.refresh_expires_at;
  if (refresh_max_lifetime) {
    const TimePoint hard = token.authenticated_at + *refresh_max_lifetime;
    deadline = deadline ? std::min(*deadline, hard) : hard;
  }
  return deadline;
}

std::optional<TimePoint> nextDue(const store::TokenRecord& token, const Settings& s,
                                 std::optional<Duration> refresh_max_lifetime,
                                 double jitter_fraction) {
  std::optional<TimePoint> due = accessRefreshAt(token, s);
  Duration lead_for_jitter = s.access_lead;
  if (token.refresh_token && token.refresh_expires_at) {
    // A disclosed deadline is usually an idle window that every refresh renews: refresh
    // ahead of it, whether or not anyone calls.
    const TimePoint issued = token.last_refreshed_at.value_or(token.authenticated_at);
    const Duration lead = effectiveLead(s.refresh_lead, issued, *token.refresh_expires_at);
    const TimePoint idle_due = *token.refresh_expires_at - lead;
    if (!due || idle_due < *due) {
      due = idle_due;
      lead_for_jitter = lead;
    }
  }
  if (const auto hard = refreshDeadline(token, refresh_max_lifetime)) {
    if (!due || *hard < *due) due = *hard;
  }
  if (due && jitter_fraction > 0) {
    const Duration spread = std::min(s.jitter, lead_for_jitter / 4);
    *due -= duration_cast<Duration>(spread * jitter_fraction);
  }
  return due;
}

bool refreshDue(const store::TokenRecord& token, const Settings& s,
                std::optional<Duration> refresh_max_lifetime, TimePoint now) {
  const auto due = nextDue(token, s, refresh_max_lifetime, 0);
  return !due || now >= *due;
}

Duration backoffDelay(int failures, const Settings& s, std::optional<Duration> retry_after,
                      double unit) {
  const int exponent = std::clamp(failures - 1, 0, 30);
  const double ceiling_ms = std::min(
      static_cast<double>(s.backoff_max.count()),
      static_cast<double>(s.backoff_initial.count()) * static_cast<double>(1LL << exponent));
  const double floor_ms = std::min(1000.0, ceiling_ms);
  Duration delay(
      static_cast<int64_t>(floor_ms + (ceiling_ms - floor_ms) * std::clamp(unit, 0.0, 1.0)));
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace tether::lifecycle
