#pragma once
/// Cryptographically secure randomness (OpenSSL's CSPRNG). Thread-safe.

#include <string>

namespace tether::core {

/// `n` random bytes. Aborts if the CSPRNG fails (an impossible state for a healthy OS).
std::string randomBytes(size_t n);

/// `n` random bytes as unpadded Base64url: for states, ids and PKCE verifiers.
std::string randomToken(size_t n);

/// A correlation id: 16 random bytes from the CSPRNG, hex (32 characters).
std::string newId();

/// A request id: 32 hex characters, unique and cheap (a per-thread random prefix and a
/// counter). Not a secret and not unpredictable: use `newId` or `randomToken` for those.
std::string newRequestId();

}  // namespace tether::core
