// keeper, events and discovery: how the lifecycle keeps tokens alive, how long auth events
// are kept, and which extra hosts OAuth discovery may contact.

#include <cctype>

#include "config/sections/sections.h"
#include "core/duration.h"
#include "core/encoding.h"

namespace tether::config::sections {
namespace {

/// A host name or IP literal as allowed_hosts takes it.
bool isHostOnly(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == ':')) return false;
  }
  return s.front() != '.' && s.front() != '-' && s.front() != ':';
}

}  // namespace

void parseKeeper(Reader& r, const Entry& e, KeeperConfig& out) {
  auto m = r.readMap(e, {"interval", "access_lead", "refresh_lead", "concurrency", "jitter",
                         "backoff_initial", "backoff_max", "default_token_lifetime"});
  if (!m) return;
  KeeperConfig& k = out;
  r.setDuration(*m, "interval", k.interval);
  r.setDuration(*m, "access_lead", k.access_lead, /*allow_zero=*/true);
  r.setDuration(*m, "refresh_lead", k.refresh_lead, /*allow_zero=*/true);
  r.setInt(*m, "concurrency", k.concurrency, 1, 256);
  r.setDuration(*m, "jitter", k.jitter, /*allow_zero=*/true);
  r.setDuration(*m, "backoff_initial", k.backoff_initial);
  r.setDuration(*m, "backoff_max", k.backoff_max);
  r.setDuration(*m, "default_token_lifetime", k.default_token_lifetime);
  if (k.backoff_max < k.backoff_initial) {
    const Entry* at = m->has("backoff_max") ? m->get("backoff_max") : m->get("backoff_initial");
    r.error(*at, "backoff_max (" + core::formatDuration(k.backoff_max) +
                     ") must not be shorter than backoff_initial (" +
                     core::formatDuration(k.backoff_initial) + ")");
  }
}

void parseEvents(Reader& r, const Entry& e, EventsConfig& out) {
  auto m = r.readMap(e, {"retention", "prune_interval"});
  if (!m) return;
  r.setDuration(*m, "retention", out.retention);
  r.setDuration(*m, "prune_interval", out.prune_interval);
}

void parseDiscovery(Reader& r, const Entry& e, DiscoveryConfig& out) {
  auto m = r.readMap(e, {"allowed_hosts"});
  if (!m) return;
  const Entry* hosts = m->get("allowed_hosts");
  if (!hosts) return;
  auto items = r.readList(*hosts);
  if (!items) return;
  for (const Entry& item : *items) {
    auto s = r.nonEmpty(item, "a host name such as idp.example.com");
    if (!s) continue;
    if (!isHostOnly(*s)) {
      r.error(item, "expected a host name such as idp.example.com (no scheme, port or path), got " +
                        quote(*s));
      continue;
    }
    out.allowed_hosts.push_back(core::toLower(*s));
  }
}

}  // namespace tether::config::sections
