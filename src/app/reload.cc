#include "app/reload.h"

#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include "app/live_connections.h"
#include "core/log.h"
#include "lifecycle/from_config.h"

namespace tether::app {

namespace {

// The effective configuration's text by key path: top-level keys, and the keys of a top-level
// map one level down ("server.max_connections"). List items stay with their list.
std::map<std::string, std::string> blocks(const config::Config& c) {
  const std::string text = config::renderEffectiveConfig(c);
  std::map<std::string, std::string> out;
  std::string top;
  std::string current;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    const size_t colon = line.find(':');
    if (!line.empty() && line[0] != ' ' && line[0] != '-' && colon != std::string_view::npos) {
      top = std::string(line.substr(0, colon));
      current = top;
    } else if (line.size() > 2 && line.starts_with("  ") && line[2] != ' ' && line[2] != '-' &&
               colon != std::string_view::npos && !top.empty()) {
      current = top + "." + std::string(line.substr(2, colon - 2));
    }
    out[current].append(line).push_back('\n');
  }
  return out;
}

bool sameKeys(const std::vector<config::AccessKey>& a, const std::vector<config::AccessKey>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].sha256 != b[i].sha256) return false;
  }
  return true;
}

// Every field, secrets and the query of the URL included (the rendered text masks them).
bool sameWebhooks(const std::vector<config::WebhookConfig>& a,
                  const std::vector<config::WebhookConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tie(a[i].url, a[i].secret, a[i].events, a[i].headers, a[i].ca_bundle) !=
        std::tie(b[i].url, b[i].secret, b[i].events, b[i].headers, b[i].ca_bundle)) {
      return false;
    }
  }
  return true;
}

// `to` with the settings a reload applies live taken from `from`.
void copyLive(const config::Config& from, config::Config& to) {
  to.log.level = from.log.level;
  to.log.access = from.log.access;
  if (from.server.tls.has_value() == to.server.tls.has_value()) to.server.tls = from.server.tls;
  to.connections = from.connections;
  to.clients = from.clients;
  to.allowed_origins = from.allowed_origins;
  to.keeper = from.keeper;
  to.events = from.events;
}

}  // namespace

std::vector<std::string> settingsNeedingRestart(const config::Config& running,
                                                const config::Config& next) {
  // What a reload applies is compared as equal; so is server.tls while it stays on (or off).
  config::Config applied = next;
  copyLive(running, applied);
  const auto before = blocks(running);
  const auto after = blocks(applied);
  std::set<std::string> changed;
  for (const auto& [key, text] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second != text) changed.insert(key);
  }
  for (const auto& [key, text] : before) {
    if (!after.contains(key)) changed.insert(key);
  }
  // A map whose own line differs ("server:" -> "server: {}") is named by its keys already.
  for (auto it = changed.begin(); it != changed.end();) {
    const std::string prefix = *it + ".";
    auto next_it = std::next(it);
    if (next_it != changed.end() && next_it->starts_with(prefix)) {
      it = changed.erase(it);
    } else {
      it = next_it;
    }
  }
  const auto secrets_before = config::secretValues(running);
  // Secrets of live settings (connection credentials, client keys) are applied with them.
  const auto secrets_after = config::secretValues(applied);
  if (std::set<std::string>(secrets_before.begin(), secrets_before.end()) !=
      std::set<std::string>(secrets_after.begin(), secrets_after.end())) {
    changed.insert("secrets");
  }
  return {changed.begin(), changed.end()};
}

std::vector<std::string> applyLiveSettings(config::Config& running, const config::Config& next,
                                           LiveConnections& live,
                                           const ApplyDeclared& apply_connections,
                                           const ApplyWebhooks& apply_webhooks) {
  std::vector<std::string> applied;
  const bool keys = !sameKeys(running.clients.keys, next.clients.keys);
  const bool origins = running.allowed_origins != next.allowed_origins;
  if (keys || origins) {
    live.setCallerChecks(next.clients.keys, next.allowed_origins);
    running.clients = next.clients;
    running.allowed_origins = next.allowed_origins;
    if (keys) applied.emplace_back("clients.keys");
    if (origins) applied.emplace_back("allowed_origins");
  }
  const auto before = blocks(running);
  const auto after = blocks(next);
  // A top-level section's text, its keys included.
  auto section = [](const std::map<std::string, std::string>& all, const std::string& top) {
    std::string out;
    for (auto it = all.lower_bound(top); it != all.end(); ++it) {
      if (it->first != top && !it->first.starts_with(top + ".")) break;
      out += it->first + "\n" + it->second;
    }
    return out;
  };
  auto changed = [&](const std::string& top) {
    return section(before, top) != section(after, top);
  };
  const bool keeper = changed("keeper");
  const bool events = changed("events");
  if (keeper || events) {
    // Before the connections: keeper.default_token_lifetime also changes their settings.
    live.setLifecycleSettings(lifecycle::settingsFromConfig(next.keeper, next.events));
    running.keeper = next.keeper;
    running.events = next.events;
    if (keeper) applied.emplace_back("keeper");
    if (events) applied.emplace_back("events");
  }
  if (apply_webhooks && !sameWebhooks(running.webhooks, next.webhooks)) {
    if (auto st = apply_webhooks(next.webhooks); !st.ok()) {
      core::log::error("webhooks not applied; they run as they did",
                       {{"error", st.error().message}});
    } else {
      running.webhooks = next.webhooks;
      applied.emplace_back("webhooks");
    }
  }
  core::Result<bool> connections_changed = false;
  if (apply_connections) {
    connections_changed = apply_connections(next.connections);
  } else if (auto diff = live.apply(next.connections); diff.ok()) {
    connections_changed = !diff->empty();
  } else {
    connections_changed = diff.error();
  }
  if (!connections_changed.ok()) {
    core::log::error("connections not applied; every connection runs as it did",
                     {{"error", connections_changed.error().message}});
  } else {
    running.connections = next.connections;
    if (*connections_changed) applied.emplace_back("connections");
  }
  return applied;
}

}  // namespace tether::app
