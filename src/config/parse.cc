// The YAML loader: walks the document once, records every problem with its file, line and
// key path, and fills a Config. yaml-cpp exceptions never leave this file.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "config/config.h"
#include "config/internal.h"
#include "core/duration.h"
#include "core/encoding.h"
#include "core/redact.h"

namespace tether::config {
namespace {

using core::Errc;
using core::Error;
using Keys = std::initializer_list<std::string_view>;

constexpr size_t kMaxErrors = 50;
constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;
constexpr size_t kMaxKeyFileBytes = 4096;
constexpr size_t kMinAccessKeyChars = 16;
constexpr size_t kMaxAccessKeyChars = 4096;
constexpr std::string_view kNamePattern = "[a-z0-9][a-z0-9_-]{0,62}";

/// A value together with where it was written.
struct Entry {
  YAML::Node value;
  int line = 1;      // 1-based line of its key (or of the list item)
  std::string path;  // e.g. connections[0].auth.grant
};

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

/// RFC 7230 token characters (header names).
bool isHeaderName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// A credential that goes into a header: visible ASCII or UTF-8, no spaces or controls.
bool isHeaderSafeCredential(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool isHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

/// A host name or IP literal as allowed_hosts takes it.
bool isHostOnly(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == ':')) return false;
  }
  return s.front() != '.' && s.front() != '-' && s.front() != ':';
}

/// True when one of the few lines up to `line` (1-based) holds an unquoted `${`: inside a
/// flow collection ({ } or [ ]) YAML reads its braces as syntax, the commonest cause of an
/// otherwise puzzling "end of map flow not found".
bool unquotedReferenceNear(std::string_view text, int line) {
  int current = 1;
  size_t start = 0;
  while (start <= text.size() && current <= line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (current >= line - 3) {
      std::string_view l = text.substr(start, end - start);
      char quote_char = 0;
      for (size_t i = 0; i + 1 < l.size(); ++i) {
        if (quote_char != 0) {
          if (l[i] == quote_char) quote_char = 0;
        } else if (l[i] == '"' || l[i] == '\'') {
          quote_char = l[i];
        } else if (l[i] == '$' && l[i + 1] == '{') {
          return true;
        }
      }
    }
    start = end + 1;
    ++current;
  }
  return false;
}

/// Keys shown as they are in a key path; anything else is quoted (and so escaped).
bool isPlainKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (unsigned char c : key) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

/// A map's entries in file order; lookups by key.
class MapEntries {
 public:
  const Entry* get(std::string_view key) const {
    for (const auto& [k, e] : entries_) {
      if (k == key) return &e;
    }
    return nullptr;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }
  const std::vector<std::pair<std::string, Entry>>& entries() const { return entries_; }
  void add(std::string key, Entry entry) {
    entries_.emplace_back(std::move(key), std::move(entry));
  }

  int line = 1;
  std::string path;

 private:
  std::vector<std::pair<std::string, Entry>> entries_;
};

class Parser {
 public:
  Parser(std::string_view file_name, const EnvLookup& env) : file_(file_name), env_(env) {}

  core::Result<LoadedConfig> run(std::string_view text);

 private:
  // Diagnostics ------------------------------------------------------------------------
  std::string where(int line, std::string_view path) const {
    std::string out = file_ + ":" + std::to_string(line) + ": ";
    if (!path.empty()) {
      out += path;
      out += ": ";
    }
    return out;
  }
  void error(int line, std::string_view path, std::string_view what) {
    if (errors_.size() < kMaxErrors) errors_.push_back(where(line, path) + std::string(what));
    ++error_count_;
  }
  void error(const Entry& e, std::string_view what) { error(e.line, e.path, what); }
  void warn(int line, std::string_view path, std::string_view what) {
    warnings_.push_back(where(line, path) + std::string(what));
  }
  void required(const MapEntries& m, std::string_view key, std::string_view expected) {
    error(m.line, childPath(m.path, key), "required (expected " + std::string(expected) + ")");
  }
  void forbidden(const MapEntries& m, std::string_view key, std::string_view why) {
    error(m.get(key)->line, childPath(m.path, key), why);
  }

  // Readers: each records an error and returns nullopt when the value is unusable. -----
  std::optional<MapEntries> readMap(const Entry& e, Keys allowed);
  std::optional<std::vector<Entry>> readList(const Entry& e);
  std::optional<std::string> str(const Entry& e, std::string_view expected = "a string");
  std::optional<std::string> nonEmpty(const Entry& e, std::string_view expected = "a string");
  std::optional<std::string> secret(const Entry& e, std::string_view expected = "a string");
  std::optional<int64_t> integer(const Entry& e, int64_t min, int64_t max);
  std::optional<bool> boolean(const Entry& e);
  std::optional<std::chrono::milliseconds> duration(const Entry& e, bool allow_zero = false);
  std::optional<std::string> httpUrl(const Entry& e, bool allow_query = true);
  std::optional<std::string> readableFile(const Entry& e);
  template <class E>
  std::optional<E> oneOf(const Entry& e,
                         std::initializer_list<std::pair<std::string_view, E>> options);

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

