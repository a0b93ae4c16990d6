#include "gateway/step_up.h"

#include "oauth/scopes.h"

namespace tether::gateway {

using core::Errc;
using core::Error;
using Kind = lifecycle::StepUp::Kind;

std::string_view stepUpKindName(Kind kind) {
  switch (kind) {
    case Kind::kReauth:
      return "reauth";
    case Kind::kLimitReached:
      return "limit_reached";
    case Kind::kStale:
      return "stale";
    case Kind::kRefused:
      return "refused";
    case Kind::kUnsupported:
      return "unsupported";
  }
  return "unsupported";
}

Error stepUpError(const lifecycle::StepUp& outcome, const oauth::InsufficientScope& challenge,
                  std::string_view label, std::string_view reconnect_url) {
  const std::string upstream = "the upstream of connection " + std::string(label);
  const std::string named = challenge.scopes.empty()
                                ? std::string("more scopes (it named none)")
                                : "the scopes \"" + oauth::joinScopeList(challenge.scopes) + "\"";
  if (!challenge.refused.empty()) {
    return Error(Errc::kUpstreamError, upstream +
                                           " answered 403 insufficient_scope with a scope list "
                                           "Tether refused (" +
                                           challenge.refused + "); the grant was left as it is");
  }
  switch (outcome.kind) {
    case Kind::kReauth:
      return Error(Errc::kNeedsReauth,
                   upstream + " needs " + named +
                       ", which its grant lacks: re-authorize it in the Tether portal at " +
                       std::string(reconnect_url) + " (Tether will ask for \"" + outcome.scopes +
                       "\")");
    case Kind::kLimitReached:
      return Error(Errc::kPermissionDenied,
                   upstream + " still refuses its token for lack of " + named + " after " +
                       std::to_string(outcome.step_ups) +
                       " insufficient_scope answers in a row; Tether stopped asking for a "
                       "re-authorization (the authorization server may not grant these "
                       "scopes to Tether's client: check its scope policy, then reconnect at " +
                       std::string(reconnect_url) + ")");
    case Kind::kStale:
      return Error(Errc::kTemporarilyUnavailable,
                   upstream + " refused an older token for lack of " + named +
                       "; a newer token is in use now: retry the call");
    case Kind::kRefused:
      return Error(Errc::kUpstreamError, upstream + " asked for " + named +
                                             ", but together with the granted ones they are "
                                             "past Tether's scope bounds; the grant was left "
                                             "as it is");
    case Kind::kUnsupported:
      break;
  }
  return Error(Errc::kPermissionDenied, upstream + " refused its credential for lack of " + named);
}

}  // namespace tether::gateway
