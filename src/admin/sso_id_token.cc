#include "admin/sso_id_token.h"

#include <boost/json.hpp>

#include "core/digest.h"
#include "identity/jose.h"

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

core::Result<json::object> jsonObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return refused(std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
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

}  // namespace

core::Result<IdTokenClaims> verifyIdToken(std::string_view jwt, const identity::JwkSet& keys,
                                          const IdTokenCheck& check) {
  if (jwt.size() > kMaxIdTokenBytes) {
    return refused("it is larger than " + std::to_string(kMaxIdTokenBytes) + " bytes");
  }
  auto parsed = identity::parseJws(jwt, identity::ClaimNames{});
  if (!parsed.ok()) return refused(parsed.error().message);
  const auto alg = identity::algFromName(parsed->header.alg);
  if (!alg) {
    std::string shown = "its algorithm ";
    shown += parsed->header.alg.empty() ? std::string_view("(none)")
                                        : std::string_view(parsed->header.alg).substr(0, 16);
    return refused(shown + " is not one Tether accepts (RS256, PS256, ES256, EdDSA)");
  }
  const auto candidates = keys.candidates(parsed->header.kid, *alg);
  if (candidates.empty()) {
    return Error(Errc::kNotFound,
                 "the ID token's signing key is not among the identity provider's keys");
  }
  bool verified = false;
  for (const identity::PublicJwk* key : candidates) {
    if (key->verify(*alg, parsed->signing_input, parsed->signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) return refused("its signature does not verify with the issuer's key");
  const std::string_view signing_input = parsed->signing_input;
  auto payload = identity::decodeBase64Url(signing_input.substr(signing_input.find('.') + 1));
  if (!payload) return refused("the payload is not base64url");
  return checkIdTokenClaims(*payload, check);
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
