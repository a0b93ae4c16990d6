#pragma once
/// One `connections:` entry read on its own (the admin API's body, the CLI's snippet) by the
/// config file's own parser, so an entry is judged by the same checks and answered with the
/// same messages as `tether config check` gives for it inside a file. JSON is YAML's flow
/// form, so a JSON object reads as it is. Pure; thread-safe.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tether::config {

/// One problem with an entry: `field` is the key path inside the entry ("auth.grant"; ""
/// for the entry as a whole) and `message` what `config check` says after that path. Never
/// a secret value.
struct EntryProblem {
  std::string field;
  std::string message;
};

/// The parsed entry, or every problem found in it.
struct ParsedEntry {
  std::optional<ConnectionConfig> connection;  // set iff `problems` is empty
  std::vector<EntryProblem> problems;
};

/// Parses `text` (one map, YAML or JSON, at most 64 KiB) as one `connections:` entry.
/// `env` resolves `${NAME}` as in the file (the admin API passes a lookup that knows no
/// name). `default_token_lifetime` is the keeper's (used when the entry sets none).
ParsedEntry parseConnectionEntry(std::string_view text, const EnvLookup& env,
                                 std::chrono::milliseconds default_token_lifetime);

/// A YAML (or JSON) snippet holding one entry, as JSON: maps, lists and scalars (every
/// scalar a JSON string, which the parser reads as the file would). kInvalidArgument when it
/// is not one map, naming the line. For `tether connections create|edit`.
core::Result<std::string> connectionEntryJson(std::string_view text);

/// The key path of `field` inside a file: "connections[<index>]" + "." + field.
std::string connectionFieldPath(size_t index, std::string_view field);

}  // namespace tether::config
