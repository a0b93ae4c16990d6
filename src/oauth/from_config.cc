#include "oauth/from_config.h"

#include <chrono>

namespace tether::oauth {

ClientAuthStyle clientAuthFromConfig(config::ClientAuth auth) {
  switch (auth) {
    case config::ClientAuth::kBasic:
      return ClientAuthStyle::kBasic;
    case config::ClientAuth::kBasicRaw:
      return ClientAuthStyle::kBasicRaw;
    case config::ClientAuth::kPost:
      return ClientAuthStyle::kPost;
    case config::ClientAuth::kNone:
      return ClientAuthStyle::kNone;
  }
  return ClientAuthStyle::kNone;
}

OAuthClientConfig clientConfigFromConfig(const config::ConnectionConfig& connection) {
  const auto& o = *connection.auth.oauth;
  OAuthClientConfig s;
  s.authorization_url = o.authorization_url;
  s.token_url = o.token_url;
  s.client_id = o.client_id.value_or("");
  s.client_secret = o.client_secret.value_or("");
  s.client_auth = clientAuthFromConfig(o.client_auth);
  s.resource = o.resource_indicator ? connection.url : "";
  s.scopes = o.scopes;
  s.extra_params = o.extra_params;
  s.ca_bundle = o.ca_bundle;
  s.default_token_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(o.default_token_lifetime);
  return s;
}

}  // namespace tether::oauth
