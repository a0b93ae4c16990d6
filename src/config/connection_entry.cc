// One connections: entry through the file's parser (sections/connections.cc): the entry is
// put in a one-item list at the key path "connections", so the checks and messages are the
// file's; the path prefix "connections[0]" is then taken off each message's key path.

#include "config/connection_entry.h"

#include <yaml-cpp/yaml.h>

#include "config/reader.h"
#include "config/sections/sections.h"
#include "core/json_escape.h"

namespace tether::config {
namespace {

constexpr size_t kMaxEntryBytes = 64 * 1024;
constexpr std::string_view kItemPath = "connections[0]";

std::string fieldOf(std::string_view path) {
  if (!path.starts_with(kItemPath)) return std::string(path);
  path.remove_prefix(kItemPath.size());
  if (path.starts_with('.')) path.remove_prefix(1);
  return std::string(path);
}

void appendJson(std::string& out, const YAML::Node& node, int depth) {
  if (depth > 32) throw YAML::Exception(node.Mark(), "nested too deeply");
  if (node.IsMap()) {
    out += '{';
    bool first = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!first) out += ',';
      first = false;
      core::appendJsonString(out, it->first.Scalar());
      out += ':';
      appendJson(out, it->second, depth + 1);
    }
    out += '}';
  } else if (node.IsSequence()) {
    out += '[';
    for (size_t i = 0; i < node.size(); ++i) {
      if (i != 0) out += ',';
      appendJson(out, node[i], depth + 1);
    }
    out += ']';
  } else if (node.IsScalar()) {
    core::appendJsonString(out, node.Scalar());
  } else {
    out += "null";
  }
}

}  // namespace

core::Result<std::string> connectionEntryJson(std::string_view text) {
  if (text.size() > kMaxEntryBytes) {
    return core::Error(core::Errc::kInvalidArgument, "the snippet is larger than 64 KiB");
  }
  try {
    YAML::Node node = YAML::Load(std::string(text));
    if (!node.IsMap()) {
      return core::Error(core::Errc::kInvalidArgument,
                         "expected one connection (a map with kind, name, url, auth), got " +
                             std::string(typeName(node)));
    }
    std::string out;
    appendJson(out, node, 0);
    return out;
  } catch (const YAML::Exception& e) {
    return core::Error(
        core::Errc::kInvalidArgument,
        "not valid YAML or JSON (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
  }
}

std::string connectionFieldPath(size_t index, std::string_view field) {
  std::string out = "connections[" + std::to_string(index) + "]";
  if (!field.empty()) {
    out += '.';
    out += field;
  }
  return out;
}

ParsedEntry parseConnectionEntry(std::string_view text, const EnvLookup& env,
                                 std::chrono::milliseconds default_token_lifetime) {
  ParsedEntry out;
  if (text.size() > kMaxEntryBytes) {
    out.problems.push_back({"", "the connection is larger than 64 KiB"});
    return out;
  }
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's message names the position, never the text.
    out.problems.push_back({"", "not a valid JSON or YAML document (line " +
                                    std::to_string(e.mark.line + 1) + ", column " +
                                    std::to_string(e.mark.column + 1) + ": " + e.msg + ")"});
    return out;
  }
  if (!node.IsMap()) {
    out.problems.push_back(
        {"", "expected a map (one connections: entry), got " + std::string(typeName(node))});
    return out;
  }
  YAML::Node list(YAML::NodeType::Sequence);
  list.push_back(node);
  Reader reader("request", env);
  std::vector<ConnectionConfig> parsed;
  std::vector<bool> own_lifetime;
  try {
    sections::parseConnections(reader, Entry{list, 1, "connections"}, parsed, own_lifetime);
  } catch (const YAML::Exception& e) {
    out.problems.push_back({"", "cannot be read: " + e.msg});
    return out;
  }
  for (const auto& p : reader.problems()) out.problems.push_back({fieldOf(p.path), p.what});
  if (out.problems.empty() && reader.errorCount() > 0) {
    out.problems.push_back({"", "the connection is invalid"});
  }
  if (!out.problems.empty() || parsed.size() != 1) {
    if (out.problems.empty()) out.problems.push_back({"", "the connection is invalid"});
    return out;
  }
  ConnectionConfig conn = std::move(parsed[0]);
  if (conn.auth.oauth && !own_lifetime[0]) {
    conn.auth.oauth->default_token_lifetime = default_token_lifetime;
  }
  conn.source_line = 0;
  conn.source = ConnectionConfig::Source::kApi;
  out.connection = std::move(conn);
  return out;
}

}  // namespace tether::config
