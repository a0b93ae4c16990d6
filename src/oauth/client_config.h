#pragma once
/// A connection's OAuth client settings as the oauth module needs them. Plain data: the
/// config module fills it from YAML; nothing here reads files or the environment.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oauth/protocol.h"

namespace tether::oauth {

/// How the client authenticates at the token endpoint.
enum class ClientAuthStyle {
  /// HTTP Basic as RFC 6749 §2.3.1 says: id and secret form-urlencoded, then Base64. If
  /// the IdP answers invalid_client and the raw form differs, the raw form is tried once
  /// and whichever worked is remembered.
  kBasic,
  /// HTTP Basic with the raw id and secret (IdPs that do not decode).
  kBasicRaw,
  /// client_id and client_secret in the form body.
  kPost,
  /// Public client: client_id in the body, no secret.
  kNone,
};

/// "basic" | "basic_raw" | "post" | "none".
std::string_view clientAuthStyleName(ClientAuthStyle style);
std::optional<ClientAuthStyle> parseClientAuthStyle(std::string_view name);

/// Which HTTP Basic encoding of the credentials to send.
enum class BasicForm {
  kEncoded,  // RFC 6749 §2.3.1: Base64(urlencode(id) ":" urlencode(secret))
  kRaw,      // Base64(id ":" secret)
};

struct OAuthClientConfig {
  std::string authorization_url;  // for buildAuthorizationUrl (authorization_code grant)
  std::string token_url;
  std::string client_id;
  std::string client_secret;  // empty for public clients; a secret: never log
  ClientAuthStyle client_auth = ClientAuthStyle::kBasic;
  /// RFC 8707 resource indicator sent on every request; empty turns it off.
  std::string resource;
  /// Space-separated scopes, verbatim. Sent in the authorization URL and with
  /// client_credentials; with refresh only when send_scope_on_refresh (asking for scopes
  /// on refresh can turn a narrowed grant into invalid_scope).
  std::string scopes;
  bool send_scope_on_refresh = false;
  /// Extra authorization parameters (prompt, access_type, ...), passed through verbatim.
  std::vector<std::pair<std::string, std::string>> extra_params;
  /// PEM file trusted in addition to the system roots (private IdPs); empty: none.
  std::string ca_bundle;
  /// Access token lifetime assumed when the IdP says nothing and the token is no JWT.
  std::chrono::seconds default_token_lifetime = protocol::kDefaultAccessTokenLifetime;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{30'000};
  /// Honour HTTPS_PROXY / NO_PROXY for token endpoint calls.
  bool use_proxy = true;
};

}  // namespace tether::oauth
