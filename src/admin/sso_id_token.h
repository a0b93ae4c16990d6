#pragma once
/// Portal single sign-on: checking the OpenID Connect ID token the IdP's token endpoint
/// returned (OpenID Connect Core §3.1.3.7). The signature is verified against the issuer's
/// JWK Set with identity/ (RS256, PS256, ES256 or EdDSA; never none or HS*), then `iss` (exact),
/// `aud` (must hold the client id; `azp` must be it when there are several), `exp` and `iat` (with
/// a clock skew), and `nonce` (constant time). Each failure is kUnauthenticated with a sentence
/// naming the check that failed; the token itself never appears in a message. Pure functions:
/// thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "identity/jwk.h"

namespace tether::admin {

/// Largest ID token accepted (compact JWS).
inline constexpr size_t kMaxIdTokenBytes = 16 * 1024;

struct IdTokenCheck {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  std::string groups_claim = "groups";
  core::TimePoint now;
  core::Duration skew = std::chrono::seconds(60);
};

struct IdTokenClaims {
  std::string subject;
  std::string name;  // name, else email, else preferred_username; may be empty
  std::vector<std::string> groups;
};

/// The token's claims when its signature verifies with one of `keys` (the header's kid, or
/// every key fitting its algorithm when it names none) and every check of `check` holds.
/// kNotFound when no key of `keys` can check it (the caller refetches the JWK Set once);
/// kUnauthenticated naming the check that failed otherwise.
core::Result<IdTokenClaims> verifyIdToken(std::string_view jwt, const identity::JwkSet& keys,
                                          const IdTokenCheck& check);

/// Only the claims checks (no signature): the part unit tests drive with crafted payloads.
core::Result<IdTokenClaims> checkIdTokenClaims(std::string_view payload_json,
                                               const IdTokenCheck& check);

}  // namespace tether::admin
