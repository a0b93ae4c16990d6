#pragma once
/// Tether's configuration: the typed form of the YAML file (`tether.yaml`), its loader and
/// validator, and the renderer behind `tether config check FILE`.
///
/// Loading is strict: unknown keys are errors at every level, every value is checked
/// (durations, URLs, names, key lengths, mode-specific keys), and every error names the
/// file, the line, the key path and what was expected, e.g.
///   `tether.yaml:14: connections[0].auth.grant: expected one of authorization_code,
///    client_credentials, got "foo"`.
/// The value of a secret key (client secrets, tokens, API keys, admin and client keys,
/// encryption keys, webhook secrets, the PostgreSQL DSN) never appears in a message.
///
/// Scalars may reference environment variables as `${NAME}` (several per scalar; `$${`
/// writes a literal `${`). A missing variable is an error naming it.
///
/// Relative paths (storage.path, encryption.key_file, auth.ca_bundle) are taken as they
/// are, i.e. relative to the process's working directory.
///
/// Thread-safety: all functions are pure apart from reading files and the environment
/// through the given lookup; a `Config` is an immutable value once loaded.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/access_config.h"
#include "config/connection.h"
#include "config/server_config.h"
#include "config/storage_config.h"
#include "config/webhook_config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/result.h"

namespace tether::config {

using std::chrono::milliseconds;

// The sections: server_config.h (listen, log, server), storage_config.h (storage,
// encryption), access_config.h (admin, clients, inbound), webhook_config.h (webhooks,
// webhook_delivery), connection.h (connections); the smaller ones here.

struct KeeperConfig {
  milliseconds interval = std::chrono::minutes(5);
  milliseconds access_lead = std::chrono::minutes(5);
  milliseconds refresh_lead = std::chrono::hours(1);
  int concurrency = 8;  // 1..256
  milliseconds jitter = std::chrono::seconds(30);
  milliseconds backoff_initial = std::chrono::seconds(10);
  milliseconds backoff_max = std::chrono::minutes(5);  // >= backoff_initial
  /// Access-token lifetime assumed when neither `expires_in` nor a JWT `exp` says.
  milliseconds default_token_lifetime = std::chrono::hours(1);
};

struct EventsConfig {
  milliseconds retention = std::chrono::hours(24 * 90);
  milliseconds prune_interval = std::chrono::hours(24);
};

struct DiscoveryConfig {
  /// Extra hosts (lower-case names or IP literals) that OAuth discovery may contact.
  std::vector<std::string> allowed_hosts;
};

struct Config {
  HostPort listen;
  /// Absolute http(s) URL without a trailing slash. Defaults to http://<admin.listen, else
  /// listen> (a wildcard listen host becomes the loopback address).
  std::string public_url = "http://127.0.0.1:8080";
  /// Where Tether's OAuth Client ID Metadata Document is published: its client_id at
  /// authorization servers that support CIMD. Empty: `<public_url>/oauth/client-metadata.json`
  /// (used only when public_url is https). When set: an https URL with a path, no query or
  /// fragment; the document Tether serves then names this URL as its client_id.
  std::string client_metadata_url;
  LogConfig log;
  ServerConfig server;
  StorageConfig storage;
  EncryptionConfig encryption;
  AdminConfig admin;
  ClientsConfig clients;
  /// Origin allow-list, normalised as "scheme://host[:port]" in lower case.
  std::vector<std::string> allowed_origins;
  KeeperConfig keeper;
  EventsConfig events;
  DiscoveryConfig discovery;
  std::vector<WebhookConfig> webhooks;
  WebhookDeliveryConfig webhook_delivery;
  InboundConfig inbound;
  std::vector<ConnectionConfig> connections;

  /// The connection with this kind and name, or nullptr.
  const ConnectionConfig* findConnection(ConnectionKind kind, std::string_view name) const;
};

/// A loaded configuration and the warnings it raised (each "file:line: key: text").
struct LoadedConfig {
  Config config;
  std::vector<std::string> warnings;
};

/// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

/// An EnvLookup over the process environment (getenv).
EnvLookup processEnv();

/// Reads and validates a config file. Errors are kConfig; the message holds one line per
/// problem found ("file:line: key.path: what was expected"), never a secret value.
core::Result<LoadedConfig> loadConfigFile(const std::string& path, const EnvLookup& env);

/// Same as loadConfigFile for text already in memory; `file_name` prefixes messages.
core::Result<LoadedConfig> parseConfig(std::string_view yaml_text, std::string_view file_name,
                                       const EnvLookup& env);

/// YAML of the effective configuration (defaults filled in), every secret value shown as
/// "********" (the PostgreSQL DSN keeps everything but its password).
std::string renderEffectiveConfig(const Config& config);

/// Every secret value in `config`, deduplicated, so the app can pass each to
/// core::registerSecret. Encryption keys are listed in their text encodings (hex, Base64,
/// Base64url) since the raw bytes never appear in text; DSNs contribute their password.
std::vector<std::string> secretValues(const Config& config);

/// The text that masks secrets in renderEffectiveConfig.
inline constexpr std::string_view kMask = "********";

}  // namespace tether::config
