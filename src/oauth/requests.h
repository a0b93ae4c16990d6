#pragma once
/// Building OAuth requests: the authorization URL (authorization_code + PKCE) and the
/// token endpoint requests of the three grants, with client authentication. Pure
/// functions, thread-safe. Nothing here sends anything.

#include <string>
#include <string_view>

#include "core/result.h"
#include "http/http_client.h"
#include "oauth/client_config.h"
#include "oauth/form.h"

namespace tether::oauth {

/// `Basic <base64>` for the client credentials in the given form.
std::string basicAuthorization(std::string_view client_id, std::string_view client_secret,
                               BasicForm form);

/// True when the RFC 6749 §2.3.1 form and the raw form of the credentials differ (a
/// secret with `+`, `/`, `%`, `=`, ...), i.e. when a fallback to the other form can help.
bool basicFormsDiffer(std::string_view client_id, std::string_view client_secret);

/// The grant-specific form parameters (grant_type and the grant's own members, plus
/// resource and, where configured, scope). Client authentication is added by
/// buildTokenRequest.
FormPairs authorizationCodeGrant(const OAuthClientConfig& config, std::string_view code,
                                 std::string_view code_verifier, std::string_view redirect_uri);
FormPairs refreshTokenGrant(const OAuthClientConfig& config, std::string_view refresh_token);
FormPairs clientCredentialsGrant(const OAuthClientConfig& config);

/// A POST to config.token_url carrying `grant` and the client authentication of
/// config.client_auth (`basic_form` chooses the Basic encoding for kBasic; kBasicRaw
/// always uses kRaw). Redirects are not followed, answers over 1 MiB are refused, the CA
/// bundle, timeouts and proxy use come from the config. Accept: application/json and
/// Connection: close (a token request must never be silently replayed on a reused
/// connection).
http::ClientRequest buildTokenRequest(const OAuthClientConfig& config, FormPairs grant,
                                      BasicForm basic_form = BasicForm::kEncoded);

/// What changes per authorization attempt.
struct AuthorizationRequest {
  std::string redirect_uri;
  std::string state;           // single-use, unguessable (core::randomToken)
  std::string code_challenge;  // PkcePair::challenge
};

/// config.authorization_url plus response_type=code, client_id, redirect_uri, scope (if
/// any), state, code_challenge, code_challenge_method=S256, resource (unless off) and the
/// extra parameters, each percent-encoded. An existing query in the URL is kept.
/// kInvalidArgument when the URL is empty or has a fragment, a required value is empty, or
/// an extra parameter would override one of the above.
core::Result<std::string> buildAuthorizationUrl(const OAuthClientConfig& config,
                                                const AuthorizationRequest& request);

}  // namespace tether::oauth
