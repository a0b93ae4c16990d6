#include "lifecycle/transitions.h"

#include <algorithm>

#include "oauth/scopes.h"

namespace tether::lifecycle {
namespace {

using store::ConnectionState;

/// Healthy: no failure, backoff or revocation left. The step-up scopes and count stay: the
/// grant keeps asking for what an upstream needed, and a loop stays counted.
State connected(State s) {
  s.state = ConnectionState::kConnected;
  s.reason.clear();
  s.last_error_code.clear();
  s.failures = 0;
  s.first_failure_at.reset();
  s.next_attempt_at.reset();
  s.revoked_at.reset();
  s.last_transient_event_at.reset();
  s.suppressed_transient = 0;
  return s;
}

struct Visitor {
  State s;
  TimePoint now;
  const Settings& settings;

  Transition operator()(const event::Succeeded&) {
    const bool recovered =
        s.state == ConnectionState::kRefreshFailing || s.state == ConnectionState::kNeedsClientFix;
    return {connected(std::move(s)), {.recovered = recovered, .write_state = true}};
  }

  Transition operator()(const event::Adopted& e) {
    if (s.state == ConnectionState::kNeedsReauth || s.state == ConnectionState::kNotConnected ||
        ((s.state == ConnectionState::kRefreshFailing ||
          s.state == ConnectionState::kNeedsClientFix) &&
         e.newer)) {
      return {connected(std::move(s)), {}};
    }
    return {std::move(s), {}};
  }

  Transition operator()(const event::PersistFailed&) {
    // The tokens work: connected, though the reason of an earlier failure stays on record.
    s.state = ConnectionState::kConnected;
    s.failures = 0;
    s.next_attempt_at.reset();
    return {std::move(s), {}};
  }

  Transition operator()(const event::TransientFailure& e) {
    const bool first = s.state != ConnectionState::kRefreshFailing;
    ++s.failures;
    if (!s.first_failure_at) s.first_failure_at = now;
    s.next_attempt_at = now + backoffDelay(s.failures, settings, e.retry_after, e.unit);
    s.state = ConnectionState::kRefreshFailing;
    s.reason = e.code;
    s.last_error_code = e.idp_code.empty() ? e.code : e.idp_code;
    Effects fx{.write_state = true};
    fx.record_transient = first || !s.last_transient_event_at ||
                          now - *s.last_transient_event_at >= settings.transient_event_interval;
    if (fx.record_transient) {
      s.last_transient_event_at = now;
      fx.suppressed = s.suppressed_transient;
      s.suppressed_transient = 0;
    } else {
      ++s.suppressed_transient;
    }
    return {std::move(s), fx};
  }

  Transition operator()(const event::TerminalFailure& e) {
    s.state = ConnectionState::kNeedsReauth;
    s.reason = e.reason;
    s.last_error_code = e.idp_code.empty() ? e.reason : e.idp_code;
    ++s.failures;
    s.revoked_at = now;
    s.next_attempt_at.reset();
    return {std::move(s), {.write_state = true}};
  }

  Transition operator()(const event::ClientRejected& e) {
    // Not a revocation: the grant stays (no revoked_at), nothing is retried on a timer.
    s.state = ConnectionState::kNeedsClientFix;
    s.reason = e.reason;
    s.last_error_code = e.idp_code.empty() ? e.reason : e.idp_code;
    ++s.failures;
    if (!s.first_failure_at) s.first_failure_at = now;
    s.next_attempt_at.reset();
    return {std::move(s), {.write_state = true}};
  }

  Transition operator()(const event::ClientSettingsChanged&) {
    const bool waiting =
        s.state == ConnectionState::kNeedsClientFix || s.state == ConnectionState::kRefreshFailing;
    if (waiting) s.next_attempt_at.reset();  // no backoff against new settings
    return {std::move(s), {.refresh_now = waiting}};
  }

  Transition operator()(const event::NoToken& e) {
    if (e.stored && e.stored->state == ConnectionState::kNeedsReauth) {
      s.state = ConnectionState::kNeedsReauth;
      s.reason = e.stored->reason;
      s.last_error_code = e.stored->last_error_code;
    } else {
      s.state = ConnectionState::kNotConnected;
    }
    return {std::move(s), {}};
  }

  Transition operator()(const event::TokenWritten&) {
    // Reconnected, or healed with new client settings (on some replica): the next call
    // reads the store again.
    if (s.state == ConnectionState::kNeedsReauth || s.state == ConnectionState::kNeedsClientFix) {
      s.state = ConnectionState::kNotConnected;
    }
    return {std::move(s), {}};
  }

