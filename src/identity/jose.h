#pragma once
/// JOSE for inbound bearer tokens: the compact JWS form of a JWT (RFC 7515 §7.1, RFC 7519),
/// parsed defensively, and the claims Tether checks, as plain values.
///
/// Bounds (every byte is the caller's): the token at most kMaxTokenBytes before anything is
/// decoded; exactly three base64url parts (url alphabet, no padding, no white space); the
/// decoded header at most kMaxHeaderBytes and the claims at most kMaxClaimsBytes; JSON at
/// most 16 levels deep; string claims at most 1 KiB, `aud` at most 32 values, scopes and
/// groups at most 256 values each. Anything else is kUnauthenticated with a message naming
/// the part and the rule, never echoing the token or a claim value that could be secret.
///
/// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tether::identity {

inline constexpr size_t kMaxTokenBytes = 16 * 1024;
inline constexpr size_t kMaxHeaderBytes = 2 * 1024;
inline constexpr size_t kMaxClaimsBytes = 8 * 1024;

/// Which claims name the caller. `groups` empty: no groups are read.
struct ClaimNames {
  std::string subject = "sub";
  std::string groups;
};

/// The protected header members Tether reads. `crit` is refused (no extension is
/// understood), as RFC 7515 §4.1.11 requires.
struct JoseHeader {
  std::string alg;
  std::string kid;  // empty when absent
  std::string typ;
};

/// The claims Tether checks. Times are seconds since the epoch; absent ones are nullopt.
struct TokenClaims {
  std::string iss;
  std::vector<std::string> aud;  // a string `aud` becomes one value
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;
  /// From `scope` (space-separated string) and `scp` (array of strings, or a string).
  std::vector<std::string> scopes;
  /// The value of ClaimNames::subject (a string; a number is taken as its decimal text).
  std::string subject;
  /// The values of ClaimNames::groups (an array of strings, or one string).
  std::vector<std::string> groups;
  std::string client_id;  // `client_id` or `azp`, when present
};

/// A parsed compact JWS. `signing_input` views the token passed to parseJws.
struct ParsedJws {
  JoseHeader header;
  TokenClaims claims;
  std::string_view signing_input;  // "<header>.<payload>" as received
  std::string signature;           // decoded bytes
};

/// Parses a compact JWS JWT. Does not verify anything but its form: the signature, the
/// algorithm and the claims' values are the validator's. kUnauthenticated on any defect.
core::Result<ParsedJws> parseJws(std::string_view token, const ClaimNames& names);

/// The claims of a JSON object (a JWT payload or an RFC 7662 introspection answer) under
/// the same bounds. kUnauthenticated naming the claim that is malformed.
core::Result<TokenClaims> parseClaims(std::string_view json, const ClaimNames& names);

/// Decodes base64url without padding (RFC 7515 §2), refusing the standard alphabet,
/// padding and white space. nullopt on any other byte.
std::optional<std::string> decodeBase64Url(std::string_view text);

/// True when `token` has the shape of a compact JWS (two dots) rather than an opaque token.
bool looksLikeJws(std::string_view token);

}  // namespace tether::identity
