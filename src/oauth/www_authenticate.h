#pragma once
/// WWW-Authenticate (RFC 9110 §11.6.1) parsing: several challenges in one value,
/// auth-params with token or quoted-string values (commas and escaped quotes inside
/// quotes), token68 credentials. Bounded, never asserts on its input. Thread-safe (pure).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/headers.h"

namespace tether::oauth {

struct AuthChallenge {
  std::string scheme;   // as sent, e.g. "Bearer"
  std::string token68;  // e.g. the blob after "Negotiate"; empty when params are used
  /// Parameters in order; names as sent (compare case-insensitively), values unquoted.
  std::vector<std::pair<std::string, std::string>> params;

  /// First value of parameter `name` (case-insensitive).
  std::optional<std::string_view> param(std::string_view name) const;
};

/// Parses one header value into its challenges. Input past
/// protocol::kMaxWwwAuthenticateBytes is ignored, as are challenges and parameters past
/// their limits. Garbage between challenges is skipped.
std::vector<AuthChallenge> parseWwwAuthenticate(std::string_view value);

/// The raw (unsanitized) `error` parameter of the first challenge that has one, across
/// every WWW-Authenticate header in `headers`; nullopt when none carries one.
std::optional<std::string> wwwAuthenticateError(const http::Headers& headers);

/// What an RFC 6750 §3.1 `error="insufficient_scope"` Bearer challenge asks for (the MCP
/// step-up authorization flow).
struct InsufficientScope {
  /// The challenge's `scope` tokens (oauth/scopes.h bounds), in order; empty when it named
  /// none or the list was refused.
  std::vector<std::string> scopes;
  /// Non-empty when the scope parameter was refused whole, and why (past the scope bounds,
  /// or its header value was longer than protocol::kMaxWwwAuthenticateBytes and so could
  /// only be read cut). Never echoes the input.
  std::string refused;
};

/// The first Bearer challenge with error="insufficient_scope" across every WWW-Authenticate
/// header in `headers`; nullopt when there is none.
std::optional<InsufficientScope> insufficientScopeChallenge(const http::Headers& headers);

}  // namespace tether::oauth
