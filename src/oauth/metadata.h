#pragma once
/// Discovery documents (wire side, no I/O): RFC 9728 protected-resource metadata, RFC 8414
/// / OpenID Connect authorization-server metadata, the well-known URLs each is fetched
/// from, and the checks the MCP authorization spec asks for (issuer identity, S256).
/// Pure functions, thread-safe, bounded on hostile input (also fuzzed).

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tether::oauth {

/// RFC 9728 §2 (the members Tether uses).
struct ProtectedResourceMetadata {
  std::string resource;
  std::vector<std::string> authorization_servers;
  std::vector<std::string> scopes_supported;
};

/// RFC 8414 §2 / OIDC Discovery §3 (the members Tether uses).
struct AuthorizationServerMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string registration_endpoint;  // empty: no dynamic registration
  /// RFC 7009 (RFC 8414 §2); empty: none. Not checked by Discovery (a refused one must not
  /// fail a connect): revokeRefreshToken checks it before the call.
  std::string revocation_endpoint;
  std::vector<std::string> code_challenge_methods_supported;
  std::vector<std::string> scopes_supported;
  std::vector<std::string> token_endpoint_auth_methods_supported;
  bool iss_parameter_supported = false;  // RFC 9207 authorization_response_iss_parameter_supported
  /// draft-ietf-oauth-client-id-metadata-document: the server accepts an https URL as
  /// client_id and fetches the client's metadata from it.
  bool client_id_metadata_document_supported = false;
};

/// Parses a protected-resource metadata document. kInvalidArgument naming the member when
/// the body is not a JSON object, `resource` is missing or not a string, or a listed
/// member is not an array of strings. Unknown members are ignored.
core::Result<ProtectedResourceMetadata> parseProtectedResourceMetadata(std::string_view body);

/// Parses an authorization-server metadata document and checks it against the issuer it
/// was fetched for: `issuer` must equal `expected_issuer` (a single trailing slash aside),
/// `authorization_endpoint` and `token_endpoint` must be present. kInvalidArgument naming
/// the member otherwise.
core::Result<AuthorizationServerMetadata> parseAuthorizationServerMetadata(
    std::string_view body, std::string_view expected_issuer);

/// kInvalidArgument unless the server lists S256 in code_challenge_methods_supported (an
/// absent list counts as "no PKCE": the MCP authorization spec requires refusing then).
core::Status requireS256(const AuthorizationServerMetadata& metadata);

/// Where RFC 9728 protected-resource metadata may live for `resource_url`, in the order
/// to try: the path form (/.well-known/oauth-protected-resource/<path>), then the root
/// (/.well-known/oauth-protected-resource). One entry when the URL has no path. Empty
/// when the URL does not parse.
std::vector<std::string> protectedResourceMetadataUrls(std::string_view resource_url);

/// Where authorization-server metadata may live for `issuer`, in the order the MCP
/// authorization spec gives: RFC 8414 path-insert, OIDC path-insert, OIDC path-append
/// (for an issuer without a path: RFC 8414 then OIDC at the root). Empty when the issuer
/// does not parse or has a query or fragment.
std::vector<std::string> authorizationServerMetadataUrls(std::string_view issuer);

/// True when `resource` (from protected-resource metadata) names `url` or a prefix of it
/// on a path-segment boundary, with the same scheme, host and port (RFC 9728 §3.3, with
/// the MCP spec's canonical-URI leeway).
bool resourceCovers(std::string_view resource, std::string_view url);

}  // namespace tether::oauth
