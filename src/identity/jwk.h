#pragma once
/// Public keys of the inbound issuer (RFC 7517 JWK Sets) and JWS signature verification
/// with OpenSSL 3 (RFC 7518): RS256, PS256, ES256 and EdDSA (Ed25519). `none` and the HMAC
/// algorithms are never accepted: a verifier that took `HS256` with a public key as the
/// secret would accept tokens anyone can make.
///
/// A JWK Set is bounded (at most kMaxKeys keys, each RSA modulus 2048..8192 bits); keys of
/// other types, curves or uses (`use` other than `sig`) are skipped, not errors, so an
/// issuer may publish encryption keys alongside. A key whose own `alg` is set is used only
/// with that algorithm.
///
/// Thread-safety: a parsed JwkSet is immutable and may be shared between threads.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tether::identity {

inline constexpr size_t kMaxKeys = 64;
inline constexpr size_t kMaxJwksBytes = 256 * 1024;

enum class Alg { kRS256, kPS256, kES256, kEdDSA };

/// The algorithm a JWS header names, or nullopt for one Tether never accepts (none, HS*,
/// anything unknown).
std::optional<Alg> algFromName(std::string_view name);
std::string_view algName(Alg alg);

/// One usable public key. Opaque: the OpenSSL key stays in jwk.cc.
class PublicJwk {
 public:
  struct Impl;
  explicit PublicJwk(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const std::string& kid() const;
  /// Whether this key can check a signature made with `alg` (key type, curve, own `alg`).
  bool fits(Alg alg) const;
  /// True when `signature` is a valid `alg` signature of `signing_input` by this key.
  bool verify(Alg alg, std::string_view signing_input, std::string_view signature) const;

 private:
  std::shared_ptr<const Impl> impl_;
};

class JwkSet {
 public:
  /// Parses a JWK Set document. kInvalidArgument when it is not one (not JSON, no `keys`
  /// array, larger than kMaxJwksBytes, more than kMaxKeys keys) or holds no usable key.
  static core::Result<JwkSet> parse(std::string_view json);

  /// The keys that may check an `alg` token with this `kid` (a token without kid: every
  /// key that fits the algorithm).
  std::vector<const PublicJwk*> candidates(std::string_view kid, Alg alg) const;
  bool hasKid(std::string_view kid) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<PublicJwk> keys_;
};

}  // namespace tether::identity
