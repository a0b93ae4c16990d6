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

#include "config/connection.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/result.h"

namespace tether::config {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------
// Closed sets

enum class StorageDriver { kSqlite, kPostgres };
/// What a webhook is told about (see docs/webhooks.md). `needs_client_fix` is sent instead of
/// `needs_reauth` when the IdP rejected Tether's client (invalid_client, unauthorized_client).
enum class WebhookEvent {
  kNeedsReauth,
  kNeedsClientFix,
  kRefreshFailing,
  kRecovered,
  kConnected,
  kReauthorizeSoon,
};
inline constexpr WebhookEvent kAllWebhookEvents[] = {
    WebhookEvent::kNeedsReauth, WebhookEvent::kNeedsClientFix, WebhookEvent::kRefreshFailing,
    WebhookEvent::kRecovered,   WebhookEvent::kConnected,      WebhookEvent::kReauthorizeSoon};

/// The names used in the config file (and in URLs, logs and the admin API).
std::string_view storageDriverName(StorageDriver d);    // "sqlite" | "postgres"
std::string_view webhookEventName(WebhookEvent event);  // "needs_reauth" | ...

// ---------------------------------------------------------------------------------------
// Sections

/// A listen address. `host` is a name or an IP literal (IPv6 without brackets).
struct HostPort {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = let the OS pick (tests)

  /// "host:port", IPv6 in brackets ("[::1]:8080").
  std::string toString() const;
};

struct LogConfig {
  core::LogLevel level = core::LogLevel::kInfo;
  core::log::Format format = core::log::Format::kJson;
  /// One `info` line per request (method, route, connection, status, duration, subject,
  /// request and trace ids); `log.access`.
  bool access = true;
};

/// `server.tls`: the listeners (main and admin.listen) speak TLS with this certificate.
/// Both files are checked at load (readable PEM, key unencrypted and matching the
/// certificate) and read again on SIGHUP.
struct TlsConfig {
  std::string cert_file;  // PEM: the leaf certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
};

struct ServerConfig {
  int io_threads = 2;                   // 1..256
  size_t max_header_bytes = 16 * 1024;  // 1 KiB..1 MiB
  size_t max_body_bytes = 1024 * 1024;  // 1 KiB..1 GiB
  milliseconds read_timeout = std::chrono::seconds(15);
  milliseconds idle_timeout = std::chrono::seconds(60);
  milliseconds write_timeout = std::chrono::seconds(30);
  milliseconds drain_timeout = std::chrono::seconds(10);
  /// Connections served at once per listener (1..1,000,000); past it the server stops
  /// accepting until one closes.
  size_t max_connections = 10'000;
  /// Extra names the listeners answer to (DNS-rebinding protection), besides the listen
  /// address (unless a wildcard), public_url's authority and the loopback names with the
  /// listener's port. Normalised: lower case, "host", "host:port", "[v6]" or "[v6]:port".
  std::vector<std::string> allowed_hosts;
  /// Set: every listener speaks TLS only (1.2 and 1.3).
  std::optional<TlsConfig> tls;
};

struct StorageConfig {
  StorageDriver driver = StorageDriver::kSqlite;
  std::string path = "var/tether.db";  // sqlite only
  std::string dsn;                     // postgres only; SECRET (may carry a password)
  int pool_size = 8;                   // postgres only, 1..256
  /// Explicit opt-out of sealing secrets at rest; required when no encryption key is set.
  bool allow_plaintext = false;
};

struct EncryptionConfig {
  /// The current sealing key, 32 raw bytes; empty when none is configured (only allowed
  /// with storage.allow_plaintext). SECRET.
  std::string key;
  /// The file `key` was read from, when it came from `key_file` (empty when inline).
  std::string key_file;
  /// Older keys (32 raw bytes each) still accepted for opening sealed values. SECRET.
  std::vector<std::string> previous_keys;

