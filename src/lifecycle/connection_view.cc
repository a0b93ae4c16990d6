#include "lifecycle/connection_view.h"

#include <boost/json.hpp>

#include "lifecycle/policy.h"

namespace tether::lifecycle {
namespace {

using store::ConnectionState;

/// The newest refresh_failed_revoked / token_deleted_revoked event: when, why, which IdP.
std::optional<Revocation> newestRevocation(const std::vector<store::AuthEvent>& recent) {
  for (const auto& e : recent) {
    if (e.type != store::EventType::kRefreshFailedRevoked &&
        e.type != store::EventType::kTokenDeletedRevoked) {
      continue;
    }
    boost::system::error_code ec;
    auto d = boost::json::parse(e.detail_json, ec);
    std::string reason;
    if (!ec && d.is_object()) {
      for (const char* k : {"idp_error", "reason"}) {
        if (auto* v = d.as_object().if_contains(k); v && v->is_string() && reason.empty()) {
          reason = std::string(v->as_string());
        }
      }
    }
    return Revocation{e.at, std::move(reason), e.idp_host};
  }
  return std::nullopt;
}

/// The newest connect_failed event unless a connect_completed came after it.
std::optional<ConnectFailure> newestConnectFailure(const std::vector<store::AuthEvent>& recent) {
  for (const auto& e : recent) {
    if (e.type == store::EventType::kConnectCompleted) return std::nullopt;
    if (e.type != store::EventType::kConnectFailed) continue;
    ConnectFailure f{e.at, {}, {}, e.actor};
    boost::system::error_code ec;
    auto d = boost::json::parse(e.detail_json, ec);
    if (!ec && d.is_object()) {
      if (auto* v = d.as_object().if_contains("reason"); v && v->is_string()) {
        f.reason = std::string(v->as_string());
      }
      if (auto* v = d.as_object().if_contains("idp_error"); v && v->is_string()) {
        f.idp_error = std::string(v->as_string());
      }
    }
    return f;
  }
  return std::nullopt;
}

}  // namespace

ConnectionView viewOf(const std::optional<store::TokenRecord>& token,
                      const std::optional<store::StateRecord>& state,
                      const std::vector<store::AuthEvent>& recent,
                      std::optional<core::Duration> refresh_max_lifetime, core::TimePoint now) {
  ConnectionView v;
  v.has_token = token.has_value();
  v.state = store::shownConnectionState(
      state ? std::optional<ConnectionState>(state->state) : std::nullopt, v.has_token);
  v.last_revocation = newestRevocation(recent);
  v.last_connect_failure = newestConnectFailure(recent);
  if (token) v.refresh_deadline = refreshDeadline(*token, refresh_max_lifetime);
  v.reauthorize_soon = v.refresh_deadline && *v.refresh_deadline - now <= kReauthorizeSoon;

  // A revocation matters while the connection still lacks a working token.
  const bool lacking =
      v.state == ConnectionState::kNeedsReauth || v.state == ConnectionState::kNotConnected;
  const bool revoked = lacking && v.last_revocation.has_value();
  v.error_code = state ? state->last_error_code : std::string();
  if (v.error_code.empty() && v.state == ConnectionState::kNeedsReauth && revoked) {
    v.error_code = v.last_revocation->reason;
  }
  switch (v.state) {
    case ConnectionState::kNeedsReauth:
      v.status = "needs_reauth";
      break;
    case ConnectionState::kRefreshFailing:
      v.status = "refresh_failing";
      break;
    case ConnectionState::kNeedsClientFix:
      // The IdP rejected Tether's client credentials; the grant is kept (not revoked).
      v.status = "needs_client_fix";
      break;
    case ConnectionState::kConnected:
      v.status = "connected";
      break;
    case ConnectionState::kNotConnected:
      v.status = revoked ? "revoked" : v.has_token ? "not_connected" : "never_connected";
      break;
  }
  return v;
}

}  // namespace tether::lifecycle