  // Sections ---------------------------------------------------------------------------
  void parseRoot(const Entry& root);
  void parseLog(const Entry& e);
  void parseServer(const Entry& e);
  void parseAdminListen(const Entry& e);
  void parseStorage(const Entry& e);
  void parseEncryption(const Entry& e);
  void parseKeys(const Entry& e, std::string_view id_prefix, std::vector<AccessKey>& out);
  void parseOrigins(const Entry& e);
  void parseKeeper(const Entry& e);
  void parseEvents(const Entry& e);
  void parseDiscovery(const Entry& e);
  void parseWebhooks(const Entry& e);
  void parseConnections(const Entry& e);
  void parseConnection(const Entry& e);
  void parseAuth(const Entry& e, ConnectionConfig& conn);
  void parseOAuth(const MapEntries& m, AuthConfig& auth, ConnectionKind kind);
  void finish(const MapEntries& root);

  std::string file_;
  const EnvLookup& env_;
  std::vector<std::string> errors_;
  size_t error_count_ = 0;
  std::vector<std::string> warnings_;
  Config config_;

  // Bookkeeping for checks that span sections.
  bool public_url_set_ = false;
  int admin_listen_line_ = 0;             // line of admin.listen when set
  bool encryption_key_given_ = false;     // key or key_file present (even if invalid)
  std::vector<bool> oauth_lifetime_set_;  // per connection: own default_token_lifetime
  bool oauth_lifetime_given_ = false;     // set by parseOAuth for the connection at hand
  std::map<std::pair<ConnectionKind, std::string>, int> name_lines_;  // first name lines
  struct KeyOrigin {
    std::string path;
    int line;
  };
  std::map<std::string, KeyOrigin> access_key_hashes_;  // sha256 -> first place used
};

// ---------------------------------------------------------------------------------------
// Readers

