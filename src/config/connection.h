#pragma once
/// The typed form of one `connections` entry of the config file: its kind, upstream and
/// auth (none, bearer, api_key or OAuth with its IdP settings). Part of config/config.h.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::config {

using std::chrono::milliseconds;

enum class ConnectionKind { kMcp, kApi };
enum class AuthMode { kNone, kBearer, kApiKey, kOAuth };
enum class Grant { kAuthorizationCode, kClientCredentials };
/// How the client authenticates at the token endpoint. kBasic is RFC 6749 §2.3.1 (id and
/// secret form-urlencoded before Base64); kBasicRaw skips that encoding, as some IdPs expect.
enum class ClientAuth { kBasic, kBasicRaw, kPost, kNone };

/// The names used in the config file (and in URLs, logs and the admin API).
std::string_view kindName(ConnectionKind kind);    // "mcp" | "api"
std::string_view authModeName(AuthMode mode);      // "none" | "bearer" | "api_key" | "oauth"
std::string_view grantName(Grant grant);           // "authorization_code" | ...
std::string_view clientAuthName(ClientAuth auth);  // "basic" | "basic_raw" | "post" | "none"

/// Inverse of kindName; nullopt for anything else (case-sensitive).
std::optional<ConnectionKind> parseConnectionKind(std::string_view text);

struct OAuthConfig {
  Grant grant = Grant::kAuthorizationCode;
  std::string issuer;                          // empty when not set
  std::string authorization_url;               // empty when not set (then from discovery)
  std::string token_url;                       // empty when not set (then from discovery)
  std::optional<std::string> client_id;        // nullopt: dynamic registration
  std::optional<std::string> client_secret;    // nullopt: public client. SECRET.
  ClientAuth client_auth = ClientAuth::kNone;  // effective: basic if a secret, else none
  std::string scopes;                          // verbatim, may be empty
  /// Extra authorization parameters, in file order, passed verbatim.
  std::vector<std::pair<std::string, std::string>> extra_params;
  bool resource_indicator = true;  // RFC 8707
  std::optional<milliseconds> refresh_max_lifetime;
  /// Effective value: the connection's own, else keeper.default_token_lifetime.
  milliseconds default_token_lifetime = std::chrono::hours(1);
  std::string ca_bundle;  // empty: system roots only
};

struct AuthConfig {
  AuthMode mode = AuthMode::kNone;
  std::string bearer_token;                  // mode bearer. SECRET.
  std::string api_key_header = "X-Api-Key";  // mode api_key
  std::string api_key;                       // mode api_key. SECRET.
  std::optional<OAuthConfig> oauth;          // set iff mode oauth
};

struct ConnectionConfig {
  ConnectionKind kind = ConnectionKind::kMcp;
  std::string name;  // [a-z0-9][a-z0-9_-]{0,62}, unique per kind
  std::string url;
  std::optional<milliseconds> timeout;  // upstream deadline; nullopt: the gateway's default
  /// Relay the upstream's Set-Cookie headers to the caller (default: dropped, so an
  /// upstream cannot set cookies on the portal's origin).
  bool forward_set_cookie = false;
  AuthConfig auth;
  int source_line = 0;  // line of the entry in the file, for operator messages
  /// Where the connection is defined: the config file (declared, read-only through the
  /// admin API) or the store (made through the admin API).
  enum class Source { kConfig, kApi };
  Source source = Source::kConfig;
};

/// "config" | "api".
inline std::string_view sourceName(ConnectionConfig::Source source) {
  return source == ConnectionConfig::Source::kApi ? "api" : "config";
}

/// The host of an absolute URL as written (percent-decoded), or "" when it does not parse.
std::string urlHost(std::string_view url);
/// The IdP host an OAuth connection talks to: token_url's, else the issuer's ("" when
/// neither is configured: discovery finds it).
std::string idpHost(const OAuthConfig& oauth);

}  // namespace tether::config
