#pragma once
/// Parsing of a successful token endpoint answer (RFC 6749 §5.1). Bounded and defensive:
/// an IdP's bytes never make it assert. Thread-safe (pure functions).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "oauth/protocol.h"

namespace tether::oauth {

/// Where the access token's expiry came from.
enum class ExpirySource {
  kExpiresIn,  // the IdP's expires_in
  kJwtExp,     // the access token is a JWT and its `exp` claim was used
  kDefault,    // neither: the configured default lifetime
};

/// The tokens of a successful answer. Holds secrets: never log it.
struct TokenSet {
  std::string access_token;  // printable ASCII, at most protocol::kMaxTokenBytes
  /// Sanitized `token_type` as sent ("Bearer" when the IdP omitted it).
  std::string token_type;
  core::TimePoint access_expires_at;
  ExpirySource access_expiry_source = ExpirySource::kDefault;
  /// The new refresh token, or the previous one when the answer carried none (may be empty).
  std::string refresh_token;
  /// True when the answer carried a refresh token different from the previous one.
  bool refresh_token_rotated = false;
  /// Deadline from `refresh_expires_in` when the IdP disclosed one (0 means "none").
  std::optional<core::TimePoint> refresh_expires_at;
  /// Granted scope: RFC 6749 §3.3 characters only, at most protocol::kMaxScopeBytes (cut
  /// between scope tokens). Empty when the IdP did not say. Not passed through the
  /// sanitizer because URL-shaped scopes are legitimate; display code must sanitize it.
  std::string scope;
  /// The OpenID Connect ID token when the answer carried an acceptable one (bounded like
  /// the other tokens). Not verified: its claims may be shown, never trusted, and the token
  /// itself is never stored, logged or shown.
  std::string id_token;
};

struct TokenParseOptions {
  core::TimePoint now;
  /// Lifetime used when there is neither expires_in nor a JWT `exp` in the future.
  std::chrono::seconds default_lifetime = protocol::kDefaultAccessTokenLifetime;
  /// The refresh token the request used (refresh grant): kept when none is returned.
  std::string_view previous_refresh_token;
};

/// Why a 2xx body was not a usable token response.
enum class TokenParseFailure {
  kTooLarge,       // over protocol::kMaxResponseBytes
  kUnparsable,     // neither a JSON object nor (when labelled so) a form body
  kErrorMember,    // an `error` member in a 2xx answer
  kNoAccessToken,  // no (string) access_token
  kBadToken,       // a token with forbidden bytes or too long
};

struct TokenParseError {
  TokenParseFailure failure = TokenParseFailure::kUnparsable;
  /// Sanitized `error` member when failure is kErrorMember.
  std::string idp_error;
};

/// Either tokens or why not. Small and move-only in practice.
struct TokenParseResult {
  std::optional<TokenSet> tokens;
  TokenParseError error;
  bool ok() const { return tokens.has_value(); }
};

/// Parses the body of a 2xx token endpoint answer. JSON is expected (whatever the
/// Content-Type says); a body labelled application/x-www-form-urlencoded is parsed as a
/// form (GitHub-style). Missing expires_in falls back to the JWT `exp` claim, then to
/// `options.default_lifetime`; out-of-range lifetimes count as missing.
TokenParseResult parseTokenResponse(std::string_view body, std::string_view content_type,
                                    const TokenParseOptions& options);

/// The `exp` claim of a JWT (not verified: only used to schedule refreshes), if `token`
/// looks like one and the claim is a sane number.
std::optional<core::TimePoint> jwtExpiry(std::string_view token);

/// True for a token Tether can put in a header: 1..kMaxTokenBytes of %x20-7E.
bool isAcceptableToken(std::string_view token);

}  // namespace tether::oauth
