// Fuzzes the JOSE parser of inbound bearer tokens and the JWK Set parser with signature
// verification: input split at the first NUL into a token and a JWK Set document. The
// parsers must refuse or accept without crashing, and what they accept must hold their
// bounds.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "identity/jose.h"
#include "identity/jwk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  const std::string_view token = in.substr(0, nul);
  const std::string_view jwks = nul == std::string_view::npos ? "" : in.substr(nul + 1);
  identity::ClaimNames names;
  names.groups = "groups";
  auto jws = identity::parseJws(token, names);
  if (jws.ok()) {
    fuzz::check(token.size() <= identity::kMaxTokenBytes);
    fuzz::check(!jws->header.alg.empty());
    fuzz::check(jws->claims.aud.size() <= 32 && jws->claims.scopes.size() <= 512);
    fuzz::check(jws->signing_input.size() < token.size());
  }
  (void)identity::parseClaims(token, names);
  (void)identity::decodeBase64Url(token);
  if (jwks.empty()) return 0;
  auto set = identity::JwkSet::parse(jwks);
  if (!set.ok()) return 0;
  fuzz::check(set->size() >= 1 && set->size() <= identity::kMaxKeys);
  if (!jws.ok()) return 0;
  for (auto alg : {identity::Alg::kRS256, identity::Alg::kPS256, identity::Alg::kES256,
                   identity::Alg::kEdDSA}) {
    for (const auto* key : set->candidates(jws->header.kid, alg)) {
      (void)key->verify(alg, jws->signing_input, jws->signature);
    }
  }
  return 0;
}