std::optional<MapEntries> Parser::readMap(const Entry& e, Keys allowed) {
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

std::optional<std::vector<Entry>> Parser::readList(const Entry& e) {
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

std::optional<std::string> Parser::str(const Entry& e, std::string_view expected) {
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

std::optional<std::string> Parser::nonEmpty(const Entry& e, std::string_view expected) {
  auto s = str(e, expected);
  if (s && s->empty()) {
    error(e, "expected " + std::string(expected) + ", got an empty string");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Parser::secret(const Entry& e, std::string_view expected) {
  // str() never echoes the value; an empty secret is an error of its own.
  return nonEmpty(e, expected);
}

std::optional<int64_t> Parser::integer(const Entry& e, int64_t min, int64_t max) {
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

std::optional<bool> Parser::boolean(const Entry& e) {
  auto s = str(e, "true or false");
  if (!s) return std::nullopt;
  std::string lower = core::toLower(*s);
  if (lower == "true") return true;
  if (lower == "false") return false;
  error(e, "expected true or false, got " + quote(*s));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Parser::duration(const Entry& e, bool allow_zero) {
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

std::optional<std::string> Parser::httpUrl(const Entry& e, bool allow_query) {
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

std::optional<std::string> Parser::readableFile(const Entry& e) {
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

template <class E>
std::optional<E> Parser::oneOf(const Entry& e,
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

// ---------------------------------------------------------------------------------------
// Sections

void Parser::parseRoot(const Entry& root) {
  auto m = readMap(
      root, {"listen", "public_url", "log", "server", "storage", "encryption", "admin", "clients",
             "allowed_origins", "keeper", "events", "discovery", "webhooks", "connections"});
  if (!m) return;
  if (const Entry* e = m->get("listen")) {
    if (auto s = str(*e, "host:port")) {
      auto hp = internal::parseListen(*s);
      if (hp.ok()) {
        config_.listen = *hp;
      } else {
        error(*e, hp.error().message);
      }
    }
  }
  if (const Entry* e = m->get("public_url")) {
    public_url_set_ = true;
    if (auto url = httpUrl(*e, /*allow_query=*/false)) {
      while (url->size() > 1 && url->back() == '/') url->pop_back();
      config_.public_url = *url;
    }
  }
  if (const Entry* e = m->get("log")) parseLog(*e);
  if (const Entry* e = m->get("server")) parseServer(*e);
  if (const Entry* e = m->get("storage")) parseStorage(*e);
  if (const Entry* e = m->get("encryption")) parseEncryption(*e);
  if (const Entry* e = m->get("admin")) {
    if (auto admin = readMap(*e, {"keys", "listen"})) {
      if (const Entry* keys = admin->get("keys")) parseKeys(*keys, "admin", config_.admin.keys);
      if (const Entry* listen = admin->get("listen")) parseAdminListen(*listen);
    }
  }
  if (const Entry* e = m->get("clients")) {
    if (auto clients = readMap(*e, {"keys"})) {
      if (const Entry* keys = clients->get("keys")) {
        parseKeys(*keys, "client", config_.clients.keys);
      }
    }
  }
  if (const Entry* e = m->get("allowed_origins")) parseOrigins(*e);
  if (const Entry* e = m->get("keeper")) parseKeeper(*e);
  if (const Entry* e = m->get("events")) parseEvents(*e);
  if (const Entry* e = m->get("discovery")) parseDiscovery(*e);
  if (const Entry* e = m->get("webhooks")) parseWebhooks(*e);
  if (const Entry* e = m->get("connections")) parseConnections(*e);
  finish(*m);
}

void Parser::parseLog(const Entry& e) {
  auto m = readMap(e, {"level", "format"});
  if (!m) return;
  if (const Entry* l = m->get("level")) {
    if (auto v = oneOf<core::LogLevel>(*l, {{"debug", core::LogLevel::kDebug},
                                            {"info", core::LogLevel::kInfo},
                                            {"warn", core::LogLevel::kWarn},
                                            {"error", core::LogLevel::kError}})) {
      config_.log.level = *v;
    }
  }
  if (const Entry* f = m->get("format")) {
    if (auto v = oneOf<core::log::Format>(
            *f, {{"json", core::log::Format::kJson}, {"text", core::log::Format::kText}})) {
      config_.log.format = *v;
    }
  }
}

void Parser::parseServer(const Entry& e) {
  auto m = readMap(
      e, {"io_threads", "max_header_bytes", "max_body_bytes", "read_timeout", "idle_timeout",
          "write_timeout", "drain_timeout", "max_connections", "allowed_hosts"});
  if (!m) return;
  ServerConfig& s = config_.server;
  setInt(*m, "io_threads", s.io_threads, 1, 256);
  setInt(*m, "max_header_bytes", s.max_header_bytes, 1024, 1024 * 1024);
  setInt(*m, "max_body_bytes", s.max_body_bytes, 1024, int64_t{1024} * 1024 * 1024);
  setDuration(*m, "read_timeout", s.read_timeout);
  setDuration(*m, "idle_timeout", s.idle_timeout);
  setDuration(*m, "write_timeout", s.write_timeout);
  setDuration(*m, "drain_timeout", s.drain_timeout);
  setInt(*m, "max_connections", s.max_connections, 1, 1'000'000);
  if (const Entry* hosts = m->get("allowed_hosts")) {
    if (auto items = readList(*hosts)) {
      for (const Entry& item : *items) {
        auto text = nonEmpty(item, "a host name or host:port such as tether.internal");
        if (!text) continue;
        auto host = internal::normalizeAllowedHost(*text);
        if (!host.ok()) {
          error(item, host.error().message);
          continue;
        }
        s.allowed_hosts.push_back(std::move(host).value());
      }
    }
  }
}

void Parser::parseAdminListen(const Entry& e) {
  auto text = str(e, "host:port");
  if (!text) return;
  auto hp = internal::parseListen(*text);
  if (!hp.ok()) {
    error(e, hp.error().message);
    return;
  }
  config_.admin.listen = *hp;
  admin_listen_line_ = e.line;
}

void Parser::parseStorage(const Entry& e) {
  auto m = readMap(e, {"driver", "path", "dsn", "pool_size", "allow_plaintext"});
  if (!m) return;
  StorageConfig& s = config_.storage;
  if (const Entry* a = m->get("allow_plaintext")) {
    if (auto v = boolean(*a)) s.allow_plaintext = *v;
  }
  if (const Entry* d = m->get("driver")) {
    auto driver = oneOf<StorageDriver>(
        *d, {{"sqlite", StorageDriver::kSqlite}, {"postgres", StorageDriver::kPostgres}});
    if (!driver) return;  // the other keys depend on the driver
    s.driver = *driver;
  }
  if (s.driver == StorageDriver::kSqlite) {
    for (std::string_view key : {"dsn", "pool_size"}) {
      if (m->has(key)) forbidden(*m, key, "only used with driver postgres (driver is sqlite)");
    }
    if (const Entry* p = m->get("path")) {
      if (auto v = nonEmpty(*p, "a database file path")) s.path = *v;
    }
    return;
  }
  if (m->has("path")) forbidden(*m, "path", "only used with driver sqlite (driver is postgres)");
  if (const Entry* d = m->get("dsn")) {
    if (auto v = secret(*d, "a PostgreSQL connection string")) s.dsn = *v;
  } else {
    required(*m, "dsn", "a PostgreSQL connection string, e.g. \"host=db dbname=tether\"");
  }
  setInt(*m, "pool_size", s.pool_size, 1, 256);
}

void Parser::parseEncryption(const Entry& e) {
  auto m = readMap(e, {"key", "key_file", "previous_keys"});
  if (!m) return;
  EncryptionConfig& enc = config_.encryption;
  const Entry* key = m->get("key");
  const Entry* key_file = m->get("key_file");
  encryption_key_given_ = key != nullptr || key_file != nullptr;
  if (key && key_file) {
    error(key_file->line, key_file->path,
          "encryption.key and encryption.key_file are exclusive (key is set at line " +
              std::to_string(key->line) + "); keep one");
  } else if (key) {
    if (auto text = secret(*key, "a 32-byte key (64 hex characters or Base64)")) {
      auto decoded = internal::decodeKey32(*text);
      if (decoded.ok()) {
        enc.key = *decoded;
      } else {
        error(*key, decoded.error().message);
      }
    }
  } else if (key_file) {
    if (auto path = readableFile(*key_file)) {
      std::ifstream in(*path, std::ios::binary);
      std::string content(kMaxKeyFileBytes + 1, '\0');
      in.read(content.data(), static_cast<std::streamsize>(content.size()));
      content.resize(static_cast<size_t>(in.gcount()));
      if (content.size() > kMaxKeyFileBytes) {
        error(*key_file, quote(*path) + " is too large to be a key file");
      } else {
        auto isSpace = [](unsigned char c) { return std::isspace(c) != 0; };
        while (!content.empty() && isSpace(content.back())) content.pop_back();
        size_t start = 0;
        while (start < content.size() && isSpace(content[start])) ++start;
        auto decoded = internal::decodeKey32(std::string_view(content).substr(start));
        if (decoded.ok()) {
          enc.key = *decoded;
          enc.key_file = *path;
        } else {
          error(*key_file, "the content of " + quote(*path) + ": " + decoded.error().message);
        }
      }
    }
  }
  if (const Entry* prev = m->get("previous_keys")) {
    if (!encryption_key_given_) {
      error(prev->line, prev->path, "needs a current key (encryption.key or encryption.key_file)");
    }
    if (auto items = readList(*prev)) {
      for (const Entry& item : *items) {
        auto text = secret(item, "a 32-byte key (64 hex characters or Base64)");
        if (!text) continue;
        auto decoded = internal::decodeKey32(*text);
        if (decoded.ok()) {
          enc.previous_keys.push_back(*decoded);
        } else {
          error(item, decoded.error().message);
        }
      }
    }
  }
}

void Parser::parseKeys(const Entry& e, std::string_view id_prefix, std::vector<AccessKey>& out) {
  auto items = readList(e);
  if (!items) return;
  constexpr std::string_view kForms =
      "a key string, \"sha256:<64 hex>\", {id, key} or {id, sha256} (admin keys: plus role)";
  std::map<std::string, int> ids;
  for (size_t i = 0; i < items->size(); ++i) {
    const Entry& item = (*items)[i];
    AccessKey k;
    std::optional<std::string> plain;
    std::optional<std::string> hash_hex;
    std::optional<MapEntries> m;  // outlives key_entry, which may point into it
    const Entry* key_entry = &item;
    int id_line = item.line;
    std::string id_path = item.path;  // string forms have no id key of their own
    if (item.value.IsScalar()) {
      k.id = std::string(id_prefix) + "-" + std::to_string(i + 1);
      auto text = secret(item, kForms);
      if (!text) continue;
      if (text->starts_with("sha256:")) {
        hash_hex = text->substr(7);
      } else {
        plain = *text;
      }
    } else if (item.value.IsMap()) {
      m = readMap(item, {"id", "key", "sha256", "role"});
      if (!m) continue;
      if (const Entry* role = m->get("role")) {
        if (id_prefix != "admin") {
          forbidden(*m, "role", "only admin keys have a role");
          continue;
        }
        auto v = oneOf<bool>(*role, {{"admin", false}, {"viewer", true}});
        if (!v) continue;
        k.read_only = *v;
      }
      if (const Entry* id = m->get("id")) {
        auto v = nonEmpty(*id, "an id matching " + std::string(kNamePattern));
        if (!v) continue;
        if (!internal::isValidName(*v)) {
          error(*id, "expected an id matching " + std::string(kNamePattern) + ", got " + quote(*v));
          continue;
        }
        k.id = *v;
        id_line = id->line;
        id_path = id->path;
      } else {
        required(*m, "id", "a name for this key, shown in logs and events");
        continue;
      }
      const Entry* key = m->get("key");
      const Entry* sha = m->get("sha256");
      if (key && sha) {
        error(sha->line, sha->path, "key and sha256 are exclusive; keep one");
        continue;
      }
      if (!key && !sha) {
        required(*m, "key", "the key itself, or sha256 with its SHA-256 in hex");
        continue;
      }
      key_entry = key ? key : sha;
      auto text = secret(*key_entry, key ? "a key of at least 16 characters" : "64 hex characters");
      if (!text) continue;
      if (key) {
        plain = *text;
      } else {
        hash_hex = *text;
      }
    } else {
      error(item, "expected " + std::string(kForms) + ", got " + std::string(typeName(item.value)));
      continue;
    }
    if (hash_hex) {
      if (!isHex64(*hash_hex)) {
        error(*key_entry, "expected a SHA-256 as 64 hex characters, got <hidden> of " +
                              std::to_string(hash_hex->size()) + " characters");
        continue;
      }
      k.sha256 = core::hexDecode(*hash_hex).value();
    } else {
      if (plain->size() < kMinAccessKeyChars || plain->size() > kMaxAccessKeyChars) {
        error(*key_entry, "expected a key of " + std::to_string(kMinAccessKeyChars) + " to " +
                              std::to_string(kMaxAccessKeyChars) + " characters, got <hidden> of " +
                              std::to_string(plain->size()) + " characters");
        continue;
      }
      if (!isHeaderSafeCredential(*plain)) {
        error(*key_entry, "must not contain spaces or control characters (value <hidden>)");
        continue;
      }
      k.key = *plain;
      k.sha256 = internal::sha256(*plain);
    }
    if (auto dup = ids.find(k.id); dup != ids.end()) {
      error(id_line, id_path,
            "duplicate id " + quote(k.id) + " (first used at line " + std::to_string(dup->second) +
                ")");
      continue;
    }
    ids.emplace(k.id, id_line);
    if (auto same = access_key_hashes_.find(k.sha256); same != access_key_hashes_.end()) {
      error(key_entry->line, key_entry->path,
            "the same key (<hidden>) is already configured at " + same->second.path + " (line " +
                std::to_string(same->second.line) + "); every key must be distinct");
      continue;
    }
    access_key_hashes_.emplace(k.sha256, KeyOrigin{key_entry->path, key_entry->line});
    out.push_back(std::move(k));
  }
}

void Parser::parseOrigins(const Entry& e) {
  auto items = readList(e);
  if (!items) return;
  for (const Entry& item : *items) {
    auto s = nonEmpty(item, "an origin such as http://localhost:6274");
    if (!s) continue;
    auto origin = internal::normalizeOrigin(*s);
    if (!origin.ok()) {
      error(item, origin.error().message);
      continue;
    }
    config_.allowed_origins.push_back(*origin);
  }
}

void Parser::parseKeeper(const Entry& e) {
  auto m = readMap(e, {"interval", "access_lead", "refresh_lead", "concurrency", "jitter",
                       "backoff_initial", "backoff_max", "default_token_lifetime"});
  if (!m) return;
  KeeperConfig& k = config_.keeper;
  setDuration(*m, "interval", k.interval);
  setDuration(*m, "access_lead", k.access_lead, /*allow_zero=*/true);
  setDuration(*m, "refresh_lead", k.refresh_lead, /*allow_zero=*/true);
  setInt(*m, "concurrency", k.concurrency, 1, 256);
  setDuration(*m, "jitter", k.jitter, /*allow_zero=*/true);
  setDuration(*m, "backoff_initial", k.backoff_initial);
  setDuration(*m, "backoff_max", k.backoff_max);
  setDuration(*m, "default_token_lifetime", k.default_token_lifetime);
  if (k.backoff_max < k.backoff_initial) {
    const Entry* at = m->has("backoff_max") ? m->get("backoff_max") : m->get("backoff_initial");
    error(*at, "backoff_max (" + core::formatDuration(k.backoff_max) +
                   ") must not be shorter than backoff_initial (" +
                   core::formatDuration(k.backoff_initial) + ")");
  }
}

void Parser::parseEvents(const Entry& e) {
  auto m = readMap(e, {"retention", "prune_interval"});
  if (!m) return;
  setDuration(*m, "retention", config_.events.retention);
  setDuration(*m, "prune_interval", config_.events.prune_interval);
}

void Parser::parseDiscovery(const Entry& e) {
  auto m = readMap(e, {"allowed_hosts"});
  if (!m) return;
  const Entry* hosts = m->get("allowed_hosts");
  if (!hosts) return;
  auto items = readList(*hosts);
  if (!items) return;
  for (const Entry& item : *items) {
    auto s = nonEmpty(item, "a host name such as idp.example.com");
    if (!s) continue;
    if (!isHostOnly(*s)) {
      error(item, "expected a host name such as idp.example.com (no scheme, port or path), got " +
                      quote(*s));
      continue;
    }
    config_.discovery.allowed_hosts.push_back(core::toLower(*s));
  }
}

void Parser::parseWebhooks(const Entry& e) {
  auto items = readList(e);
  if (!items) return;
  for (const Entry& item : *items) {
    auto m = readMap(item, {"url", "secret", "events"});
    if (!m) continue;
    WebhookConfig hook;
    bool ok = true;
    if (const Entry* u = m->get("url")) {
      auto url = httpUrl(*u);
      ok = ok && url.has_value();
      if (url) hook.url = *url;
    } else {
      required(*m, "url", "an absolute http(s) URL");
      ok = false;
    }
    if (const Entry* s = m->get("secret")) {
      auto v = secret(*s, "a signing secret");
      ok = ok && v.has_value();
      if (v) hook.secret = *v;
    } else {
      required(*m, "secret", "a signing secret, e.g. ${HOOK_SECRET}");
      ok = false;
    }
    if (const Entry* ev = m->get("events")) {
      if (auto list = readList(*ev)) {
        if (list->empty()) {
          error(*ev, "expected at least one of needs_reauth, refresh_failing, recovered");
          ok = false;
        }
        for (const Entry& name : *list) {
          auto v = oneOf<WebhookEvent>(name, {{"needs_reauth", WebhookEvent::kNeedsReauth},
                                              {"refresh_failing", WebhookEvent::kRefreshFailing},
                                              {"recovered", WebhookEvent::kRecovered}});
          if (!v) {
            ok = false;
            continue;
          }
          if (std::find(hook.events.begin(), hook.events.end(), *v) != hook.events.end()) {
            error(name, "duplicate event " + quote(webhookEventName(*v)));
            ok = false;
            continue;
          }
          hook.events.push_back(*v);
        }
      } else {
        ok = false;
      }
    } else {
      hook.events = {WebhookEvent::kNeedsReauth, WebhookEvent::kRefreshFailing,
                     WebhookEvent::kRecovered};
    }
    if (ok) config_.webhooks.push_back(std::move(hook));
  }
}

void Parser::parseConnections(const Entry& e) {
  auto items = readList(e);
  if (!items) return;
  for (const Entry& item : *items) parseConnection(item);
}

void Parser::parseConnection(const Entry& e) {
  auto m = readMap(e, {"kind", "name", "url", "timeout", "forward_set_cookie", "auth"});
  if (!m) return;
  ConnectionConfig conn;
  conn.source_line = e.line;
  bool ok = true;
  if (const Entry* k = m->get("kind")) {
    auto kind =
        oneOf<ConnectionKind>(*k, {{"mcp", ConnectionKind::kMcp}, {"api", ConnectionKind::kApi}});
    ok = ok && kind.has_value();
    if (kind) conn.kind = *kind;
  } else {
    required(*m, "kind", "one of mcp, api");
    ok = false;
  }
  const Entry* name_entry = m->get("name");
  if (name_entry) {
    auto name = nonEmpty(*name_entry, "a name matching " + std::string(kNamePattern));
    if (name && !internal::isValidName(*name)) {
      error(*name_entry, "expected a name matching " + std::string(kNamePattern) +
                             " (lower-case letters, digits, _ and -, at most 63 characters), got " +
                             quote(*name));
      name.reset();
    }
    ok = ok && name.has_value();
    if (name) conn.name = *name;
  } else {
    required(*m, "name", "a name matching " + std::string(kNamePattern));
    ok = false;
  }
  if (ok && conn.kind == ConnectionKind::kApi && conn.name == "v1") {
    // /api/v1/... is the admin API: an API connection of that name could never be reached.
    error(*name_entry,
          "\"v1\" is reserved for Tether's admin API (/api/v1/admin); choose "
          "another name for this api connection");
    ok = false;
  }
  if (ok) {
    auto [first, inserted] =
        name_lines_.emplace(std::make_pair(conn.kind, conn.name), name_entry->line);
    if (!inserted) {
      error(*name_entry, "duplicate " + std::string(kindName(conn.kind)) + " connection name " +
                             quote(conn.name) + " (first defined at line " +
                             std::to_string(first->second) + "; names are unique per kind)");
      ok = false;
    }
  }
  if (const Entry* u = m->get("url")) {
    auto url = httpUrl(*u);
    ok = ok && url.has_value();
    if (url) conn.url = *url;
  } else {
    required(*m, "url", "the upstream's absolute http(s) URL");
    ok = false;
  }
  if (const Entry* t = m->get("timeout")) {
    auto d = duration(*t);
    ok = ok && d.has_value();
    conn.timeout = d;
  }
  if (const Entry* f = m->get("forward_set_cookie")) {
    auto v = boolean(*f);
    ok = ok && v.has_value();
    conn.forward_set_cookie = v.value_or(false);
  }
  size_t errors_before = error_count_;
  oauth_lifetime_given_ = false;
  if (const Entry* a = m->get("auth")) parseAuth(*a, conn);
  ok = ok && error_count_ == errors_before;
  if (!ok) return;
  config_.connections.push_back(std::move(conn));
  oauth_lifetime_set_.push_back(oauth_lifetime_given_);
}

void Parser::parseAuth(const Entry& e, ConnectionConfig& conn) {
  auto m = readMap(
      e, {"mode", "token", "header", "key", "grant", "issuer", "authorization_url", "token_url",
          "client_id", "client_secret", "client_auth", "scopes", "extra_params",
          "resource_indicator", "refresh_max_lifetime", "default_token_lifetime", "ca_bundle"});
  if (!m) return;
  AuthConfig& auth = conn.auth;
  if (const Entry* mode = m->get("mode")) {
    auto v = oneOf<AuthMode>(*mode, {{"none", AuthMode::kNone},
                                     {"bearer", AuthMode::kBearer},
                                     {"api_key", AuthMode::kApiKey},
                                     {"oauth", AuthMode::kOAuth}});
    if (!v) return;  // the other keys cannot be judged without a mode
    auth.mode = *v;
  }
  // Keys that belong to one mode only.
  auto modeOfKey = [](std::string_view key) {
    if (key == "mode") return std::optional<AuthMode>();
    if (key == "token") return std::optional<AuthMode>(AuthMode::kBearer);
    if (key == "header" || key == "key") return std::optional<AuthMode>(AuthMode::kApiKey);
    return std::optional<AuthMode>(AuthMode::kOAuth);
  };
  bool misplaced = false;
  for (const auto& [key, entry] : m->entries()) {
    std::optional<AuthMode> owner = modeOfKey(key);
    if (owner && *owner != auth.mode) {
      error(entry, "only allowed with mode " + std::string(authModeName(*owner)) +
                       " (this connection's mode is " + std::string(authModeName(auth.mode)) +
                       (m->has("mode") ? "" : ", the default") + ")");
      misplaced = true;
    }
  }
  if (misplaced) return;
  switch (auth.mode) {
    case AuthMode::kNone:
      break;
    case AuthMode::kBearer:
      if (const Entry* t = m->get("token")) {
        if (auto v = secret(*t, "a bearer token")) {
          if (isHeaderSafeCredential(*v)) {
            auth.bearer_token = *v;
          } else {
            error(*t, "must not contain spaces or control characters (value <hidden>)");
          }
        }
      } else {
        required(*m, "token", "the bearer token, e.g. ${UPSTREAM_TOKEN}");
      }
      break;
    case AuthMode::kApiKey:
      if (const Entry* h = m->get("header")) {
        if (auto v = nonEmpty(*h, "a header name such as X-Api-Key")) {
          if (isHeaderName(*v)) {
            auth.api_key_header = *v;
          } else {
            error(*h, "expected a header name such as X-Api-Key, got " + quote(*v));
          }
        }
      }
      if (const Entry* k = m->get("key")) {
        if (auto v = secret(*k, "an API key")) {
          if (isHeaderSafeCredential(*v)) {
            auth.api_key = *v;
          } else {
            error(*k, "must not contain spaces or control characters (value <hidden>)");
          }
        }
      } else {
        required(*m, "key", "the API key, e.g. ${UPSTREAM_API_KEY}");
      }
      break;
    case AuthMode::kOAuth:
      parseOAuth(*m, auth, conn.kind);
      break;
  }
}

void Parser::parseOAuth(const MapEntries& m, AuthConfig& auth, ConnectionKind kind) {
  OAuthConfig o;
  if (const Entry* g = m.get("grant")) {
    auto v = oneOf<Grant>(*g, {{"authorization_code", Grant::kAuthorizationCode},
                               {"client_credentials", Grant::kClientCredentials}});
    if (!v) return;
    o.grant = *v;
  }
  const bool code_grant = o.grant == Grant::kAuthorizationCode;
  if (const Entry* e = m.get("issuer")) {
    if (auto v = httpUrl(*e, /*allow_query=*/false)) o.issuer = *v;
  }
  if (const Entry* e = m.get("authorization_url")) {
    if (!code_grant) {
      forbidden(m, "authorization_url", "only used with grant authorization_code");
    } else if (auto v = httpUrl(*e)) {
      o.authorization_url = *v;
    }
  }
  if (const Entry* e = m.get("token_url")) {
    if (auto v = httpUrl(*e)) o.token_url = *v;
  }
  // Endpoint requirements look at which keys are present, so that a malformed URL is
  // reported once rather than also as "missing".
  // An MCP connection with neither an issuer nor endpoints finds its authorization server
  // from the upstream (the MCP authorization spec's discovery) when it is connected.
  const bool mcp_discovery = kind == ConnectionKind::kMcp && code_grant &&
                             !m.has("authorization_url") && !m.has("token_url");
  if (!m.has("issuer") && !mcp_discovery) {
    if (code_grant && !m.has("authorization_url")) {
      required(m, "authorization_url",
               "the IdP's authorization endpoint URL when auth.issuer is not set");
    }
    if (!m.has("token_url")) {
      required(m, "token_url", "the IdP's token endpoint URL when auth.issuer is not set");
    }
  }
  if (const Entry* e = m.get("client_id")) {
    if (auto v = nonEmpty(*e, "a client id")) o.client_id = *v;
  } else if (!code_grant) {
    required(m, "client_id", "the client id registered at the IdP (grant client_credentials)");
  }
  const Entry* secret_entry = m.get("client_secret");
  if (secret_entry) {
    if (auto v = secret(*secret_entry, "a client secret")) o.client_secret = *v;
    if (!m.has("client_id")) {
      forbidden(m, "client_secret",
                "needs auth.client_id (a secret without a client id is unused)");
    }
  }
  if (const Entry* e = m.get("client_auth")) {
    auto v = oneOf<ClientAuth>(*e, {{"basic", ClientAuth::kBasic},
                                    {"basic_raw", ClientAuth::kBasicRaw},
                                    {"post", ClientAuth::kPost},
                                    {"none", ClientAuth::kNone}});
    if (v) {
      o.client_auth = *v;
      if (*v != ClientAuth::kNone && !secret_entry) {
        error(*e, "client_auth " + std::string(clientAuthName(*v)) +
                      " needs auth.client_secret (or use client_auth: none for a public client)");
      } else if (*v == ClientAuth::kNone && secret_entry) {
        forbidden(m, "client_secret",
                  "set but client_auth is none, so it would never be sent; remove it or choose "
                  "basic, basic_raw or post");
      }
    }
  } else {
    o.client_auth = secret_entry ? ClientAuth::kBasic : ClientAuth::kNone;
    if (!code_grant && !secret_entry) {
      required(m, "client_secret",
               "a client secret: grant client_credentials needs one unless client_auth is none");
    }
  }
  if (const Entry* e = m.get("scopes")) {
    if (auto v = str(*e, "a space-separated scope string")) o.scopes = *v;
  }
  if (const Entry* e = m.get("extra_params")) {
    // Parameters Tether sets itself must not be overridden from the file.
    static const std::set<std::string, std::less<>> kReserved = {
        "response_type",         "client_id",     "redirect_uri", "state",      "code_challenge",
        "code_challenge_method", "scope",         "resource",     "grant_type", "code",
        "code_verifier",         "client_secret", "refresh_token"};
    if (e->value.IsMap()) {
      std::map<std::string, int> seen;
      for (auto it = e->value.begin(); it != e->value.end(); ++it) {
        Entry key_entry{it->first, lineOf(it->first, e->line), e->path};
        if (!it->first.IsScalar() || it->first.Scalar().empty()) {
          error(key_entry, "expected parameter names, got " + std::string(typeName(it->first)));
          continue;
        }
        std::string name = it->first.Scalar();
        Entry value{it->second, key_entry.line,
                    childPath(e->path, isPlainKey(name) ? name : quote(name))};
        if (kReserved.count(name)) {
          error(value, "reserved: Tether sets this parameter itself");
          continue;
        }
        if (auto dup = seen.find(name); dup != seen.end()) {
          error(value, "duplicate key (first set at line " + std::to_string(dup->second) + ")");
          continue;
        }
        seen.emplace(name, value.line);
        if (auto v = str(value, "a string value")) o.extra_params.emplace_back(name, *v);
      }
    } else if (!isNull(e->value)) {
      error(*e,
            "expected a map of parameter names to values, got " + std::string(typeName(e->value)));
    }
  }
  if (const Entry* e = m.get("resource_indicator")) {
    if (auto v = boolean(*e)) o.resource_indicator = *v;
  }
  if (const Entry* e = m.get("refresh_max_lifetime")) o.refresh_max_lifetime = duration(*e);
  if (const Entry* e = m.get("default_token_lifetime")) {
    oauth_lifetime_given_ = true;
    if (auto v = duration(*e)) o.default_token_lifetime = *v;
  }
  if (const Entry* e = m.get("ca_bundle")) {
    if (auto v = readableFile(*e)) o.ca_bundle = *v;
  }
  auth.oauth = std::move(o);
}

void Parser::finish(const MapEntries& root) {
  // Per-connection token lifetime falls back to the keeper's.
  for (size_t i = 0; i < config_.connections.size(); ++i) {
    auto& oauth = config_.connections[i].auth.oauth;
    if (oauth && !oauth_lifetime_set_[i]) {
      oauth->default_token_lifetime = config_.keeper.default_token_lifetime;
    }
  }
  const bool listen_loopback = internal::isLoopbackHost(config_.listen.host);
  if (config_.admin.listen && internal::listenersOverlap(*config_.admin.listen, config_.listen)) {
    error(admin_listen_line_, "admin.listen",
          "must differ from listen (" + config_.listen.toString() +
              "): the admin API and the portal get a listener of their own");
  }
  if (!public_url_set_) {
    // The portal and the OAuth callback are on the admin listener when there is one.
    HostPort shown = config_.admin.listen.value_or(config_.listen);
    if (shown.host == "0.0.0.0") shown.host = "127.0.0.1";
    if (shown.host == "::") shown.host = "::1";
    config_.public_url = "http://" + shown.toString();
    if (!listen_loopback) {
      const Entry* listen = root.get("listen");
      warn(listen ? listen->line : 1, "public_url",
           "not set; defaulting to " + config_.public_url +
               ", which browsers elsewhere may not reach (OAuth callbacks, portal links)");
    }
  }
  if (!config_.encryption.hasKey() && !encryption_key_given_) {
    const Entry* at = root.get("encryption");
    if (!at) at = root.get("storage");
    int line = at ? at->line : 1;
    if (config_.storage.allow_plaintext) {
      warn(line, "encryption",
           "no key and storage.allow_plaintext is true: tokens and client secrets are stored "
           "unencrypted");
    } else {
      error(line, "encryption.key",
            "required: set encryption.key or encryption.key_file (32 bytes as 64 hex characters "
            "or Base64), or set storage.allow_plaintext: true to store secrets unencrypted");
    }
  }
  if (config_.admin.keys.empty() && error_count_ == 0) {
    const Entry* at = root.get("admin");
    warn(at ? at->line : 1, "admin.keys",
         "empty: the admin API and the portal will refuse every request");
  }
  if (config_.clients.keys.empty() && !listen_loopback && error_count_ == 0) {
    const Entry* at = root.get("listen");
    warn(at ? at->line : 1, "clients.keys",
         "empty while listening on " + config_.listen.toString() +
             ": anyone who can reach it may use the connections");
  }
}

core::Result<LoadedConfig> Parser::run(std::string_view text) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1) {
      return Error(Errc::kConfig, where(lineOf(docs[1], 1), "") +
                                      "expected a single YAML document, found " +
                                      std::to_string(docs.size()));
    }
    YAML::Node root = docs.empty() ? YAML::Node(YAML::NodeType::Null) : docs[0];
    if (!isNull(root) && !root.IsMap()) {
      return Error(Errc::kConfig, where(lineOf(root, 1), "") +
                                      "expected a map of settings at the top level, got " +
                                      std::string(typeName(root)));
    }
    parseRoot(Entry{root, 1, ""});
  } catch (const YAML::Exception& ex) {
    // ex.msg is yaml-cpp's description of the syntax problem; it never quotes content.
    int line = ex.mark.is_null() ? 1 : ex.mark.line + 1;
    std::string message = where(line, "") + "invalid YAML: " + ex.msg;
    if (unquotedReferenceNear(text, line)) {
      message +=
          " (hint: inside { } or [ ], put ${VAR} references in quotes, e.g. key: \"${VAR}\")";
    }
    return Error(Errc::kConfig, std::move(message));
  } catch (const std::exception&) {
    return Error(Errc::kConfig, file_ + ": internal error while reading the configuration");
  }
  if (error_count_ > 0) {
    std::string message;
    for (const std::string& line : errors_) {
      if (!message.empty()) message += '\n';
      message += line;
    }
    if (error_count_ > errors_.size()) {
      message += "\n(" + std::to_string(error_count_ - errors_.size()) + " more errors not shown)";
    }
    return Error(Errc::kConfig, std::move(message));
  }
  return LoadedConfig{std::move(config_), std::move(warnings_)};
}

}  // namespace

core::Result<LoadedConfig> parseConfig(std::string_view yaml_text, std::string_view file_name,
                                       const EnvLookup& env) {
  Parser parser(file_name, env);
  return parser.run(yaml_text);
}

core::Result<LoadedConfig> loadConfigFile(const std::string& path, const EnvLookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error(Errc::kConfig, path + ": cannot read the config file: it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(Errc::kConfig,
                 path + ": cannot read the config file: " + std::string(std::strerror(errno)));
  }
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return Error(Errc::kConfig, path + ": the config file is larger than 4 MiB");
  }
  return parseConfig(text, path, env);
}

}  // namespace tether::config
