// The reader's diagnostics and typed getters. yaml-cpp exceptions never leave the config
// module (parse.cc catches them around the whole load).

#include "config/reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "config/internal.h"
#include "core/duration.h"
#include "core/encoding.h"
#include "core/redact.h"

namespace tether::config {

int lineOf(const YAML::Node& node, int fallback) {
  YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

std::string childPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string itemPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string joinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

/// A non-secret value as it may appear in a message: quoted, printable, short, and
/// passed through the redactor in case a credential-shaped string slipped in.
std::string quote(std::string_view value) {
  constexpr size_t kMaxShown = 80;
  std::string shown = core::redactText(value.substr(0, kMaxShown));
  std::string out = "\"";
  for (unsigned char c : shown) {
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

std::string_view typeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

bool isNull(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

/// A credential that goes into a header: visible ASCII or UTF-8, no spaces or controls.
bool isHeaderSafeCredential(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

/// Keys shown as they are in a key path; anything else is quoted (and so escaped).
bool isPlainKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (unsigned char c : key) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

const Entry* MapEntries::get(std::string_view key) const {
  for (const auto& [k, e] : entries_) {
    if (k == key) return &e;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Diagnostics

std::string Reader::where(int line, std::string_view path) const {
  std::string out = file_ + ":" + std::to_string(line) + ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  return out;
}

void Reader::error(int line, std::string_view path, std::string_view what) {
  if (errors_.size() < kMaxErrors) {
    errors_.push_back(where(line, path) + std::string(what));
    problems_.push_back({line, std::string(path), std::string(what)});
  }
  ++error_count_;
}

void Reader::warn(int line, std::string_view path, std::string_view what) {
  warnings_.push_back(where(line, path) + std::string(what));
}

void Reader::required(const MapEntries& m, std::string_view key, std::string_view expected) {
  error(m.line, childPath(m.path, key), "required (expected " + std::string(expected) + ")");
}

void Reader::forbidden(const MapEntries& m, std::string_view key, std::string_view why) {
  error(m.get(key)->line, childPath(m.path, key), why);
}

std::string Reader::errorReport() const {
  std::string message;
  for (const std::string& line : errors_) {
    if (!message.empty()) message += '\n';
    message += line;
  }
  if (error_count_ > errors_.size()) {
    message += "\n(" + std::to_string(error_count_ - errors_.size()) + " more errors not shown)";
  }
  return message;
}

// ---------------------------------------------------------------------------------------
// Typed getters

std::optional<MapEntries> Reader::readMap(const Entry& e, Keys allowed) {
  MapEntries out;
  out.line = e.line;
  out.path = e.path;
  if (isNull(e.value)) return out;  // "section:" with nothing under it: all defaults
  if (!e.value.IsMap()) {
    error(e, "expected a map, got " + std::string(typeName(e.value)));
    return std::nullopt;
  }
  std::vector<std::string_view> allowed_list(allowed);
  std::map<std::string, int> seen;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    int key_line = lineOf(it->first, e.line);
    if (!it->first.IsScalar()) {
      error(key_line, e.path, "expected a key name, got " + std::string(typeName(it->first)));
      continue;
    }
    std::string key = it->first.Scalar();
    std::string path = childPath(e.path, isPlainKey(key) ? key : quote(key));
    if (std::find(allowed_list.begin(), allowed_list.end(), key) == allowed_list.end()) {
      error(key_line, path, "unknown key (allowed: " + joinNames(allowed_list) + ")");
      continue;
    }
    if (auto dup = seen.find(key); dup != seen.end()) {
      error(key_line, path,
            "duplicate key (first set at line " + std::to_string(dup->second) + ")");
      continue;
    }
    seen.emplace(key, key_line);
    out.add(key, Entry{it->second, key_line, path});
  }
  return out;
}

std::optional<std::vector<Entry>> Reader::readList(const Entry& e) {
  std::vector<Entry> out;
  if (isNull(e.value)) return out;
  if (!e.value.IsSequence()) {
    error(e, "expected a list, got " + std::string(typeName(e.value)));
    return std::nullopt;
  }
  size_t i = 0;
  for (auto it = e.value.begin(); it != e.value.end(); ++it, ++i) {
    out.push_back(Entry{*it, lineOf(*it, e.line), itemPath(e.path, i)});
  }
  return out;
}

std::optional<std::string> Reader::str(const Entry& e, std::string_view expected) {
  if (!e.value.IsScalar()) {
    error(e, "expected " + std::string(expected) + ", got " + std::string(typeName(e.value)));
    return std::nullopt;
  }
  auto expanded = internal::interpolateEnv(e.value.Scalar(), env_);
  if (!expanded.ok()) {
    error(e, expanded.error().message);
    return std::nullopt;
  }
  return std::move(expanded).value();
}

std::optional<std::string> Reader::nonEmpty(const Entry& e, std::string_view expected) {
  auto s = str(e, expected);
  if (s && s->empty()) {
    error(e, "expected " + std::string(expected) + ", got an empty string");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Reader::secret(const Entry& e, std::string_view expected) {
  // str() never echoes the value; an empty secret is an error of its own.
  return nonEmpty(e, expected);
}

std::optional<int64_t> Reader::integer(const Entry& e, int64_t min, int64_t max) {
  std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  auto s = str(e, range);
  if (!s) return std::nullopt;
  std::string_view digits = *s;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  bool ok = !digits.empty() && digits.size() <= 18 &&
            std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) {
    error(e, "expected " + range + ", got " + quote(*s));
    return std::nullopt;
  }
  int64_t value = std::stoll(std::string(digits)) * (negative ? -1 : 1);
  if (value < min || value > max) {
    error(e, "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                 std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Reader::boolean(const Entry& e) {
  auto s = str(e, "true or false");
  if (!s) return std::nullopt;
  std::string lower = core::toLower(*s);
  if (lower == "true") return true;
  if (lower == "false") return false;
  error(e, "expected true or false, got " + quote(*s));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Reader::duration(const Entry& e, bool allow_zero) {
  auto s = str(e, "a duration such as 30s, 5m, 1h or 90d");
  if (!s) return std::nullopt;
  auto d = core::parseDuration(*s);
  if (!d.ok()) {
    error(e, d.error().message);
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    error(e, "must be longer than 0s, got " + quote(*s));
    return std::nullopt;
  }
  return *d;
}

std::optional<std::string> Reader::httpUrl(const Entry& e, bool allow_query) {
  auto s = nonEmpty(e, "an absolute http(s) URL");
  if (!s) return std::nullopt;
  auto facts = internal::checkHttpUrl(*s);
  if (!facts.ok()) {
    error(e, facts.error().message);
    return std::nullopt;
  }
  if (!allow_query && s->find('?') != std::string::npos) {
    error(e, "must not have a query (?...), got " + quote(*s));
    return std::nullopt;
  }
  if (facts->scheme == "http" && !facts->loopback) {
    warn(e.line, e.path,
         "cleartext http to non-loopback host " + quote(facts->host) +
             ": credentials sent there can be read on the network; use https");
  }
  return s;
}

std::optional<std::string> Reader::readableFile(const Entry& e) {
  auto path = nonEmpty(e, "a file path");
  if (!path) return std::nullopt;
  std::error_code ec;
  if (std::filesystem::is_directory(*path, ec)) {
    error(e, "cannot read " + quote(*path) + ": it is a directory");
    return std::nullopt;
  }
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    error(e, "cannot read " + quote(*path) + ": " + std::strerror(errno));
    return std::nullopt;
  }
  return path;
}

}  // namespace tether::config
