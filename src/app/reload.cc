#include "app/reload.h"

#include <map>
#include <set>
#include <string_view>

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

}  // namespace

std::vector<std::string> settingsNeedingRestart(const config::Config& running,
                                                const config::Config& next) {
  // What a reload applies is compared as equal; so is server.tls while it stays on (or off).
  config::Config applied = next;
  applied.log.level = running.log.level;
  applied.log.access = running.log.access;
  if (running.server.tls.has_value() == next.server.tls.has_value()) {
    applied.server.tls = running.server.tls;
  }
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
  const auto secrets_after = config::secretValues(next);
  if (std::set<std::string>(secrets_before.begin(), secrets_before.end()) !=
      std::set<std::string>(secrets_after.begin(), secrets_after.end())) {
    changed.insert("secrets");
  }
  return {changed.begin(), changed.end()};
}

}  // namespace tether::app
