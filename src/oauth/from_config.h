#pragma once
/// The OAuth client settings of a configured connection (auth.mode oauth): endpoints,
/// client, scopes, extra parameters, CA bundle and the assumed token lifetime.

#include "config/config.h"
#include "oauth/client_config.h"

namespace tether::oauth {

/// The token endpoint's client authentication for auth.client_auth.
ClientAuthStyle clientAuthFromConfig(config::ClientAuth auth);

/// The configured settings of `connection`, whose auth.oauth must be set. Endpoints and the
/// client id may be empty: the connect flow resolves them (discovery, registration). The
/// resource indicator is the upstream URL unless auth.resource_indicator is false.
OAuthClientConfig clientConfigFromConfig(const config::ConnectionConfig& connection);

}  // namespace tether::oauth
