// The event a state change is, and the JSON body of a webhook message.

#include "webhooks/payload.h"

#include <fmt/format.h>

#include <cctype>
#include <chrono>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json_escape.h"

namespace tether::webhooks {
namespace {

using config::WebhookEvent;
using store::ConnectionState;

/// A code as the IdP's RFC 6749 error codes look ([a-z0-9_.-], at most 64); else empty, so
/// nothing free-form an IdP sent can reach a receiver.
std::string codeOnly(std::string_view s, std::string_view extra = "") {
  if (s.size() > (extra.empty() ? 64 : 255)) return {};
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') continue;
    if (extra.find(static_cast<char>(c)) == std::string_view::npos) return {};
  }
  return std::string(s);
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out += ',';
  core::appendJsonString(out, name);
  out += ':';
  if (value.empty()) {
    out += "null";
  } else {
    core::appendJsonString(out, value);
  }
}

}  // namespace

bool isClientRejection(std::string_view reason, std::string_view idp_code) {
  for (std::string_view s : {reason, idp_code}) {
    if (s == "invalid_client" || s == "unauthorized_client") return true;
  }
  return false;
}

std::optional<WebhookEvent> eventForChange(const std::optional<store::StateRecord>& before,
                                           const store::StateRecord& after) {
  const ConnectionState was = before ? before->state : ConnectionState::kNotConnected;
  const ConnectionState now = after.state;
  if (was == now) return std::nullopt;
  switch (now) {
    case ConnectionState::kNeedsReauth:
      return WebhookEvent::kNeedsReauth;
    case ConnectionState::kNeedsClientFix:
      return WebhookEvent::kNeedsClientFix;
    case ConnectionState::kRefreshFailing:
      return WebhookEvent::kRefreshFailing;
    case ConnectionState::kConnected:
      return was == ConnectionState::kRefreshFailing ? WebhookEvent::kRecovered
                                                     : WebhookEvent::kConnected;
    case ConnectionState::kNotConnected:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string portalUrl(std::string_view public_url, const store::ConnectionKey& key) {
  return std::string(public_url) + "/portal/connections/" + core::percentEncode(key.kind) + "/" +
         core::percentEncode(key.name);
}

PayloadFacts factsFor(WebhookEvent event, const store::StateRecord& after,
                      std::string_view idp_host, std::string_view public_url, core::TimePoint now) {
  PayloadFacts f;
  f.type = std::string(config::webhookEventName(event));
  f.at = now;
  f.key = after.key;
  f.state = std::string(store::connectionStateName(after.state));
  f.idp_host = std::string(idp_host);
  f.idp_error_code = after.last_error_code;
  f.reason = after.reason;
  f.consecutive_failures = after.consecutive_failures;
  if (after.state == ConnectionState::kRefreshFailing) f.next_attempt_at = after.next_attempt_at;
  f.portal_url = portalUrl(public_url, after.key);
  return f;
}

std::string buildPayload(const PayloadFacts& f) {
  std::string out = "{\"type\":";
  core::appendJsonString(out, f.type);
  out += ",\"timestamp\":";
  core::appendJsonString(out, core::formatRfc3339(f.at));
  out += ",\"data\":{\"connection\":";
  if (f.key.kind.empty()) {
    out += "null";
  } else {
    out += "{\"kind\":";
    core::appendJsonString(out, f.key.kind);
    out += ",\"name\":";
    core::appendJsonString(out, f.key.name);
    out += '}';
  }
  field(out, "state", f.state);
  field(out, "idp_host", codeOnly(f.idp_host, ":[]"));
  field(out, "idp_error_code", codeOnly(f.idp_error_code));
  field(out, "reason", codeOnly(f.reason));
  out += ",\"consecutive_failures\":" + std::to_string(f.consecutive_failures);
  field(out, "next_attempt_at", f.next_attempt_at ? core::formatRfc3339(*f.next_attempt_at) : "");
  if (f.refresh_deadline) field(out, "refresh_deadline", core::formatRfc3339(*f.refresh_deadline));
  field(out, "portal_url", f.portal_url);
  out += "}}";
  return out;
}

}  // namespace tether::webhooks
