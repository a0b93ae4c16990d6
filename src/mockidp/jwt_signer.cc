#include "mockidp/jwt_signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "core/digest.h"
#include "core/encoding.h"

namespace tether::mockidp {

struct JwtSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

std::string bnParam(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return {};
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

}  // namespace

JwtSigner::JwtSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {
  const std::string n = bnParam(key_->pkey, OSSL_PKEY_PARAM_RSA_N);
  const std::string e = bnParam(key_->pkey, OSSL_PKEY_PARAM_RSA_E);
  kid_ = core::base64UrlEncode(std::string_view(core::sha256(n)).substr(0, 12));
  boost::json::object jwk{{"kty", "RSA"},
                          {"use", "sig"},
                          {"alg", "RS256"},
                          {"kid", kid_},
                          {"n", core::base64UrlEncode(n)},
                          {"e", core::base64UrlEncode(e)}};
  boost::json::object doc;
  doc["keys"] = boost::json::array{jwk};
  jwks_ = boost::json::serialize(doc);
}

JwtSigner::~JwtSigner() = default;

core::Result<std::unique_ptr<JwtSigner>> JwtSigner::generate() {
  auto key = std::make_unique<Key>();
  key->pkey = EVP_RSA_gen(2048);
  if (!key->pkey) return core::Error(core::Errc::kCrypto, "RSA key generation failed");
  return std::unique_ptr<JwtSigner>(new JwtSigner(std::move(key)));
}

std::string JwtSigner::sign(std::string_view claims_json) const {
  boost::json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
  std::string input = core::base64UrlEncode(boost::json::serialize(header)) + "." +
                      core::base64UrlEncode(claims_json);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t sig_len = 0;
  std::string sig;
  if (ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
    sig.resize(sig_len);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      sig.clear();
    }
    sig.resize(sig_len);
  }
  return input + "." + core::base64UrlEncode(sig);
}

std::optional<std::string> JwtSigner::verify(std::string_view token) const {
  const size_t dot2 = token.rfind('.');
  if (dot2 == std::string_view::npos) return std::nullopt;
  const std::string_view input = token.substr(0, dot2);
  const size_t dot1 = input.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  auto sig = core::base64Decode(token.substr(dot2 + 1));
  auto claims = core::base64Decode(input.substr(dot1 + 1));
  if (!sig.ok() || !claims.ok()) return std::nullopt;
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return std::nullopt;
  }
  return std::move(claims).value();
}

std::string JwtSigner::jwksJson() const { return jwks_; }

}  // namespace tether::mockidp
