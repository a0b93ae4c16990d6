#pragma once
/// OAuth 2.x protocol constants in one place: RFC 6749 parameter names, grant types and
/// error codes, RFC 7636 (PKCE) and RFC 8707 (resource indicators) names, the HTTP header
/// names the token endpoint uses, and the limits Tether applies to what an IdP sends.

#include <chrono>
#include <cstddef>
#include <string_view>

namespace tether::oauth::protocol {

// --- RFC 6749 §4 / §6 request parameters -------------------------------------------------
inline constexpr std::string_view kGrantType = "grant_type";
inline constexpr std::string_view kCode = "code";
inline constexpr std::string_view kRedirectUri = "redirect_uri";
inline constexpr std::string_view kClientId = "client_id";
inline constexpr std::string_view kClientSecret = "client_secret";
inline constexpr std::string_view kRefreshToken = "refresh_token";
inline constexpr std::string_view kScope = "scope";
inline constexpr std::string_view kState = "state";
inline constexpr std::string_view kResponseType = "response_type";
inline constexpr std::string_view kResponseTypeCode = "code";
// RFC 7636
inline constexpr std::string_view kCodeVerifier = "code_verifier";
inline constexpr std::string_view kCodeChallenge = "code_challenge";
inline constexpr std::string_view kCodeChallengeMethod = "code_challenge_method";
inline constexpr std::string_view kCodeChallengeMethodS256 = "S256";
// RFC 8707
inline constexpr std::string_view kResource = "resource";
// RFC 7009 §2.1 (token revocation)
inline constexpr std::string_view kToken = "token";
inline constexpr std::string_view kTokenTypeHint = "token_type_hint";

// --- grant types -------------------------------------------------------------------------
inline constexpr std::string_view kGrantAuthorizationCode = "authorization_code";
inline constexpr std::string_view kGrantRefreshToken = "refresh_token";
inline constexpr std::string_view kGrantClientCredentials = "client_credentials";

// --- RFC 6749 §5.1 token response members ------------------------------------------------
inline constexpr std::string_view kAccessToken = "access_token";
inline constexpr std::string_view kTokenType = "token_type";
inline constexpr std::string_view kExpiresIn = "expires_in";
/// Not in RFC 6749; Keycloak and others disclose the refresh token's lifetime with it.
inline constexpr std::string_view kRefreshExpiresIn = "refresh_expires_in";
inline constexpr std::string_view kIdToken = "id_token";

// --- RFC 6749 §5.2 error response members and codes --------------------------------------
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kErrorDescription = "error_description";
inline constexpr std::string_view kErrorUri = "error_uri";

inline constexpr std::string_view kInvalidRequest = "invalid_request";
inline constexpr std::string_view kInvalidClient = "invalid_client";
inline constexpr std::string_view kInvalidGrant = "invalid_grant";
inline constexpr std::string_view kUnauthorizedClient = "unauthorized_client";
inline constexpr std::string_view kUnsupportedGrantType = "unsupported_grant_type";
inline constexpr std::string_view kInvalidScope = "invalid_scope";
// §4.1.2.1 (authorization endpoint) codes some token endpoints also send.
inline constexpr std::string_view kAccessDenied = "access_denied";
inline constexpr std::string_view kServerError = "server_error";
inline constexpr std::string_view kTemporarilyUnavailable = "temporarily_unavailable";
// RFC 6750 §3.1 (resource server) codes seen in token endpoint WWW-Authenticate headers.
inline constexpr std::string_view kInvalidToken = "invalid_token";

/// The structured codes that make a 400/401/403 answer terminal (DESIGN.md §3).
inline constexpr std::string_view kTerminalErrorCodes[] = {
    kInvalidGrant, kInvalidClient, kUnauthorizedClient, kUnsupportedGrantType, kInvalidScope};

// --- Tether's own classification codes (not sent by any IdP) -----------------------------
/// 2xx with an unparsable body, no access_token, or an `error` member.
inline constexpr std::string_view kMalformedResponse = "malformed_response";
/// The answer exceeded kMaxResponseBytes.
inline constexpr std::string_view kResponseTooLarge = "response_too_large";
/// No refresh token is held and the access token expired: a human must reconnect.
inline constexpr std::string_view kNoRefreshToken = "no_refresh_token";
/// The refresh token's deadline (IdP-disclosed or operator-configured) passed.
inline constexpr std::string_view kRefreshExpired = "refresh_expired";
/// Prefix of codes for answers without a structured code: "http_403", "http_302", ...
inline constexpr std::string_view kHttpStatusCodePrefix = "http_";
/// Prefix of codes for transport failures: "transport_timeout", "transport_dns", ...
inline constexpr std::string_view kTransportCodePrefix = "transport_";

// --- HTTP -------------------------------------------------------------------------------
inline constexpr std::string_view kHeaderAuthorization = "Authorization";
inline constexpr std::string_view kHeaderWwwAuthenticate = "WWW-Authenticate";
inline constexpr std::string_view kHeaderRetryAfter = "Retry-After";
inline constexpr std::string_view kHeaderContentType = "Content-Type";
inline constexpr std::string_view kHeaderAccept = "Accept";
inline constexpr std::string_view kHeaderLocation = "Location";
inline constexpr std::string_view kHeaderCacheControl = "Cache-Control";
inline constexpr std::string_view kHeaderConnection = "Connection";
inline constexpr std::string_view kMediaJson = "application/json";
inline constexpr std::string_view kMediaForm = "application/x-www-form-urlencoded";

// --- limits -----------------------------------------------------------------------------
/// Largest token endpoint answer accepted (the outbound client aborts past it).
inline constexpr size_t kMaxResponseBytes = 1 << 20;
/// Longest IdP-supplied string kept after sanitizing (cut on a UTF-8 boundary).
inline constexpr size_t kMaxSanitizedBytes = 200;
/// How much of an IdP string the sanitizer looks at; the rest is ignored unseen.
inline constexpr size_t kMaxSanitizerInputBytes = 64 * 1024;
/// Largest access or refresh token accepted (bigger ones would not fit request headers).
inline constexpr size_t kMaxTokenBytes = 64 * 1024;
/// Longest `scope` kept from a token response (cut at a scope boundary).
inline constexpr size_t kMaxScopeBytes = 4 * 1024;
/// Longest WWW-Authenticate header value parsed; Retry-After value likewise.
inline constexpr size_t kMaxWwwAuthenticateBytes = 8 * 1024;
inline constexpr size_t kMaxWwwAuthenticateChallenges = 32;
inline constexpr size_t kMaxWwwAuthenticateParams = 64;
inline constexpr size_t kMaxRetryAfterBytes = 64;
/// Retry-After values are capped so a hostile IdP cannot park a connection for days.
inline constexpr std::chrono::seconds kMaxRetryAfter{3600};
/// JSON nesting accepted in a token response.
inline constexpr size_t kMaxJsonDepth = 16;
/// Lifetimes above this are treated as absent (a typo or a hostile IdP, not a promise).
inline constexpr std::chrono::seconds kMaxLifetime{10LL * 365 * 24 * 3600};
/// Lifetime assumed when the IdP discloses none and the token is not a JWT with `exp`.
inline constexpr std::chrono::seconds kDefaultAccessTokenLifetime{3600};
/// RFC 7636 §4.1 bounds on the code verifier.
inline constexpr size_t kMinVerifierLength = 43;
inline constexpr size_t kMaxVerifierLength = 128;

}  // namespace tether::oauth::protocol
