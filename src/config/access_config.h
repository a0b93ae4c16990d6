#pragma once
/// Who may call Tether: the `admin` (keys, portal SSO, its own listener), `clients` and
/// `inbound` (OAuth resource server) sections of the configuration (see config/config.h).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/server_config.h"

namespace tether::config {

using std::chrono::milliseconds;

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

}  // namespace tether::config
