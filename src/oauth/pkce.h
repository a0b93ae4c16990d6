#pragma once
/// PKCE (RFC 7636), S256 only: "plain" offers no protection against a leaked
/// authorization request and is never produced. Thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "oauth/protocol.h"

namespace tether::oauth {

struct PkcePair {
  std::string verifier;   // secret: store sealed, never log
  std::string challenge;  // BASE64URL(SHA256(verifier)), sent in the authorization URL
};

/// A fresh verifier of `length` characters (clamped to 43..128) drawn from the CSPRNG,
/// all in the unreserved alphabet [A-Za-z0-9-._~] (in fact base64url), and its challenge.
PkcePair generatePkce(size_t length = 64);

/// BASE64URL-ENCODE(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
std::string s256Challenge(std::string_view verifier);

/// True if `verifier` has 43..128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).
bool isValidVerifier(std::string_view verifier);

}  // namespace tether::oauth
