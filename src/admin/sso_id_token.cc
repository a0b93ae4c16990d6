#include "admin/sso_id_token.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <memory>

#include "core/digest.h"
#include "core/encoding.h"

namespace tether::admin {
namespace {

namespace json = boost::json;
using core::Errc;
using core::Error;

constexpr size_t kMaxGroups = 256;
constexpr size_t kMaxSubject = 255;

Error refused(std::string why) {
  return Error(Errc::kUnauthenticated, "the IdP's ID token was refused: " + std::move(why));
}

/// base64url without padding (as JOSE writes it); anything else is refused.
core::Result<std::string> b64url(std::string_view text, std::string_view what) {
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return refused(std::string(what) + " is not base64url");
  }
  auto out = core::base64Decode(text);
  if (!out.ok()) return refused(std::string(what) + " is not base64url");
  return out;
}

core::Result<json::object> jsonObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return refused(std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
}

struct Parts {
  std::string_view header, payload, signature;
};

core::Result<Parts> split(std::string_view jwt) {
  if (jwt.size() > kMaxIdTokenBytes) {
    return refused("it is larger than " + std::to_string(kMaxIdTokenBytes) + " bytes");
  }
  const auto a = jwt.find('.');
  const auto b = a == std::string_view::npos ? a : jwt.find('.', a + 1);
  if (b == std::string_view::npos || jwt.find('.', b + 1) != std::string_view::npos) {
    return refused("it is not a compact JWS (three dot-separated parts)");
  }
  return Parts{jwt.substr(0, a), jwt.substr(a + 1, b - a - 1), jwt.substr(b + 1)};
}

std::string stringOr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// A NumericDate claim in seconds; nullopt when absent or not a number.
std::optional<int64_t> seconds(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (1ull << 62)) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

/// The RSA public key (n, e); null when OpenSSL refuses them.
PkeyPtr rsaKey(const Jwk& jwk) {
  PkeyPtr none(nullptr, EVP_PKEY_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(jwk.n.data()),
                static_cast<int>(jwk.n.size()), nullptr),
      BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(jwk.e.data()),
                static_cast<int>(jwk.e.size()), nullptr),
      BN_free);
  if (!n || !e) return none;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return none;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return none;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return none;
  return PkeyPtr(key, EVP_PKEY_free);
}

bool rs256Verifies(const Jwk& jwk, std::string_view signed_part, std::string_view signature) {
  PkeyPtr key = rsaKey(jwk);
  if (!key || EVP_PKEY_get_bits(key.get()) < 2048) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(
             md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

}  // namespace

core::Result<std::vector<Jwk>> parseJwks(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::value* keys = !ec && v.is_object() ? v.as_object().if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) {
    return Error(Errc::kInvalidArgument, "the JWKS is not a JSON object with a \"keys\" array");
  }
  std::vector<Jwk> out;
  for (const auto& k : keys->as_array()) {
    if (!k.is_object() || out.size() >= 64) continue;
    const auto& o = k.as_object();
    if (stringOr(o, "kty") != "RSA" || stringOr(o, "use") == "enc") continue;
    auto n = core::base64Decode(stringOr(o, "n"));
    auto e = core::base64Decode(stringOr(o, "e"));
    if (!n.ok() || !e.ok() || n->empty() || e->empty() || n->size() > 1024 || e->size() > 8) {
      continue;
    }
    out.push_back(Jwk{stringOr(o, "kid"), std::move(n).value(), std::move(e).value()});
  }
  return out;
}

core::Result<std::string> idTokenKeyId(std::string_view jwt) {
  TETHER_TRY_ASSIGN(auto parts, split(jwt));
  TETHER_TRY_ASSIGN(auto header_text, b64url(parts.header, "the header"));
  TETHER_TRY_ASSIGN(auto header, jsonObject(header_text, "the header"));
  const std::string alg = stringOr(header, "alg");
  if (alg != "RS256") {
    std::string shown = "its algorithm ";
    shown += alg.empty() ? std::string_view("(none)") : std::string_view(alg).substr(0, 16);
    shown += " is not RS256";
    return refused(std::move(shown));
  }
  return stringOr(header, "kid");
}

core::Result<IdTokenClaims> verifyIdToken(std::string_view jwt, const Jwk& key,
                                          const IdTokenCheck& check) {
  TETHER_TRY(idTokenKeyId(jwt));  // the algorithm
  TETHER_TRY_ASSIGN(auto parts, split(jwt));
  TETHER_TRY_ASSIGN(auto signature, b64url(parts.signature, "the signature"));
  const std::string_view signed_part =
      jwt.substr(0, parts.header.size() + 1 + parts.payload.size());
  if (!rs256Verifies(key, signed_part, signature)) {
    return refused("its signature does not verify with the issuer's key");
  }
  TETHER_TRY_ASSIGN(auto payload, b64url(parts.payload, "the payload"));
  return checkIdTokenClaims(payload, check);
}

core::Result<IdTokenClaims> checkIdTokenClaims(std::string_view payload_json,
                                               const IdTokenCheck& check) {
  TETHER_TRY_ASSIGN(auto claims, jsonObject(payload_json, "the payload"));
  if (stringOr(claims, "iss") != check.issuer) {
    return refused("its issuer (iss) is not " + check.issuer);
  }
  const json::value* aud = claims.if_contains("aud");
  bool audience_ok = false;
  size_t audiences = 0;
  if (aud && aud->is_string()) {
    audiences = 1;
    audience_ok = aud->as_string() == check.client_id;
  } else if (aud && aud->is_array()) {
    for (const auto& a : aud->as_array()) {
      ++audiences;
      if (a.is_string() && a.as_string() == check.client_id) audience_ok = true;
    }
  }
  if (!audience_ok) return refused("its audience (aud) does not name the client id");
  if (audiences > 1 && stringOr(claims, "azp") != check.client_id) {
    return refused("it has several audiences and its azp is not the client id");
  }
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(check.now.time_since_epoch()).count();
  const int64_t skew_s = std::chrono::duration_cast<std::chrono::seconds>(check.skew).count();
  auto exp = seconds(claims, "exp");
  if (!exp) return refused("it has no expiry (exp)");
  if (*exp + skew_s <= now_s) return refused("it has expired (exp)");
  if (auto iat = seconds(claims, "iat"); iat && *iat - skew_s > now_s) {
    return refused("it was issued in the future (iat)");
  }
  if (auto nbf = seconds(claims, "nbf"); nbf && *nbf - skew_s > now_s) {
    return refused("it is not valid yet (nbf)");
  }
  const std::string nonce = stringOr(claims, "nonce");
  if (nonce.empty() || !core::constantTimeEqual(nonce, check.nonce)) {
    return refused("its nonce does not match this sign-in");
  }
  IdTokenClaims out;
  out.subject = stringOr(claims, "sub");
  if (out.subject.empty() || out.subject.size() > kMaxSubject) {
    return refused("its subject (sub) is missing or longer than 255 bytes");
  }
  for (const char* key : {"name", "email", "preferred_username"}) {
    out.name = stringOr(claims, key);
    if (!out.name.empty()) break;
  }
  if (const json::value* g = claims.if_contains(check.groups_claim)) {
    if (g->is_string()) out.groups.emplace_back(g->as_string());
    if (g->is_array()) {
      for (const auto& item : g->as_array()) {
        if (item.is_string() && out.groups.size() < kMaxGroups) {
          out.groups.emplace_back(item.as_string());
        }
      }
    }
  }
  return out;
}

}  // namespace tether::admin
