#include "oauth/pkce.h"

#include <algorithm>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/random.h"

namespace tether::oauth {

PkcePair generatePkce(size_t length) {
  length = std::clamp(length, protocol::kMinVerifierLength, protocol::kMaxVerifierLength);
  // Base64url gives 6 random bits per character; draw enough bytes, then cut.
  std::string verifier = core::randomToken((length * 3 + 3) / 4);
  verifier.resize(length);
  PkcePair pair;
  pair.challenge = s256Challenge(verifier);
  pair.verifier = std::move(verifier);
  return pair;
}

std::string s256Challenge(std::string_view verifier) {
  return core::base64UrlEncode(core::sha256(verifier));
}

bool isValidVerifier(std::string_view verifier) {
  if (verifier.size() < protocol::kMinVerifierLength ||
      verifier.size() > protocol::kMaxVerifierLength) {
    return false;
  }
  return std::all_of(verifier.begin(), verifier.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

}  // namespace tether::oauth
