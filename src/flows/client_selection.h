#pragma once
/// Which OAuth client a connect flow uses at an authorization server, in this order:
///
/// 1. the configured `auth.client_id` (never registered, never replaced);
/// 2. a Client ID Metadata Document: when the server advertises
///    `client_id_metadata_document_supported` and `public_url` is https, the client_id is
///    `<public_url>/oauth/client-metadata.json` (served by admin/client_metadata_route);
/// 3. the client registered earlier at this issuer (RFC 7591, stored sealed, keyed by the
///    issuer), unless the server rejected it (`invalid_client`) or it was registered for
///    another redirect URI;
/// 4. a new RFC 7591 registration with only what the server supports (see
///    oauth/registration.h), stored for every later flow;
/// 5. otherwise an error saying what the operator must configure.
///
/// Every client Tether registers or adopts (2 and 4) is recorded as `client_registered`.
/// Nothing is stored when a registration fails.
///
/// Thread-safety: blocks on the store and the server; callers serialise per connection.

#include <string>

#include "core/result.h"
#include "events/recorder.h"
#include "flows/flows.h"
#include "http/http_client.h"
#include "oauth/metadata.h"
#include "store/store.h"

namespace tether::flows {

/// How the client was chosen (also the `reason` of a client_registered event's source).
enum class ClientSource { kConfigured, kMetadataDocument, kStored, kRegistered };

struct ChosenClient {
  std::string client_id;
  ClientSource source = ClientSource::kConfigured;
};

/// What choosing a client needs from the flows.
struct ClientSelectionDeps {
  store::Store& store;
  http::HttpClient& http;
  events::Recorder& recorder;
  const FlowOptions& options;  // public_url (without trailing slash), discovery settings
  const std::string& redirect_uri;
};

/// One choice for `conn` at the server described by `metadata`. `client_key` is the key
/// the client is stored under (the issuer, or the token endpoint when there is none);
/// `scopes` the scopes the flow asks for (reduced to the server's scopes_supported in a
/// registration). Errors: kInvalidArgument when no client can be had (names the
/// connection, the server and what to configure), kUpstreamError / kUnavailable from a
/// registration (naming the registration endpoint), store errors.
core::Result<ChosenClient> chooseClient(const ClientSelectionDeps& deps, const FlowConnection& conn,
                                        const oauth::AuthorizationServerMetadata& metadata,
                                        const std::string& client_key, const std::string& scopes,
                                        const std::string& correlation, const std::string& actor);

/// True when a stored registration (its RFC 7591 answer) lists `redirect_uri`; a stored
/// client without a readable answer counts as listing it.
bool registeredFor(const store::OAuthClient& client, const std::string& redirect_uri);

/// offline_access (Tether's job is to keep connections alive): when the operator set no
/// scopes (`conn.oauth.scopes` empty) and the server lists `offline_access` in
/// scopes_supported, appends it to `scopes` (unless present). Returns true when `scopes`
/// asks for offline_access after the call. A refresh token is still never assumed.
bool askOfflineAccess(const FlowConnection& conn,
                      const oauth::AuthorizationServerMetadata& metadata, std::string& scopes);

/// OpenID Connect Core §11: offline_access needs `prompt=consent` at an OpenID provider
/// (scopes_supported lists `openid`), or the provider drops it. Adds prompt=consent to
/// `extra_params` unless a prompt is configured there already.
void addConsentPrompt(const oauth::AuthorizationServerMetadata& metadata,
                      std::vector<std::pair<std::string, std::string>>& extra_params);

}  // namespace tether::flows
