#pragma once
/// RFC 6749 §5.2 error parsing from wherever IdPs put it: a JSON body, a form-encoded
/// body, or the `error` parameter of a WWW-Authenticate challenge. Thread-safe (pure).

#include <optional>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace tether::oauth {

enum class ErrorSource { kJsonBody, kFormBody, kWwwAuthenticate };

struct OAuthError {
  /// The code sanitized (sanitizeIdpString): safe to store and show. Never empty.
  std::string code;
  /// True when the code as sent (ASCII whitespace trimmed) is exactly one of
  /// protocol::kTerminalErrorCodes.
  bool terminal_code = false;
  ErrorSource source = ErrorSource::kJsonBody;
};

/// The structured error of an answer, looked for in the JSON body (any Content-Type, if
/// the body is a JSON object), then a form body (labelled as such, or unlabelled/plain
/// text that looks like one), then every WWW-Authenticate header. `error_description`
/// and `error_uri` are deliberately ignored. nullopt when no non-empty string code exists.
std::optional<OAuthError> parseErrorResponse(const http::Headers& headers, std::string_view body);

/// True if `code` (trimmed of ASCII whitespace) is one of protocol::kTerminalErrorCodes.
bool isTerminalErrorCode(std::string_view code);

/// The media type of a Content-Type value, lower-cased, parameters dropped.
std::string mediaType(std::string_view content_type);

/// First value of header `name` (case-insensitive) in `headers`.
std::optional<std::string_view> headerValue(const http::Headers& headers, std::string_view name);

}  // namespace tether::oauth
