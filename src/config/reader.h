#pragma once
/// The YAML reader the section parsers share (config-internal: other modules include
/// config/config.h). It holds the diagnostics of one load and reads typed values from
/// YAML nodes: each getter records an error naming the file, the line and the key path
/// ("tether.yaml:14: connections[0].auth.grant: expected ...") and returns nullopt when
/// the value is unusable, so one pass reports every problem. Scalars go through
/// `${NAME}` interpolation; no message ever echoes a value read as a secret.
///
/// yaml-cpp appears only here and in the config module's sources.
/// Thread-safety: one Reader per load, used by one thread.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace tether::config {

/// A value together with where it was written.
struct Entry {
  YAML::Node value;
  int line = 1;      // 1-based line of its key (or of the list item)
  std::string path;  // e.g. connections[0].auth.grant
};

/// A map's entries in file order (after unknown-key and duplicate checks); lookups by key.
class MapEntries {
 public:
  const Entry* get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key) != nullptr; }
  const std::vector<std::pair<std::string, Entry>>& entries() const { return entries_; }
  void add(std::string key, Entry entry) {
    entries_.emplace_back(std::move(key), std::move(entry));
  }

  int line = 1;      // line of the map's own key
  std::string path;  // key path of the map

 private:
  std::vector<std::pair<std::string, Entry>> entries_;
};

/// The keys a map may hold, in the order messages list them.
using Keys = std::initializer_list<std::string_view>;

/// 1-based line of `node`, or `fallback` when yaml-cpp has no mark for it.
int lineOf(const YAML::Node& node, int fallback);
/// "parent.key" (or "key" at the top level).
std::string childPath(const std::string& parent, std::string_view key);
/// "parent[index]".
std::string itemPath(const std::string& parent, size_t index);
/// "a, b, c".
std::string joinNames(const std::vector<std::string_view>& names);
/// A non-secret value as it may appear in a message: quoted, escaped, at most 80
/// characters, passed through the redactor in case a credential-shaped string slipped in.
std::string quote(std::string_view value);
/// "a string", "a list", "a map" or "nothing".
std::string_view typeName(const YAML::Node& node);
/// True for an absent or null node ("key:" with nothing after it).
bool isNull(const YAML::Node& node);
/// Keys shown as they are in a key path; anything else is quoted (and so escaped).
bool isPlainKey(std::string_view key);
/// A credential that goes into a header: visible ASCII or UTF-8, no spaces or controls.
bool isHeaderSafeCredential(std::string_view s);

/// Diagnostics of one load plus the typed getters.
class Reader {
 public:
  /// At most this many error lines are kept (the rest are counted).
  static constexpr size_t kMaxErrors = 50;

  /// `file_name` prefixes every message; `env` resolves `${NAME}` (must outlive the Reader).
  Reader(std::string_view file_name, const EnvLookup& env) : file_(file_name), env_(env) {}

  // Diagnostics ------------------------------------------------------------------------
  /// "file:line: path: " (the path part only when `path` is not empty).
  std::string where(int line, std::string_view path) const;
  void error(int line, std::string_view path, std::string_view what);
  void error(const Entry& e, std::string_view what) { error(e.line, e.path, what); }
  void warn(int line, std::string_view path, std::string_view what);
  /// "<map path>.<key>: required (expected <expected>)" at the map's line.
  void required(const MapEntries& m, std::string_view key, std::string_view expected);
  /// `why` at the line of `key`, which must be present in `m`.
  void forbidden(const MapEntries& m, std::string_view key, std::string_view why);

  /// One recorded error in parts (the admin API answers with the key path as its field).
  struct Problem {
    int line = 0;
    std::string path;
    std::string what;
  };
  /// The kept errors (at most kMaxErrors), in the order recorded.
  const std::vector<Problem>& problems() const { return problems_; }

  /// Errors recorded so far (including those past kMaxErrors).
  size_t errorCount() const { return error_count_; }
  /// Every kept error line joined by newlines, plus "(N more errors not shown)".
  std::string errorReport() const;
  std::vector<std::string> takeWarnings() { return std::move(warnings_); }
  const std::string& fileName() const { return file_; }

  // Typed getters: each records an error and returns nullopt when the value is unusable.
  /// A map whose keys must be in `allowed` (unknown and duplicate keys are errors). A null
  /// node reads as an empty map ("section:" with nothing under it: all defaults).
  std::optional<MapEntries> readMap(const Entry& e, Keys allowed);
  /// A list's items with their lines and paths; a null node reads as an empty list.
  std::optional<std::vector<Entry>> readList(const Entry& e);
  /// A scalar after `${NAME}` interpolation.
  std::optional<std::string> str(const Entry& e, std::string_view expected = "a string");
  std::optional<std::string> nonEmpty(const Entry& e, std::string_view expected = "a string");
  /// A non-empty scalar whose value never appears in a message.
  std::optional<std::string> secret(const Entry& e, std::string_view expected = "a string");
  std::optional<int64_t> integer(const Entry& e, int64_t min, int64_t max);
  /// true/false, case-insensitive.
  std::optional<bool> boolean(const Entry& e);
  /// A duration such as 30s, 5m, 1h or 90d; 0 only with `allow_zero`.
  std::optional<std::chrono::milliseconds> duration(const Entry& e, bool allow_zero = false);
  /// An absolute http(s) URL (see internal::checkHttpUrl); warns about cleartext http to a
  /// non-loopback host.
  std::optional<std::string> httpUrl(const Entry& e, bool allow_query = true);
  /// A path to a file that can be opened for reading.
  std::optional<std::string> readableFile(const Entry& e);
  /// One of the names in `options` (case-sensitive).
  template <class E>
  std::optional<E> oneOf(const Entry& e,
                         std::initializer_list<std::pair<std::string_view, E>> options);

  /// Sets `out` from `m[key]` when present and valid.
  void setDuration(const MapEntries& m, std::string_view key, std::chrono::milliseconds& out,
                   bool allow_zero = false) {
    if (const Entry* e = m.get(key)) {
      if (auto v = duration(*e, allow_zero)) out = *v;
    }
  }
  template <class Int>
  void setInt(const MapEntries& m, std::string_view key, Int& out, int64_t min, int64_t max) {
    if (const Entry* e = m.get(key)) {
      if (auto v = integer(*e, min, max)) out = static_cast<Int>(*v);
    }
  }

 private:
  std::string file_;
  const EnvLookup& env_;
  std::vector<std::string> errors_;
  std::vector<Problem> problems_;
  size_t error_count_ = 0;
  std::vector<std::string> warnings_;
};

template <class E>
std::optional<E> Reader::oneOf(const Entry& e,
                               std::initializer_list<std::pair<std::string_view, E>> options) {
  std::vector<std::string_view> names;
  for (const auto& [name, value] : options) names.push_back(name);
  std::string expected = "one of " + joinNames(names);
  auto s = str(e, expected);
  if (!s) return std::nullopt;
  for (const auto& [name, value] : options) {
    if (*s == name) return value;
  }
  error(e, "expected " + expected + ", got " + quote(*s));
  return std::nullopt;
}

}  // namespace tether::config
