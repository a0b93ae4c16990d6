#pragma once
/// How a client Tether registered (RFC 7591, store::OAuthClient) is stored and used, shared
/// by the flow's start, its callback, `Flows::resolved` and the admin API's revocation on delete.

#include <string>

#include "oauth/client_config.h"
#include "store/store.h"

namespace tether::flows {

/// The token endpoint authentication a stored registration asks for: its RFC 7591 answer's
/// `token_endpoint_auth_method` (client_secret_basic, none, else client_secret_post); a
/// client without a secret or without a readable answer authenticates with none / post.
oauth::ClientAuthStyle registeredAuthStyle(const store::OAuthClient& client);

/// The key a registration is stored under: the issuer, or the token endpoint without one.
std::string clientKey(const std::string& issuer, const std::string& token_endpoint);

}  // namespace tether::flows