  bool hasKey() const { return !key.empty(); }
};

/// One admin or gateway-client key. String forms in the file get the ids `admin-N` /
/// `client-N` (N = 1-based position in the list).
struct AccessKey {
  std::string id;
  /// The key itself (>= 16 characters); empty when it was configured only as a hash. SECRET.
  std::string key;
  /// SHA-256 of the key, 32 raw bytes; always set, so callers can compare
  /// sha256(presented) in constant time whatever form the file used.
  std::string sha256;
  /// Admin keys with `role: viewer` may read but not change anything (403 on mutations).
  bool read_only = false;
};

/// `admin.sso`: OpenID Connect sign-in to the portal (see docs/identity.md "Portal sign-in").
struct SsoConfig {
  std::string issuer;         // the IdP's issuer URL (discovery: <issuer>/.well-known/...)
  std::string client_id;      // Tether's client at the IdP; the ID token's audience
  std::string client_secret;  // empty: a public client (PKCE only). SECRET.
  std::string scopes = "openid email profile";
  std::string display_name;  // the portal's "Sign in with <display_name>"; default: issuer host
  std::string groups_claim = "groups";
  std::vector<std::string> admin_groups, admin_subjects;
  std::vector<std::string> viewer_groups, viewer_subjects;
  std::string ca_bundle;  // PEM trusted for the IdP's TLS besides the system roots; empty: none
};

struct AdminConfig {
  /// Empty: the admin API and portal refuse every request (a warning says so).
  std::vector<AccessKey> keys;
  /// Set: the portal offers "Sign in with <IdP>" (sessions carry the subject and its role).
  std::optional<SsoConfig> sso;
  /// Set: the admin API, the portal and the OAuth callback are served only on this separate
  /// listener (the main one answers 404 for them). Never equal to (or overlapping) `listen`.
  std::optional<HostPort> listen;
};

struct ClientsConfig {
  /// Keys MCP/API clients present to the gateway. Empty: the gateway endpoints do not
  /// authenticate their callers (a warning says so when listening on a non-loopback host).
  std::vector<AccessKey> keys;
};

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

struct WebhookConfig {
  std::string url;  // its query may carry a credential: show maskedUrl()
  /// SECRET: a Standard Webhooks signing secret, "whsec_" + Base64 of 24..64 bytes.
  std::string secret;
  std::vector<WebhookEvent> events;  // defaults to all of them; no duplicates
  /// Extra request headers (name as written, value). Values are SECRET (often a token).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_bundle;  // PEM file trusted besides the system roots; empty: none

  /// The URL with its query (and fragment) replaced by kMask: what messages, the admin API
  /// and `config check` show.
  std::string maskedUrl() const;
};

/// How webhooks are delivered (the top-level `webhook_delivery` section).
struct WebhookDeliveryConfig {
  /// `reauthorize_soon` is sent when a refresh deadline is this close (once per deadline).
  milliseconds warn_before = std::chrono::hours(24 * 7);
  /// A message not delivered this long after it was queued is given up (ERROR log).
  milliseconds max_age = std::chrono::hours(24);
  milliseconds timeout = std::chrono::seconds(10);  // per attempt, connect included
  milliseconds backoff_initial = std::chrono::seconds(5);
  milliseconds backoff_max = std::chrono::minutes(10);  // >= backoff_initial
  /// How often the outbox is polled for due messages (and new ones are noticed).
  milliseconds poll_interval = std::chrono::seconds(1);
  /// How often refresh deadlines are scanned for `reauthorize_soon`.
  milliseconds deadline_scan_interval = std::chrono::minutes(10);
  int concurrency = 4;  // deliveries at once per process, 1..64
};

/// `inbound:` Tether as an OAuth resource server for its MCP/API callers (docs/identity.md).
/// Absent: callers are checked by client keys only, as before.
struct InboundConfig {
  bool enabled = false;  // the section is present
  std::string issuer;    // required; tokens' `iss` must equal it
  /// Empty: each connection's own resource URL (<public_url>/mcp/{name}, /api/{name}).
  std::string audience;
  std::string jwks_uri;  // empty: the `jwks_uri` of the issuer's metadata
  /// Accepted JWS algorithms (RS256, ES256, PS256, EdDSA); never none or HS*.
  std::vector<std::string> algorithms = {"RS256", "ES256", "PS256", "EdDSA"};
  milliseconds clock_skew = std::chrono::seconds(60);  // 0..10m
  std::vector<std::string> required_scopes;
  std::string subject_claim = "sub";
  std::string groups_claim;  // empty: groups are not read
  /// RFC 7662 introspection for opaque tokens; endpoint empty: opaque tokens are refused.
  struct Introspection {
    std::string endpoint;
    std::string client_id;
    std::string client_secret;  // SECRET
  } introspection;
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
