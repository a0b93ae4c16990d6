#pragma once
/// RFC 7591 dynamic client registration, wire side (no I/O): what Tether asks a server to
/// register, what it leaves out when a strict server refuses (`invalid_client_metadata`),
/// and the checks on the answer. Discovery::registerClient does the HTTP exchange.
///
/// A strict server (oidc-provider, the MCP conformance suite) refuses metadata it does not
/// support, so the request carries only what the server advertises: the scopes it lists in
/// `scopes_supported` (none when it lists none), a token endpoint auth method it supports.
///
/// Pure functions, thread-safe, bounded on hostile input.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/headers.h"
#include "oauth/metadata.h"

namespace tether::oauth {

/// The client metadata Tether registers (RFC 7591 §2, OpenID Connect Registration §2).
struct RegistrationRequest {
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types{"authorization_code", "refresh_token"};
  std::vector<std::string> response_types{"code"};
  std::string token_endpoint_auth_method = "none";
  // Optional members: dropped on a retry after invalid_client_metadata.
  std::string client_name = "Tether";
  std::string application_type;  // "web" | "native"; empty: not sent
  std::string scope;             // space-separated; empty: not sent
};

/// What a registration endpoint gave back.
struct RegisteredClient {
  std::string client_id;
  std::optional<std::string> client_secret;  // when the server issued one
  std::string response_json;                 // the whole answer (holds the registration token)
  /// Members left out on the retry after `invalid_client_metadata` (empty: none dropped).
  std::vector<std::string> dropped_fields;
};

/// OpenID Connect's application_type for a client whose redirect URI lives at `public_url`:
/// "native" when its host is loopback (127/8, ::1, localhost), "web" otherwise.
std::string applicationTypeFor(std::string_view public_url);

/// The space-separated scopes of `requested` that `supported` lists, in requested order
/// and without duplicates; empty when `supported` is empty (the server says nothing, so
/// nothing is claimed). At most 256 scopes of 256 bytes each are considered.
std::string supportedScopes(std::string_view requested, const std::vector<std::string>& supported);

/// The token endpoint auth method to register: "none" (a public client with PKCE) when the
/// server lists none or lists "none"; else "client_secret_basic", else
/// "client_secret_post" when listed; "none" otherwise.
std::string tokenEndpointAuthMethodFor(const AuthorizationServerMetadata& metadata);

/// The request for Tether at the server of `metadata`: `redirect_uri`, the application type
/// of `public_url`, `scopes` reduced to the server's scopes_supported, the auth method above.
RegistrationRequest registrationRequestFor(const AuthorizationServerMetadata& metadata,
                                           std::string_view redirect_uri,
                                           std::string_view public_url, std::string_view scopes);

/// The JSON body of `request` (empty optional members left out).
std::string registrationBody(const RegistrationRequest& request);

/// `request` without its optional members (client_name, application_type, scope);
/// `dropped` receives the names of those that were present.
RegistrationRequest withoutOptionalFields(const RegistrationRequest& request,
                                          std::vector<std::string>& dropped);

/// True when a refused registration may be retried without the optional members: HTTP 400
/// with error `invalid_client_metadata` (or `invalid_scope`, which some servers use).
bool refusedForMetadata(int status, const http::Headers& headers, std::string_view body);

/// Checks a registration endpoint's answer. `where` names the server in every error
/// (e.g. "https://idp.example/reg"). kUpstreamError when: the status is a redirect (never
/// followed), not 200/201 (with the server's sanitized error code), the answer is HTML or
/// not a JSON object, client_id is missing, not a string, empty, over 1 KiB or not printable
/// ASCII, or client_secret is not a string.
core::Result<RegisteredClient> parseRegistrationResponse(int status, const http::Headers& headers,
                                                         std::string body, std::string_view where);

/// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, the MCP
/// 2025-11-25 preferred registration): Tether publishes its metadata at
/// `<public_url>/oauth/client-metadata.json` and that URL is its client_id at servers that
/// advertise client_id_metadata_document_supported.
inline constexpr std::string_view kClientMetadataPath = "/oauth/client-metadata.json";

/// The document's URL (= the client_id): `configured` (Config::client_metadata_url, an https
/// URL where the operator publishes the document) when not empty, else
/// `<public_url>/oauth/client-metadata.json` (trailing slashes ignored), or empty when
/// `public_url` is not https: a server only fetches client metadata over https.
std::string clientMetadataUrl(std::string_view public_url, std::string_view configured = {});

/// The JSON document served at kClientMetadataPath: client_id (clientMetadataUrl of the same
/// arguments; for an http public_url the http URL, served but never used as a client_id),
/// client_name, client_uri, redirect_uris (public_url + "/oauth/callback"), grant_types,
/// response_types, token_endpoint_auth_method "none", application_type.
std::string clientMetadataDocument(std::string_view public_url, std::string_view configured = {});

}  // namespace tether::oauth
