#pragma once
/// How the operator commands (`tether connections`, `status`, `events`, ...) show what the
/// admin API answered: aligned tables, times as ISO 8601 with their zone plus a relative
/// reading ("in 42m", "3h ago"), states as words, and the rule for `KIND/NAME` arguments.
/// Pure functions, thread-safe; nothing here does I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace tether::app {

/// Rows under a header, rendered with each column as wide as its widest cell.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

/// The table as text: columns separated by two spaces, no trailing blanks, one line per row
/// (the header first), each line ending in '\n'. Widths count UTF-8 code points.
std::string renderTable(const Table& table);

/// "key  value" lines with the keys padded to one width (the `status` card).
std::string renderFields(const std::vector<std::pair<std::string, std::string>>& fields);

/// Parses the admin API's RFC 3339 times: `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
/// nullopt for anything else.
std::optional<core::TimePoint> parseRfc3339(std::string_view text);

/// How far `t` is from `now`, in at most two units: "in 42m", "3h05m ago", "in 2d4h",
/// "now" within a second.
std::string relativeTime(core::TimePoint t, core::TimePoint now);

/// An API time for a human: "2026-12-03T16:42:00Z (in 42m)" (UTC, to the second). "-" for
/// an empty or null time; a time that does not parse is shown as sent (made printable).
std::string showTime(std::string_view rfc3339, core::TimePoint now);

/// A state or event type as words: "needs_reauth" -> "needs reauth".
std::string words(std::string_view identifier);

/// The text with control characters (terminal escapes, newlines) replaced by '?', so that
/// a string from the server cannot rewrite the operator's terminal.
std::string printable(std::string_view text);

/// A `KIND/NAME` argument split in two. Why not, as one sentence naming the argument, when
/// KIND is not `mcp` or `api` or NAME is not a connection name (lower-case letters, digits,
/// `-` and `_`, starting with a letter or digit, at most 63 characters).
struct ConnectionArg {
  std::string kind;
  std::string name;
  std::string problem;  // empty when the argument is well formed
};
ConnectionArg parseConnectionArg(std::string_view text);

}  // namespace tether::app
