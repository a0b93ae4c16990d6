#pragma once
/// Cryptographically secure randomness (OpenSSL's CSPRNG). Thread-safe.

#include <string>

namespace tether::core {

/// `n` random bytes. Aborts if the CSPRNG fails (an impossible state for a healthy OS).
std::string randomBytes(size_t n);

/// `n` random bytes as unpadded Base64url: for states, ids and PKCE verifiers.
std::string randomToken(size_t n);

/// A request or correlation id: 16 random bytes, hex (32 characters).
std::string newId();

}  // namespace tether::core
