#pragma once
/// RS256 JWT signing for the mock IdP's access tokens, and the matching JWKS, so that an
/// upstream under test can validate what the mock issues. Thread-safe after construction.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::mockidp {

class JwtSigner {
 public:
  /// Generates a fresh 2048-bit RSA key. kCrypto if OpenSSL fails.
  static core::Result<std::unique_ptr<JwtSigner>> generate();
  ~JwtSigner();
  JwtSigner(const JwtSigner&) = delete;
  JwtSigner& operator=(const JwtSigner&) = delete;

  /// `base64url(header).base64url(claims_json).base64url(RS256 signature)`; the header
  /// carries alg RS256, typ JWT and the key id.
  std::string sign(std::string_view claims_json) const;
  /// Verifies a token this signer issued; the claims JSON when the signature holds.
  std::optional<std::string> verify(std::string_view token) const;
  /// `{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":...,"n":...,"e":...}]}`.
  std::string jwksJson() const;
  const std::string& keyId() const { return kid_; }

 private:
  struct Key;
  explicit JwtSigner(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
  std::string kid_;
  std::string jwks_;
};

}  // namespace tether::mockidp
