#include "identity/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>

#include "identity/jose.h"

namespace tether::identity {

struct PublicJwk::Impl {
  std::string kid;
  std::string alg;  // the key's own `alg`, empty when not set
  enum class Type { kRsa, kEcP256, kEd25519 } type = Type::kRsa;
  std::shared_ptr<EVP_PKEY> key;
};

namespace {

using Impl = PublicJwk::Impl;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) {
  return std::shared_ptr<EVP_PKEY>(k, [](EVP_PKEY* p) { EVP_PKEY_free(p); });
}

std::optional<std::string> member(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string().data(), v->as_string().size());
}

std::shared_ptr<EVP_PKEY> fromData(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) return nullptr;
  return own(key);
}

std::shared_ptr<EVP_PKEY> rsaKey(const boost::json::object& o) {
  auto n64 = member(o, "n");
  auto e64 = member(o, "e");
  if (!n64 || !e64) return nullptr;
  auto n = decodeBase64Url(*n64);
  auto e = decodeBase64Url(*e64);
  if (!n || !e || e->empty() || e->size() > 8) return nullptr;
  // Leading zero bytes do not count towards the modulus size.
  size_t lead = 0;
  while (lead < n->size() && (*n)[lead] == 0) ++lead;
  const size_t bits = (n->size() - lead) * 8;
  if (bits < 2048 || bits > 8192) return nullptr;
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                       static_cast<int>(n->size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                       static_cast<int>(e->size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld) return nullptr;
  if (!OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return nullptr;
  return fromData("RSA", params.get());
}

std::shared_ptr<EVP_PKEY> ecKey(const boost::json::object& o) {
  if (member(o, "crv").value_or("") != "P-256") return nullptr;
  auto x64 = member(o, "x");
  auto y64 = member(o, "y");
  if (!x64 || !y64) return nullptr;
  auto x = decodeBase64Url(*x64);
  auto y = decodeBase64Url(*y64);
  if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;
  char group[] = "P-256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  // fromdata checks the point lies on the curve.
  return fromData("EC", params);
}

std::shared_ptr<EVP_PKEY> okpKey(const boost::json::object& o) {
  if (member(o, "crv").value_or("") != "Ed25519") return nullptr;
  auto x64 = member(o, "x");
  if (!x64) return nullptr;
  auto x = decodeBase64Url(*x64);
  if (!x || x->size() != 32) return nullptr;
  EVP_PKEY* k = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  return k ? own(k) : nullptr;
}

// JWS ES256 signatures are r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> ecdsaDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  if (!sig) return std::nullopt;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<Alg> algFromName(std::string_view name) {
  if (name == "RS256") return Alg::kRS256;
  if (name == "PS256") return Alg::kPS256;
  if (name == "ES256") return Alg::kES256;
  if (name == "EdDSA") return Alg::kEdDSA;
  return std::nullopt;
}

std::string_view algName(Alg alg) {
  switch (alg) {
    case Alg::kRS256:
      return "RS256";
    case Alg::kPS256:
      return "PS256";
    case Alg::kES256:
      return "ES256";
    case Alg::kEdDSA:
      return "EdDSA";
  }
  return "?";
}

const std::string& PublicJwk::kid() const { return impl_->kid; }

bool PublicJwk::fits(Alg alg) const {
  if (!impl_->alg.empty() && impl_->alg != algName(alg)) return false;
  switch (alg) {
    case Alg::kRS256:
    case Alg::kPS256:
      return impl_->type == Impl::Type::kRsa;
    case Alg::kES256:
      return impl_->type == Impl::Type::kEcP256;
    case Alg::kEdDSA:
      return impl_->type == Impl::Type::kEd25519;
  }
  return false;
}

bool PublicJwk::verify(Alg alg, std::string_view signing_input, std::string_view signature) const {
  if (!fits(alg)) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  if (!md) return false;
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* digest = alg == Alg::kEdDSA ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(md.get(), &pctx, digest, nullptr, impl_->key.get()) <= 0) return false;
  std::string der;
  if (alg == Alg::kPS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0) {
      return false;
    }
  } else if (alg == Alg::kES256) {
    auto d = ecdsaDer(signature);
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  }
  return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

core::Result<JwkSet> JwkSet::parse(std::string_view json) {
  auto bad = [](std::string m) { return core::Error(core::Errc::kInvalidArgument, std::move(m)); };
  if (json.size() > kMaxJwksBytes) return bad("the JWK Set is larger than 256 KiB");
  boost::json::parse_options opts;
  opts.max_depth = 8;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec, {}, opts);
  if (ec) return bad("the JWK Set is not valid JSON (" + ec.message() + ")");
  const auto* keys = v.is_object() ? v.as_object().if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) return bad("the JWK Set has no \"keys\" array");
  if (keys->as_array().size() > kMaxKeys) return bad("the JWK Set has more than 64 keys");
  JwkSet set;
  for (const auto& k : keys->as_array()) {
    if (!k.is_object()) continue;
    const auto& o = k.as_object();
    auto use = member(o, "use");
    if (use && *use != "sig") continue;
    auto impl = std::make_shared<Impl>();
    impl->kid = member(o, "kid").value_or("");
    impl->alg = member(o, "alg").value_or("");
    if (!impl->alg.empty() && !algFromName(impl->alg)) continue;  // e.g. RSA-OAEP, HS256
    const std::string kty = member(o, "kty").value_or("");
    if (kty == "RSA") {
      impl->type = Impl::Type::kRsa;
      impl->key = rsaKey(o);
    } else if (kty == "EC") {
      impl->type = Impl::Type::kEcP256;
      impl->key = ecKey(o);
    } else if (kty == "OKP") {
      impl->type = Impl::Type::kEd25519;
      impl->key = okpKey(o);
    }
    if (!impl->key) continue;
    set.keys_.emplace_back(std::move(impl));
  }
  if (set.keys_.empty()) return bad("the JWK Set holds no usable signing key");
  return set;
}

std::vector<const PublicJwk*> JwkSet::candidates(std::string_view kid, Alg alg) const {
  std::vector<const PublicJwk*> out;
  for (const auto& k : keys_) {
    if (!kid.empty() && k.kid() != kid) continue;
    if (k.fits(alg)) out.push_back(&k);
  }
  return out;
}

bool JwkSet::hasKid(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid() == kid) return true;
  }
  return false;
}

}  // namespace tether::identity