  Transition operator()(const event::InsufficientScope& e) {
    // What the grant holds or was asked for already; a challenge within it is a loop.
    auto known = oauth::unionScopes(s.step_up_scopes, e.granted);
    if (!known.ok()) known = s.step_up_scopes;
    const bool progress = !oauth::containsAllScopes(*known, e.challenged);
    auto wanted = oauth::unionScopes(*known, e.challenged);
    if (!wanted.ok()) return {std::move(s), {.step_up = StepUpEffect::kRefused}};
    const int count = progress ? 1 : s.step_ups + 1;
    if (count >= settings.max_step_ups) {
      const bool first = s.step_ups < settings.max_step_ups;
      s.step_ups = settings.max_step_ups;
      return {std::move(s),
              {.write_state = first,
               .step_up = first ? StepUpEffect::kLimitReached : StepUpEffect::kLimitHeld}};
    }
    s.step_ups = count;
    s.step_up_scopes = std::move(wanted).value();
    s.state = ConnectionState::kNeedsReauth;
    s.reason = "insufficient_scope";
    s.last_error_code = "insufficient_scope";
    s.revoked_at = now;
    s.next_attempt_at.reset();
    return {std::move(s), {.write_state = true, .step_up = StepUpEffect::kReauth}};
  }

  Transition operator()(const event::Deleted& e) {
    State out = connected(std::move(s));
    out.state = ConnectionState::kNotConnected;
    out.reason = e.reason;
    return {std::move(out), {.write_state = true}};
  }
};

}  // namespace

Transition apply(State state, const Event& event, TimePoint now, const Settings& settings) {
  return std::visit(Visitor{std::move(state), now, settings}, event);
}

bool rejectsClient(std::string_view code) {
  return code == "invalid_client" || code == "unauthorized_client";
}

bool backingOff(const State& s, TimePoint now) {
  return s.state == store::ConnectionState::kRefreshFailing && s.next_attempt_at &&
         now < *s.next_attempt_at;
}

bool keeperSkips(const State& s, TimePoint now, bool persist_pending) {
  return s.state == store::ConnectionState::kNeedsReauth ||
         s.state == store::ConnectionState::kNeedsClientFix ||
         (backingOff(s, now) && !persist_pending);
}

Verdict localVerdict(const store::TokenRecord& row, bool client_credentials,
                     std::optional<Duration> refresh_max_lifetime, TimePoint now) {
  if (client_credentials || row.version <= 0) return Verdict::kCallIdp;
  const auto deadline = refreshDeadline(row, refresh_max_lifetime);
  if (deadline && now >= *deadline) return Verdict::kRefreshExpired;
  if (!row.refresh_token || row.refresh_token->empty()) {
    return row.expires_at && now < *row.expires_at ? Verdict::kAdopt : Verdict::kNoRefreshToken;
  }
  return Verdict::kCallIdp;
}

std::optional<TimePoint> keeperNextDue(const State& s,
                                       const std::optional<store::TokenRecord>& token,
                                       bool client_credentials,
                                       std::optional<TimePoint> persist_retry, TimePoint now,
                                       const Settings& settings,
                                       std::optional<Duration> refresh_max_lifetime, double unit) {
  using store::ConnectionState;
  if (s.state == ConnectionState::kConnected && token) {
    return nextDue(*token, settings, refresh_max_lifetime, unit);
  }
  std::optional<TimePoint> due;
  if (s.state == ConnectionState::kRefreshFailing) {
    due = s.next_attempt_at;
  } else if (s.state != ConnectionState::kNeedsReauth &&
             s.state != ConnectionState::kNeedsClientFix && client_credentials) {
    due = now;
  }
  if (persist_retry) due = due ? std::min(*due, *persist_retry) : *persist_retry;
  return due;
}

Duration nextPersistDelay(Duration current, const Settings& settings) {
  return std::min(current * 2, settings.persist_retry_max);
}

store::StateRecord toRecord(const State& s, const store::ConnectionKey& key,
                            std::optional<TimePoint> next_due) {
  store::StateRecord r;
  r.key = key;
  r.state = s.state;
  r.reason = s.reason;
  r.last_error_code = s.last_error_code;
  r.consecutive_failures = s.failures;
  r.first_failure_at = s.first_failure_at;
  r.next_attempt_at = s.next_attempt_at;
  r.revoked_at = s.revoked_at;
  r.next_due_at = next_due;
  r.step_up_scopes = s.step_up_scopes;
  r.step_ups = s.step_ups;
  return r;
}

State fromRecord(const store::StateRecord& r) {
  State s;
  s.state = r.state;
  s.reason = r.reason;
  s.last_error_code = r.last_error_code;
  s.failures = r.consecutive_failures;
  s.first_failure_at = r.first_failure_at;
  s.next_attempt_at = r.next_attempt_at;
  s.revoked_at = r.revoked_at;
  s.step_up_scopes = r.step_up_scopes;
  s.step_ups = r.step_ups;
  return s;
}

}  // namespace tether::lifecycle
