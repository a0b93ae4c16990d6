// The loader: reads the file, walks the top level in schema order handing each key to its
// section parser (config/sections/), then runs the checks that span sections. yaml-cpp
// exceptions never leave this file.

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "config/internal.h"
#include "config/reader.h"
#include "config/sections/sections.h"

namespace tether::config {
namespace {

using core::Errc;
using core::Error;

constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;

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

class Parser {
 public:
  Parser(std::string_view file_name, const EnvLookup& env) : reader_(file_name, env) {}

  core::Result<LoadedConfig> run(std::string_view text);

 private:
  void parseRoot(const Entry& root);
  void finish(const MapEntries& root);

  Reader reader_;
  Config config_;
  // Bookkeeping for checks that span sections.
  bool public_url_set_ = false;
  int admin_listen_line_ = 0;             // line of admin.listen when set
  bool encryption_key_given_ = false;     // key or key_file present (even if invalid)
  std::vector<bool> own_token_lifetime_;  // per connection: own default_token_lifetime
  sections::KeyOrigins key_origins_;      // every admin and client key, by SHA-256
};

void Parser::parseRoot(const Entry& root) {
  Reader& r = reader_;
  auto m = r.readMap(
      root, {"listen", "public_url", "client_metadata_url", "log", "server", "storage", "encryption", "admin", "clients",
             "allowed_origins", "keeper", "events", "discovery", "webhooks", "webhook_delivery",
             "inbound", "connections"});
  if (!m) return;
  Config& c = config_;
  if (const Entry* e = m->get("listen")) sections::parseListen(r, *e, c.listen);
  if (const Entry* e = m->get("public_url")) {
    public_url_set_ = true;
    sections::parsePublicUrl(r, *e, c.public_url);
  }
  if (const Entry* e = m->get("client_metadata_url")) {
    sections::parseClientMetadataUrl(r, *e, c.client_metadata_url);
  }
  if (const Entry* e = m->get("log")) sections::parseLog(r, *e, c.log);
  if (const Entry* e = m->get("server")) sections::parseServer(r, *e, c.server);
  if (const Entry* e = m->get("storage")) sections::parseStorage(r, *e, c.storage);
  if (const Entry* e = m->get("encryption")) {
    encryption_key_given_ = sections::parseEncryption(r, *e, c.encryption);
  }
  if (const Entry* e = m->get("admin")) {
    sections::parseAdmin(r, *e, c.admin, key_origins_, admin_listen_line_);
  }
  if (const Entry* e = m->get("clients")) sections::parseClients(r, *e, c.clients, key_origins_);
  if (const Entry* e = m->get("allowed_origins")) sections::parseOrigins(r, *e, c.allowed_origins);
  if (const Entry* e = m->get("keeper")) sections::parseKeeper(r, *e, c.keeper);
  if (const Entry* e = m->get("events")) sections::parseEvents(r, *e, c.events);
  if (const Entry* e = m->get("discovery")) sections::parseDiscovery(r, *e, c.discovery);
  if (const Entry* e = m->get("webhooks")) sections::parseWebhooks(r, *e, c.webhooks);
  if (const Entry* e = m->get("webhook_delivery")) {
    sections::parseWebhookDelivery(r, *e, c.webhook_delivery);
  }
  if (const Entry* e = m->get("inbound")) sections::parseInbound(r, *e, c.inbound);
  if (const Entry* e = m->get("connections")) {
    sections::parseConnections(r, *e, c.connections, own_token_lifetime_);
  }
  finish(*m);
}

void Parser::finish(const MapEntries& root) {
  // Per-connection token lifetime falls back to the keeper's.
  for (size_t i = 0; i < config_.connections.size(); ++i) {
    auto& oauth = config_.connections[i].auth.oauth;
    if (oauth && !own_token_lifetime_[i]) {
      oauth->default_token_lifetime = config_.keeper.default_token_lifetime;
    }
  }
  const bool listen_loopback = internal::isLoopbackHost(config_.listen.host);
  if (config_.admin.listen && internal::listenersOverlap(*config_.admin.listen, config_.listen)) {
    reader_.error(admin_listen_line_, "admin.listen",
                  "must differ from listen (" + config_.listen.toString() +
                      "): the admin API and the portal get a listener of their own");
  }
  if (!public_url_set_) {
    // The portal and the OAuth callback are on the admin listener when there is one.
    HostPort shown = config_.admin.listen.value_or(config_.listen);
    if (shown.host == "0.0.0.0") shown.host = "127.0.0.1";
    if (shown.host == "::") shown.host = "::1";
    config_.public_url = (config_.server.tls ? "https://" : "http://") + shown.toString();
    if (!listen_loopback) {
      const Entry* listen = root.get("listen");
      reader_.warn(listen ? listen->line : 1, "public_url",
                   "not set; defaulting to " + config_.public_url +
                       ", which browsers elsewhere may not reach (OAuth callbacks, portal links)");
    }
  }
  if (config_.server.tls && public_url_set_ && config_.public_url.starts_with("http://")) {
    const Entry* at = root.get("public_url");
    reader_.warn(at ? at->line : 1, "public_url",
                 "is http:// while server.tls is set: OAuth callbacks and portal links will use "
                 "http:// (fine only behind a proxy that serves plain HTTP; otherwise write "
                 "https://)");
  }
  if (!config_.encryption.hasKey() && !encryption_key_given_) {
    const Entry* at = root.get("encryption");
    if (!at) at = root.get("storage");
    int line = at ? at->line : 1;
    if (config_.storage.allow_plaintext) {
      reader_.warn(
          line, "encryption",
          "no key and storage.allow_plaintext is true: tokens and client secrets are stored "
          "unencrypted");
    } else {
      reader_.error(
          line, "encryption.key",
          "required: set encryption.key or encryption.key_file (32 bytes as 64 hex characters "
          "or Base64), or set storage.allow_plaintext: true to store secrets unencrypted");
    }
  }
  if (config_.admin.keys.empty() && reader_.errorCount() == 0) {
    const Entry* at = root.get("admin");
    reader_.warn(at ? at->line : 1, "admin.keys",
                 "empty: the admin API and the portal will refuse every request");
  }
  if (config_.clients.keys.empty() && !listen_loopback && reader_.errorCount() == 0) {
    const Entry* at = root.get("listen");
    reader_.warn(at ? at->line : 1, "clients.keys",
                 "empty while listening on " + config_.listen.toString() +
                     ": anyone who can reach it may use the connections");
  }
}

core::Result<LoadedConfig> Parser::run(std::string_view text) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1) {
      return Error(Errc::kConfig, reader_.where(lineOf(docs[1], 1), "") +
                                      "expected a single YAML document, found " +
                                      std::to_string(docs.size()));
    }
    YAML::Node root = docs.empty() ? YAML::Node(YAML::NodeType::Null) : docs[0];
    if (!isNull(root) && !root.IsMap()) {
      return Error(Errc::kConfig, reader_.where(lineOf(root, 1), "") +
                                      "expected a map of settings at the top level, got " +
                                      std::string(typeName(root)));
    }
    parseRoot(Entry{root, 1, ""});
  } catch (const YAML::Exception& ex) {
    // ex.msg is yaml-cpp's description of the syntax problem; it never quotes content.
    int line = ex.mark.is_null() ? 1 : ex.mark.line + 1;
    std::string message = reader_.where(line, "") + "invalid YAML: " + ex.msg;
    if (unquotedReferenceNear(text, line)) {
      message +=
          " (hint: inside { } or [ ], put ${VAR} references in quotes, e.g. key: \"${VAR}\")";
    }
    return Error(Errc::kConfig, std::move(message));
  } catch (const std::exception&) {
    return Error(Errc::kConfig,
                 reader_.fileName() + ": internal error while reading the configuration");
  }
  if (reader_.errorCount() > 0) return Error(Errc::kConfig, reader_.errorReport());
  return LoadedConfig{std::move(config_), reader_.takeWarnings()};
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
