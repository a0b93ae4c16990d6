// webhooks and webhook_delivery: where lifecycle alerts are posted, which ones, how they are
// signed (Standard Webhooks secrets), and how the outbox delivers them.

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "config/sections/sections.h"
#include "core/duration.h"
#include "core/encoding.h"

namespace tether::config::sections {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kSecretExpected =
    "a Standard Webhooks secret: whsec_ followed by the Base64 of 24 to 64 random bytes "
    "(e.g. \"whsec_$(openssl rand -base64 32)\")";

/// Headers Tether sets itself, hop-by-hop headers and the signature headers: never from the
/// file (a receiver must be able to trust the signature headers it sees).
bool isReservedHeader(std::string_view name) {
  static const std::set<std::string, std::less<>> kReserved = {"host",
                                                               "content-length",
                                                               "content-type",
                                                               "transfer-encoding",
                                                               "connection",
                                                               "keep-alive",
                                                               "proxy-connection",
                                                               "proxy-authorization",
                                                               "proxy-authenticate",
                                                               "te",
                                                               "trailer",
                                                               "upgrade",
                                                               "expect",
                                                               "user-agent",
                                                               "webhook-id",
                                                               "webhook-timestamp",
                                                               "webhook-signature"};
  return kReserved.count(core::toLower(name)) != 0;
}

/// An RFC 9110 token (header field name).
bool isToken(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// Visible ASCII and spaces, no controls (no CR/LF header injection), at most 4 KiB.
bool isFieldValue(std::string_view s) {
  if (s.size() > 4096) return false;
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool validSecret(std::string_view secret) {
  if (!secret.starts_with(kSecretPrefix)) return false;
  auto raw = core::base64Decode(secret.substr(kSecretPrefix.size()));
  return raw.ok() && raw->size() >= 24 && raw->size() <= 64;
}

void parseEvents(Reader& r, const Entry& ev, WebhookConfig& hook, bool& ok) {
  auto list = r.readList(ev);
  if (!list) {
    ok = false;
    return;
  }
  if (list->empty()) {
    std::vector<std::string_view> names;
    for (WebhookEvent e : kAllWebhookEvents) names.push_back(webhookEventName(e));
    r.error(ev, "expected at least one of " + joinNames(names));
    ok = false;
  }
  for (const Entry& name : *list) {
    auto v = r.oneOf<WebhookEvent>(name, {{"needs_reauth", WebhookEvent::kNeedsReauth},
                                          {"needs_client_fix", WebhookEvent::kNeedsClientFix},
                                          {"refresh_failing", WebhookEvent::kRefreshFailing},
                                          {"recovered", WebhookEvent::kRecovered},
                                          {"connected", WebhookEvent::kConnected},
                                          {"reauthorize_soon", WebhookEvent::kReauthorizeSoon}});
    if (!v) {
      ok = false;
      continue;
    }
    if (std::find(hook.events.begin(), hook.events.end(), *v) != hook.events.end()) {
      r.error(name, "duplicate event " + quote(webhookEventName(*v)));
      ok = false;
      continue;
    }
    hook.events.push_back(*v);
  }
}

void parseHeaders(Reader& r, const Entry& e, WebhookConfig& hook, bool& ok) {
  if (isNull(e.value)) return;
  if (!e.value.IsMap()) {
    r.error(e, "expected a map of header names to values, got " + std::string(typeName(e.value)));
    ok = false;
    return;
  }
  std::map<std::string, int> seen;  // lower-case name -> line
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    Entry key_entry{it->first, lineOf(it->first, e.line), e.path};
    if (!it->first.IsScalar() || !isToken(it->first.Scalar())) {
      r.error(key_entry, "expected header names (letters, digits and !#$%&'*+-.^_`|~)");
      ok = false;
      continue;
    }
    const std::string name = it->first.Scalar();
    Entry value{it->second, key_entry.line,
                childPath(e.path, isPlainKey(name) ? name : quote(name))};
    if (isReservedHeader(name)) {
      r.error(value,
              "reserved: Tether sets this header itself (hop-by-hop, framing and the "
              "webhook-id/-timestamp/-signature headers cannot be configured)");
      ok = false;
      continue;
    }
    const std::string lower = core::toLower(name);
    if (auto dup = seen.find(lower); dup != seen.end()) {
      r.error(value, "duplicate header (first set at line " + std::to_string(dup->second) + ")");
      ok = false;
      continue;
    }
    seen.emplace(lower, value.line);
    // Values often carry a credential: read as secrets, never echoed.
    auto v = r.secret(value, "a header value");
    if (!v) {
      ok = false;
      continue;
    }
    if (!isFieldValue(*v)) {
      r.error(value,
              "a header value must not hold control characters (CR, LF, ...) and must be "
              "at most 4096 bytes");
      ok = false;
      continue;
    }
    hook.headers.emplace_back(name, *v);
  }
}

}  // namespace

void parseWebhooks(Reader& r, const Entry& e, std::vector<WebhookConfig>& out) {
  auto items = r.readList(e);
  if (!items) return;
  for (const Entry& item : *items) {
    auto m = r.readMap(item, {"url", "secret", "events", "headers", "ca_bundle"});
    if (!m) continue;
    WebhookConfig hook;
    bool ok = true;
    if (const Entry* u = m->get("url")) {
      auto url = r.httpUrl(*u);
      ok = ok && url.has_value();
      if (url) hook.url = *url;
    } else {
      r.required(*m, "url", "an absolute http(s) URL");
      ok = false;
    }
    if (const Entry* s = m->get("secret")) {
      auto v = r.secret(*s, "a signing secret");
      if (v && !validSecret(*v)) {
        r.error(*s, "expected " + std::string(kSecretExpected));
        v.reset();
      }
      ok = ok && v.has_value();
      if (v) hook.secret = *v;
    } else {
      r.required(*m, "secret", "a signing secret, e.g. ${HOOK_SECRET} holding whsec_...");
      ok = false;
    }
    if (const Entry* ev = m->get("events")) {
      parseEvents(r, *ev, hook, ok);
    } else {
      hook.events.assign(std::begin(kAllWebhookEvents), std::end(kAllWebhookEvents));
    }
    if (const Entry* h = m->get("headers")) parseHeaders(r, *h, hook, ok);
    if (const Entry* ca = m->get("ca_bundle")) {
      auto v = r.readableFile(*ca);
      ok = ok && v.has_value();
      if (v) hook.ca_bundle = *v;
    }
    if (ok) out.push_back(std::move(hook));
  }
}

void parseWebhookDelivery(Reader& r, const Entry& e, WebhookDeliveryConfig& out) {
  auto m = r.readMap(e, {"warn_before", "max_age", "timeout", "backoff_initial", "backoff_max",
                         "poll_interval", "deadline_scan_interval", "concurrency"});
  if (!m) return;
  r.setDuration(*m, "warn_before", out.warn_before);
  r.setDuration(*m, "max_age", out.max_age);
  r.setDuration(*m, "timeout", out.timeout);
  r.setDuration(*m, "backoff_initial", out.backoff_initial);
  r.setDuration(*m, "backoff_max", out.backoff_max);
  r.setDuration(*m, "poll_interval", out.poll_interval);
  r.setDuration(*m, "deadline_scan_interval", out.deadline_scan_interval);
  r.setInt(*m, "concurrency", out.concurrency, 1, 64);
  if (out.backoff_max < out.backoff_initial) {
    const Entry* at = m->has("backoff_max") ? m->get("backoff_max") : m->get("backoff_initial");
    r.error(*at, "backoff_max (" + core::formatDuration(out.backoff_max) +
                     ") must not be shorter than backoff_initial (" +
                     core::formatDuration(out.backoff_initial) + ")");
  }
  if (const Entry* t = m->get("timeout"); t && out.timeout > std::chrono::minutes(5)) {
    r.error(*t, "at most 5m (a receiver that needs longer should answer first and work after)");
    out.timeout = std::chrono::minutes(5);
  }
}

}  // namespace tether::config::sections
