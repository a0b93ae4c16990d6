#pragma once
/// Byte encodings used across modules: Base64 (RFC 4648 §4), Base64url without padding
/// (§5, as JWTs and PKCE use), hex, and application/x-www-form-urlencoded components.

#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::core {

std::string base64Encode(std::string_view bytes);
std::string base64UrlEncode(std::string_view bytes);  // no padding
/// Accepts standard or url alphabet, padded or not. kInvalidArgument on bad input.
Result<std::string> base64Decode(std::string_view text);

std::string hexEncode(std::string_view bytes);
Result<std::string> hexDecode(std::string_view text);

/// Form-urlencodes one component: unreserved characters kept, space as '+', others %XX.
std::string formUrlEncode(std::string_view s);
/// Percent-encodes (RFC 3986 unreserved kept, space as %20).
std::string percentEncode(std::string_view s);
/// Decodes %XX and '+' (as space). kInvalidArgument on a malformed escape.
Result<std::string> formUrlDecode(std::string_view s);

/// Case-insensitive ASCII comparison (header names, schemes). Inline: header policies call
/// it for every header of every proxied message.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;  // header names mostly match in case too
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}
std::string toLower(std::string_view s);

}  // namespace tether::core
