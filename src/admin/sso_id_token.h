#pragma once
/// Portal single sign-on: checking the OpenID Connect ID token the IdP's token endpoint
/// returned (OpenID Connect Core §3.1.3.7). The signature is verified against the issuer's
/// JWKS (RS256 only: what every OIDC provider must support), then `iss` (exact), `aud`
/// (must hold the client id; `azp` must be it when there are several), `exp` and `iat`
/// (with a clock skew), and `nonce` (constant time). Each failure is kUnauthenticated with
/// a sentence naming the check that failed; the token itself never appears in a message.
/// Pure functions: thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace tether::admin {

/// Largest ID token accepted (compact JWS).
inline constexpr size_t kMaxIdTokenBytes = 16 * 1024;

/// One RSA signing key of a JWKS document.
struct Jwk {
  std::string kid;
  std::string n;  // modulus, big-endian bytes
  std::string e;  // exponent, big-endian bytes
};

/// The RSA keys of a JWKS document (other key types and `use: enc` keys are skipped).
/// kInvalidArgument when the document is not a JWKS.
core::Result<std::vector<Jwk>> parseJwks(std::string_view body);

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

/// The kid in the token's header ("" when absent), to pick the key; kUnauthenticated when
/// the header does not parse.
core::Result<std::string> idTokenKeyId(std::string_view jwt);

/// The token's claims when its RS256 signature verifies with `key` and every check of
/// `check` holds.
core::Result<IdTokenClaims> verifyIdToken(std::string_view jwt, const Jwk& key,
                                          const IdTokenCheck& check);

/// Only the claims checks (no signature): the part unit tests drive with crafted payloads.
core::Result<IdTokenClaims> checkIdTokenClaims(std::string_view payload_json,
                                               const IdTokenCheck& check);

}  // namespace tether::admin
